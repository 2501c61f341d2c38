"""Market writes: the tick pipeline (`market_advance`), quote seeding and candle recording.

Candles are stored roll-ups: every tick upserts the forming bucket of each timeframe (1m 5m 15m
1h 1d) in one INSERT ... ON CONFLICT statement that merges in SQL (high = greatest, low = least,
close = the new price, volume added). Reads are then one indexed range scan on
(instrument, timeframe, ts) for any timeframe, which is what charts ask for all day; the price
is 5 small rows per instrument per tick instead of 1. Buckets are aligned on the Unix epoch in
UTC (a 1d candle is a UTC day). See docs/market.md.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from asgiref.sync import async_to_sync, sync_to_async
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.money import ROUND_DOWN, ZERO, quantize_rate, quantize_step
from config.realtime import publish_frame_now
from market import simulator
from market.models import TIMEFRAME_SECONDS, Feed, Instrument, Quote, ReplayBar
from market.realtime import tick_frame, tick_group

logger = logging.getLogger(__name__)

# Advisory lock key of the tick ("PTMK" in ASCII); any 64-bit constant unique in the project.
ADVANCE_LOCK_KEY = 0x50544D4B
# A second call within this many seconds of the last tick is a no-op (a duplicated beat run).
MIN_STEP_SECONDS = 0.5
# A late call steps by at most this much time: a missed second never produces a burst.
MAX_STEP_SECONDS = simulator.MAX_STEP_SECONDS
TIMEFRAMES: tuple[str, ...] = tuple(TIMEFRAME_SECONDS)
QUOTE_TICK_FIELDS = [
    "bid",
    "ask",
    "last",
    "volume",
    "day_volume",
    "reference_price",
    "change_pct",
    "day_high",
    "day_low",
    "ts",
    "model_price",
    "replay_cursor",
]
_PROCESS_LOCK = threading.Lock()
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class TickBar:
    """What one tick adds to the candles of one instrument (a plain tick has o = h = l = c)."""

    instrument_id: int
    ts: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


def bucket_start(ts: datetime, timeframe: str) -> datetime:
    """Start of the TIMEFRAME bucket holding TS, aligned on the Unix epoch (UTC)."""
    seconds = TIMEFRAME_SECONDS[timeframe]
    epoch = int(ts.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def price_model_for(instrument: Instrument) -> simulator.PriceModel:
    return _price_model(
        instrument.volatility,
        instrument.drift,
        instrument.jump_intensity,
        instrument.jump_size,
        instrument.spread_bps,
        instrument.tick_size,
        instrument.lot_size,
        instrument.liquidity,
    )


@functools.lru_cache(maxsize=4096)
def _price_model(*params: Decimal) -> simulator.PriceModel:
    # Keyed by the parameters themselves, so an operator's change takes effect on the next tick.
    volatility, drift, jump_intensity, jump_size, spread_bps, tick_size, lot_size, liquidity = (
        params
    )
    return simulator.PriceModel(
        volatility=volatility,
        drift=drift,
        jump_intensity=jump_intensity,
        jump_size=jump_size,
        spread_bps=spread_bps,
        tick_size=tick_size,
        lot_size=lot_size,
        liquidity=liquidity,
    )


def _tick_seed(instrument_id: int, now: datetime) -> int:
    # Reproducible: the same database state and `now` give the same tick, on any worker.
    return instrument_id * 1_000_003 + int(now.timestamp() * 1000)


def _new_quote(instrument: Instrument, now: datetime) -> Quote:
    model = price_model_for(instrument)
    bid, ask, last = simulator.quote_around(model, instrument.initial_price)
    return Quote(
        instrument=instrument,
        bid=bid,
        ask=ask,
        last=last,
        volume=ZERO,
        day_volume=ZERO,
        reference_price=last,
        change_pct=ZERO,
        day_high=last,
        day_low=last,
        ts=now,
        model_price=instrument.initial_price,
    )


@transaction.atomic
def market_seed_quotes(*, now: datetime | None = None) -> int:
    """Create the Quote of every instrument that has none, at its initial price.

    Invariant: existing quotes are never touched (live prices survive a re-seed).
    Locks: none (a concurrent creator loses on the primary key and the error surfaces).
    Returns the number of quotes created.
    """
    now = now or timezone.now()
    missing = Instrument.objects.filter(quote__isnull=True)
    quotes = [_new_quote(instrument, now) for instrument in missing]
    Quote.objects.bulk_create(quotes)
    return len(quotes)


# --- Candles ---------------------------------------------------------------------------------


def _merge_ticks(ticks: Iterable[TickBar]) -> list[tuple]:
    """Fold TICKS (in time order) into one row per (instrument, timeframe, bucket)."""
    merged: dict[tuple, list] = {}
    buckets: dict[datetime, list[tuple[str, datetime]]] = {}  # a tick's ticks share their ts
    for tick in ticks:
        starts = buckets.get(tick.ts)
        if starts is None:
            starts = buckets[tick.ts] = [(tf, bucket_start(tick.ts, tf)) for tf in TIMEFRAMES]
        for timeframe, start in starts:
            key = (tick.instrument_id, timeframe, start)
            row = merged.get(key)
            if row is None:
                merged[key] = [tick.open, tick.high, tick.low, tick.close, tick.volume]
            else:
                row[1] = max(row[1], tick.high)
                row[2] = min(row[2], tick.low)
                row[3] = tick.close
                row[4] += tick.volume
    return [(*key, *values) for key, values in merged.items()]


def candle_rows_upsert(rows: Sequence[tuple], *, merge: bool = True) -> None:
    """INSERT ... ON CONFLICT the (instrument_id, timeframe, ts, o, h, l, c, v) ROWS.

    merge=True: an existing bucket is extended (the tick path); merge=False: replaced.
    PostgreSQL gets the rows as 8 arrays through UNNEST (one short statement whatever the row
    count); SQLite gets multi-row VALUES in batches that respect its parameter limit.
    """
    if not rows:
        return
    table = "market_candle"
    postgres = connection.vendor == "postgresql"
    greatest, least = ("GREATEST", "LEAST") if postgres else ("MAX", "MIN")
    if merge:
        update = (
            f"high = {greatest}({table}.high, excluded.high), "
            f"low = {least}({table}.low, excluded.low), "
            "close = excluded.close, "
            f"volume = {table}.volume + excluded.volume"
        )
    else:
        update = (
            "open = excluded.open, high = excluded.high, low = excluded.low, "
            "close = excluded.close, volume = excluded.volume"
        )
    columns = "(instrument_id, timeframe, ts, open, high, low, close, volume)"
    conflict = f"ON CONFLICT (instrument_id, timeframe, ts) DO UPDATE SET {update}"
    with connection.cursor() as cursor:
        if postgres and len(rows) > 20_000:
            # Bulk loads (backfill): COPY into a scratch table, then one set-based upsert.
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS market_candle_load (instrument_id bigint, "
                "timeframe varchar(3), ts timestamptz, open numeric, high numeric, "
                "low numeric, close numeric, volume numeric) ON COMMIT DROP"
            )
            with cursor.cursor.copy("COPY market_candle_load FROM STDIN") as copy:
                for offset in range(0, len(rows), 10_000):
                    copy.write(
                        "".join(
                            f"{i}\t{tf}\t{ts.isoformat()}\t{o}\t{h}\t{low}\t{c}\t{v}\n"
                            for i, tf, ts, o, h, low, c, v in rows[offset : offset + 10_000]
                        )
                    )
            cursor.execute(
                f"INSERT INTO {table} {columns} "  # noqa: S608 (constant identifiers)
                f"SELECT * FROM market_candle_load {conflict}"
            )
            cursor.execute("TRUNCATE market_candle_load")
            return
        if postgres:
            for offset in range(0, len(rows), 50_000):
                chunk = rows[offset : offset + 50_000]
                cursor.execute(
                    f"INSERT INTO {table} {columns} "  # noqa: S608 (constant identifiers)
                    "SELECT * FROM UNNEST(%s::bigint[], %s::varchar[], %s::timestamptz[], "
                    "%s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[]) "
                    f"{conflict}",
                    [list(column) for column in zip(*chunk, strict=True)],
                )
            return
        ops = connection.ops
        batch = max(1, (connection.features.max_query_params or 999) // 8)
        for offset in range(0, len(rows), batch):
            chunk = rows[offset : offset + batch]
            params: list = []
            for instrument_id, timeframe, ts, *prices in chunk:
                params.append(instrument_id)
                params.append(timeframe)
                params.append(ops.adapt_datetimefield_value(ts))
                params.extend(ops.adapt_decimalfield_value(value) for value in prices)
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} {columns} VALUES {values} {conflict}",  # noqa: S608
                params,
            )


@transaction.atomic
def candles_record_ticks(*, ticks: Sequence[TickBar]) -> int:
    """Add TICKS (oldest first) to the forming candles of every timeframe.

    Invariant: a bucket's open is its first tick's open, high/low the extremes, close the
    latest tick's close, volume the sum. Ticks must not be older than what a bucket already
    holds (the tick pipeline only appends).
    Locks: the upserted candle rows (the tick lock keeps writers from racing).
    Returns the number of candle rows written.
    """
    rows = _merge_ticks(ticks)
    candle_rows_upsert(rows, merge=True)
    return len(rows)


def candle_rows_from_minutes(
    instrument_id: int,
    minutes: Sequence[tuple[datetime, Decimal, Decimal, Decimal, Decimal, Decimal]],
) -> list[tuple]:
    """Roll 1-minute bars (oldest first) up into rows of every timeframe (for bulk writes)."""
    ticks = (TickBar(instrument_id, ts, o, h, low, c, v) for ts, o, h, low, c, v in minutes)
    return _merge_ticks(ticks)


# --- The tick ----------------------------------------------------------------------------------


@contextmanager
def market_advance_lock(*, wait: bool = False) -> Iterator[bool]:
    """Open the tick's transaction and take the tick lock (without waiting unless WAIT).

    Yields whether the lock was taken (always True with WAIT). PostgreSQL: a
    transaction-scoped advisory lock, so every worker on every machine agrees and a crashed
    worker cannot leave it held. SQLite (the embedded run, one process): a process-level
    lock, taken before the transaction starts so a skipped run never queues for SQLite's
    write lock.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                if wait:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVANCE_LOCK_KEY])
                    acquired = True
                else:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVANCE_LOCK_KEY])
                    (acquired,) = cursor.fetchone()
            yield bool(acquired)
        return
    if not _PROCESS_LOCK.acquire(blocking=wait):
        yield False
        return
    try:
        with transaction.atomic():
            yield True
    finally:
        _PROCESS_LOCK.release()


