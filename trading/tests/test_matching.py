"""The matcher (trading.matching.match_orders): prices move by updating the Quote row, the
market's own state, and each pass runs at an explicit `now` just after the quote's ts."""

import asyncio
import threading
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.consumers import user_group
from ledger.models import Journal, JournalKind
from ledger.services import ledger_reconcile
from market.models import Quote
from trading.matching import match_orders
from trading.models import (
    Fill,
    LegRole,
    Order,
    OrderSource,
    OrderStatus,
    OrderType,
    Position,
    Side,
)
from trading.realtime import account_group
from trading.services import OrderRequest, order_place, position_protect
from trading.tests.factories import make_account, make_market

T0 = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)  # a Tuesday


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def tick(instrument, bid: str, ask: str, ts: datetime) -> None:
    """The market moves: the instrument's quote row gets a new bid/ask and timestamp."""
    Quote.objects.filter(instrument=instrument).update(
        bid=Decimal(bid), ask=Decimal(ask), last=(Decimal(bid) + Decimal(ask)) / 2, ts=ts
    )


def place(account, now=None, symbol="TEST-USD", **fields) -> Order:
    for name in ("quantity", "limit_price", "stop_price", "trail_price", "trail_percent"):
        if isinstance(fields.get(name), str):
            fields[name] = Decimal(fields[name])
    for name in ("take_profit", "stop_loss"):
        if isinstance(fields.get(name), str):
            fields[name] = Decimal(fields[name])
    order, _ = order_place(
        account=account, request=OrderRequest(symbol=symbol, **fields), now=now or at(0.5)
    )
    return order


def fills_of(order) -> list[tuple[Decimal, Decimal]]:
    return [(f.quantity, f.price) for f in Fill.objects.filter(order=order).order_by("id")]


@pytest.fixture
def market(db):
    """TEST-USD, 24/7, bid 99.99 / ask 100.01, tick 0.01, 100 units of liquidity per tick."""
    instrument = make_market("TEST-USD")
    Quote.objects.filter(instrument=instrument).update(ts=T0)
    return instrument


@pytest.fixture
def alice(db):
    return make_account(balance=Decimal("100000.00"))


pytestmark = pytest.mark.django_db


# --- limits -----------------------------------------------------------------------------------


def test_a_buy_limit_fills_when_the_ask_reaches_it_and_not_before(market, alice):
    order = place(alice, side="buy", type="limit", quantity="10", limit_price="99.50")
    assert order.status == OrderStatus.NEW

    tick(market, "99.49", "99.51", at(1))
    report = match_orders(now=at(1))
    order.refresh_from_db()
    assert (report.fills, order.status) == (0, OrderStatus.NEW)

    tick(market, "99.48", "99.50", at(2))
    report = match_orders(now=at(2))
    order.refresh_from_db()
    assert report.fills == 1
    assert order.status == OrderStatus.FILLED
    # ask 99.50 plus slippage is 99.51, but a limit never pays more than its price
    assert fills_of(order) == [(Decimal("10"), Decimal("99.50"))]
    assert order.last_fill_quote_ts == at(2)
    assert ledger_reconcile().ok


def test_a_sell_limit_fills_when_the_bid_reaches_it(market, alice):
    order = place(alice, side="sell", type="limit", quantity="10", limit_price="100.50")

    tick(market, "100.49", "100.51", at(1))
    assert match_orders(now=at(1)).fills == 0

    tick(market, "100.50", "100.52", at(2))
    assert match_orders(now=at(2)).fills == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert fills_of(order) == [(Decimal("10"), Decimal("100.50"))]
    position = Position.objects.get(account=alice, closed_at__isnull=True)
    assert position.quantity == Decimal("-10")


# --- stops --------------------------------------------------------------------------------------


def test_a_buy_stop_triggers_at_its_price_and_fills_as_a_market_order(market, alice):
    order = place(alice, side="buy", type="stop", quantity="10", stop_price="101.00")

    tick(market, "100.97", "100.99", at(1))
    assert match_orders(now=at(1)).triggered == 0

    tick(market, "100.98", "101.00", at(2))
    report = match_orders(now=at(2))
    order.refresh_from_db()
    assert (report.triggered, report.fills) == (1, 1)
    assert order.triggered_at == at(2)
    assert order.status == OrderStatus.FILLED
    # the ask (101.00) plus slippage of 10/100 x 0.1 %, rounded up to the tick
    assert fills_of(order) == [(Decimal("10"), Decimal("101.02"))]


