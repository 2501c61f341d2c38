"""The matcher: fills resting orders when the market reaches them (runs after every tick).

One pass (`match_orders`) does, in this order:

1. expire DAY orders whose `expires_at` has passed (the session close; any instrument, open
   or not, because the close is exactly when an instrument stops ticking);
2. ratchet trailing stops: one query finds the (instrument, side, trail) terms whose water
   mark the current quote improves, one UPDATE per (instrument, side) moves the water mark and
   the stop level (levels computed with `services.trailing_stop_level`, so the tick rounding is
   the same as at placement). The UPDATE is guarded by `water_mark < bid` (sell) or
   `water_mark > ask` (buy), so a slower, older run can never move a level back;
3. find candidates with indexed range queries per instrument and side, in one UNION ALL
   statement joined with the quotes (`order_open_limit_idx`, `order_open_stop_idx`,
   `order_open_working_idx`, `position_open_protect_idx`): ids and account ids only;
4. per account, one transaction: lock the account, re-read its candidate orders FOR UPDATE and
   the current quotes, re-check each (`trigger_if_crossed` + `order_is_executable`) and
   `execute_order` it; then close positions whose stop-loss / take-profit is hit with a
   reduce-only system market order (IOC: what the tick's liquidity does not take is canceled;
   if still hit, the next tick closes more);
5. liquidation: one aggregate query finds the accounts whose equity is below the maintenance
   margin; each is re-checked under its lock, its open orders are canceled and its positions
   closed at market, largest loss first, until equity is back above maintenance or it is flat.
   The trader is told on the account stream and on their notification stream.

Idempotency: `execute_order` records the quote timestamp an order traded against and
`order_is_executable` refuses a second fill on the same tick; orders created at or after the
quote's timestamp (e.g. bracket exits created by a fill in this very tick) wait for the next
tick; system exits (SL/TP, liquidation) are not sent twice for one account, instrument and
tick. So a second run on the same tick, or a concurrent run, changes nothing. Every run
re-reads the open orders from the database; nothing relies on the broker redelivering work.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Abs, Coalesce, Greatest, Least, NullIf
from django.utils import timezone

from accounts.consumers import user_group
from config.money import quantize_cash
from config.realtime import publish
from market.models import Instrument, Quote
from trading import services
from trading.models import (
    OPEN_STATUSES,
    Fill,
    Order,
    OrderSource,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
    TradingAccount,
)
from trading.realtime import AccountEvents
from trading.selectors import AccountState, account_state

logger = logging.getLogger(__name__)

STOP_TYPES = (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)
DAY_EXPIRED_REASON = "day order expired"
LIQUIDATION_CANCEL_REASON = "canceled by liquidation"
EXIT_REST_REASON = "rest canceled (not enough liquidity this tick)"
# Wide enough for products of prices and quantities inside the aggregate queries.
_WIDE = DecimalField(max_digits=60, decimal_places=20)


@dataclass
class MatchReport:
    """What one pass did (counts), and how long its candidate search took."""

    instruments: int = 0  # open instruments with a quote that were matched
    expired: int = 0  # DAY orders expired
    ratcheted: int = 0  # trailing stops whose water mark moved
    candidates: int = 0  # orders and positions the range queries returned
    accounts: int = 0  # accounts locked for matching
    triggered: int = 0  # stops triggered
    fills: int = 0  # fills of resting and working orders
    protective_closes: int = 0  # fills closing positions at their stop-loss / take-profit
    liquidated_accounts: int = 0
    liquidation_fills: int = 0
    errors: int = 0  # accounts whose transaction failed (logged; retried next tick)
    search_ms: float = 0.0  # time of the candidate search (step 3)


def maintenance_ratio() -> Decimal:
    return Decimal(str(settings.TRADING_MAINTENANCE_MARGIN))


def below_maintenance(state: AccountState) -> bool:
    """Equity under TRADING_MAINTENANCE_MARGIN x margin used (with some margin in use)."""
    return state.margin_used > 0 and state.equity < maintenance_ratio() * state.margin_used


def match_orders(
    *, now: datetime | None = None, instrument_ids: Iterable[int] | None = None
) -> MatchReport:
    """One matcher pass over INSTRUMENT_IDS (default: all) at NOW (see the module docstring).

    Invariants: an order fills at most once per quote tick and never beyond its quantity; a
    fill happens only against the current quote of an open, non-halted instrument.
    Locks: per account, in its own transaction, the account row (like every trading service),
    then its candidate orders and positions FOR UPDATE. No lock spans two accounts.
    Side effects: orders, fills, positions and journals through `services.execute_order`;
    account stream events and liquidation notifications after each account's commit.
    """
    now = now or timezone.now()
    report = MatchReport()
    report.expired = expire_day_orders(now=now)

    instruments = _open_instruments(now, instrument_ids)
    report.instruments = len(instruments)
    if instruments:
        report.ratcheted = _ratchet_trailing_stops(instruments, now)
        started = time.perf_counter()
        order_rows = order_candidates(instruments.keys())
        position_rows = list(_protected_position_candidates(instruments.keys()))
        report.search_ms = (time.perf_counter() - started) * 1000
        report.candidates = len(order_rows) + len(position_rows)

        orders_by_account: dict[int, list[int]] = defaultdict(list)
        positions_by_account: dict[int, list[int]] = defaultdict(list)
        for order_id, account_id in order_rows:
            orders_by_account[account_id].append(order_id)
        for position_id, account_id in position_rows:
            positions_by_account[account_id].append(position_id)
        for account_id in sorted(orders_by_account.keys() | positions_by_account.keys()):
            report.accounts += 1
            try:
                _match_account(
                    account_id,
                    orders_by_account.get(account_id, []),
                    positions_by_account.get(account_id, []),
                    now,
                    report,
                )
            except Exception:
                report.errors += 1
                logger.exception("matching account %s failed; the next tick retries", account_id)

    for account_id in liquidation_candidates():
        try:
            _liquidate_account(account_id, now, report)
        except Exception:
            report.errors += 1
            logger.exception("liquidating account %s failed; the next tick retries", account_id)
    return report


# --- instruments and trailing stops ----------------------------------------------------------


def _open_instruments(now: datetime, instrument_ids: Iterable[int] | None) -> dict[int, Instrument]:
    instruments = (
        Instrument.objects.filter(is_halted=False, quote__isnull=False)
        .select_related("quote")
        .only(
            *("is_halted", "tick_size", "session_timezone", "session_open", "session_close"),
            *("session_days", "quote__bid", "quote__ask", "quote__ts"),
        )
    )
    if instrument_ids is not None:
        instruments = instruments.filter(pk__in=list(instrument_ids))
    return {instrument.pk: instrument for instrument in instruments if instrument.is_open_at(now)}


def _ratchet_trailing_stops(instruments: dict[int, Instrument], now: datetime) -> int:
    """Move trailing stops' water marks and stop levels with the market (never back)."""
    improving = (
        Order.objects.filter(
            instrument_id__in=list(instruments),
            type=OrderType.TRAILING_STOP,
            status__in=OPEN_STATUSES,
            triggered_at__isnull=True,
        )
        .filter(
            Q(side=Side.SELL, water_mark__lt=F("instrument__quote__bid"))
            | Q(side=Side.BUY, water_mark__gt=F("instrument__quote__ask"))
        )
        .order_by()
        .values_list("instrument_id", "side", "trail_price", "trail_percent")
        .distinct()
    )
    terms: dict[tuple[int, str], list[tuple[Decimal | None, Decimal | None]]] = defaultdict(list)
    for instrument_id, side, trail_price, trail_percent in improving:
        terms[(instrument_id, side)].append((trail_price, trail_percent))

    moved = 0
    for (instrument_id, side), trails in terms.items():
        instrument = instruments[instrument_id]
        market = instrument.quote.bid if side == Side.SELL else instrument.quote.ask
        whens = []
        for trail_price, trail_percent in trails:
            probe = Order(side=side, trail_price=trail_price, trail_percent=trail_percent)
            level = services.trailing_stop_level(probe, market, instrument.tick_size)
            same_trail = (
                Q(trail_price=trail_price)
                if trail_price is not None
                else Q(trail_price__isnull=True, trail_percent=trail_percent)
            )
            whens.append(When(same_trail, then=Value(level)))
        guard = {"water_mark__lt": market} if side == Side.SELL else {"water_mark__gt": market}
        moved += Order.objects.filter(
            instrument_id=instrument_id,
            side=side,
            type=OrderType.TRAILING_STOP,
            status__in=OPEN_STATUSES,
            triggered_at__isnull=True,
            **guard,
        ).update(
            water_mark=market,
            stop_price=Case(*whens, default=F("stop_price"), output_field=Order.stop_price.field),
            updated_at=now,
        )
    return moved


