"""Browser journeys in Debian's Chromium driven by Playwright, against the real stack.

Each journey starts from a fresh user in a fresh browser context and asserts what a person
sees. Every test also fails on JavaScript errors in the console (see `page` and conftest's
pytest_runtest_call). Skipped, saying so, when /usr/bin/chromium is missing (`.ci/run`
installs it). A failure saves a screenshot to test-artifacts/.
"""

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
SYMBOL = "BTC-USD"  # trades 24/7 in the seed, so market orders fill at any hour
TOURNAMENT = "Weekly Crypto Cup"  # tournaments/seed.py: running, open to everyone
PASSWORD = "a-long-browser-password-1"
PHONE = {"width": 375, "height": 740}

expect.set_options(timeout=10_000)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Chromium not installed (apt-get install chromium)"
    ),
]


@dataclass(frozen=True)
class Trader:
    email: str
    display_name: str


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
    """A page in a fresh context. Console errors and uncaught exceptions are collected;
    conftest fails the test with them once its body has passed."""
    context = browser.new_context(viewport={"width": 1366, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.expected_failed_loads = []

    def on_console(message):
        if message.type == "error" and not _expected_failed_load(page, message):
            url = message.location.get("url")
            errors.append(f"console: {message.text}" + (f" ({url})" if url else ""))

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))

    def browser_errors() -> list[str]:
        page.evaluate("0")  # delivers console events still queued in the driver
        return errors

    request.node.browser_errors = browser_errors
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def expect_failed_load(page: Page, status: int, path: str) -> None:
    """Declare an HTTP error the journey provokes on purpose."""
    page.expected_failed_loads.append((status, path))


def _expected_failed_load(page: Page, message) -> bool:
    # Chrome logs every 4xx response as a console error, including the 422 that carries a
    # refused order's reason to the form; only the statuses and paths a test declared pass.
    url = message.location.get("url", "").split("?")[0]
    failed = "Failed to load resource: the server responded with a status of {} "
    return any(
        message.text.startswith(failed.format(status)) and url.endswith(path)
        for status, path in page.expected_failed_loads
    )


def sign_up(page: Page, base_url: str) -> Trader:
    """Sign a new user up through the real signup page; they land on the dashboard."""
    name = f"trader-{uuid.uuid4().hex[:10]}"
    trader = Trader(email=f"{name}@example.com", display_name=name)
    page.goto(f"{base_url}/accounts/signup/")
    page.get_by_label("Email").fill(trader.email)
    page.get_by_label("Display name").fill(trader.display_name)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#main").get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    return trader


@pytest.fixture
def trader(live_stack, page) -> Trader:
    """A fresh user, signed up and logged in in `page`."""
    return sign_up(page, live_stack.base_url)


def open_trade_page(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/trade/{SYMBOL}/")
    # Marks this document: it is gone if anything reloads the page.
    page.evaluate("window.journeyMarker = 'no reload'")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.journeyMarker") == "no reload"


def place_order(page: Page, *, quantity: str, order_type: str = "market", limit: str = "") -> None:
    ticket = page.locator("#order-ticket")
    ticket.get_by_label("Buy").check()
    ticket.get_by_label("Order type").select_option(order_type)
    ticket.get_by_label("Quantity", exact=True).fill(quantity)
    if limit:
        ticket.get_by_label("Limit price").fill(limit)
    ticket.get_by_role("button", name="Place order").click()


def buy_at_market(page: Page, quantity: str) -> None:
    """Market buy from the ticket and wait for the position row to show it."""
    place_order(page, quantity=quantity)
    # The section shows this symbol only (its rows may leave the symbol out).
    row = page.locator("#trade-position").get_by_role("row").filter(has_text="Long")
    expect(row).to_be_visible()
    expect(row.get_by_role("cell", name=quantity, exact=True)).to_be_visible()


# --- journeys -----------------------------------------------------------------------------------


def test_a_newcomer_signs_up_lands_on_the_dashboard_and_logs_out(live_stack, page):
    page.goto(f"{live_stack.base_url}/")
    page.get_by_role("button", name="Create a free account").click()
    page.get_by_label("Email").fill(f"newcomer-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#main").get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text("Welcome to Papertrade")).to_be_visible()
    page.locator("summary").filter(has_text=re.compile("newcomer")).click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()