def test_a_sell_stop_triggers_when_the_bid_falls_to_it(market, alice):
    place(alice, side="buy", type="market", quantity="10")
    order = place(alice, side="sell", type="stop", quantity="10", stop_price="99.00")

    tick(market, "99.01", "99.03", at(1))
    assert match_orders(now=at(1)).fills == 0

    tick(market, "99.00", "99.02", at(2))
    assert match_orders(now=at(2)).fills == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert fills_of(order) == [(Decimal("10"), Decimal("98.99"))]
    assert not Position.objects.filter(account=alice, closed_at__isnull=True).exists()


def test_a_stop_limit_triggers_then_fills_only_within_its_limit(market, alice):
    order = place(
        alice,
        side="sell",
        type="stop_limit",
        quantity="10",
        stop_price="98.00",
        limit_price="97.50",
    )

    tick(market, "98.01", "98.03", at(1))
    match_orders(now=at(1))
    order.refresh_from_db()
    assert order.triggered_at is None

    # gaps through the stop and below the limit: triggered, but no fill under 97.50
    tick(market, "97.40", "97.42", at(2))
    report = match_orders(now=at(2))
    order.refresh_from_db()
    assert (report.triggered, report.fills) == (1, 0)
    assert order.triggered_at == at(2)
    assert order.status == OrderStatus.NEW

    tick(market, "97.49", "97.51", at(3))
    assert match_orders(now=at(3)).fills == 0

    tick(market, "97.60", "97.62", at(4))
    assert match_orders(now=at(4)).fills == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert fills_of(order) == [(Decimal("10"), Decimal("97.59"))]


def test_a_trailing_stop_ratchets_with_the_high_water_mark_and_fires_on_the_pullback(market, alice):
    place(alice, side="buy", type="market", quantity="10")
    order = place(alice, side="sell", type="trailing_stop", quantity="10", trail_price="2.00")
    assert (order.water_mark, order.stop_price) == (Decimal("99.99"), Decimal("97.99"))

    def levels():
        order.refresh_from_db()
        return order.water_mark, order.stop_price

    tick(market, "101.50", "101.52", at(1))
    assert match_orders(now=at(1)).ratcheted == 1
    assert levels() == (Decimal("101.50"), Decimal("99.50"))

    tick(market, "103.00", "103.02", at(2))
    match_orders(now=at(2))
    assert levels() == (Decimal("103.00"), Decimal("101.00"))

    # a pullback never lowers the stop
    tick(market, "102.00", "102.02", at(3))
    assert match_orders(now=at(3)).ratcheted == 0
    assert levels() == (Decimal("103.00"), Decimal("101.00"))

    tick(market, "101.01", "101.03", at(4))
    assert match_orders(now=at(4)).fills == 0

    tick(market, "100.99", "101.01", at(5))
    report = match_orders(now=at(5))
    order.refresh_from_db()
    assert (report.triggered, report.fills) == (1, 1)
    assert order.status == OrderStatus.FILLED
    assert fills_of(order) == [(Decimal("10"), Decimal("100.97"))]
    assert not Position.objects.filter(account=alice, closed_at__isnull=True).exists()


