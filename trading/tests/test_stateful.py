"""Random sequences of place / cancel / tick / close / reset keep the books right.

Invariants after every step: the ledger reconciles (every journal sums to zero, cached balances
equal their postings, the book sums to zero), and the open position equals the sum of the fills
since the last reset.
"""

import contextlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Q, Sum
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from ledger.services import ledger_reconcile
from market.models import Quote
from trading.matching import match_orders
from trading.models import OPEN_STATUSES, Fill, Order, Position
from trading.services import (
    OrderRequest,
    TradingConflict,
    TradingError,
    account_reset,
    order_cancel,
    order_place,
    position_close,
)
from trading.tests.factories import make_account, make_market

_examples = iter(range(1_000_000))


class TradingMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.clock = timezone.now()
        self.symbol = f"HYP{next(_examples)}-USD"  # examples share the test's database
        self.instrument = make_market(
            self.symbol, bid="99.99", ask="100.01", liquidity=Decimal("4"), lot_size=Decimal("1"),
            min_quantity=Decimal("1"),
        )  # fmt: skip
        Quote.objects.filter(instrument=self.instrument).update(ts=self.clock)
        self.account = make_account(balance=Decimal("5000.00"), leverage=Decimal("3"))
        self.reset_at = self.clock - timedelta(days=1)

    def tick_clock(self):
        self.clock += timedelta(seconds=1)
        return self.clock

    def place(self, **fields):
        request = OrderRequest(symbol=self.symbol, **fields)
        with contextlib.suppress(TradingError):  # refusals write nothing: the invariants check
            order_place(account=self.account, request=request, now=self.tick_clock())

    @rule(side=st.sampled_from(["buy", "sell"]), qty=st.integers(1, 9))
    def market_order(self, side, qty):
        self.place(side=side, type="market", quantity=Decimal(qty))

    @rule(
        side=st.sampled_from(["buy", "sell"]),
        qty=st.integers(1, 6),
        offset=st.integers(-300, 300),
        tif=st.sampled_from(["gtc", "day", "ioc", "fok"]),
    )
    def limit_order(self, side, qty, offset, tif):
        quote = Quote.objects.get(instrument=self.instrument)
        price = (quote.bid + quote.ask) / 2 + Decimal(offset) / 100
        self.place(
            side=side,
            type="limit",
            quantity=Decimal(qty),
            limit_price=price.quantize(Decimal("0.01")),
            time_in_force=tif,
        )

    @rule(side=st.sampled_from(["buy", "sell"]), qty=st.integers(1, 5), pct=st.integers(1, 5))
    def trailing_stop(self, side, qty, pct):
        self.place(
            side=side, type="trailing_stop", quantity=Decimal(qty), trail_percent=Decimal(pct)
        )

    @rule(pick=st.integers(0, 1000))
    def cancel(self, pick):
        open_ids = list(
            Order.objects.filter(account=self.account, status__in=OPEN_STATUSES).values_list(
                "pk", flat=True
            )
        )
        if not open_ids:
            return
        with contextlib.suppress(TradingConflict):
            order_cancel(
                account=self.account, order_id=open_ids[pick % len(open_ids)], now=self.tick_clock()
            )

    @rule(move=st.integers(-500, 500))
    def tick(self, move):
        now = self.tick_clock()
        quote = Quote.objects.get(instrument=self.instrument)
        bid = max(quote.bid + Decimal(move) / 100, Decimal("1.00"))
        Quote.objects.filter(instrument=self.instrument).update(
            bid=bid, ask=bid + Decimal("0.02"), last=bid + Decimal("0.01"), ts=now
        )
        match_orders(now=now)

    @rule(pct=st.integers(1, 100))
    def close(self, pct):
        with contextlib.suppress(TradingError, Http404):  # nothing (left) to close
            position_close(
                account=self.account,
                symbol=self.symbol,
                percent=Decimal(pct),
                now=self.tick_clock(),
            )

    @rule()
    def reset(self):
        self.reset_at = self.tick_clock()
        account_reset(account=self.account, now=self.reset_at)

    @invariant()
    def ledger_balances(self):
        report = ledger_reconcile()
        assert report.ok, report.problems

    @invariant()
    def position_equals_its_fills(self):
        fills = Fill.objects.filter(account=self.account, created_at__gt=self.reset_at)
        signed = fills.aggregate(
            buys=Sum("quantity", filter=Q(side="buy")), sells=Sum("quantity", filter=Q(side="sell"))
        )
        expected = (signed["buys"] or 0) - (signed["sells"] or 0)
        position = Position.objects.filter(account=self.account, closed_at__isnull=True).first()
        assert (position.quantity if position else 0) == expected

    @invariant()
    def orders_never_overfill(self):
        for order in Order.objects.filter(account=self.account):
            assert 0 <= order.filled_quantity <= order.quantity


@pytest.mark.django_db
def test_random_trading_sessions_keep_every_ledger_and_position_invariant():
    run_state_machine_as_test(
        TradingMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
