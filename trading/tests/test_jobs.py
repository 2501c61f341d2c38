"""Scheduled trading jobs: daily funding, equity snapshots, job locks and registration."""

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils.module_loading import import_string

from config.celery import build_beat_schedule
from config.jobs import JOBS
from ledger.models import HOUSE_FUNDING, Journal, JournalKind, LedgerAccount
from ledger.selectors import account_balance
from ledger.services import ledger_reconcile
from market.models import Quote
from trading.jobs import (
    equity_snapshot_take,
    funding_amount,
    funding_charge,
    job_lock,
    match_orders_job,
)
from trading.models import EquitySnapshot, Position, TradingAccount
from trading.services import OrderRequest, account_delete, order_place
from trading.tests.factories import make_account, make_market

pytestmark = pytest.mark.django_db

DAY = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
NEXT_MIDNIGHT = datetime(2025, 3, 5, tzinfo=UTC)


def trade(account, side: str, quantity: str, now=DAY) -> None:
    order_place(
        account=account,
        request=OrderRequest(
            symbol="TEST-USD", side=side, type="market", quantity=Decimal(quantity)
        ),
        now=now,
    )


def quote(instrument, bid: str, ask: str) -> None:
    Quote.objects.filter(instrument=instrument).update(bid=Decimal(bid), ask=Decimal(ask))


def balance(account) -> Decimal:
    return TradingAccount.objects.select_related("cash_account").get(pk=account.pk).balance


@pytest.fixture
def market(db):
    """TEST-USD: bid 99.99 / ask 100.01, max leverage 10, 100 units of liquidity a tick."""
    return make_market("TEST-USD")


# --- funding ----------------------------------------------------------------------------------


def test_funding_is_the_daily_rate_on_the_borrowed_notional():
    rate = Decimal("0.05")
    # long 100 at 99.99 with 5x leverage borrows 80 % of 9999.00: 7999.20 x 0.05 / 365
    assert funding_amount(
        quantity=Decimal("100"), mark=Decimal("99.99"), leverage=Decimal("5"), annual_rate=rate
    ) == Decimal("1.10")
    # a short borrows all it sold: 1000.10 x 0.05 / 365 = 0.1370
    assert funding_amount(
        quantity=Decimal("-10"), mark=Decimal("100.01"), leverage=Decimal("1"), annual_rate=rate
    ) == Decimal("0.14")
    assert funding_amount(
        quantity=Decimal("10"), mark=Decimal("100"), leverage=Decimal("1"), annual_rate=rate
    ) == Decimal("0.00")


def test_funding_is_charged_once_per_position_per_day_after_midnight(market):
    leveraged = make_account(leverage=Decimal("5"))
    short = make_account()
    cash_only = make_account()
    trade(leveraged, "buy", "100")
    trade(short, "sell", "10")
    trade(cash_only, "buy", "10")
    before = {a.pk: balance(a) for a in (leveraged, short, cash_only)}

    assert funding_charge(now=NEXT_MIDNIGHT - timedelta(seconds=1)) == 0  # opened today

    quote(market, "99.99", "100.01")
    assert funding_charge(now=NEXT_MIDNIGHT + timedelta(seconds=30)) == 2
    assert balance(leveraged) == before[leveraged.pk] - Decimal("1.10")
    assert balance(short) == before[short.pk] - Decimal("0.14")
    assert balance(cash_only) == before[cash_only.pk]
    house = LedgerAccount.objects.get(code=HOUSE_FUNDING)
    assert account_balance(house) == Decimal("1.24")
    journals = Journal.objects.filter(kind=JournalKind.FUNDING)
    position = Position.objects.get(account=leveraged)
    assert journals.filter(reference_type="position", reference_id=str(position.pk)).count() == 1
    assert position.funding_paid_on == NEXT_MIDNIGHT.date()

    # later the same day: nothing more
    assert funding_charge(now=NEXT_MIDNIGHT + timedelta(hours=23)) == 0
    assert Journal.objects.filter(kind=JournalKind.FUNDING).count() == 2

    # the next day, at the marks of that moment: 8800 x 0.05 / 365 and 1100.20 x 0.05 / 365
    quote(market, "110.00", "110.02")
    assert funding_charge(now=NEXT_MIDNIGHT + timedelta(days=1, seconds=10)) == 2
    assert balance(leveraged) == before[leveraged.pk] - Decimal("1.10") - Decimal("1.21")
    assert balance(short) == before[short.pk] - Decimal("0.14") - Decimal("0.15")
    assert ledger_reconcile().ok