def test_a_percent_trailing_buy_stop_follows_the_low_water_mark_on_the_tick_grid(market, alice):
    sell_trail = place(alice, side="sell", type="trailing_stop", quantity="5", trail_percent="4.5")
    buy_trail = place(alice, side="buy", type="trailing_stop", quantity="5", trail_percent="1.5")
    # 100.01 x 1.015 = 101.51015 -> 101.51 on the grid
    assert (buy_trail.water_mark, buy_trail.stop_price) == (Decimal("100.01"), Decimal("101.51"))

    tick(market, "97.98", "98.00", at(1))
    match_orders(now=at(1))
    buy_trail.refresh_from_db()
    assert (buy_trail.water_mark, buy_trail.stop_price) == (Decimal("98.00"), Decimal("99.47"))

    tick(market, "97.00", "97.02", at(2))
    match_orders(now=at(2))
    buy_trail.refresh_from_db()
    # 97.02 x 1.015 = 98.4753 -> 98.48
    assert (buy_trail.water_mark, buy_trail.stop_price) == (Decimal("97.02"), Decimal("98.48"))

    tick(market, "103.00", "103.02", at(3))
    report = match_orders(now=at(3))
    buy_trail.refresh_from_db()
    sell_trail.refresh_from_db()
    assert buy_trail.status == OrderStatus.FILLED  # ask 103.02 >= 98.48
    assert report.triggered == 1
    # the sell trail's water mark rose from 99.99 to 103.00: 103.00 - 4.635 = 98.365 -> 98.36
    assert (sell_trail.water_mark, sell_trail.stop_price) == (
        Decimal("103.00"),
        Decimal("98.36"),
    )
    assert sell_trail.status == OrderStatus.NEW


# --- brackets and position protection -------------------------------------------------------


def test_a_bracket_entry_fills_then_its_take_profit_fills_and_cancels_the_stop_loss(market, alice):
    entry = place(
        alice,
        side="buy",
        type="limit",
        quantity="10",
        limit_price="99.00",
        take_profit="105.00",
        stop_loss="95.00",
    )
    assert not entry.legs.exists()

    tick(market, "98.98", "99.00", at(1))
    assert match_orders(now=at(1)).fills == 1
    entry.refresh_from_db()
    assert entry.status == OrderStatus.FILLED
    legs = {leg.leg_role: leg for leg in entry.legs.all()}
    take_profit, stop_loss = legs[LegRole.TAKE_PROFIT], legs[LegRole.STOP_LOSS]
    assert (take_profit.type, take_profit.side, take_profit.limit_price) == (
        OrderType.LIMIT,
        Side.SELL,
        Decimal("105.00"),
    )
    assert (stop_loss.type, stop_loss.side, stop_loss.stop_price) == (
        OrderType.STOP,
        Side.SELL,
        Decimal("95.00"),
    )
    assert take_profit.quantity == stop_loss.quantity == Decimal("10")
    assert take_profit.reduce_only and stop_loss.reduce_only
    assert match_orders(now=at(1)).fills == 0  # the same tick again: nothing more

    tick(market, "105.00", "105.02", at(2))
    assert match_orders(now=at(2)).fills == 1
    take_profit.refresh_from_db()
    stop_loss.refresh_from_db()
    assert take_profit.status == OrderStatus.FILLED
    assert fills_of(take_profit) == [(Decimal("10"), Decimal("105.00"))]
    assert stop_loss.status == OrderStatus.CANCELED
    assert stop_loss.reject_reason == "other bracket exit filled"
    assert not Position.objects.filter(account=alice, closed_at__isnull=True).exists()

    tick(market, "94.00", "94.02", at(3))
    assert match_orders(now=at(3)).fills == 0
    assert ledger_reconcile().ok


def test_a_long_positions_stop_loss_closes_it_at_market(market, alice):
    place(alice, side="buy", type="market", quantity="10")
    position_protect(
        account=alice,
        symbol="TEST-USD",
        stop_loss=Decimal("95.00"),
        take_profit=Decimal("110.00"),
        fields={"stop_loss", "take_profit"},
    )

    tick(market, "95.01", "95.03", at(1))
    assert match_orders(now=at(1)).protective_closes == 0

    tick(market, "95.00", "95.02", at(2))
    report = match_orders(now=at(2))
    assert report.protective_closes == 1
    position = Position.objects.get(account=alice)
    assert position.closed_at == at(2)
    exit_order = Order.objects.get(account=alice, source=OrderSource.SYSTEM)
    assert (exit_order.type, exit_order.side, exit_order.reduce_only) == (
        OrderType.MARKET,
        Side.SELL,
        True,
    )
    assert exit_order.status == OrderStatus.FILLED
    assert fills_of(exit_order) == [(Decimal("10"), Decimal("94.99"))]

    again = match_orders(now=at(2))
    assert (again.protective_closes, again.fills) == (0, 0)
    assert Order.objects.filter(account=alice, source=OrderSource.SYSTEM).count() == 1


