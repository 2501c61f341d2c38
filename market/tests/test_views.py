from decimal import Decimal

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from market.models import Watchlist
from market.tests.factories import EquityInstrumentFactory, InstrumentFactory, QuoteFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice():
    return UserFactory(email="alice@example.com", display_name="alice")


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def universe():
    btc = InstrumentFactory(symbol="BTC-USD", name="Bitcoin")
    QuoteFactory(
        instrument=btc,
        bid=Decimal("43125.5"),
        ask=Decimal("43126.5"),
        last=Decimal("43126"),
        change_pct=Decimal("1.2345"),
    )
    aapl = EquityInstrumentFactory(symbol="AAPL", name="Apple Inc.")
    QuoteFactory(instrument=aapl, change_pct=Decimal("-0.5"))
    eur = InstrumentFactory(symbol="EURUSD", name="Euro / US dollar", tick_size=Decimal("0.00001"))
    QuoteFactory(
        instrument=eur, bid=Decimal("1.0841"), ask=Decimal("1.08418"), last=Decimal("1.0841")
    )
    return {"btc": btc, "aapl": aapl, "eur": eur}


def test_the_markets_page_lists_every_instrument_with_prices_on_its_tick(client, universe):
    response = client.get("/markets/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    for symbol in ("BTC-USD", "AAPL", "EURUSD"):
        assert f'data-symbol="{symbol}"' in html
    assert "43125.50" in html
    assert "1.08410" in html  # five places: EURUSD's tick is 0.00001
    assert 'class="num up" data-field="change_pct">+1.23%' in html
    assert 'class="num down" data-field="change_pct">-0.50%' in html
    assert "js/markets.js" in html
    assert "Open</span>" in html


def test_the_markets_page_is_reachable_from_the_navigation(client, universe):
    html = client.get("/").content.decode()
    assert 'href="/markets/"' in html
    assert 'href="/trade/"' in html


def test_an_htmx_request_gets_only_the_table(client, universe):
    response = client.get("/markets/", {"q": "apple"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.strip().startswith('<div id="market-table"')
    assert 'data-symbol="AAPL"' in html
    assert 'data-symbol="BTC-USD"' not in html


def test_the_markets_page_filters_by_asset_class_without_javascript(client, universe):
    html = client.get("/markets/", {"asset_class": "equity"}).content.decode()
    assert 'data-symbol="AAPL"' in html
    assert 'data-symbol="BTC-USD"' not in html
    assert '<option value="equity" selected>' in html


def test_a_bad_filter_shows_every_instrument_instead_of_failing(client, universe):
    response = client.get("/markets/", {"asset_class": "bonds", "q": "x" * 80})
    assert response.status_code == 200
    assert 'data-symbol="BTC-USD"' in response.content.decode()


def test_anonymous_visitors_see_no_watch_buttons(client, universe):
    html = client.get("/markets/").content.decode()
    assert "/watch" not in html
    assert "Log in</a> to keep a watchlist" in html


def test_the_markets_page_queries_are_bounded(
    alice_client, universe, django_assert_max_num_queries
):
    for i in range(30):
        QuoteFactory(instrument=InstrumentFactory(symbol=f"S{i}"))
    with django_assert_max_num_queries(5):
        response = alice_client.get("/markets/")
    assert response.content.decode().count("<tr data-symbol=") == 33


def test_watch_as_a_plain_post_redirects_back(alice, alice_client, universe):
    response = alice_client.post("/markets/BTC-USD/watch", {"next": "/markets/?asset_class=crypto"})
    assert response.status_code == 302
    assert response["Location"] == "/markets/?asset_class=crypto"
    assert Watchlist.objects.filter(user=alice, instrument=universe["btc"]).exists()
    html = alice_client.get("/markets/").content.decode()
    assert "★ Watching" in html


def test_watch_with_htmx_returns_the_new_button(alice, alice_client, universe):
    response = alice_client.post("/markets/btc-usd/watch", {"next": "/markets/"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'action="/markets/BTC-USD/unwatch"' in html
    assert 'aria-pressed="true"' in html
    assert Watchlist.objects.filter(user=alice).count() == 1


def test_a_compact_star_stays_compact_after_the_swap(alice_client, universe):
    html = alice_client.post(
        "/markets/BTC-USD/watch", {"next": "/", "compact": "1"}, **HTMX
    ).content.decode()
    assert 'aria-label="Watching BTC-USD">★</button>' in html
    assert 'name="compact" value="1"' in html


def test_unwatch_plain_and_htmx(alice, alice_client, universe):
    Watchlist.objects.create(user=alice, instrument=universe["btc"])
    response = alice_client.post("/markets/BTC-USD/unwatch", **HTMX)
    assert 'action="/markets/BTC-USD/watch"' in response.content.decode()
    assert not Watchlist.objects.filter(user=alice).exists()
    # Unwatching again is harmless.
    assert alice_client.post("/markets/BTC-USD/unwatch").status_code == 302


def test_watch_refuses_an_offsite_next_url(alice_client, universe):
    response = alice_client.post("/markets/BTC-USD/watch", {"next": "https://evil.example/"})
    assert response["Location"] == "/markets/"


def test_watching_needs_a_login_and_a_post(client, alice_client, universe):
    response = client.post("/markets/BTC-USD/watch")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert alice_client.get("/markets/BTC-USD/watch").status_code == 405
    assert not Watchlist.objects.exists()


def test_watching_an_unknown_symbol_is_a_404(alice_client, universe):
    assert alice_client.post("/markets/NOPE/watch").status_code == 404
    assert alice_client.post("/markets/NOPE/unwatch").status_code == 404


def test_the_trade_page_has_the_chart_the_quote_and_the_ticket_slot(client, universe):
    response = client.get("/trade/BTC-USD/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "lightweight-charts.standalone.production.js" in html
    assert 'data-candles-url="/api/market/BTC-USD/candles"' in html
    assert "data-chart" in html and 'data-symbol="BTC-USD"' in html
    assert 'data-tick-size="0.01"' in html
    assert "43125.50" in html
    assert "data-ticket-slot" in html
    for timeframe in ("1m", "5m", "15m", "1h", "1d"):
        assert f'data-timeframe="{timeframe}"' in html
    assert "Trades 24/7" in html


def test_the_trade_page_shows_when_a_closed_session_opens(client, universe):
    html = client.get("/trade/AAPL/").content.decode()
    assert "Opens " in html or "Closes " in html


def chart_timeframe(html: str) -> str:
    chart = html.split("data-chart\n", 1)[1]
    return chart.split('data-timeframe="', 1)[1].split('"', 1)[0]


def test_the_trade_page_keeps_a_valid_timeframe_and_ignores_a_bad_one(client, universe):
    assert chart_timeframe(client.get("/trade/BTC-USD/?timeframe=1h").content.decode()) == "1h"
    assert chart_timeframe(client.get("/trade/BTC-USD/?timeframe=7y").content.decode()) == "1m"


def test_the_trade_page_of_an_unknown_symbol_is_a_404(client, universe):
    response = client.get("/trade/NOPE/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_lowercase_symbol_redirects_to_the_canonical_page(client, universe):
    response = client.get("/trade/btc-usd/")
    assert response.status_code == 301
    assert response["Location"] == "/trade/BTC-USD/"


def test_trade_without_a_symbol_opens_btc(client, universe):
    response = client.get("/trade/")
    assert response.status_code == 302
    assert response["Location"] == "/trade/BTC-USD/"


def test_trade_without_any_instrument_goes_to_the_markets(client):
    assert client.get("/trade/")["Location"] == "/markets/"


def test_the_symbol_switcher_lists_matches_best_first_as_links_to_their_pages(client, universe):
    html = client.get("/markets/search", {"q": "us"}).content.decode()
    # EURUSD's symbol contains "us"; BTC-USD's too; AAPL matches neither symbol nor name.
    assert html.index("EURUSD") < html.index("</ul>")
    assert 'href="/trade/BTC-USD/"' in html and 'href="/trade/EURUSD/"' in html
    assert "AAPL" not in html
    assert "1.08410" in html  # the last price on the instrument's tick
    ranked = client.get("/markets/search", {"q": "e"}).content.decode()
    # A symbol starting with the text comes before a name merely containing it.
    assert ranked.index("/trade/EURUSD/") < ranked.index("/trade/AAPL/")


def test_the_symbol_switcher_says_when_nothing_matches_and_keeps_other_parameters(client, universe):
    assert "No instrument matches “zzz”" in client.get("/markets/search?q=zzz").content.decode()
    html = client.get("/markets/search", {"q": "btc", "account": "7"}).content.decode()
    assert 'href="/trade/BTC-USD/?account=7"' in html
    assert client.get("/markets/search?q=").content.decode().strip() == ""


@pytest.mark.parametrize(
    ("term", "location"),
    [
        ("btc-usd", "/trade/BTC-USD/"),  # the exact symbol, any case
        ("apple", "/trade/AAPL/"),  # the only match, by name
        ("  AAPL ", "/trade/AAPL/"),
        ("us", "/markets/?q=us"),  # several matches: pick one on the markets page
        ("zzz", "/markets/?q=zzz"),
    ],
)
def test_the_switcher_without_script_opens_what_the_text_names(client, universe, term, location):
    response = client.get("/trade/", {"q": term})
    assert response.status_code == 302
    assert response["Location"] == location


def test_trade_without_a_symbol_keeps_the_other_parameters(client, universe):
    response = client.get("/trade/", {"q": "eurusd", "account": "3", "timeframe": "5m"})
    assert response["Location"] == "/trade/EURUSD/?account=3&timeframe=5m"


def test_the_trade_page_queries_are_bounded(alice_client, universe, django_assert_max_num_queries):
    # The trading app owns /trade/<symbol>/ (its page extends market/trade.html with the order
    # ticket, position and orders; their own budget is in trading/tests/test_views.py). The
    # first visit opens the trader's default account; the bound is for a returning trader:
    # 4 market queries + accounts, positions, day-start equity, open orders.
    assert alice_client.get("/trade/BTC-USD/").status_code == 200
    with django_assert_max_num_queries(8):
        assert alice_client.get("/trade/BTC-USD/").status_code == 200
