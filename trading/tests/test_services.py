from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ledger.models import Journal, JournalKind
from ledger.services import ledger_reconcile
from market.models import Quote
from trading.models import Fill, Order, OrderStatus, Position, TradingRules
from trading.selectors import account_state
from trading.services import (
    OrderRequest,
    TradingConflict,
    TradingError,
    account_default_for,
    account_delete,
    account_reset,
    order_cancel,
    order_place,
    position_close,
    position_protect,
)
from trading.tests.factories import make_account, make_market

pytestmark = pytest.mark.django_db


def buy(account, qty="10", **kwargs):
    fields = {"symbol": "TEST-USD", "side": "buy", "type": "market", "quantity": Decimal(qty)}
    fields.update(kwargs)
    return order_place(account=account, request=OrderRequest(**fields))[0]


def sell(account, qty="10", **kwargs):
    return buy(account, qty, side="sell", **kwargs)


def refreshed(account):
    account.refresh_from_db()
    account.cash_account.refresh_from_db()
    return account


def test_opening_an_account_deposits_its_initial_balance_through_the_ledger():
    account = make_account(balance=Decimal("2500.00"))
    assert account.balance == Decimal("2500.00")
    journal = Journal.objects.get(kind=JournalKind.DEPOSIT)
    assert journal.reference_id == str(account.pk)
    assert ledger_reconcile().ok


def test_a_default_account_is_made_on_first_use_and_only_once():
    user = UserFactory()
    first = account_default_for(user)
    second = account_default_for(user)
    assert first.pk == second.pk
    assert first.balance == Decimal("100000.00")
    assert first.is_default


def test_a_market_buy_fills_at_the_ask_plus_slippage_and_charges_commission():
    make_market(bid="99.99", ask="100.01")
    account = make_account()
    order = buy(account, "10")
    assert order.status == OrderStatus.FILLED
    # 100.01 x (1 + 0.001 x 10/100) = 100.020001, rounded up to the tick.
    assert order.avg_fill_price == Decimal("100.03")
    fill = Fill.objects.get(order=order)
    assert fill.commission == Decimal("0.21")  # 0.02 % of 1000.30, rounded up
    position = Position.objects.get(account=account, closed_at__isnull=True)
    assert position.quantity == Decimal("10")
    assert position.avg_price == Decimal("100.03")
    assert refreshed(account).balance == Decimal("99999.79")


def test_the_account_state_follows_the_money_model():
    instrument = make_market(bid="99.99", ask="100.01")
    account = make_account(leverage=Decimal("5"))
    buy(account, "10")
    Quote.objects.filter(instrument=instrument).update(bid=Decimal("110.00"), ask=Decimal("110.02"))
    state = account_state(refreshed(account))
    assert state.unrealized_pnl == Decimal("99.70")  # 10 x (110.00 - 100.03), marked at the bid
    assert state.equity == Decimal("100099.49")
    assert state.margin_used == Decimal("220.00")  # 10 x 110 / 5 (account 5, instrument 10)
    assert state.free_margin == Decimal("99879.49")


def test_selling_realises_pnl_into_the_ledger():
    instrument = make_market(bid="99.99", ask="100.01")
    account = make_account()
    buy(account, "10")
    Quote.objects.filter(instrument=instrument).update(
        bid=Decimal("105.00"), ask=Decimal("105.02"), ts=timezone.now()
    )
    sell(account, "4")
    position = Position.objects.get(account=account, closed_at__isnull=True)
    assert position.quantity == Decimal("6")
    # sells 4 at 105.00 x (1 - 0.00004) = 104.9958 -> 104.99; realised 4 x (104.99 - 100.03)
    assert position.realized_pnl == Decimal("19.84")
    account = refreshed(account)
    assert account.realized_pnl == Decimal("19.84")
    assert Journal.objects.filter(kind=JournalKind.TRADE_PNL).count() == 1
    assert ledger_reconcile().ok


def test_selling_through_zero_flips_the_position_at_the_fill_price():
    make_market(bid="99.99", ask="100.01")
    account = make_account(leverage=Decimal("2"))
    buy(account, "5")
    sell(account, "8")
    position = Position.objects.get(account=account, closed_at__isnull=True)
    assert position.quantity == Decimal("-3")
    assert position.avg_price == Decimal("99.98")
    assert ledger_reconcile().ok


def test_an_order_beyond_buying_power_is_refused_and_writes_nothing():
    make_market(bid="99.99", ask="100.01")
    account = make_account(balance=Decimal("1000.00"))
    with pytest.raises(TradingError) as refusal:
        buy(account, "10")  # needs 1000.30 plus commission
    assert refusal.value.code == "insufficient_buying_power"
    assert not Order.objects.exists()
    assert refreshed(account).balance == Decimal("1000.00")


