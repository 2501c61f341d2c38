"""History: generated backfill (same price model as the tick) and imported bars for replay.

Writes live here rather than in services.py because they are bulk jobs, not the tick; they are
services all the same (keyword-only, one transaction, docstrings with locks and side effects).
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from market import simulator
from market.models import TIMEFRAME_SECONDS, Candle, Feed, Instrument, Quote, ReplayBar
from market.services import candle_rows_upsert, market_advance_lock, price_model_for

_ROLLUPS = [tf for tf in TIMEFRAME_SECONDS if tf != "1m"]


class CandleFileError(ValueError):
    """A CSV that cannot be imported; the message names the line and the problem."""


# --- Backfill ----------------------------------------------------------------------------------


def _open_minutes(instrument: Instrument, start: datetime, end: datetime) -> list[int]:
    """Epoch seconds of each minute in [start, end) during which the session is open."""
    minutes: list[int] = []
    t = start
    while t < end:
        window = instrument.session_window_containing(t)
        if window is None:
            t = instrument.next_open_after(t) or t + timedelta(days=7)
            continue
        stop = min(window[1].astimezone(UTC), end)
        first, last = int(t.timestamp()), int(stop.timestamp())
        first += -first % 60
        minutes.extend(range(first, last, 60))
        t = datetime.fromtimestamp(max(last, first + 60), tz=UTC)
    return minutes


def _generate_minutes(
    instrument: Instrument, minutes: Sequence[int], end_price: Decimal, rng: random.Random
) -> list[tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal]]:
    """1-minute bars for MINUTES whose path ends exactly at END_PRICE (drawn, then anchored).

    The increments are drawn forwards and the path is pinned to its end, which for a process
    with independent increments is a path of the same law that joins the existing history.
    A minute's high and low are drawn from the exact law of the extremes of a Brownian bridge
    between its open and close (max = (x + sqrt(x^2 - 2 s^2 ln U)) / 2 above the open).
    """
    if not minutes:
        return []
    model = price_model_for(instrument)
    count = len(minutes)
    increments = _log_increments(model, count, 60.0, rng)
    points = [0.0] * (count + 1)
    points[count] = math.log(float(end_price))
    for k in range(count - 1, -1, -1):
        points[k] = points[k + 1] - increments[k]
    tick = model.tick
    tick_f = float(tick)
    lot, lot_f = model.lot, float(model.lot)
    volume_mean = float(instrument.liquidity) * 6.0  # a tenth of the liquidity a second
    two_var = 2.0 * model.sigma * model.sigma * 60.0 / simulator.SECONDS_PER_YEAR
    exp, log, sqrt, uniform, expovariate = (
        math.exp,
        math.log,
        math.sqrt,
        rng.random,
        rng.expovariate,
    )

    def on_grid(log_price: float) -> Decimal:
        return tick * max(1, round(exp(log_price) / tick_f))

    bars = []
    for m, epoch in enumerate(minutes):
        start, x = points[m], increments[m]
        spread_up = sqrt(x * x - two_var * log(1.0 - uniform()))
        spread_down = sqrt(x * x - two_var * log(1.0 - uniform()))
        bars.append(
            (
                epoch,
                on_grid(start),
                on_grid(start + (x + spread_up) / 2),
                on_grid(start + (x - spread_down) / 2),
                on_grid(start + x),
                lot * int(expovariate(1.0) * volume_mean / lot_f),
            )
        )
    return bars


def _log_increments(
    model: simulator.PriceModel, count: int, dt_seconds: float, rng: random.Random
) -> list[float]:
    """COUNT log returns of the model's jump-diffusion, drawn in bulk (same law as `step`).

    The jumps of the whole stretch are drawn at once: their number is Poisson(lambda * T) and
    each lands on a uniformly chosen step, which is the same process as per-step draws.
    """
    dt = dt_seconds / simulator.SECONDS_PER_YEAR
    mean = (model.mu - 0.5 * model.sigma * model.sigma) * dt
    scale = model.sigma * math.sqrt(dt)
    gauss = rng.gauss
    increments = [mean + scale * gauss(0.0, 1.0) for _ in range(count)]
    if model.lam > 0 and model.jump > 0:
        expected = model.lam * dt * count
        jumps = (
            max(0, round(rng.gauss(expected, math.sqrt(expected))))
            if expected > 50
            else simulator.poisson(expected, rng)
        )
        for _ in range(jumps):
            increments[rng.randrange(count)] += gauss(-0.5 * model.jump * model.jump, model.jump)
    return increments


def _rollup(instrument_id: int, bars: Sequence[tuple]) -> list[tuple]:
    """Candle rows of every timeframe from 1-minute BARS (epoch, o, h, l, c, v), oldest first."""
    rows = [
        (instrument_id, "1m", datetime.fromtimestamp(e, tz=UTC), o, h, low, c, v)
        for e, o, h, low, c, v in bars
    ]
    for timeframe in _ROLLUPS:
        seconds = TIMEFRAME_SECONDS[timeframe]
        current = None
        for epoch, o, h, low, c, v in bars:
            bucket = epoch - epoch % seconds
            if current is None or current[0] != bucket:
                if current is not None:
                    rows.append(_bucket_row(instrument_id, timeframe, current))
                current = [bucket, o, h, low, c, v]
            else:
                current[2] = max(current[2], h)
                current[3] = min(current[3], low)
                current[4] = c
                current[5] += v
        if current is not None:
            rows.append(_bucket_row(instrument_id, timeframe, current))
    return rows


def _bucket_row(instrument_id: int, timeframe: str, current: list) -> tuple:
    bucket, o, h, low, c, v = current
    return (instrument_id, timeframe, datetime.fromtimestamp(bucket, tz=UTC), o, h, low, c, v)


def _merge_boundaries(rows: list[tuple], instrument_ids: Iterable[int]) -> list[tuple]:
    """Fold generated ROWS into existing roll-up buckets they share (the history's last ones)."""
    keys = {(r[0], r[1], r[2]) for r in rows if r[1] != "1m"}
    if not keys:
        return rows
    existing = {
        (c.instrument_id, c.timeframe, c.ts): c
        for c in Candle.objects.filter(
            instrument_id__in=list(instrument_ids), ts__in={k[2] for k in keys}
        ).exclude(timeframe="1m")
        if (c.instrument_id, c.timeframe, c.ts) in keys
    }
    merged = []
    for row in rows:
        old = existing.get((row[0], row[1], row[2]))
        if old is None:
            merged.append(row)
            continue
        # Generated minutes come before the existing ones: their open wins, the old close stays.
        i, tf, ts, o, h, low, _c, v = row
        merged.append(
            (i, tf, ts, o, max(h, old.high), min(low, old.low), old.close, v + old.volume)
        )
    return merged


@dataclass(frozen=True)
class BackfillResult:
    symbol: str
    minutes: int
    rows: int


def candles_backfill(
    *,
    days: float,
    symbols: Sequence[str] | None = None,
    end: datetime | None = None,
    seed: int | None = None,
    only_if_empty: bool = False,
    at_least_minutes: int = 0,
) -> list[BackfillResult]:
    """Generate DAYS of 1-minute history (and its roll-ups) with the instrument's price model.

    The history of each instrument covers the DAYS before its earliest stored 1m candle (before
    END or now when it has none), only while its session was open, and ends exactly at the
    price where the existing history (or the current quote) starts, so the chart is seamless.
    ONLY_IF_EMPTY skips instruments that already have candles (what `seed` wants), and
    AT_LEAST_MINUTES reaches further back, a day at a time (two weeks at most), for an
    instrument whose sessions were closed for most of the window (equities on a Monday).
    Locks: waits for the tick lock, so a concurrent tick cannot race the shared buckets.
    Side effects: bulk inserts of Candle rows (one INSERT per few thousand rows).
    """
    end = (end or timezone.now()).replace(second=0, microsecond=0)
    rng = random.Random(seed)
    instruments = Instrument.objects.select_related("quote").order_by("symbol")
    if symbols:
        instruments = instruments.filter(symbol__in=symbols)
    instruments = list(instruments)
    earliest = dict(
        Candle.objects.filter(instrument__in=instruments, timeframe="1m")
        .values_list("instrument_id")
        .annotate(first=Min("ts"))
        .values_list("instrument_id", "first")
    )
    first_opens = {
        c.instrument_id: c.open
        for c in Candle.objects.filter(
            timeframe="1m", ts__in=list(earliest.values()), instrument_id__in=list(earliest)
        )
        if earliest.get(c.instrument_id) == c.ts
    }
    results = []
    with market_advance_lock(wait=True):
        for instrument in instruments:
            if only_if_empty and instrument.id in earliest:
                continue
            anchor_time = earliest.get(instrument.id, end)
            anchor_price = first_opens.get(instrument.id) or _current_price(instrument)
            start = anchor_time - timedelta(days=days)
            minutes = _open_minutes(instrument, start, anchor_time)
            for _ in range(14):
                if len(minutes) >= at_least_minutes:
                    break
                start -= timedelta(days=1)
                minutes = _open_minutes(instrument, start, anchor_time)
            bars = _generate_minutes(instrument, minutes, anchor_price, rng)
            rows = _merge_boundaries(_rollup(instrument.id, bars), [instrument.id])
            candle_rows_upsert(rows, merge=False)
            results.append(BackfillResult(instrument.symbol, len(bars), len(rows)))
    return results


def _current_price(instrument: Instrument) -> Decimal:
    try:
        quote = instrument.quote
    except Quote.DoesNotExist:
        return instrument.initial_price
    return quote.model_price or quote.last


# --- Import for replay -------------------------------------------------------------------------

_COLUMNS = {
    "t": ("t", "timestamp", "time", "date", "datetime"),
    "o": ("o", "open"),
    "h": ("h", "high"),
    "l": ("l", "low"),
    "c": ("c", "close"),
    "v": ("v", "volume", "vol"),
}


def parse_candles_csv(
    path: Path,
) -> list[tuple[datetime, Decimal, Decimal, Decimal, Decimal, Decimal]]:
    """Read 1-minute OHLCV bars from a CSV file with a header row; raise CandleFileError if bad.

    Columns (any order, case-insensitive): t|timestamp|time|date, o|open, h|high, l|low,
    c|close, v|volume. Timestamps are ISO 8601 (UTC when no offset is given) or Unix epoch
    seconds, each the start of a minute. Prices are positive decimals with h >= o, c >= l.
    """
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise CandleFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise CandleFileError(f"{path} is empty") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CandleFileError(f"{path} is not a readable CSV file: {exc}") from exc
        names = [h.strip().lower() for h in header]
        index = {}
        for key, aliases in _COLUMNS.items():
            found = [i for i, name in enumerate(names) if name in aliases]
            if not found:
                raise CandleFileError(
                    f"line 1: missing column {aliases[0]!r} (also accepted: "
                    f"{', '.join(aliases[1:])}); the header is {', '.join(header)}"
                )
            index[key] = found[0]
        bars = []
        seen: set[datetime] = set()
        try:
            for line_no, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                bars.append(_parse_row(row, index, line_no, seen))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise CandleFileError(f"{path} is not a readable CSV file: {exc}") from exc
    if not bars:
        raise CandleFileError(f"{path} has a header but no rows")
    bars.sort(key=lambda bar: bar[0])
    return bars


def _parse_row(row: list[str], index: dict, line_no: int, seen: set) -> tuple:
    if len(row) <= max(index.values()):
        raise CandleFileError(f"line {line_no}: expected {max(index.values()) + 1} columns")
    ts = _parse_ts(row[index["t"]].strip(), line_no)
    if ts in seen:
        raise CandleFileError(f"line {line_no}: a second bar for {ts.isoformat()}")
    seen.add(ts)
    values = {}
    for key in "ohlcv":
        text = row[index[key]].strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise CandleFileError(f"line {line_no}: {key}={text!r} is not a number") from None
        if not value.is_finite():
            raise CandleFileError(f"line {line_no}: {key}={text!r} is not a finite number")
        values[key] = value
    o, h, low, c, v = (values[k] for k in "ohlcv")
    if min(o, h, low, c) <= 0:
        raise CandleFileError(f"line {line_no}: prices must be positive")
    if v < 0:
        raise CandleFileError(f"line {line_no}: volume must not be negative")
    if h < max(o, c, low) or low > min(o, c):
        raise CandleFileError(f"line {line_no}: high/low do not bracket open and close")
    return ts, o, h, low, c, v


def _parse_ts(text: str, line_no: int) -> datetime:
    ts = None
    if text.lstrip("-").isdigit():
        ts = datetime.fromtimestamp(int(text), tz=UTC)
    else:
        try:
            ts = parse_datetime(text.replace(" UTC", "").replace("Z", "+00:00"))
        except ValueError:
            ts = None
        if ts is not None and timezone.is_naive(ts):
            ts = ts.replace(tzinfo=UTC)
    if ts is None:
        raise CandleFileError(f"line {line_no}: {text!r} is not an ISO 8601 time or epoch seconds")
    ts = ts.astimezone(UTC)
    if ts.second or ts.microsecond:
        raise CandleFileError(f"line {line_no}: {text!r} is not the start of a minute")
    return ts


@transaction.atomic
def replay_bars_import(
    *, instrument: Instrument, bars: Sequence[tuple], replay: bool = False
) -> int:
    """Store BARS (ts, o, h, l, c, v) as INSTRUMENT's replay source (upsert by minute).

    With REPLAY the instrument's feed becomes `replay`, starting again from the first bar.
    Locks: none beyond the rows written. Side effects: ReplayBar rows; Instrument.feed and the
    quote's replay cursor when REPLAY.
    """
    objects = [
        ReplayBar(instrument=instrument, ts=ts, open=o, high=h, low=low, close=c, volume=v)
        for ts, o, h, low, c, v in bars
    ]
    ReplayBar.objects.bulk_create(
        objects,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["instrument", "ts"],
        update_fields=["open", "high", "low", "close", "volume"],
    )
    if replay:
        Instrument.objects.filter(pk=instrument.pk).update(
            feed=Feed.REPLAY, updated_at=timezone.now()
        )
        instrument.feed = Feed.REPLAY
        Quote.objects.filter(instrument=instrument).update(replay_cursor=None)
    return len(objects)