def test_a_newcomer_reaches_a_filled_order_and_a_tournament_entry_by_clicking(live_stack, page):
    """The issue's "done when": from the landing page, following only what the pages offer."""
    page.goto(f"{live_stack.base_url}/")
    page.get_by_role("button", name="Create a free account").click()
    page.get_by_label("Email").fill(f"first-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#main").get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.locator("#main").get_by_role("button", name="Trade", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SYMBOL)
    buy_at_market(page, "0.01")
    expect(page.locator("#toasts")).to_contain_text(f"Bought 0.01 {SYMBOL}")

    page.get_by_role("link", name="Papertrade", exact=True).click()  # the brand: home
    invitation = page.get_by_role("region", name="My tournaments")
    invitation.get_by_role("link", name=TOURNAMENT).click()
    page.get_by_role("button", name="Join the tournament").click()
    expect(page.locator("#entry")).to_contain_text("You are in")


def test_a_price_on_the_markets_page_changes_within_three_seconds(live_stack, page):
    page.goto(f"{live_stack.base_url}/markets/")
    cell = page.locator(f'tr[data-symbol="{SYMBOL}"] [data-field="last"]')
    first = cell.inner_text()
    expect(cell).not_to_have_text(first, timeout=3_000)


# Candle-coloured, opaque pixels per column of the chart's pane (its largest canvas; the price
# axis, whose last-price label is candle-coloured too, is a narrower one). The last-price line
# is one pixel high and the volume bars are translucent, so only candles make a column count.
CANDLE_COLUMNS = """() => {
    const style = getComputedStyle(document.documentElement);
    const probe = document.createElement("canvas").getContext("2d");
    const rgb = (name) => {
        probe.fillStyle = style.getPropertyValue(name).trim();
        probe.fillRect(0, 0, 1, 1);
        return Array.from(probe.getImageData(0, 0, 1, 1).data.slice(0, 3));
    };
    const colours = [rgb("--pt-up"), rgb("--pt-down")];
    const canvases = Array.from(document.querySelectorAll("[data-chart] canvas"));
    const area = (c) => c.width * c.height;
    const largest = Math.max(0, ...canvases.map(area));
    let best = 0;
    for (const canvas of canvases.filter((c) => largest > 0 && area(c) === largest)) {
        const { width, height } = canvas;
        const data = canvas.getContext("2d").getImageData(0, 0, width, height).data;
        let columns = 0;
        for (let x = 0; x < width; x++) {
            let hits = 0;
            for (let y = 0; y < height && hits < 3; y++) {
                const i = (y * width + x) * 4;
                if (data[i + 3] < 250) continue;
                if (colours.some((c) => Math.abs(c[0] - data[i]) + Math.abs(c[1] - data[i + 1])
                                        + Math.abs(c[2] - data[i + 2]) < 12)) hits++;
            }
            if (hits >= 3) columns++;
        }
        best = Math.max(best, columns);
    }
    return best;
}"""


def test_the_trade_page_chart_draws_candles(live_stack, page, trader):
    page.goto(f"{live_stack.base_url}/trade/{SYMBOL}/")
    page.wait_for_function(f"({CANDLE_COLUMNS})() >= 30", polling=200)
    expect(page.get_by_role("region", name="Price chart").get_by_role("status")).to_have_text("")


def test_a_market_buy_from_the_ticket_shows_the_position_without_a_reload(live_stack, page, trader):
    open_trade_page(page, live_stack.base_url)
    expect(page.locator("#trade-position")).to_contain_text("No position in this symbol yet")
    buy_at_market(page, "0.01")
    expect(page.locator("#toasts")).to_contain_text(f"Bought 0.01 {SYMBOL} at")
    assert_not_reloaded(page)


def test_a_far_limit_order_waits_under_open_orders_and_cancel_removes_it(live_stack, page, trader):
    open_trade_page(page, live_stack.base_url)
    orders = page.locator("#trade-orders")
    expect(orders).to_contain_text("No open orders in this symbol.")
    last = Decimal(page.locator("[data-quote] [data-field='last']").inner_text())
    limit = f"{(last / 2).quantize(Decimal('0.01'))}"
    place_order(page, quantity="0.01", order_type="limit", limit=limit)
    row = orders.get_by_role("row").filter(has_text=f"Limit {limit}")
    expect(row).to_be_visible()
    expect(row).to_contain_text("0 / 0.01")
    page.once("dialog", lambda dialog: dialog.accept())  # if the UI asks, say yes
    row.get_by_role("button", name="Cancel").click()
    expect(row).to_have_count(0)
    expect(orders).to_contain_text("No open orders in this symbol.")
    expect(page.locator("#trade-position")).to_contain_text("No position in this symbol yet")
    assert_not_reloaded(page)