def test_a_short_positions_take_profit_closes_it_when_the_ask_falls_to_it(market, alice):
    place(alice, side="sell", type="market", quantity="10")
    position_protect(
        account=alice,
        symbol="TEST-USD",
        stop_loss=None,
        take_profit=Decimal("90.00"),
        fields={"take_profit"},
    )
    tick(market, "89.99", "90.01", at(1))
    assert match_orders(now=at(1)).protective_closes == 0

    tick(market, "89.98", "90.00", at(2))
    assert match_orders(now=at(2)).protective_closes == 1
    exit_order = Order.objects.get(account=alice, source=OrderSource.SYSTEM)
    assert exit_order.side == Side.BUY
    assert fills_of(exit_order) == [(Decimal("10"), Decimal("90.01"))]
    assert Position.objects.get(account=alice).closed_at is not None


# --- partial fills and idempotency -----------------------------------------------------------


def test_a_gtc_order_larger_than_the_liquidity_fills_once_per_tick_and_never_twice(market, alice):
    order = place(alice, side="buy", type="limit", quantity="250", limit_price="99.00")

    tick(market, "98.48", "98.50", at(1))
    assert match_orders(now=at(1)).fills == 1
    assert match_orders(now=at(1)).fills == 0  # same tick: nothing more
    order.refresh_from_db()
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal("100"))

    tick(market, "98.48", "98.50", at(2))
    assert match_orders(now=at(2)).fills == 1
    assert match_orders(now=at(2)).fills == 0
    tick(market, "98.48", "98.50", at(3))
    assert match_orders(now=at(3)).fills == 1
    tick(market, "98.48", "98.50", at(4))
    assert match_orders(now=at(4)).fills == 0

    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert order.filled_quantity == order.quantity == Decimal("250")
    # 98.50 + 0.1 % slippage for a full tick of liquidity (98.5985 -> 98.60), 0.05 % for half
    assert fills_of(order) == [
        (Decimal("100"), Decimal("98.60")),
        (Decimal("100"), Decimal("98.60")),
        (Decimal("50"), Decimal("98.55")),
    ]
    assert Position.objects.get(account=alice).quantity == Decimal("250")
    assert ledger_reconcile().ok


def test_a_partly_filled_gtc_market_order_keeps_working_on_later_ticks(market, alice):
    order = place(alice, side="buy", type="market", quantity="150", time_in_force="gtc")
    assert (order.status, order.filled_quantity) == (OrderStatus.PARTIALLY_FILLED, Decimal("100"))

    tick(market, "100.99", "101.01", at(1))
    assert match_orders(now=at(1)).fills == 1
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED
    assert fills_of(order)[-1] == (Decimal("50"), Decimal("101.07"))


