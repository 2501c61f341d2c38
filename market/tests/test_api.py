from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from market.models import Candle, Watchlist
from market.tests.factories import EquityInstrumentFactory, InstrumentFactory, QuoteFactory
from market.watchlist import WATCHLIST_MAX_ENTRIES

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def alice():
    return UserFactory(email="alice@example.com", display_name="alice")


@pytest.fixture
def bob():
    return UserFactory(email="bob@example.com", display_name="bob")


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def quoted(symbol, *, factory=InstrumentFactory, change_pct="0", **fields):
    instrument = factory(symbol=symbol, **fields)
    QuoteFactory(instrument=instrument, change_pct=Decimal(change_pct))
    return instrument


def make_candles(instrument, count, *, timeframe="1m", start=T0, step=timedelta(minutes=1)):
    Candle.objects.bulk_create(
        Candle(
            instrument=instrument,
            timeframe=timeframe,
            ts=start + i * step,
            open=Decimal("100.00") + i,
            high=Decimal("101.00") + i,
            low=Decimal("99.00") + i,
            close=Decimal("100.50") + i,
            volume=Decimal("3.5"),
        )
        for i in range(count)
    )


# --- instruments --------------------------------------------------------------------------


def test_the_instrument_list_is_public_and_shows_the_contract_fields(api):
    quoted("BTC-USD", name="Bitcoin")
    response = api.get("/api/market/instruments")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert row == {
        "symbol": "BTC-USD",
        "name": "Bitcoin",
        "asset_class": "crypto",
        "quote_currency": "USD",
        "tick_size": "0.01",
        "lot_size": "0.001",
        "min_quantity": "0.001",
        "max_quantity": "10000",
        "max_leverage": "10",
        "is_open": True,
    }


def test_the_instrument_list_filters_by_asset_class(api):
    quoted("BTC-USD")
    quoted("AAPL", factory=EquityInstrumentFactory)
    response = api.get("/api/market/instruments?asset_class=equity")
    assert [r["symbol"] for r in response.json()["results"]] == ["AAPL"]


@pytest.mark.parametrize(("term", "expected"), [("btc", ["BTC-USD"]), ("apple", ["AAPL"])])
def test_the_instrument_list_searches_symbol_and_name(api, term, expected):
    quoted("BTC-USD", name="Bitcoin")
    quoted("AAPL", factory=EquityInstrumentFactory, name="Apple Inc.")
    response = api.get("/api/market/instruments", {"q": term})
    assert [r["symbol"] for r in response.json()["results"]] == expected


def test_an_unknown_asset_class_is_a_400_with_a_code(api):
    response = api.get("/api/market/instruments?asset_class=bonds")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_choice"


def test_the_instrument_list_queries_are_bounded(api, django_assert_max_num_queries):
    for i in range(30):
        quoted(f"SYM{i}")
    with django_assert_max_num_queries(2):
        response = api.get("/api/market/instruments?limit=100")
    assert response.json()["count"] == 30
    assert len(response.json()["results"]) == 30