# --- equity snapshots -------------------------------------------------------------------------


def test_equity_snapshots_are_idempotent_per_minute_and_roll_the_day(market):
    alice = make_account()
    bob = make_account()
    archived = make_account()
    account_delete(account=archived)
    trade(alice, "buy", "10")  # 10 at 100.03, commission 0.21

    assert equity_snapshot_take(now=DAY + timedelta(seconds=30)) == 2
    first = EquitySnapshot.objects.get(account=alice)
    assert first.ts == DAY
    assert (first.balance, first.equity) == (Decimal("99999.79"), Decimal("99999.39"))
    assert EquitySnapshot.objects.get(account=bob).equity == Decimal("100000.00")
    assert not EquitySnapshot.objects.filter(account=archived).exists()
    bob_after = TradingAccount.objects.get(pk=bob.pk)
    assert (bob_after.day_start_date, bob_after.day_start_equity) == (
        DAY.date(),
        Decimal("100000.00"),
    )

    equity_snapshot_take(now=DAY + timedelta(seconds=59))  # the same minute: nothing new
    assert EquitySnapshot.objects.count() == 2

    # next minute: only alice has activity (an open position); bob is unchanged
    assert equity_snapshot_take(now=DAY + timedelta(minutes=1, seconds=5)) == 1
    assert EquitySnapshot.objects.filter(account=alice).count() == 2

    # the first snapshot of a new UTC day rolls everyone's day-start equity
    quote(market, "101.00", "101.02")
    equity_snapshot_take(now=NEXT_MIDNIGHT + timedelta(seconds=20))
    alice_after = TradingAccount.objects.get(pk=alice.pk)
    assert (alice_after.day_start_date, alice_after.day_start_equity) == (
        NEXT_MIDNIGHT.date(),
        Decimal("100009.49"),
    )
    assert TradingAccount.objects.get(pk=bob.pk).day_start_date == NEXT_MIDNIGHT.date()
    latest = EquitySnapshot.objects.filter(account=alice).latest("ts")
    assert (latest.ts, latest.equity) == (NEXT_MIDNIGHT, Decimal("100009.49"))


# --- job locks and registration ----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_job_never_overlaps_itself():
    results = []

    def run_elsewhere():
        from django.db import connection

        try:
            results.append(match_orders_job())
        finally:
            connection.close()

    with job_lock("match_orders") as acquired:
        assert acquired
        thread = threading.Thread(target=run_elsewhere)
        thread.start()
        thread.join(timeout=30)
    assert results == [None]  # skipped: the lock was held

    report = match_orders_job()
    assert report is not None
    assert report["errors"] == 0


def test_the_trading_jobs_are_scheduled_on_their_queues():
    jobs = {job.name: job for job in JOBS}
    matcher = jobs["trading-match-orders"]
    assert (matcher.interval, matcher.queue, matcher.expires) == (1.0, "ticks", 1.0)
    assert jobs["market-advance"].queue == "ticks"  # others' entries are kept
    for name in ("trading-match-orders", "trading-charge-funding", "trading-snapshot-equity"):
        job = jobs[name]
        assert callable(import_string(job.service))
        assert import_string(job.task).name == job.task
    schedule = build_beat_schedule()
    assert schedule["trading-match-orders"]["options"] == {"queue": "ticks", "expires": 1.0}


def test_the_celery_tasks_run_the_services(market):
    from trading.tasks import charge_funding, match_orders, snapshot_equity

    make_account()
    assert match_orders.apply().get()["errors"] == 0
    assert match_orders.apply(args=[[market.pk]]).get()["instruments"] == 1
    assert charge_funding.apply().get() == 0
    assert snapshot_equity.apply().get() == 1
