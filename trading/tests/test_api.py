"""The trading API (/api/accounts...) through HTTP with real JWTs, checked against the database."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from ledger.models import Journal, JournalKind, Posting
from market.tests.factories import InstrumentFactory, QuoteFactory
from trading.models import (
    EquitySnapshot,
    Fill,
    Order,
    OrderStatus,
    Position,
    TradingAccount,
    TradingRules,
)
from trading.tests.factories import make_account, make_market

pytestmark = pytest.mark.django_db

ACCOUNT_FIELDS = {
    "id",
    "name",
    "currency",
    "balance",
    "equity",
    "unrealized_pnl",
    "realized_pnl",
    "margin_used",
    "free_margin",
    "max_leverage",
    "tournament",
    "initial_balance",
    "max_daily_loss",
    "is_default",
    "created_at",
}
ORDER_CONTRACT_FIELDS = {
    "id",
    "client_order_id",
    "symbol",
    "side",
    "type",
    "time_in_force",
    "quantity",
    "filled_quantity",
    "avg_fill_price",
    "limit_price",
    "stop_price",
    "status",
    "reject_reason",
    "created_at",
    "updated_at",
    "filled_at",
    "legs",
}
POSITION_CONTRACT_FIELDS = {
    "symbol",
    "quantity",
    "side",
    "avg_price",
    "mark_price",
    "market_value",
    "unrealized_pnl",
    "unrealized_pnl_pct",
    "realized_pnl",
    "stop_loss",
    "take_profit",
    "opened_at",
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", display_name="alice")


@pytest.fixture
def api(alice):
    return client_for(alice)


@pytest.fixture
def market(db):
    return make_market("BTC-USD", bid="99.99", ask="100.01")


@pytest.fixture
def account(alice):
    return make_account(alice, leverage=Decimal("2"))


def url(account, suffix="") -> str:
    return f"/api/accounts/{account.pk}{suffix}"


def place(api, account, **body):
    body = {"symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": "1", **body}
    return api.post(url(account, "/orders"), body, format="json")


def counts() -> tuple[int, int, int, int]:
    return (
        Order.objects.count(),
        Fill.objects.count(),
        Journal.objects.count(),
        Posting.objects.count(),
    )


# --- accounts -----------------------------------------------------------------------------------


def test_a_new_user_listing_accounts_gets_the_default_account(alice, api):
    response = api.get("/api/accounts")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (default,) = body["results"]
    assert set(default) == ACCOUNT_FIELDS
    assert default["is_default"] is True
    assert default["balance"] == "100000.00"
    assert default["equity"] == "100000.00"
    assert default["tournament"] is None
    assert TradingAccount.objects.filter(owner=alice, is_default=True).count() == 1
    # Listing again does not open another one.
    assert api.get("/api/accounts").json()["count"] == 1


def test_it_opens_an_account_and_deposits_the_initial_balance(alice, api):
    response = api.post(
        "/api/accounts",
        {"name": "Swing", "initial_balance": "2500.50", "max_leverage": 5, "max_daily_loss": 100},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == ACCOUNT_FIELDS
    assert body["name"] == "Swing"
    assert body["currency"] == "USD"
    assert body["balance"] == body["equity"] == body["free_margin"] == "2500.50"
    assert body["initial_balance"] == "2500.50"
    assert body["margin_used"] == body["unrealized_pnl"] == body["realized_pnl"] == "0.00"
    assert body["max_leverage"] == "5"
    assert body["max_daily_loss"] == "100.00"
    account = TradingAccount.objects.get(pk=body["id"])
    assert account.owner == alice
    assert account.balance == Decimal("2500.50")
    assert account.max_leverage == Decimal("5")
    assert Journal.objects.filter(kind=JournalKind.DEPOSIT, reference_id=str(account.pk)).exists()
    assert api.get(f"/api/accounts/{account.pk}").json() == body


def test_the_account_answer_values_open_positions(api, account, market):
    place(api, account, quantity="2")
    body = api.get(url(account)).json()
    # Bought 2 at 100.02 (ask plus slippage, rounded up to the tick), commission 0.05.
    assert body["balance"] == "99999.95"
    assert body["unrealized_pnl"] == "-0.06"  # marked at the bid 99.99
    assert body["equity"] == "99999.89"
    assert body["margin_used"] == "99.99"  # 2 x 99.99 / leverage 2
    assert body["free_margin"] == "99899.90"


def test_a_tournament_account_names_its_tournament(alice, api):
    rules = TradingRules.objects.create(source="tournament", source_id=7)
    account = make_account(alice, rules=rules)
    assert api.get(url(account)).json()["tournament"] == 7


def test_patch_renames_sets_leverage_and_null_clears_the_daily_loss_limit(api, account):
    response = api.patch(
        url(account), {"name": "Renamed", "max_leverage": "10", "max_daily_loss": "50"}, "json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Renamed"
    assert response.json()["max_daily_loss"] == "50.00"
    account.refresh_from_db()
    assert (account.name, account.max_leverage) == ("Renamed", Decimal("10"))
    assert account.max_daily_loss == Decimal("50")

    response = api.patch(url(account), {"max_daily_loss": None}, format="json")
    assert response.json()["max_daily_loss"] is None
    account.refresh_from_db()
    assert account.max_daily_loss is None
    assert account.name == "Renamed"  # untouched fields stay


def test_delete_archives_the_account(api, account):
    assert api.delete(url(account)).status_code == 204
    account.refresh_from_db()
    assert account.is_archived
    assert api.get(url(account)).status_code == 404


def test_delete_is_refused_while_positions_are_open(api, account, market):
    place(api, account)
    response = api.delete(url(account))
    assert response.status_code == 409
    assert response.json()["code"] == "positions_open"
    account.refresh_from_db()
    assert not account.is_archived


def test_reset_restores_the_initial_balance_and_closes_everything(api, account, market):
    place(api, account, quantity="3")
    resting = place(api, account, type="limit", limit_price="90").json()
    response = api.post(url(account, "/reset"))
    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == body["equity"] == "100000.00"
    assert body["margin_used"] == "0.00"
    assert not Position.objects.filter(account=account, closed_at__isnull=True).exists()
    assert Order.objects.get(pk=resting["id"]).status == OrderStatus.CANCELED
    assert Fill.objects.filter(account=account).count() == 1  # history kept


def test_reset_is_refused_where_the_rules_forbid_it(alice, api):
    account = make_account(alice, rules=TradingRules.objects.create(allow_reset=False))
    response = api.post(url(account, "/reset"))
    assert response.status_code == 422
    assert response.json()["code"] == "reset_not_allowed"


# --- orders -------------------------------------------------------------------------------------


def test_a_market_order_fills_at_once_and_answers_201(api, account, market):
    before = account.balance
    response = place(api, account, quantity="2", client_order_id="first")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= ORDER_CONTRACT_FIELDS
    assert body["symbol"] == "BTC-USD"
    assert (body["side"], body["type"], body["time_in_force"]) == ("buy", "market", "gtc")
    assert body["status"] == "filled"
    assert (body["quantity"], body["filled_quantity"]) == ("2", "2")
    assert body["avg_fill_price"] == "100.02"
    assert body["limit_price"] is None
    assert body["reject_reason"] == ""
    assert body["client_order_id"] == "first"
    assert body["filled_at"] is not None
    assert body["legs"] == []
    order = Order.objects.get(pk=body["id"])
    assert order.account == account
    assert order.source == "api"
    fill = Fill.objects.get(order=order)
    assert (fill.quantity, fill.price, fill.commission) == (
        Decimal("2"),
        Decimal("100.02"),
        Decimal("0.05"),
    )
    account.refresh_from_db()
    assert account.cash_account.balance == before - Decimal("0.05")


def test_numbers_in_json_are_read_as_exact_decimals(api, account, market):
    raw = (
        '{"symbol": "BTC-USD", "side": "buy", "type": "limit", "quantity": 0.1,'
        ' "limit_price": 90.07}'
    )
    response = api.post(url(account, "/orders"), raw, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert (response.json()["quantity"], response.json()["limit_price"]) == ("0.1", "90.07")
    order = Order.objects.get(pk=response.json()["id"])
    assert order.quantity == Decimal("0.1")
    assert order.limit_price == Decimal("90.07")


def test_a_limit_order_below_the_market_rests(api, account, market):
    response = place(api, account, type="limit", limit_price="95.5", time_in_force="day")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "new"
    assert body["filled_quantity"] == "0"
    assert body["avg_fill_price"] is None
    assert body["limit_price"] == "95.5"
    assert body["time_in_force"] == "day"
    assert body["expires_at"] is not None
    assert not Fill.objects.exists()


def test_stop_stop_limit_and_trailing_stop_orders_rest_until_triggered(api, account, market):
    stop = place(api, account, type="stop", stop_price="110").json()
    assert (stop["status"], stop["stop_price"]) == ("new", "110")
    stop_limit = place(api, account, type="stop_limit", stop_price="110", limit_price="111")
    assert stop_limit.status_code == 201
    assert stop_limit.json()["limit_price"] == "111"
    trailing = place(api, account, side="sell", type="trailing_stop", trail_percent="5").json()
    assert trailing["status"] == "new"
    assert trailing["trail_percent"] == "5"
    assert trailing["stop_price"] == "94.99"  # 5 % under the bid 99.99, rounded down
    by_price = place(api, account, side="sell", type="trailing_stop", trail_price="2").json()
    assert (by_price["trail_price"], by_price["stop_price"]) == ("2", "97.99")


def test_ioc_and_fok_orders_that_cannot_fill_are_canceled(api, account, market):
    response = place(api, account, type="limit", limit_price="90", time_in_force="ioc")
    assert response.status_code == 201
    assert response.json()["status"] == "canceled"
    assert response.json()["reject_reason"]


def test_a_bracket_entry_gets_its_exits_as_legs(api, account, market):
    response = place(
        api,
        account,
        quantity="2",
        take_profit={"limit_price": "110"},
        stop_loss={"stop_price": "90"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["take_profit"] == {"limit_price": "110"}
    assert body["stop_loss"] == {"stop_price": "90"}
    legs = {leg["leg_role"]: leg for leg in body["legs"]}
    assert set(legs) == {"take_profit", "stop_loss"}
    assert legs["take_profit"]["type"] == "limit"
    assert legs["take_profit"]["limit_price"] == "110"
    assert legs["stop_loss"]["type"] == "stop"
    assert legs["stop_loss"]["stop_price"] == "90"
    for leg in legs.values():
        assert "legs" not in leg
        assert (leg["side"], leg["quantity"], leg["status"]) == ("sell", "2", "new")
        assert leg["parent_id"] == body["id"]
    # The exits are orders of the account too, and can be read one by one.
    leg_id = legs["stop_loss"]["id"]
    assert api.get(url(account, f"/orders/{leg_id}")).json()["legs"] == []


def test_listing_orders_filters_by_status_and_symbol(api, account, market):
    make_market("ETH-USD", bid="9.99", ask="10.01")
    filled = place(api, account).json()
    resting = place(api, account, type="limit", limit_price="90").json()
    eth = place(api, account, symbol="eth-usd", type="limit", limit_price="9").json()

    def ids(query=""):
        response = api.get(url(account, f"/orders{query}"))
        assert response.status_code == 200
        return [order["id"] for order in response.json()["results"]]

    assert ids() == [eth["id"], resting["id"], filled["id"]]  # newest first, default all
    assert ids("?status=all") == ids()
    assert ids("?status=open") == [eth["id"], resting["id"]]
    assert ids("?status=closed") == [filled["id"]]
    assert ids("?symbol=ETH-USD") == [eth["id"]]
    assert ids("?symbol=btc-usd&status=open") == [resting["id"]]
    bad = api.get(url(account, "/orders?status=pending"))
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_choice"


def test_order_lists_are_paginated_with_a_bounded_page_size(api, account, market):
    Order.objects.bulk_create(
        Order(
            account=account,
            instrument=market,
            side="buy",
            type="limit",
            quantity=Decimal("1"),
            limit_price=Decimal("50"),
        )
        for _ in range(510)
    )
    page = api.get(url(account, "/orders?limit=3&offset=2")).json()
    assert page["count"] == 510
    assert len(page["results"]) == 3
    assert page["next"] and page["previous"]
    assert len(api.get(url(account, "/orders")).json()["results"]) == 50
    assert len(api.get(url(account, "/orders?limit=100000")).json()["results"]) == 500
    assert api.get(url(account, "/orders?limit=-5&offset=nope")).status_code == 200


def test_one_order_and_cancel(api, account, market):
    order = place(api, account, type="limit", limit_price="90").json()
    assert api.get(url(account, f"/orders/{order['id']}")).json() == order

    response = api.delete(url(account, f"/orders/{order['id']}"))
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    assert Order.objects.get(pk=order["id"]).status == OrderStatus.CANCELED

    again = api.delete(url(account, f"/orders/{order['id']}"))
    assert again.status_code == 409
    assert again.json()["code"] == "order_closed"
    missing = api.get(url(account, "/orders/999999"))
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_the_same_client_order_id_returns_the_original_order(api, account, market):
    first = place(api, account, client_order_id="abc-1", type="limit", limit_price="90")
    assert first.status_code == 201
    before = counts()
    replay = place(api, account, client_order_id="abc-1", type="limit", limit_price="90.00")
    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert counts() == before

    other = place(api, account, client_order_id="abc-1", type="limit", limit_price="91")
    assert other.status_code == 409
    assert other.json()["code"] == "client_order_id_conflict"
    assert counts() == before
    # Still the original after it is closed.
    api.delete(url(account, f"/orders/{first.json()['id']}"))
    replay = place(api, account, client_order_id="abc-1", type="limit", limit_price="90")
    assert (replay.status_code, replay.json()["id"]) == (200, first.json()["id"])


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"quantity": "5000"}, "insufficient_buying_power"),
        ({"symbol": "CLOSED-MKT"}, "market_closed"),
        ({"symbol": "NOPE-USD"}, "unknown_instrument"),
        ({"quantity": "1.0005"}, "quantity_not_on_lot"),
        ({"type": "limit", "limit_price": "99.995"}, "price_not_on_tick"),
        ({"quantity": "20000"}, "quantity_out_of_range"),
        ({"type": "trailing_stop", "side": "sell", "trail_percent": "75"}, "invalid_trail"),
        ({"take_profit": {"limit_price": "90"}}, "invalid_bracket"),
    ],
)
def test_orders_refused_by_trading_rules_answer_422_and_write_nothing(
    api, account, market, body, code
):
    make_market("CLOSED-MKT", session_days="")
    before = counts()
    response = place(api, account, **body)
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert counts() == before


def test_limit_orders_may_rest_while_the_market_is_closed(api, account):
    make_market("CLOSED-MKT", session_days="")
    response = place(api, account, symbol="CLOSED-MKT", type="limit", limit_price="90")
    assert response.status_code == 201
    assert response.json()["status"] == "new"


# --- positions ----------------------------------------------------------------------------------


def test_positions_show_quantity_side_and_valuation(api, account, market):
    make_market("ETH-USD", bid="9.99", ask="10.01")
    place(api, account, quantity="2")
    place(api, account, symbol="ETH-USD", side="sell", quantity="3")
    response = api.get(url(account, "/positions"))
    assert response.status_code == 200
    btc, eth = response.json()["results"]
    assert set(btc) >= POSITION_CONTRACT_FIELDS
    assert btc["symbol"] == "BTC-USD"
    assert (btc["quantity"], btc["side"], btc["avg_price"]) == ("2", "long", "100.02")
    assert btc["mark_price"] == "99.99"
    assert btc["market_value"] == "199.98"
    assert btc["unrealized_pnl"] == "-0.06"
    assert btc["unrealized_pnl_pct"] == "-0.03"
    assert btc["realized_pnl"] == "0.00"
    assert btc["stop_loss"] is None and btc["take_profit"] is None
    assert eth["symbol"] == "ETH-USD"
    # Sold 3 at the bid 9.99 less slippage, rounded down to the tick.
    assert (eth["quantity"], eth["side"], eth["avg_price"]) == ("-3", "short", "9.98")
    assert eth["mark_price"] == "10.01"  # shorts are marked at the ask
    assert eth["market_value"] == "-30.03"
    assert eth["unrealized_pnl"] == "-0.09"


def test_one_position_and_its_protection(api, account, market):
    place(api, account, quantity="2")
    position = api.get(url(account, "/positions/btc-usd"))
    assert position.status_code == 200
    assert position.json()["quantity"] == "2"

    response = api.patch(
        url(account, "/positions/BTC-USD"), {"stop_loss": "95", "take_profit": 120}, "json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["stop_loss"], response.json()["take_profit"]) == ("95", "120")
    stored = Position.objects.get(account=account, closed_at__isnull=True)
    assert (stored.stop_loss, stored.take_profit) == (Decimal("95"), Decimal("120"))

    response = api.patch(url(account, "/positions/BTC-USD"), {"take_profit": None}, "json")
    assert (response.json()["stop_loss"], response.json()["take_profit"]) == ("95", None)
    stored.refresh_from_db()
    assert (stored.stop_loss, stored.take_profit) == (Decimal("95"), None)

    wrong_side = api.patch(url(account, "/positions/BTC-USD"), {"stop_loss": "105"}, "json")
    assert wrong_side.status_code == 422
    assert wrong_side.json()["code"] == "invalid_protection"
    empty = api.patch(url(account, "/positions/BTC-USD"), {}, "json")
    assert empty.status_code == 400
    stored.refresh_from_db()
    assert stored.stop_loss == Decimal("95")


def test_a_position_that_is_not_open_is_404(api, account, market):
    for path in ("/positions/BTC-USD", "/positions/NOPE", "/positions/%00"):
        response = api.get(url(account, path))
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path


def test_closing_part_then_the_rest_of_a_position(api, account, market):
    place(api, account, quantity="4")
    response = api.post(
        url(account, "/positions/close"), {"symbol": "BTC-USD", "quantity": "1"}, "json"
    )
    assert response.status_code == 201, response.json()
    order = response.json()
    assert (order["side"], order["quantity"], order["status"]) == ("sell", "1", "filled")
    assert api.get(url(account, "/positions/BTC-USD")).json()["quantity"] == "3"

    response = api.post(
        url(account, "/positions/close"), {"symbol": "BTC-USD", "percent": "50"}, "json"
    )
    assert response.json()["quantity"] == "1.5"
    response = api.post(url(account, "/positions/close"), {"symbol": "btc-usd"}, "json")
    assert response.json()["quantity"] == "1.5"
    assert api.get(url(account, "/positions")).json()["results"] == []
    closed = api.get(url(account, "/positions?is_open=false")).json()["results"]
    assert len(closed) == 1
    assert closed[0]["quantity"] == "0"
    assert closed[0]["closed_at"] is not None
    assert Decimal(closed[0]["realized_pnl"]) < 0  # bought at the ask, sold at the bid


def test_closing_more_than_the_position_is_refused(api, account, market):
    place(api, account, quantity="1")
    before = counts()
    response = api.post(
        url(account, "/positions/close"), {"symbol": "BTC-USD", "quantity": "2"}, "json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_quantity"
    assert counts() == before
    missing = api.post(url(account, "/positions/close"), {"symbol": "ETH-USD"}, "json")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


# --- fills, ledger, history ---------------------------------------------------------------------


def test_fills_newest_first(api, account, market):
    first = place(api, account, quantity="1").json()
    second = place(api, account, side="sell", quantity="1").json()
    response = api.get(url(account, "/fills"))
    assert response.status_code == 200
    fills = response.json()["results"]
    assert [fill["order_id"] for fill in fills] == [second["id"], first["id"]]
    assert set(fills[0]) >= {"id", "order_id", "symbol", "side", "quantity", "price"}
    assert (fills[1]["side"], fills[1]["price"], fills[1]["commission"]) == (
        "buy",
        "100.02",
        "0.03",
    )
    assert fills[0]["realized_pnl"] == "-0.04"  # bought 100.02, sold 99.98


def test_the_ledger_lists_the_accounts_journal_lines_newest_first(api, account, market):
    order = place(api, account).json()
    response = api.get(url(account, "/ledger"))
    assert response.status_code == 200
    commission, deposit = response.json()["results"]
    assert commission["kind"] == "commission"
    assert commission["amount"] == "-0.03"
    assert commission["balance_after"] == "99999.97"
    fill = Fill.objects.get(order_id=order["id"])
    assert commission["reference"] == {"type": "fill", "id": str(fill.pk)}
    assert commission["memo"]
    assert deposit["kind"] == "deposit"
    assert (deposit["amount"], deposit["balance_after"]) == ("100000.00", "100000.00")
    assert deposit["reference"] == {"type": "trading_account", "id": str(account.pk)}


def test_history_returns_snapshots_in_the_period_and_the_current_equity(api, account):
    now = timezone.now()
    for days_ago, equity in ((40, "90000"), (20, "95000"), (3, "97000"), (0.5, "99000")):
        EquitySnapshot.objects.create(
            account=account,
            ts=now - timedelta(days=days_ago),
            balance=Decimal(equity),
            equity=Decimal(equity),
        )

    def equities(period):
        response = api.get(url(account, f"/history?period={period}"))
        assert response.status_code == 200, response.json()
        assert response.json()["period"] == period
        return [point["equity"] for point in response.json()["points"]]

    assert equities("1D") == ["99000.00", "100000.00"]
    assert equities("1W") == ["97000.00", "99000.00", "100000.00"]
    assert equities("1M") == ["95000.00", "97000.00", "99000.00", "100000.00"]
    assert equities("all") == ["90000.00", "95000.00", "97000.00", "99000.00", "100000.00"]
    bad = api.get(url(account, "/history?period=2Y"))
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_choice")


# --- no N+1 on lists ----------------------------------------------------------------------------


def _many_orders(account, instrument, n):
    parents = Order.objects.bulk_create(
        Order(
            account=account,
            instrument=instrument,
            side="buy",
            type="limit",
            quantity=Decimal("1"),
            limit_price=Decimal("50"),
            take_profit_price=Decimal("60"),
            stop_loss_price=Decimal("40"),
        )
        for _ in range(n)
    )
    Order.objects.bulk_create(
        Order(
            account=account,
            instrument=instrument,
            side="sell",
            type="limit",
            quantity=Decimal("1"),
            limit_price=Decimal("60"),
            parent=parent,
            leg_role="take_profit",
        )
        for parent in parents
    )


def test_list_endpoints_use_a_fixed_number_of_queries(
    api, alice, account, market, django_assert_max_num_queries
):
    _many_orders(account, market, 40)
    for i in range(30):
        instrument = InstrumentFactory(symbol=f"N{i}-USD")
        QuoteFactory(instrument=instrument)
        Position.objects.create(
            account=account, instrument=instrument, quantity=Decimal(i + 1), avg_price=100
        )
        order = Order.objects.create(
            account=account, instrument=instrument, side="buy", type="market", quantity=1
        )
        Fill.objects.create(
            order=order,
            account=account,
            instrument=instrument,
            side="buy",
            quantity=1,
            price=100,
            commission=Decimal("0.02"),
        )
    for i in range(15):
        make_account(alice, name=f"Extra {i}")
    for _ in range(20):
        place(api, account, quantity="0.01")
    api.get("/api/accounts")  # opens the default account (a one-off write, not measured)

    for path, rows in (
        (url(account, "/orders?limit=100"), 100),
        (url(account, "/positions?limit=100"), 31),
        (url(account, "/fills?limit=100"), 50),
        (url(account, "/ledger?limit=100"), 21),  # the deposit and 20 commissions
        ("/api/accounts?limit=100", 17),  # with the default account, opened on first use
    ):
        with django_assert_max_num_queries(8):
            response = api.get(path)
        assert response.status_code == 200
        assert len(response.json()["results"]) == rows, path


def test_the_openapi_schema_documents_every_trading_endpoint(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/accounts": {"get", "post"},
        "/api/accounts/{account_id}": {"get", "patch", "delete"},
        "/api/accounts/{account_id}/reset": {"post"},
        "/api/accounts/{account_id}/orders": {"get", "post"},
        "/api/accounts/{account_id}/orders/{order_id}": {"get", "delete"},
        "/api/accounts/{account_id}/positions": {"get"},
        "/api/accounts/{account_id}/positions/{symbol}": {"get", "patch"},
        "/api/accounts/{account_id}/positions/close": {"post"},
        "/api/accounts/{account_id}/fills": {"get"},
        "/api/accounts/{account_id}/ledger": {"get"},
        "/api/accounts/{account_id}/history": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
    place_order = paths["/api/accounts/{account_id}/orders"]["post"]
    assert {"200", "201", "400", "404", "409", "422"} <= set(place_order["responses"])
    schemas = response.json()["components"]["schemas"]
    assert set(schemas["OrderInputRequest"]["properties"]) >= {
        "symbol",
        "side",
        "type",
        "quantity",
        "limit_price",
        "stop_price",
        "trail_percent",
        "trail_price",
        "time_in_force",
        "client_order_id",
        "take_profit",
        "stop_loss",
    }