def test_instrument_detail_has_session_and_quote(api):
    quoted("AAPL", factory=EquityInstrumentFactory, name="Apple Inc.")
    response = api.get("/api/market/instruments/aapl")
    assert response.status_code == 200
    body = response.json()
    assert body["symbol"] == "AAPL"
    assert body["session"]["timezone"] == "America/New_York"
    assert body["session"]["open"] == "09:30:00"
    assert body["session"]["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert body["session"]["always_open"] is False
    assert body["session"]["next_open"] is not None
    assert body["quote"]["bid"] == "99.99"
    assert body["quote"]["ask"] == "100.01"
    assert body["quote"]["day_high"] == "100.50"


def test_instrument_detail_of_an_instrument_without_a_quote_has_a_null_quote(api):
    InstrumentFactory(symbol="NEW-USD")
    body = api.get("/api/market/instruments/NEW-USD").json()
    assert body["quote"] is None
    assert body["session"]["always_open"] is True
    assert body["session"]["next_open"] is None


def test_an_unknown_instrument_is_a_404_with_a_code(api):
    response = api.get("/api/market/instruments/NOPE")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# --- quote --------------------------------------------------------------------------------


def test_the_quote_has_the_contract_fields_with_prices_on_the_tick_grid(api):
    instrument = InstrumentFactory(symbol="EURUSD", tick_size=Decimal("0.00001"))
    QuoteFactory(
        instrument=instrument,
        bid=Decimal("1.08412"),
        ask=Decimal("1.08418"),
        last=Decimal("1.08415"),
        volume=Decimal("2500"),
        change_pct=Decimal("-0.1250"),
        ts=T0,
    )
    response = api.get("/api/market/eurusd/quote")
    assert response.status_code == 200
    assert response.json() == {
        "symbol": "EURUSD",
        "bid": "1.08412",
        "ask": "1.08418",
        "last": "1.08415",
        "volume": "2500",
        "change_pct": "-0.1250",
        "ts": "2026-03-02T12:00:00Z",
    }


def test_a_quote_of_an_unknown_symbol_is_404_and_of_an_unquoted_one_is_no_quote(api):
    InstrumentFactory(symbol="NEW-USD")
    assert api.get("/api/market/NOPE/quote").status_code == 404
    response = api.get("/api/market/NEW-USD/quote")
    assert response.status_code == 404
    assert response.json()["code"] == "no_quote"


# --- candles ------------------------------------------------------------------------------


def test_candles_come_oldest_first_as_decimal_strings(api):
    instrument = quoted("BTC-USD")
    make_candles(instrument, 3)
    response = api.get("/api/market/BTC-USD/candles?timeframe=1m")
    assert response.status_code == 200
    rows = response.json()
    assert [r["t"] for r in rows] == [
        "2026-03-02T12:00:00Z",
        "2026-03-02T12:01:00Z",
        "2026-03-02T12:02:00Z",
    ]
    assert rows[0] == {
        "t": "2026-03-02T12:00:00Z",
        "o": "100.00",
        "h": "101.00",
        "l": "99.00",
        "c": "100.50",
        "v": "3.5",
    }


def test_candles_default_to_500_and_limit_takes_the_most_recent(api):
    instrument = quoted("BTC-USD")
    make_candles(instrument, 600)
    assert len(api.get("/api/market/BTC-USD/candles").json()) == 500
    rows = api.get("/api/market/BTC-USD/candles?limit=2").json()
    assert [r["t"] for r in rows] == ["2026-03-02T21:58:00Z", "2026-03-02T21:59:00Z"]


def test_candles_are_filtered_by_start_and_end(api):
    instrument = quoted("BTC-USD")
    make_candles(instrument, 10)
    rows = api.get(
        "/api/market/BTC-USD/candles",
        {"start": "2026-03-02T12:02:00Z", "end": "2026-03-02T12:05:00Z"},
    ).json()
    assert [r["t"][11:16] for r in rows] == ["12:02", "12:03", "12:04"]


def test_candles_of_a_higher_timeframe_come_from_that_timeframe(api):
    instrument = quoted("BTC-USD")
    make_candles(instrument, 2, timeframe="1h", step=timedelta(hours=1))
    make_candles(instrument, 5)
    rows = api.get("/api/market/BTC-USD/candles?timeframe=1h").json()
    assert [r["t"] for r in rows] == ["2026-03-02T12:00:00Z", "2026-03-02T13:00:00Z"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("timeframe=2m", "invalid_choice"),
        ("limit=0", "min_value"),
        ("limit=1001", "max_value"),
        ("limit=abc", "invalid"),
        ("start=yesterday", "invalid"),
        ("end=2026-13-45", "invalid"),
        ("start=2026-03-02T13:00:00Z&end=2026-03-02T12:00:00Z", "invalid_range"),
    ],
)
def test_bad_candle_parameters_are_a_400_with_a_code(api, query, code):
    quoted("BTC-USD")
    response = api.get(f"/api/market/BTC-USD/candles?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_candles_of_an_unknown_symbol_are_a_404(api):
    response = api.get("/api/market/NOPE/candles?timeframe=1m")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_candles_accept_extreme_but_valid_dates_without_a_500(api):
    quoted("BTC-USD")
    response = api.get(
        "/api/market/BTC-USD/candles", {"start": "0001-01-01T00:00:00Z", "end": "9999-12-31"}
    )
    assert response.status_code == 200
    assert response.json() == []


# --- movers -------------------------------------------------------------------------------


def test_movers_are_the_top_gainers_and_losers(api):
    quoted("UP1", change_pct="5.5")
    quoted("UP2", change_pct="1.25")
    quoted("FLAT", change_pct="0")
    quoted("DOWN1", change_pct="-3")
    quoted("DOWN2", change_pct="-0.5")
    body = api.get("/api/market/movers?limit=1").json()
    assert [m["symbol"] for m in body["gainers"]] == ["UP1"]
    assert [m["symbol"] for m in body["losers"]] == ["DOWN1"]
    body = api.get("/api/market/movers").json()
    assert [m["symbol"] for m in body["gainers"]] == ["UP1", "UP2"]
    assert [m["symbol"] for m in body["losers"]] == ["DOWN1", "DOWN2"]
    assert body["gainers"][0] == {
        "symbol": "UP1",
        "name": "Test instrument UP1",
        "last": "100.00",
        "change_pct": "5.5000",
    }


def test_movers_queries_are_bounded(api, django_assert_max_num_queries):
    for i in range(20):
        quoted(f"M{i}", change_pct=str(i - 10))
    with django_assert_max_num_queries(2):
        assert api.get("/api/market/movers?limit=20").status_code == 200


def test_movers_refuse_a_bad_limit(api):
    assert api.get("/api/market/movers?limit=500").json()["code"] == "max_value"


# --- watchlist ----------------------------------------------------------------------------


def test_the_watchlist_needs_authentication(api):
    for response in (
        api.get("/api/watchlist"),
        api.post("/api/watchlist", {"symbol": "BTC-USD"}, format="json"),
        api.delete("/api/watchlist/BTC-USD"),
    ):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


def test_adding_to_the_watchlist_is_idempotent(alice):
    quoted("BTC-USD")
    client = as_user(alice)
    first = client.post("/api/watchlist", {"symbol": "btc-usd"}, format="json")
    assert first.status_code == 201
    assert first.json()["symbol"] == "BTC-USD"
    assert first.json()["quote"]["last"] == "100.00"
    again = client.post("/api/watchlist", {"symbol": "BTC-USD"}, format="json")
    assert again.status_code == 200
    assert Watchlist.objects.filter(user=alice).count() == 1


def test_the_watchlist_lists_entries_in_the_order_added(alice, django_assert_max_num_queries):
    client = as_user(alice)
    for symbol in ["ETH-USD", "BTC-USD", "AAPL"]:
        quoted(symbol)
        client.post("/api/watchlist", {"symbol": symbol}, format="json")
    with django_assert_max_num_queries(2):
        response = client.get("/api/watchlist")
    assert [e["symbol"] for e in response.json()] == ["ETH-USD", "BTC-USD", "AAPL"]


def test_bob_cannot_see_or_change_alices_watchlist(alice, bob):
    quoted("BTC-USD")
    as_user(alice).post("/api/watchlist", {"symbol": "BTC-USD"}, format="json")
    assert as_user(bob).get("/api/watchlist").json() == []
    response = as_user(bob).delete("/api/watchlist/BTC-USD")
    assert response.status_code == 404
    assert Watchlist.objects.filter(user=alice).count() == 1


def test_removing_from_the_watchlist(alice):
    quoted("BTC-USD")
    client = as_user(alice)
    client.post("/api/watchlist", {"symbol": "BTC-USD"}, format="json")
    assert client.delete("/api/watchlist/btc-usd").status_code == 204
    assert not Watchlist.objects.filter(user=alice).exists()
    response = client.delete("/api/watchlist/BTC-USD")
    assert response.status_code == 404
    assert response.json()["code"] == "not_watched"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"symbol": "NOPE"}, "unknown_symbol"),
        ({}, "required"),
        ({"symbol": "X" * 30}, "max_length"),
    ],
)
def test_adding_a_bad_symbol_is_a_400(alice, body, code):
    response = as_user(alice).post("/api/watchlist", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Watchlist.objects.exists()


def test_a_full_watchlist_refuses_with_409(alice):
    instruments = [InstrumentFactory(symbol=f"W{i}") for i in range(WATCHLIST_MAX_ENTRIES + 1)]
    Watchlist.objects.bulk_create(
        Watchlist(user=alice, instrument=inst, position=i)
        for i, inst in enumerate(instruments[:-1])
    )
    response = as_user(alice).post("/api/watchlist", {"symbol": "W100"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "watchlist_full"


def test_the_schema_documents_the_market_endpoints(api):
    schema = api.get("/api/schema/?format=json").json()
    for path in [
        "/api/market/instruments",
        "/api/market/instruments/{symbol}",
        "/api/market/{symbol}/quote",
        "/api/market/{symbol}/candles",
        "/api/market/movers",
        "/api/watchlist",
        "/api/watchlist/{symbol}",
    ]:
        assert path in schema["paths"], path


def test_api_paths_have_no_trailing_slash_and_do_not_redirect(api):
    quoted("BTC-USD")
    assert api.get("/api/market/instruments").status_code == 200
    assert api.get("/api/market/instruments/").status_code == 404
    assert api.get("/api/market/BTC-USD/quote/").status_code == 404