def test_nothing_trades_on_a_halted_instrument_or_a_closed_session(market, alice):
    order = place(alice, side="buy", type="limit", quantity="10", limit_price="99.00")
    market.is_halted = True
    market.save(update_fields=["is_halted"])
    tick(market, "97.98", "98.00", at(1))
    report = match_orders(now=at(1))
    assert (report.instruments, report.fills) == (0, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW


# --- DAY orders --------------------------------------------------------------------------------


def test_day_orders_expire_at_the_session_close(db, alice):
    stock = make_market(
        "AAPL",
        bid="189.99",
        ask="190.01",
        session_timezone="America/New_York",
        session_open=time(9, 30),
        session_close=time(16, 0),
        session_days="01234",
    )
    opened = datetime(2025, 3, 4, 19, 0, tzinfo=UTC)  # 14:00 in New York (EST)
    Quote.objects.filter(instrument=stock).update(ts=opened)
    day = place(
        alice,
        now=opened + timedelta(seconds=1),
        symbol="AAPL",
        side="buy",
        type="limit",
        quantity="1",
        limit_price="180.00",
        time_in_force="day",
    )
    gtc = place(
        alice,
        now=opened + timedelta(seconds=1),
        symbol="AAPL",
        side="buy",
        type="limit",
        quantity="1",
        limit_price="180.00",
    )
    close = datetime(2025, 3, 4, 21, 0, tzinfo=UTC)  # 16:00 in New York
    assert day.expires_at == close

    assert match_orders(now=close - timedelta(seconds=1)).expired == 0
    day.refresh_from_db()
    assert day.status == OrderStatus.NEW

    seq_before = type(alice).objects.get(pk=alice.pk).event_seq
    report = match_orders(now=close)
    day.refresh_from_db()
    gtc.refresh_from_db()
    assert report.expired == 1
    assert (day.status, day.reject_reason) == (OrderStatus.EXPIRED, "day order expired")
    assert gtc.status == OrderStatus.NEW
    assert type(alice).objects.get(pk=alice.pk).event_seq == seq_before + 1

    # after the close the market is shut: even a crossing quote fills nothing
    Quote.objects.filter(instrument=stock).update(ask=Decimal("170.00"), bid=Decimal("169.98"))
    after = match_orders(now=close + timedelta(minutes=5))
    gtc.refresh_from_db()
    assert (after.expired, after.fills, gtc.status) == (0, 0, OrderStatus.NEW)


# --- liquidation -------------------------------------------------------------------------------


def _receive(channel: str, timeout: float = 5):
    layer = get_channel_layer()

    async def receive():
        return await asyncio.wait_for(layer.receive(channel), timeout)

    return async_to_sync(receive)()


def test_liquidation_closes_the_largest_loss_first_and_tells_the_trader(
    db, django_capture_on_commit_callbacks
):
    deep = make_market("AAA-USD", liquidity=Decimal("100000"))
    shallow = make_market("BBB-USD", liquidity=Decimal("100000"))
    Quote.objects.update(ts=T0)
    account = make_account(balance=Decimal("10000.00"), leverage=Decimal("10"))
    place(account, symbol="AAA-USD", side="buy", type="market", quantity="400")
    place(account, symbol="BBB-USD", side="buy", type="market", quantity="300")
    resting = place(
        account, symbol="BBB-USD", side="buy", type="limit", quantity="1", limit_price="50.00"
    )
    account.cash_account.refresh_from_db()
    assert account.cash_account.balance == Decimal("9985.98")  # two commissions paid

    layer = get_channel_layer()
    user_channel = async_to_sync(layer.new_channel)()
    account_channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(account.owner_id), user_channel)
    async_to_sync(layer.group_add)(account_group(account.pk), account_channel)
    try:
        # equity 9985.98 - 400 x 15.02 - 300 x 5.02 = 2471.98 < 50 % of margin 6250
        tick(deep, "85.00", "85.02", at(1))
        tick(shallow, "95.00", "95.02", at(1))
        with django_capture_on_commit_callbacks(execute=True):
            report = match_orders(now=at(1))
        assert (report.liquidated_accounts, report.liquidation_fills) == (1, 1)

        liquidation = Fill.objects.get(account=account, is_liquidation=True)
        assert liquidation.instrument == deep  # the larger loss went first
        assert (liquidation.quantity, liquidation.price) == (Decimal("400"), Decimal("84.99"))
        assert liquidation.realized_pnl == Decimal("-6012.00")
        journal = Journal.objects.get(
            kind=JournalKind.LIQUIDATION, reference_id=str(liquidation.pk)
        )
        assert journal.postings.get(account=account.cash_account).amount == Decimal("-6012.00")
        # closing AAA was enough: 2461.18 of equity against 1425 of maintenance on BBB
        assert Position.objects.get(account=account, instrument=shallow).closed_at is None
        assert Position.objects.get(account=account, instrument=deep).closed_at == at(1)
        resting.refresh_from_db()
        assert (resting.status, resting.reject_reason) == (
            OrderStatus.CANCELED,
            "canceled by liquidation",
        )

        notice = _receive(user_channel)["payload"]
        assert notice["type"] == "liquidation"
        assert notice["account_id"] == account.pk
        assert notice["closed"] == ["AAA-USD"]
        assert notice["orders_canceled"] == 1
        assert notice["equity"] == "2471.98"
        events = []
        while not events or events[-1]["type"] != "liquidation":
            events.append(_receive(account_channel)["payload"])
        assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)

        with django_capture_on_commit_callbacks(execute=True):
            again = match_orders(now=at(1))
        assert (again.liquidated_accounts, again.liquidation_fills) == (0, 0)
        assert ledger_reconcile().ok
    finally:
        async_to_sync(layer.group_discard)(user_group(account.owner_id), user_channel)
        async_to_sync(layer.group_discard)(account_group(account.pk), account_channel)