def test_a_refused_order_shows_its_reason_by_the_form(live_stack, page, trader):
    expect_failed_load(page, 422, f"/trade/{SYMBOL}/order")
    open_trade_page(page, live_stack.base_url)
    place_order(page, quantity="50")  # ~3 million of bitcoin on 100,000 of cash
    ticket = page.locator("#order-ticket")
    expect(ticket.get_by_role("alert")).to_have_text(
        re.compile(r"This order needs [\d,.]+ of margin; [\d,.]+ is free\.")
    )
    expect(ticket.get_by_label("Quantity", exact=True)).to_have_value("50")
    expect(page.locator("#toasts")).to_contain_text("Order refused: This order needs")
    expect(page.locator("#trade-position")).to_contain_text("No position in this symbol yet")
    assert_not_reloaded(page)


def test_closing_a_position_from_the_portfolio_removes_it(live_stack, page, trader):
    open_trade_page(page, live_stack.base_url)
    buy_at_market(page, "0.01")
    page.goto(f"{live_stack.base_url}/portfolio/")
    positions = page.locator("#positions")
    row = positions.get_by_role("row").filter(has_text=SYMBOL)
    expect(row).to_be_visible()
    questions: list[str] = []

    def accept(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.get_by_role("button", name=f"Close {SYMBOL}").click()
    expect(row).to_have_count(0)
    expect(positions).to_contain_text("No open positions yet")
    assert questions == [f"Close this share of your {SYMBOL} position at market?"]


def test_joining_the_running_tournament_puts_me_on_its_leaderboard(live_stack, page, trader):
    page.goto(f"{live_stack.base_url}/tournaments/")
    running = page.get_by_role("region", name="Running now")
    running.get_by_role("link", name=TOURNAMENT).click()
    expect(page.get_by_role("heading", name=TOURNAMENT, level=1)).to_be_visible()
    page.get_by_role("button", name="Join the tournament").click()
    expect(page.locator("#entry")).to_contain_text("You are in")
    # Standings are recomputed by beat every few seconds and pushed over the socket.
    me = page.locator("#leaderboard").get_by_role("row").filter(has_text=trader.display_name)
    expect(me).to_be_visible(timeout=20_000)
    expect(me.get_by_text("you", exact=True)).to_be_visible()
    # The dashboard lists the running tournaments I am in, with my rank.
    page.goto(f"{live_stack.base_url}/")
    mine = page.get_by_role("region", name="My tournaments").get_by_role("row")
    expect(mine.filter(has_text=TOURNAMENT)).to_contain_text(re.compile(r"\d+ of \d+"))


# Records every WebSocket the page opens (window.ptSockets), before any page script runs.
COUNT_SOCKETS = """(() => {
    const Native = window.WebSocket;
    window.ptSockets = [];
    window.WebSocket = class extends Native {
        constructor(...args) { super(...args); window.ptSockets.push(this); }
    };
})();"""


def open_sockets(page: Page) -> list[str]:
    return page.evaluate(
        "window.ptSockets.filter((s) => s.readyState <= WebSocket.OPEN).map((s) => s.url)"
    )


def test_a_trading_page_has_one_socket_for_ticks_and_account_events_and_reconnects(
    live_stack, page, trader
):
    page.add_init_script(COUNT_SOCKETS)
    open_trade_page(page, live_stack.base_url)
    state = page.locator("[data-connection-state]")
    expect(state).to_have_text("● Live")
    last = page.locator("[data-quote] [data-field='last']")
    expect(last).not_to_have_text(last.inner_text(), timeout=5_000)  # ticks arrive
    buy_at_market(page, "0.01")  # account events arrive and htmx swaps parts of the page
    assert open_sockets(page) == [f"{live_stack.ws_url}/ws/accounts/{_account_id(page)}/"]

    page.evaluate("window.ptSockets[0].close()")  # the connection drops
    expect(state).to_have_text("Reconnecting…")
    expect(state).to_have_text("● Live")
    expect(last).not_to_have_text(last.inner_text(), timeout=5_000)  # ticks again
    assert len(open_sockets(page)) == 1
    assert_not_reloaded(page)


def _account_id(page: Page) -> str:
    return page.locator("[data-live]").get_attribute("data-account-id")


LAPTOP = {"width": 1366, "height": 650}  # a 1366 x 768 screen less the browser's bars


def test_the_trade_page_fits_a_laptop_screen(live_stack, page, trader):
    page.set_viewport_size(LAPTOP)
    open_trade_page(page, live_stack.base_url)
    buy_at_market(page, "0.01")
    for part in ("[data-chart]", "[data-quote]", "#ticket", "#trade-position", "#trade-orders"):
        box = page.locator(part).bounding_box()
        assert box is not None and box["height"] > 0, part
        assert box["y"] + box["height"] <= LAPTOP["height"], f"{part} ends below the screen"
    place = page.locator("#order-ticket").get_by_role("button", name="Place order")
    assert place.bounding_box()["y"] + place.bounding_box()["height"] <= LAPTOP["height"]
    assert page.evaluate("document.documentElement.scrollHeight") <= LAPTOP["height"]


def test_the_symbol_switcher_finds_an_instrument_by_name(live_stack, page, trader):
    open_trade_page(page, live_stack.base_url)
    search = page.get_by_label("Switch symbol")
    search.fill("ether")
    match = page.locator("#symbol-results").get_by_role("link", name=re.compile("ETH-USD"))
    expect(match).to_be_visible()
    search.press("ArrowDown")
    expect(match).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="ETH-USD", level=1)).to_be_visible()
    expect(page.locator("#ticket")).to_contain_text("Order ticket")