def _next_replay_bars(instrument_ids: list[int]) -> dict[int, ReplayBar]:
    """The next imported bar of each replay instrument after its cursor (looping), one query."""
    if not instrument_ids:
        return {}
    after_cursor = (
        ReplayBar.objects.filter(
            instrument=OuterRef("instrument_id"), ts__gt=OuterRef("replay_cursor")
        )
        .order_by("ts")
        .values("id")[:1]
    )
    first = (
        ReplayBar.objects.filter(instrument=OuterRef("instrument_id"))
        .order_by("ts")
        .values("id")[:1]
    )
    bar_ids = (
        Quote.objects.filter(instrument_id__in=instrument_ids)
        .annotate(bar_id=Coalesce(Subquery(after_cursor), Subquery(first)))
        .values("bar_id")
    )
    return {bar.instrument_id: bar for bar in ReplayBar.objects.filter(id__in=Subquery(bar_ids))}


def market_advance(*, now: datetime | None = None) -> list[int]:
    """Move every open, non-halted instrument by one tick; return the ids that moved.

    For each instrument whose session is open at NOW: draw the next price (simulated feed) or
    take the next imported bar (replay feed), write all quotes with one bulk UPDATE, add the
    tick to the forming candle of every timeframe with one bulk upsert, and publish one `tick`
    frame per instrument to its group after commit. The returned ids are the hook for the
    matcher that runs after the tick.

    Invariants: quoted prices are on the tick grid and > 0; one step per call per instrument
    of dt = min(time since its last tick, MAX_STEP_SECONDS), so a missed second is not caught
    up in a burst; an instrument ticked less than MIN_STEP_SECONDS ago is left alone (a
    duplicated run is a no-op); a new session starts with reference_price = the previous
    session's last price (for 24/7 instruments the session is the UTC day), and change_pct is
    measured from it.
    Locks: the tick lock (advisory lock on PostgreSQL, process lock on SQLite), taken without
    waiting: if another run holds it, this one does nothing and returns [].
    Side effects: Quote rows, Candle rows; channel-layer sends after commit.
    """
    now = now or timezone.now()
    with market_advance_lock() as acquired:
        if not acquired:
            logger.info("market_advance skipped: another run holds the tick lock")
            return []
        return _advance(now)