def test_leverage_raises_buying_power_up_to_the_instruments_cap():
    make_market(bid="99.99", ask="100.01", max_leverage=Decimal("4"))
    account = make_account(balance=Decimal("1000.00"), leverage=Decimal("50"))
    buy(account, "39")  # 39 x 100.01 / 4 = 975.10 of margin
    with pytest.raises(TradingError) as refusal:
        buy(account, "1")
    assert refusal.value.code == "insufficient_buying_power"


def test_resting_orders_reserve_buying_power():
    make_market(bid="99.99", ask="100.01")
    account = make_account(balance=Decimal("1500.00"))
    buy(account, "10", type="limit", limit_price=Decimal("90.00"))
    with pytest.raises(TradingError) as refusal:
        buy(account, "10", type="limit", limit_price=Decimal("90.00"))
    assert refusal.value.code == "insufficient_buying_power"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"symbol": "NOPE"}, "unknown_instrument"),
        ({"quantity": Decimal("0.0005")}, "quantity_out_of_range"),
        ({"quantity": Decimal("20000")}, "quantity_out_of_range"),
        ({"quantity": Decimal("1.0005")}, "quantity_not_on_lot"),
        ({"type": "limit", "limit_price": Decimal("99.005")}, "price_not_on_tick"),
        (
            {"type": "trailing_stop", "side": "sell", "trail_percent": Decimal("80")},
            "invalid_trail",
        ),
        ({"take_profit": Decimal("90.00")}, "invalid_bracket"),
        ({"stop_loss": Decimal("120.00")}, "invalid_bracket"),
    ],
)
def test_pre_trade_checks_refuse_with_a_code(fields, code):
    make_market()
    account = make_account()
    with pytest.raises(TradingError) as refusal:
        buy(account, **fields)
    assert refusal.value.code == code
    assert not Order.objects.exists()


def test_a_halted_instrument_cannot_be_traded():
    make_market(is_halted=True)
    with pytest.raises(TradingError) as refusal:
        buy(make_account())
    assert refusal.value.code == "instrument_halted"


def test_market_orders_need_an_open_session_but_limit_orders_may_rest():
    from market.tests.factories import EquityInstrumentFactory, QuoteFactory

    stock = EquityInstrumentFactory(symbol="AAPL")
    QuoteFactory(instrument=stock)
    saturday = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    account = make_account()
    request = OrderRequest(symbol="AAPL", side="buy", type="market", quantity=Decimal("1"))
    with pytest.raises(TradingError) as refusal:
        order_place(account=account, request=request, now=saturday)
    assert refusal.value.code == "market_closed"
    limit = OrderRequest(
        symbol="AAPL", side="buy", type="limit", quantity=Decimal("1"), limit_price=Decimal("95.00")
    )
    order, _ = order_place(account=account, request=limit, now=saturday)
    assert order.status == OrderStatus.NEW


def test_a_marketable_limit_order_fills_at_once_never_worse_than_its_limit():
    make_market(bid="99.99", ask="100.01")
    order = buy(make_account(), "10", type="limit", limit_price=Decimal("100.02"))
    assert order.status == OrderStatus.FILLED
    assert order.avg_fill_price == Decimal("100.02")


def test_a_far_limit_order_rests_and_can_be_canceled():
    make_market()
    account = make_account()
    order = buy(account, "1", type="limit", limit_price=Decimal("50.00"))
    assert order.status == OrderStatus.NEW
    canceled = order_cancel(account=account, order_id=order.pk)
    assert canceled.status == OrderStatus.CANCELED
    with pytest.raises(TradingConflict) as conflict:
        order_cancel(account=account, order_id=order.pk)
    assert conflict.value.code == "order_closed"


def test_a_large_order_fills_partially_against_the_ticks_liquidity():
    make_market(liquidity=Decimal("5"))
    account = make_account()
    gtc = buy(account, "8")
    assert gtc.status == OrderStatus.PARTIALLY_FILLED
    assert gtc.filled_quantity == Decimal("5")
    ioc = buy(account, "8", time_in_force="ioc")
    assert ioc.status == OrderStatus.CANCELED
    assert ioc.filled_quantity == Decimal("5")
    fok = buy(account, "8", time_in_force="fok")
    assert fok.status == OrderStatus.CANCELED
    assert fok.filled_quantity == Decimal("0")
    assert not Fill.objects.filter(order=fok).exists()


def test_the_same_client_order_id_returns_the_original_or_conflicts():
    make_market()
    account = make_account()
    first = buy(account, "1", client_order_id="abc-1")
    again, created = order_place(
        account=account,
        request=OrderRequest(
            symbol="TEST-USD",
            side="buy",
            type="market",
            quantity=Decimal("1"),
            client_order_id="abc-1",
        ),
    )
    assert again.pk == first.pk
    assert not created
    with pytest.raises(TradingConflict) as conflict:
        buy(account, "2", client_order_id="abc-1")
    assert conflict.value.code == "client_order_id_conflict"
    assert Order.objects.count() == 1


