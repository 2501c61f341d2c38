"""Browser journeys in Debian's Chromium driven by Playwright, against the real stack.

Skipped, saying so, when /usr/bin/chromium is missing (`.ci/run` installs it). A failure saves
a screenshot to test-artifacts/.
"""

import re
import uuid
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium not installed (apt-get install chromium)"
    ),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_a_newcomer_signs_up_lands_on_the_dashboard_and_logs_out(live_stack, page):
    page.goto(f"{live_stack.base_url}/")
    page.get_by_role("button", name="Create a free account").click()
    page.get_by_label("Email").fill(f"newcomer-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill("a-long-browser-password-1")
    page.locator("#main").get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert "Welcome to Papertrade" in page.content()
    page.locator("summary").filter(has_text=re.compile("newcomer")).click()
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").first.wait_for()
    assert page.js_errors == []


def test_a_price_on_the_markets_page_changes_within_three_seconds(live_stack, page):
    page.goto(f"{live_stack.base_url}/markets/")
    cell = page.locator('tr[data-symbol="BTC-USD"] [data-field="last"]')
    first = cell.inner_text()
    page.wait_for_function(
        """([selector, before]) => {
            const el = document.querySelector(selector);
            return el && el.innerText.trim() !== before.trim();
        }""",
        arg=['tr[data-symbol="BTC-USD"] [data-field="last"]', first],
        timeout=3_000,
    )
    assert page.js_errors == []


@pytest.mark.parametrize("path", ["/", "/markets/", "/trade/BTC-USD/", "/tournaments/"])
def test_pages_work_at_phone_width_without_script_errors(live_stack, browser, path):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_stack.base_url}{path}")
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert errors == []
    assert width <= 375 + 1