# --- candidate search --------------------------------------------------------------------------


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join(f"'{value}'" for value in values)


_OPEN = _sql_list(OPEN_STATUSES)
_STOPS = _sql_list(STOP_TYPES)
# PostgreSQL: for each quote, a LATERAL union of index range scans whose bounds are that
# quote's bid and ask. (A plain join lets the planner hash-join every open order instead.)
# The constants are written into the SQL so that the partial indexes' predicates match.
CANDIDATES_SQL = f"""
SELECT c.id, c.account_id
  FROM market_quote q
 CROSS JOIN LATERAL (
    SELECT o.id, o.account_id FROM trading_order o
     WHERE o.instrument_id = q.instrument_id AND o.status IN ({_OPEN})
       AND o.type = 'limit' AND o.side = 'buy' AND o.limit_price >= q.ask
    UNION ALL
    SELECT o.id, o.account_id FROM trading_order o
     WHERE o.instrument_id = q.instrument_id AND o.status IN ({_OPEN})
       AND o.type = 'limit' AND o.side = 'sell' AND o.limit_price <= q.bid
    UNION ALL
    SELECT o.id, o.account_id FROM trading_order o
     WHERE o.instrument_id = q.instrument_id AND o.status IN ({_OPEN})
       AND o.type IN ({_STOPS}) AND o.triggered_at IS NULL
       AND o.side = 'buy' AND o.stop_price <= q.ask
    UNION ALL
    SELECT o.id, o.account_id FROM trading_order o
     WHERE o.instrument_id = q.instrument_id AND o.status IN ({_OPEN})
       AND o.type IN ({_STOPS}) AND o.triggered_at IS NULL
       AND o.side = 'sell' AND o.stop_price >= q.bid
    UNION ALL
    SELECT o.id, o.account_id FROM trading_order o
     WHERE o.instrument_id = q.instrument_id AND o.status IN ({_OPEN})
       AND (o.type = 'market' OR o.triggered_at IS NOT NULL)
       AND (o.type <> 'stop_limit'
            OR (o.side = 'buy' AND o.limit_price >= q.ask)
            OR (o.side = 'sell' AND o.limit_price <= q.bid))
 ) c
 WHERE q.instrument_id = ANY(%s)
"""  # noqa: S608 (constants only; the ids are a parameter)