def _advance(now: datetime) -> list[int]:
    instruments = list(Instrument.objects.filter(is_halted=False).select_related("quote"))
    moving: list[tuple[Instrument, Quote, tuple[datetime, datetime]]] = []
    new_quotes: list[Quote] = []
    for instrument in instruments:
        window = instrument.session_window_containing(now)
        if window is None:
            continue
        try:
            quote = instrument.quote
        except ObjectDoesNotExist:
            new_quotes.append(_new_quote(instrument, now))
            continue
        if (now - quote.ts).total_seconds() < MIN_STEP_SECONDS:
            continue
        moving.append((instrument, quote, window))
    if new_quotes:
        Quote.objects.bulk_create(new_quotes)

    replay_bars = _next_replay_bars(
        [instrument.id for instrument, _, _ in moving if instrument.feed == Feed.REPLAY]
    )
    ticks: list[TickBar] = []
    published: list[tuple[str, Quote]] = []
    for instrument, quote, (session_open, _) in moving:
        model = price_model_for(instrument)
        if instrument.feed == Feed.REPLAY:
            bar = replay_bars.get(instrument.id)
            if bar is None:
                continue  # nothing imported yet: a replay instrument without data stands still
            tick = _replay_tick(model, instrument, bar)
            quote.bid, quote.ask, _ = simulator.quote_around(model, tick.close)
            quote.model_price = tick.close
            quote.replay_cursor = bar.ts
        else:
            state = quote.model_price if quote.model_price else quote.mid
            dt = min((now - quote.ts).total_seconds(), MAX_STEP_SECONDS)
            step = simulator.step(model, state, dt, random.Random(_tick_seed(instrument.id, now)))
            tick = TickBar(
                instrument.id, now, step.last, step.last, step.last, step.last, step.volume
            )
            quote.bid, quote.ask, quote.model_price = step.bid, step.ask, step.model_price
        if quote.ts < session_open:
            # First tick of a new session: the previous session's last price is the reference.
            quote.reference_price = quote.last
            quote.day_high, quote.day_low, quote.day_volume = tick.high, tick.low, ZERO
        else:
            quote.day_high = max(quote.day_high, tick.high)
            quote.day_low = min(quote.day_low, tick.low)
        quote.last = tick.close
        quote.volume = tick.volume
        quote.day_volume = quote.day_volume + tick.volume
        quote.change_pct = _change_pct(quote.last, quote.reference_price)
        quote.ts = now
        ticks.append(
            TickBar(instrument.id, now, tick.open, tick.high, tick.low, tick.close, tick.volume)
        )
        published.append((instrument.symbol, quote))

    if published:
        quotes_write([quote for _, quote in published])
        candle_rows_upsert(_merge_ticks(ticks), merge=True)
        transaction.on_commit(lambda: _publish_ticks(published))
    return [tick.instrument_id for tick in ticks]


