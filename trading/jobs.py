"""Scheduled trading work: the matcher job, daily funding and equity snapshots.

The `*_job` functions are what config.jobs registers (the in-process scheduler calls them and
the Celery tasks in trading.tasks wrap them). Each takes its job lock without waiting, so a
job never overlaps itself: a second run while one is in progress returns None at once.

Job locks: config.joblock (a session-level advisory lock on PostgreSQL, a process lock on
SQLite). The services underneath are safe without them; the lock saves work.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, date, datetime, time
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from config.joblock import job_lock as shared_job_lock
from config.joblock import job_lock_key
from config.money import ZERO, quantize_cash
from ledger.models import HOUSE_FUNDING, JournalKind
from ledger.services import house_account, journal_post
from trading import pricing, services
from trading.matching import effective_leverage_sql, match_orders
from trading.models import EquitySnapshot, Position, TradingAccount
from trading.realtime import AccountEvents
from trading.selectors import effective_leverage

logger = logging.getLogger(__name__)

DAYS_PER_YEAR = Decimal(365)


def job_lock(name: str):
    """The lock of trading job NAME (config.joblock): `with job_lock(name) as acquired:`."""
    return shared_job_lock(job_lock_key(f"trading.{name}"))


# --- funding -----------------------------------------------------------------------------------


def funding_amount(
    *, quantity: Decimal, mark: Decimal, leverage: Decimal, annual_rate: Decimal
) -> Decimal:
    """One day's funding, in cents: annual_rate / 365 x the borrowed notional.

    A long at leverage L borrows notional x (1 - 1/L) (the trader's margin pays the rest); a
    short borrows what it sold, the full notional. Unleveraged longs borrow nothing.
    """
    notional = abs(quantity) * mark
    borrowed = notional if quantity < 0 else notional * (1 - 1 / leverage)
    return quantize_cash(borrowed * annual_rate / DAYS_PER_YEAR)


def funding_charge(*, now: datetime | None = None) -> int:
    """Charge one day's funding on every open leveraged or short position held over the last
    UTC midnight that has not been charged for today; returns the number of journals posted.

    Semantics: run often (every minute); the first run of a UTC day charges each position
    opened before that day's 00:00 UTC once, at the current mark (bid for longs, ask for
    shorts). `Position.funding_paid_on` makes it idempotent: a rerun on the same day charges
    nothing, and days missed while the job was down are not charged afterwards.
    Locks: per account, one transaction with the account row and its positions locked.
    Side effects: `funding` journals (trader's cash -> house:funding, referencing the position),
    `funding_paid_on` = today, a `balance_update` event after commit.
    """
    now = now or timezone.now()
    today = now.astimezone(UTC).date()
    midnight = datetime.combine(today, time(0), tzinfo=UTC)
    due = (
        _positions_due_funding(today, midnight)
        .alias(leverage=effective_leverage_sql())
        .filter(Q(quantity__lt=0) | Q(leverage__gt=1))
        .values_list("account_id", "id")
    )
    by_account: dict[int, list[int]] = defaultdict(list)
    for account_id, position_id in due:
        by_account[account_id].append(position_id)
    posted = 0
    for account_id, position_ids in sorted(by_account.items()):
        try:
            posted += _charge_account(account_id, position_ids, today, midnight)
        except Exception:
            logger.exception("funding of account %s failed; the next run retries", account_id)
    return posted


def _positions_due_funding(today: date, midnight: datetime):
    """Open positions held over today's midnight (UTC) and not charged today."""
    return Position.objects.filter(
        Q(funding_paid_on__isnull=True) | Q(funding_paid_on__lt=today),
        closed_at__isnull=True,
        opened_at__lt=midnight,
    )


@transaction.atomic
def _charge_account(account_id: int, position_ids: list[int], today: date, midnight) -> int:
    account = services._lock(TradingAccount(pk=account_id))
    rate = Decimal(str(settings.TRADING_FUNDING_RATE))
    positions = (
        _positions_due_funding(today, midnight)
        .select_for_update(of=("self",))
        .select_related("instrument", "instrument__quote")
        .filter(pk__in=position_ids, account_id=account.pk)
        .order_by("id")
    )
    events = AccountEvents(account)
    posted = 0
    for position in positions:
        quote = getattr(position.instrument, "quote", None)
        mark = (
            position.avg_price
            if quote is None
            else pricing.mark_price(quantity=position.quantity, bid=quote.bid, ask=quote.ask)
        )
        amount = funding_amount(
            quantity=position.quantity,
            mark=mark,
            leverage=effective_leverage(account, position.instrument),
            annual_rate=rate,
        )
        if amount > 0:
            journal_post(
                kind=JournalKind.FUNDING,
                lines=[(account.cash_account, -amount), (house_account(HOUSE_FUNDING), amount)],
                memo=f"Funding {position.instrument.symbol} {today.isoformat()}",
                reference_type="position",
                reference_id=str(position.pk),
            )
            posted += 1
        position.funding_paid_on = today
        position.save(update_fields=["funding_paid_on"])
    if posted:
        events.balance_changed()
        events.flush()
    return posted


# --- equity snapshots ----------------------------------------------------------------------------


def equity_snapshot_take(*, now: datetime | None = None) -> int:
    """Write an EquitySnapshot (ts = NOW truncated to the minute) for every non-archived
    account with activity, and roll `day_start_equity` at the first snapshot of a UTC day.

    Activity: an open position, a balance different from the last snapshot, no snapshot yet,
    or a day not rolled yet (so every account gets at least a daily point). Equity is valued
    exactly (Decimal) at bid for longs / ask for shorts, like `selectors.account_state`.
    Idempotent: the (account, ts) unique constraint plus `ignore_conflicts` make a rerun within
    the minute write nothing; the day roll only touches accounts not rolled today.
    No row locks (reads balances as committed). Returns the number of accounts snapshotted.
    """
    now = now or timezone.now()
    ts = now.replace(second=0, microsecond=0)
    today = now.astimezone(UTC).date()
    open_positions = Position.objects.filter(account=OuterRef("pk"), closed_at__isnull=True)
    last_balance = Subquery(
        EquitySnapshot.objects.filter(account=OuterRef("pk")).order_by("-ts").values("balance")[:1]
    )
    accounts = list(
        TradingAccount.objects.filter(is_archived=False)
        .annotate(has_positions=Exists(open_positions), last_balance=last_balance)
        .filter(
            Q(has_positions=True)
            | Q(last_balance__isnull=True)
            | ~Q(last_balance=F("cash_account__balance"))
            | Q(day_start_date__isnull=True)
            | Q(day_start_date__lt=today)
        )
        .select_related("cash_account")
        .only("id", "day_start_date", "cash_account__balance")
    )
    if not accounts:
        return 0
    upnl: dict[int, Decimal] = defaultdict(lambda: ZERO)
    positions = Position.objects.filter(
        closed_at__isnull=True, account__is_archived=False
    ).select_related("instrument__quote")
    for position in positions.only(
        "account_id", "quantity", "avg_price", "instrument__quote__bid", "instrument__quote__ask"
    ):
        quote = getattr(position.instrument, "quote", None)
        if quote is None:
            continue
        mark = pricing.mark_price(quantity=position.quantity, bid=quote.bid, ask=quote.ask)
        upnl[position.account_id] += pricing.unrealized_pnl(
            quantity=position.quantity, avg_price=position.avg_price, mark=mark
        )
    snapshots = []
    rolls: list[tuple[int, Decimal]] = []
    for account in accounts:
        balance = account.cash_account.balance
        equity = quantize_cash(balance + upnl[account.pk])
        snapshots.append(
            EquitySnapshot(account_id=account.pk, ts=ts, balance=balance, equity=equity)
        )
        if account.day_start_date is None or account.day_start_date < today:
            rolls.append((account.pk, equity))
    EquitySnapshot.objects.bulk_create(snapshots, ignore_conflicts=True, batch_size=1000)
    for offset in range(0, len(rolls), 500):
        chunk = rolls[offset : offset + 500]
        TradingAccount.objects.filter(pk__in=[pk for pk, _ in chunk]).filter(
            Q(day_start_date__isnull=True) | Q(day_start_date__lt=today)
        ).update(
            day_start_date=today,
            day_start_equity=Case(
                *[When(pk=pk, then=Value(equity)) for pk, equity in chunk],
                output_field=TradingAccount.day_start_equity.field,
            ),
        )
    return len(snapshots)


# --- job entry points (config.jobs) ------------------------------------------------------------


def match_orders_job(instrument_ids: Iterable[int] | None = None) -> dict | None:
    """The matcher pass under its job lock; None when another run holds it."""
    with job_lock("match_orders") as acquired:
        if not acquired:
            logger.info("match_orders skipped: another run holds its lock")
            return None
        return asdict(match_orders(instrument_ids=instrument_ids))


def funding_charge_job() -> int | None:
    with job_lock("charge_funding") as acquired:
        if not acquired:
            return None
        return funding_charge()


def equity_snapshot_job() -> int | None:
    with job_lock("snapshot_equity") as acquired:
        if not acquired:
            return None
        return equity_snapshot_take()