def order_candidates(instrument_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(order id, account id) of the open orders the current quotes may fill or trigger.

    Range queries per instrument and side, each served by a partial index on open orders
    (`order_open_limit_idx`, `order_open_stop_idx`, `order_open_working_idx`), so the cost
    follows the crossing orders, not the resting ones: buy limits at or above the ask, sell
    limits at or below the bid, untriggered buy stops at or below the ask and sell stops at or
    above the bid, plus working orders (open market orders, triggered stops; triggered
    stop-limits only when their limit is reached). One statement; ids only.
    """
    ids = list(instrument_ids)
    if not ids:
        return []
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            # Column statistics mix buy limits (below the market) with sells (above it), so the
            # planner expects half the book to cross and would JIT-compile (~200 ms) a query
            # that runs in a few milliseconds.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(CANDIDATES_SQL, [ids])
            return cursor.fetchall()
    ask, bid = F("instrument__quote__ask"), F("instrument__quote__bid")
    base = Order.objects.filter(instrument_id__in=ids, status__in=OPEN_STATUSES).order_by()
    stops = base.filter(type__in=STOP_TYPES, triggered_at__isnull=True)
    queries = [
        base.filter(type=OrderType.LIMIT, side=Side.BUY, limit_price__gte=ask),
        base.filter(type=OrderType.LIMIT, side=Side.SELL, limit_price__lte=bid),
        stops.filter(side=Side.BUY, stop_price__lte=ask),
        stops.filter(side=Side.SELL, stop_price__gte=bid),
        base.filter(Q(type=OrderType.MARKET) | Q(triggered_at__isnull=False)).filter(
            ~Q(type=OrderType.STOP_LIMIT)
            | Q(side=Side.BUY, limit_price__gte=ask)
            | Q(side=Side.SELL, limit_price__lte=bid)
        ),
    ]
    first, *rest = (query.values_list("id", "account_id") for query in queries)
    return list(first.union(*rest, all=True))


def _protected_position_candidates(instrument_ids: Iterable[int]) -> QuerySet:
    """(position id, account id) of open positions whose stop-loss or take-profit is hit:
    longs at bid <= stop-loss or bid >= take-profit, shorts at ask >= stop-loss or ask <=
    take-profit (`position_open_protect_idx`)."""
    ask, bid = F("instrument__quote__ask"), F("instrument__quote__bid")
    return (
        Position.objects.filter(instrument_id__in=list(instrument_ids), closed_at__isnull=True)
        .filter(Q(stop_loss__isnull=False) | Q(take_profit__isnull=False))
        .filter(
            Q(quantity__gt=0, stop_loss__gte=bid)
            | Q(quantity__gt=0, take_profit__lte=bid)
            | Q(quantity__lt=0, stop_loss__lte=ask)
            | Q(quantity__lt=0, take_profit__gte=ask)
        )
        .order_by()
        .values_list("id", "account_id")
    )


# --- per-account matching ----------------------------------------------------------------------


def _current_quotes(instrument_ids: Iterable[int]) -> dict[int, Quote]:
    return {
        quote.instrument_id: quote
        for quote in Quote.objects.filter(instrument_id__in=instrument_ids)
    }


def protection_hit(position: Position, quote: Quote) -> str | None:
    """ "stop_loss" or "take_profit" when QUOTE reaches the position's level, else None."""
    if position.quantity > 0:
        if position.stop_loss is not None and quote.bid <= position.stop_loss:
            return "stop_loss"
        if position.take_profit is not None and quote.bid >= position.take_profit:
            return "take_profit"
    elif position.quantity < 0:
        if position.stop_loss is not None and quote.ask >= position.stop_loss:
            return "stop_loss"
        if position.take_profit is not None and quote.ask <= position.take_profit:
            return "take_profit"
    return None


@transaction.atomic
def _match_account(
    account_id: int, order_ids: list[int], position_ids: list[int], now, report: MatchReport
) -> None:
    account = services._lock(TradingAccount(pk=account_id))
    events = AccountEvents(account)
    orders = list(
        Order.objects.select_for_update(of=("self",))
        .select_related("instrument")
        .filter(pk__in=order_ids, account_id=account.pk, status__in=OPEN_STATUSES)
        .order_by("created_at", "id")
    )
    positions = (
        list(
            Position.objects.select_for_update(of=("self",))
            .select_related("instrument")
            .filter(pk__in=position_ids, account_id=account.pk, closed_at__isnull=True)
            .order_by("id")
        )
        if position_ids
        else []
    )
    quotes = _current_quotes(
        {order.instrument_id for order in orders} | {p.instrument_id for p in positions}
    )
    traded = False
    for order in orders:
        if traded and order.parent_id is not None:
            # A bracket sibling that filled earlier in this loop may have shrunk or canceled it.
            order.refresh_from_db()
            if not order.is_open:
                continue
        quote = quotes.get(order.instrument_id)
        if quote is None or order.created_at >= quote.ts or not order.instrument.is_open_at(now):
            continue  # new since this tick (e.g. a bracket exit): the next tick decides
        was_triggered = order.triggered_at is not None
        services.trigger_if_crossed(order, quote, now)
        if order.triggered_at is not None and not was_triggered:
            report.triggered += 1
            events.add("order_update", services.order_payload(order))
        if services.order_is_executable(order, quote):
            fill = services.execute_order(
                account=account, order=order, quote=quote, now=now, events=events
            )
            if fill is not None:
                report.fills += 1
                traded = True

    for position in positions:
        position.refresh_from_db(fields=["quantity", "closed_at", "stop_loss", "take_profit"])
        quote = quotes.get(position.instrument_id)
        if position.closed_at is not None or quote is None:
            continue
        if not position.instrument.is_open_at(now) or protection_hit(position, quote) is None:
            continue
        if close_at_market(account=account, position=position, quote=quote, now=now, events=events):
            report.protective_closes += 1
    events.flush()


def close_at_market(
    *,
    account: TradingAccount,
    position: Position,
    quote: Quote,
    now: datetime,
    events: AccountEvents,
    is_liquidation: bool = False,
) -> Fill | None:
    """Close POSITION with a reduce-only system market order (IOC) through execute_order.

    The caller holds the account lock. Sends nothing when a system market order of this account
    already traded this instrument on this tick (a repeated or concurrent pass); what the tick's
    liquidity does not take is canceled, and the next tick closes more if still needed.
    """
    already = Order.objects.filter(
        account=account,
        instrument_id=position.instrument_id,
        source=OrderSource.SYSTEM,
        type=OrderType.MARKET,
        last_fill_quote_ts__gte=quote.ts,
    ).exists()
    if already:
        return None
    order = Order.objects.create(
        account=account,
        instrument=position.instrument,
        side=Side.SELL if position.quantity > 0 else Side.BUY,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        quantity=abs(position.quantity),
        reduce_only=True,
        source=OrderSource.SYSTEM,
        created_at=now,
        updated_at=now,
    )
    events.add("order_update", services.order_payload(order))
    fill = services.execute_order(
        account=account,
        order=order,
        quote=quote,
        now=now,
        events=events,
        is_liquidation=is_liquidation,
    )
    if order.is_open:
        services._finish(order, OrderStatus.CANCELED, EXIT_REST_REASON, now)
        events.add("order_update", services.order_payload(order))
    return fill


# --- DAY expiry ------------------------------------------------------------------------------


def expire_day_orders(*, now: datetime | None = None) -> int:
    """Expire open DAY orders whose expires_at (their session's close) is at or before NOW.

    Per account, one transaction: the account row is locked, the orders re-read FOR UPDATE,
    set `expired` with reason "day order expired", and `order_update` events published after
    commit. Found with `order_open_day_idx`. Returns the number of orders expired.
    """
    now = now or timezone.now()
    due = Order.objects.filter(
        status__in=OPEN_STATUSES, time_in_force=TimeInForce.DAY, expires_at__lte=now
    ).values_list("account_id", "id")
    by_account: dict[int, list[int]] = defaultdict(list)
    for account_id, order_id in due:
        by_account[account_id].append(order_id)
    expired = 0
    for account_id, order_ids in sorted(by_account.items()):
        with transaction.atomic():
            account = services._lock(TradingAccount(pk=account_id))
            events = AccountEvents(account)
            orders = (
                Order.objects.select_for_update(of=("self",))
                .select_related("instrument")
                .filter(pk__in=order_ids, status__in=OPEN_STATUSES, expires_at__lte=now)
                .order_by("id")
            )
            for order in orders:
                services._finish(order, OrderStatus.EXPIRED, DAY_EXPIRED_REASON, now)
                events.add("order_update", services.order_payload(order))
                expired += 1
            events.flush()
    return expired


# --- liquidation -------------------------------------------------------------------------------


def _position_mark():
    quote_mark = Case(
        When(quantity__gt=0, then=F("instrument__quote__bid")),
        default=F("instrument__quote__ask"),
        output_field=_WIDE,
    )
    return Coalesce(quote_mark, F("avg_price"), output_field=_WIDE)


def effective_leverage_sql():
    """`selectors.effective_leverage` in SQL: max(1, least(account, instrument, rules cap))."""
    rules_cap = Coalesce(
        NullIf(F("account__rules__max_leverage"), Value(Decimal("0"))),
        F("account__max_leverage"),
    )
    return Greatest(
        Value(Decimal("1")),
        Least(F("account__max_leverage"), F("instrument__max_leverage"), rules_cap),
        output_field=_WIDE,
    )


def liquidation_candidates() -> list[int]:
    """Ids of accounts whose equity (balance + unrealised P&L at bid/ask) is below the
    maintenance share of their margin used, computed in one aggregate over open positions."""
    mark = _position_mark()
    rows = (
        Position.objects.filter(closed_at__isnull=True, account__is_archived=False)
        .order_by()
        .values("account_id", "account__cash_account__balance")
        .annotate(
            upnl=Sum(F("quantity") * (mark - F("avg_price")), output_field=_WIDE),
            margin=Sum(Abs(F("quantity")) * mark / effective_leverage_sql(), output_field=_WIDE),
        )
        .filter(
            margin__gt=0,
            upnl__lt=Value(maintenance_ratio(), output_field=_WIDE) * F("margin")
            - F("account__cash_account__balance"),
        )
        .values_list("account_id", flat=True)
    )
    return sorted(rows)


@transaction.atomic
def _liquidate_account(account_id: int, now: datetime, report: MatchReport) -> None:
    account = services._lock(TradingAccount(pk=account_id))
    state = account_state(account)
    if not below_maintenance(state):
        return  # the aggregate saw an older state (e.g. a fill or deposit since)
    events = AccountEvents(account)
    equity_before, margin_before = state.equity, state.margin_used
    canceled = services._cancel_open_orders(account, events, LIQUIDATION_CANCEL_REASON, now)
    closed: list[str] = []
    for valuation in sorted(state.positions, key=lambda v: (v.unrealized_pnl, v.position.pk)):
        if not below_maintenance(state):
            break
        position, quote = valuation.position, valuation.quote
        if quote is None or not position.instrument.is_open_at(now):
            continue  # a closed market cannot be traded; it is retried once it opens
        fill = close_at_market(
            account=account,
            position=position,
            quote=quote,
            now=now,
            events=events,
            is_liquidation=True,
        )
        if fill is not None:
            closed.append(position.instrument.symbol)
            report.liquidation_fills += 1
            state = account_state(account)
    if not canceled and not closed:
        return
    report.liquidated_accounts += 1
    notice = {
        "account_id": account.pk,
        "account_name": account.name,
        "equity": str(quantize_cash(equity_before)),
        "margin_used": str(quantize_cash(margin_before)),
        "maintenance_margin": str(quantize_cash(maintenance_ratio() * margin_before)),
        "closed": closed,
        "orders_canceled": canceled,
        "message": (
            f"Your account {account.name} fell below the maintenance margin and was liquidated: "
            + (f"closed {', '.join(closed)}" if closed else "no position could be closed yet")
            + f"; {canceled} open order(s) canceled."
        ),
    }
    events.add("liquidation", notice)
    events.flush()
    publish(user_group(account.owner_id), {"type": "liquidation", **notice})