_QUOTE_SQL_TYPES = {
    "ts": "timestamptz",
    "replay_cursor": "timestamptz",
}


def quotes_write(quotes: Sequence[Quote]) -> None:
    """Write the tick columns (QUOTE_TICK_FIELDS) of QUOTES in one bulk statement.

    Not `bulk_update`: its CASE WHEN expressions cost about 10 ms of Python per instrument
    (measured), which alone would blow the tick's budget. PostgreSQL: one UPDATE ... FROM
    UNNEST(arrays); SQLite: one executemany of a prepared UPDATE.
    """
    if not quotes:
        return
    fields = QUOTE_TICK_FIELDS
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = ", ".join(f"{name} = v.{name}" for name in fields)
            arrays = ", ".join(
                f"%s::{_QUOTE_SQL_TYPES.get(name, 'numeric')}[]" for name in ["id", *fields]
            ).replace("%s::numeric[]", "%s::bigint[]", 1)
            cursor.execute(
                f"UPDATE market_quote AS q SET {columns} "  # noqa: S608 (constant identifiers)
                f"FROM UNNEST({arrays}) AS v(id, {', '.join(fields)}) "
                "WHERE q.instrument_id = v.id",
                [[q.instrument_id for q in quotes]]
                + [[getattr(q, name) for q in quotes] for name in fields],
            )
            return
        ops = connection.ops

        def adapt(quote: Quote, name: str):
            value = getattr(quote, name)
            if name in _QUOTE_SQL_TYPES:
                return ops.adapt_datetimefield_value(value)
            return ops.adapt_decimalfield_value(value)

        cursor.executemany(
            f"UPDATE market_quote SET {', '.join(f'{name} = %s' for name in fields)} "  # noqa: S608
            "WHERE instrument_id = %s",
            [[adapt(q, name) for name in fields] + [q.instrument_id] for q in quotes],
        )


