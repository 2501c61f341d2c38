"""Every tournament rule, enforced by the trading services on a tournament account."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tournaments.services import tournament_join
from tournaments.tests.factories import make_tournament
from trading.models import OrderSource
from trading.services import OrderRequest, TradingError, account_reset, order_place

pytestmark = pytest.mark.django_db


def _buy(participant, quantity: str, *, side="buy", symbol="TEST-USD", source=None, now=None):
    order, _ = order_place(
        account=participant.account,
        request=OrderRequest(symbol=symbol, side=side, type="market", quantity=Decimal(quantity)),
        source=source or OrderSource.WEB,
        now=now,
    )
    return order


def _refused(code: str, *args, **kwargs) -> None:
    with pytest.raises(TradingError) as exc:
        _buy(*args, **kwargs)
    assert exc.value.code == code


def test_only_allowed_instruments_trade(alice, market, other_market):
    participant = tournament_join(tournament=make_tournament(instruments=[market]), user=alice)
    _refused("instrument_not_allowed", participant, "1", symbol="OTHER-USD")
    assert _buy(participant, "1").status == "filled"


def test_the_leverage_cap_limits_buying_power(alice, market):
    # 5,000 at 2x: about 10,000 of exposure although the instrument allows 10x.
    participant = tournament_join(
        tournament=make_tournament(max_leverage=Decimal("2"), starting_balance=Decimal("5000.00")),
        user=alice,
    )
    _refused("insufficient_buying_power", participant, "101")
    assert _buy(participant, "95").status == "filled"  # 9,500 of exposure: needs the 2x


def test_short_selling_can_be_forbidden(alice, market):
    participant = tournament_join(tournament=make_tournament(allow_short=False), user=alice)
    _refused("short_selling_not_allowed", participant, "1", side="sell")
    _buy(participant, "2")
    assert _buy(participant, "2", side="sell").status == "filled"  # closing is not shorting


def test_the_tournament_commission_applies(alice, market):
    participant = tournament_join(
        tournament=make_tournament(commission_rate=Decimal("0.01"), min_commission=Decimal("5.00")),
        user=alice,
    )
    # 1 at about 100: 1 % is 1.00, below the minimum of 5.00.
    assert _buy(participant, "1").commission == Decimal("5.00")
    # 10 at 100.02 (ask 100.01 plus slippage, on the tick): 1 % of 1000.20 = 10.01 (rounded up).
    order = _buy(participant, "10")
    assert order.commission == Decimal("10.01")


def test_one_instrument_may_take_at_most_its_share_of_equity(alice, market):
    participant = tournament_join(
        tournament=make_tournament(max_position_share=Decimal("0.5")), user=alice
    )
    _refused("max_position_share", participant, "51")
    assert _buy(participant, "49").status == "filled"


def test_trading_only_inside_the_window_with_clear_codes(alice, market):
    now = timezone.now()
    starts, ends = now + timedelta(hours=1), now + timedelta(hours=2)
    participant = tournament_join(
        tournament=make_tournament(status="upcoming", starts_at=starts, ends_at=ends),
        user=alice,
        now=now,
    )
    _refused("trading_not_started", participant, "1", now=starts - timedelta(microseconds=1))
    assert _buy(participant, "1", now=starts).status == "filled"
    assert _buy(participant, "1", now=ends - timedelta(microseconds=1)).status == "filled"
    _refused("trading_ended", participant, "1", now=ends)


def test_a_tournament_account_cannot_be_reset(alice, market):
    participant = tournament_join(tournament=make_tournament(), user=alice)
    with pytest.raises(TradingError) as exc:
        account_reset(account=participant.account)
    assert exc.value.code == "reset_not_allowed"


def test_api_orders_are_refused_where_bots_are_not_allowed(alice, bob, market):
    closed = tournament_join(tournament=make_tournament(bots_allowed=False), user=alice)
    _refused("bots_not_allowed", closed, "1", source=OrderSource.API)
    assert _buy(closed, "1", source=OrderSource.WEB).status == "filled"
    open_to_bots = tournament_join(tournament=make_tournament(bots_allowed=True), user=bob)
    assert _buy(open_to_bots, "1", source=OrderSource.API).status == "filled"