@pytest.mark.parametrize("path", ["/", "/markets/", f"/trade/{SYMBOL}/", "/tournaments/"])
def test_pages_work_at_phone_width(live_stack, page, path):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_stack.base_url}{path}")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


@pytest.mark.parametrize("path", ["/", "/portfolio/", "/orders/", f"/trade/{SYMBOL}/"])
def test_my_pages_work_at_phone_width(live_stack, page, trader, path):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_stack.base_url}{path}")
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1


# Basics a screen-reader or keyboard user relies on, checked on the rendered page.
A11Y_PROBLEMS = """() => {
    const problems = [];
    if (document.documentElement.lang !== "en") problems.push("html lang is not set");
    const h1 = document.querySelectorAll("h1").length;
    if (h1 !== 1) problems.push(`${h1} h1 headings`);
    const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
    const named = (el) => (el.labels && el.labels.length) || el.getAttribute("aria-label")
        || el.getAttribute("aria-labelledby") || el.getAttribute("title");
    for (const el of document.querySelectorAll("input, select, textarea")) {
        if (["hidden", "submit", "button"].includes(el.type) || !visible(el)) continue;
        if (!named(el)) problems.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name || el.id}`);
    }
    for (const el of document.querySelectorAll("button, a[href], [role=button]")) {
        if (!visible(el)) continue;
        if (!(el.textContent.trim() || el.getAttribute("aria-label") || el.getAttribute("title")))
            problems.push(`nameless ${el.tagName.toLowerCase()} ${el.outerHTML.slice(0, 80)}`);
    }
    for (const el of document.querySelectorAll("svg[role=img], img")) {
        if (!(el.getAttribute("aria-label") || el.getAttribute("alt") !== null))
            problems.push(`image without a text alternative ${el.outerHTML.slice(0, 80)}`);
    }
    return problems;
}"""


@pytest.mark.parametrize(
    "path",
    ["/", f"/trade/{SYMBOL}/", "/portfolio/", "/orders/", "/activity/", "/trading-accounts/",
     "/markets/", "/tournaments/", "/accounts/profile/"],
)  # fmt: skip
def test_my_pages_have_labels_one_h1_and_a_language(live_stack, page, trader, path):
    page.goto(f"{live_stack.base_url}{path}")
    page.wait_for_load_state("load")
    assert page.evaluate(A11Y_PROBLEMS) == []
    # The skip link is the keyboard's first stop (pages may autofocus their first field) and
    # leads to the content.
    first = page.evaluate(
        "document.querySelector('a[href], button, input:not([type=hidden]), select, textarea')"
        ".getAttribute('href')"
    )
    assert first == "#main"
    assert page.locator("#main").count() == 1