def test_an_account_above_maintenance_is_left_alone(market):
    account = make_account(balance=Decimal("10000.00"), leverage=Decimal("10"))
    place(account, side="buy", type="market", quantity="90")
    tick(market, "95.00", "95.02", at(1))  # a loss of ~450: equity far above 50 % of 855
    report = match_orders(now=at(1))
    assert report.liquidated_accounts == 0
    assert not Fill.objects.filter(is_liquidation=True).exists()


# --- cost -----------------------------------------------------------------------------------


def test_the_candidate_search_does_not_grow_with_resting_orders(
    market, alice, django_assert_max_num_queries
):
    """Expiry, instruments, trailing ratchet, order candidates (on PostgreSQL inside a
    savepoint that turns JIT off), position candidates and liquidation candidates: the same
    few queries whether 3 or 303 orders rest away from the market."""
    for price in ("90.00", "91.00", "92.00"):
        place(alice, side="buy", type="limit", quantity="1", limit_price=price)
    tick(market, "99.98", "100.00", at(1))
    with CaptureQueriesContext(connection) as few:
        assert match_orders(now=at(1)).candidates == 0
    assert len(few) <= 9

    Order.objects.bulk_create(
        Order(
            account=alice,
            instrument=market,
            side=side,
            type=order_type,
            quantity=Decimal("1"),
            limit_price=Decimal(limit) if limit else None,
            stop_price=Decimal(stop) if stop else None,
            created_at=T0,
            updated_at=T0,
        )
        for i in range(100)
        for side, order_type, limit, stop in (
            (Side.BUY, OrderType.LIMIT, f"{80 + i / 100:.2f}", None),
            (Side.SELL, OrderType.LIMIT, f"{120 + i / 100:.2f}", None),
            (Side.SELL, OrderType.STOP, None, f"{70 + i / 100:.2f}"),
        )
    )
    tick(market, "99.97", "99.99", at(2))
    with django_assert_max_num_queries(len(few)):
        assert match_orders(now=at(2)).candidates == 0

    # the same statements find the one order a move crosses (the buy limit at 92.00)
    tick(market, "91.48", "91.50", at(3))
    assert match_orders(now=at(3)).candidates == 1


# --- concurrency ----------------------------------------------------------------------------


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="concurrent matcher runs need PostgreSQL's row locks (SQLite has one writer)",
)
@pytest.mark.django_db(transaction=True)
def test_two_matcher_runs_at_once_never_double_fill():
    instrument = make_market("TEST-USD")
    Quote.objects.update(ts=T0)
    accounts = [make_account(leverage=Decimal("10")) for _ in range(4)]
    orders = [
        place(account, side="buy", type="limit", quantity="1000", limit_price=price)
        for account in accounts
        for price in ("99.00", "98.90", "98.80")
    ]
    rounds = 8
    for round_number in range(1, rounds + 1):
        now = at(round_number)
        tick(instrument, "98.48", "98.50", now)
        barrier = threading.Barrier(2)
        reports, errors = [], []

        def run(now=now, barrier=barrier, reports=reports, errors=errors):
            try:
                barrier.wait(timeout=10)
                reports.append(match_orders(now=now))
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        assert sum(r.errors for r in reports) == 0
        # each order fills exactly once per tick, whichever run got there first
        assert sum(r.fills for r in reports) == len(orders)
        for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
            assert order.filled_quantity == Decimal(100 * round_number)
            assert order.filled_quantity <= order.quantity
    assert Fill.objects.count() == len(orders) * rounds
    assert ledger_reconcile().ok