def test_a_bracket_entry_creates_exits_that_cover_its_fill():
    make_market(bid="99.99", ask="100.01")
    entry = buy(make_account(), "3", take_profit=Decimal("110.00"), stop_loss=Decimal("95.00"))
    legs = {leg.leg_role: leg for leg in entry.legs.all()}
    assert legs["take_profit"].limit_price == Decimal("110.00")
    assert legs["stop_loss"].stop_price == Decimal("95.00")
    assert all(leg.quantity == Decimal("3") and leg.side == "sell" for leg in legs.values())
    assert all(leg.reduce_only for leg in legs.values())


def test_closing_a_position_by_percent_and_in_full():
    make_market()
    account = make_account()
    buy(account, "10")
    half = position_close(account=account, symbol="TEST-USD", percent=Decimal("50"))
    assert half.filled_quantity == Decimal("5")
    position_close(account=account, symbol="TEST-USD")
    assert not Position.objects.filter(account=account, closed_at__isnull=True).exists()
    assert ledger_reconcile().ok


def test_a_stop_loss_on_the_wrong_side_is_refused():
    make_market(bid="99.99", ask="100.01")
    account = make_account()
    buy(account, "1")
    with pytest.raises(TradingError) as refusal:
        position_protect(
            account=account,
            symbol="TEST-USD",
            stop_loss=Decimal("101.00"),
            take_profit=None,
            fields={"stop_loss"},
        )
    assert refusal.value.code == "invalid_protection"
    position = position_protect(
        account=account,
        symbol="TEST-USD",
        stop_loss=Decimal("90.00"),
        take_profit=None,
        fields={"stop_loss"},
    )
    assert position.stop_loss == Decimal("90.00")


def test_reset_restores_the_initial_balance_and_keeps_history():
    instrument = make_market()
    account = make_account(balance=Decimal("5000.00"))
    buy(account, "10")
    buy(account, "1", type="limit", limit_price=Decimal("50.00"))
    Quote.objects.filter(instrument=instrument).update(bid=Decimal("80.00"), ask=Decimal("80.02"))
    sell(account, "5")
    account = account_reset(account=account)
    assert refreshed(account).balance == Decimal("5000.00")
    assert not Position.objects.filter(account=account, closed_at__isnull=True).exists()
    assert not Order.objects.filter(
        account=account, status__in=["new", "partially_filled"]
    ).exists()
    assert Fill.objects.filter(account=account).count() == 2
    assert Journal.objects.filter(kind=JournalKind.RESET).count() == 1
    assert ledger_reconcile().ok


def test_deleting_an_account_is_refused_while_positions_are_open():
    make_market()
    account = make_account()
    buy(account, "1")
    with pytest.raises(TradingConflict) as conflict:
        account_delete(account=account)
    assert conflict.value.code == "positions_open"
    position_close(account=account, symbol="TEST-USD")
    account_delete(account=account)
    account.refresh_from_db()
    assert account.is_archived


def test_the_daily_loss_limit_stops_new_exposure():
    instrument = make_market(bid="99.99", ask="100.01")
    account = make_account(leverage=Decimal("10"), max_daily_loss=Decimal("100.00"))
    buy(account, "50")
    Quote.objects.filter(instrument=instrument).update(bid=Decimal("97.00"), ask=Decimal("97.02"))
    with pytest.raises(TradingError) as refusal:
        buy(account, "1")
    assert refusal.value.code == "daily_loss_limit"
    sell(account, "10")  # reducing is still allowed


def test_rules_limit_instruments_shorting_window_and_bots():
    other = make_market("OTHER-USD")
    make_market()
    rules = TradingRules.objects.create(
        source="tournament",
        source_id=7,
        allow_short=False,
        allow_api_orders=False,
        allow_reset=False,
    )
    rules.allowed_instruments.add(other)
    account = make_account(rules=rules)
    with pytest.raises(TradingError) as refusal:
        order_place(
            account=account,
            request=OrderRequest(
                symbol="OTHER-USD", side="buy", type="market", quantity=Decimal("1")
            ),
            source="api",
        )
    assert refusal.value.code == "bots_not_allowed"
    with pytest.raises(TradingError) as refusal:
        order_place(
            account=account,
            request=OrderRequest(
                symbol="TEST-USD", side="buy", type="market", quantity=Decimal("1")
            ),
            source="web",
        )
    assert refusal.value.code == "instrument_not_allowed"
    with pytest.raises(TradingError) as refusal:
        order_place(
            account=account,
            request=OrderRequest(
                symbol="OTHER-USD", side="sell", type="market", quantity=Decimal("1")
            ),
            source="web",
        )
    assert refusal.value.code == "short_selling_not_allowed"
    with pytest.raises(TradingError) as refusal:
        account_reset(account=account)
    assert refusal.value.code == "reset_not_allowed"