def _replay_tick(model: simulator.PriceModel, instrument: Instrument, bar: ReplayBar) -> TickBar:
    tick = model.tick

    def on_grid(price: Decimal) -> Decimal:
        return max(quantize_step(price, tick), tick)

    opening, close = on_grid(bar.open), on_grid(bar.close)
    return TickBar(
        instrument.id,
        bar.ts,
        opening,
        max(on_grid(bar.high), opening, close),
        min(on_grid(bar.low), opening, close),
        close,
        max(quantize_step(bar.volume, model.lot, rounding=ROUND_DOWN), ZERO),
    )


def _change_pct(last: Decimal, reference: Decimal) -> Decimal:
    if reference <= 0:
        return ZERO
    return quantize_rate((last - reference) * _HUNDRED / reference)


def _publish_ticks(published: list[tuple[str, Quote]]) -> None:
    """One `tick` frame per instrument to its group, all on one event loop.

    publish_frame_now wraps each send in async_to_sync, which from a plain thread (a Celery
    worker) starts a fresh loop and thread per call, about 1.5 ms each. Running the sends from
    a thread under one outer async_to_sync lets every inner call reuse that loop.
    """
    if len(published) == 1:
        _publish_each(published)
        return

    async def relay() -> None:
        await sync_to_async(_publish_each, thread_sensitive=False)(published)

    async_to_sync(relay)()


def _publish_each(published: list[tuple[str, Quote]]) -> None:
    for symbol, quote in published:
        publish_frame_now(tick_group(symbol), tick_frame(symbol, quote))
