"""The tick pipeline: quotes, candles, streams, sessions, replay and the lock."""

import asyncio
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext

from market.models import Candle, Feed, Quote, ReplayBar
from market.selectors import candles_for, quote_for_symbol
from market.services import (
    MAX_STEP_SECONDS,
    TickBar,
    candles_record_ticks,
    market_advance,
    market_advance_lock,
    market_seed_quotes,
)
from market.tests.factories import EquityInstrumentFactory, InstrumentFactory, QuoteFactory

pytestmark = pytest.mark.django_db

WEDNESDAY = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # 10:00 in New York: all open
SATURDAY = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
D = Decimal
HUNDRED = D("100.00")


def quoted(instrument, *, ts, price=HUNDRED):
    return QuoteFactory(
        instrument=instrument,
        bid=price - D("0.01"),
        ask=price + D("0.01"),
        last=price,
        reference_price=price,
        day_high=price,
        day_low=price,
        day_volume=D("0"),
        ts=ts,
    )


async def receive(channel: str, count: int, timeout: float) -> list[dict]:
    """Up to COUNT messages from the real channel layer, polling until a deadline."""
    layer = get_channel_layer()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    messages = []
    while len(messages) < count and (remaining := deadline - loop.time()) > 0:
        try:
            messages.append(await asyncio.wait_for(layer.receive(channel), remaining))
        except TimeoutError:
            break
    return messages


def test_seed_quotes_start_at_the_initial_price_and_leave_live_quotes_alone():
    fresh = InstrumentFactory(initial_price=D("250.00"), spread_bps=D("4"))
    live = InstrumentFactory()
    quoted(live, ts=WEDNESDAY, price=D("123.45"))

    assert market_seed_quotes(now=WEDNESDAY) == 1

    quote = Quote.objects.get(instrument=fresh)
    assert (quote.bid, quote.ask, quote.last) == (D("249.95"), D("250.05"), D("250.00"))
    assert quote.reference_price == D("250.00")
    assert Quote.objects.get(instrument=live).last == D("123.45")
    assert market_seed_quotes(now=WEDNESDAY) == 0


def test_it_moves_open_instruments_and_leaves_halted_and_closed_ones_alone():
    crypto = InstrumentFactory()
    equity = EquityInstrumentFactory()
    halted = InstrumentFactory(is_halted=True)
    for instrument in (crypto, equity, halted):
        quoted(instrument, ts=SATURDAY - timedelta(seconds=1))

    moved = market_advance(now=SATURDAY)

    assert moved == [crypto.id]
    assert Quote.objects.get(instrument=crypto).ts == SATURDAY
    for still in (equity, halted):
        quote = Quote.objects.get(instrument=still)
        assert quote.ts == SATURDAY - timedelta(seconds=1)
        assert quote.last == D("100.00")
    assert not Candle.objects.filter(instrument__in=[equity, halted]).exists()


def test_quotes_stay_on_the_tick_grid_with_change_measured_from_the_reference():
    instrument = InstrumentFactory(volatility=D("2"), tick_size=D("0.05"))
    quoted(instrument, ts=WEDNESDAY)
    for second in range(1, 30):
        market_advance(now=WEDNESDAY + timedelta(seconds=second))
    quote = Quote.objects.get(instrument=instrument)
    for price in (quote.bid, quote.ask, quote.last, quote.day_high, quote.day_low):
        assert price > 0
        assert price % D("0.05") == 0
    assert quote.bid < quote.ask
    assert quote.day_low <= quote.last <= quote.day_high
    expected = ((quote.last - D("100")) * 100 / D("100")).quantize(D("0.0001"))
    assert quote.change_pct == expected
    assert quote.model_price is not None


def test_running_twice_in_the_same_second_is_a_no_op():
    instrument = InstrumentFactory()
    quoted(instrument, ts=WEDNESDAY)
    assert market_advance(now=WEDNESDAY + timedelta(seconds=1)) == [instrument.id]
    assert market_advance(now=WEDNESDAY + timedelta(seconds=1.2)) == []


def test_a_missed_stretch_is_one_capped_step_not_a_burst():
    instrument = InstrumentFactory(volatility=D("1"))
    quote = quoted(instrument, ts=WEDNESDAY - timedelta(hours=1))
    market_advance(now=WEDNESDAY)
    after_an_hour = Quote.objects.get(instrument=instrument)

    Quote.objects.filter(pk=quote.pk).update(
        bid=D("99.99"),
        ask=D("100.01"),
        last=D("100.00"),
        model_price=None,
        ts=WEDNESDAY - timedelta(seconds=MAX_STEP_SECONDS),
    )
    market_advance(now=WEDNESDAY)
    after_the_cap = Quote.objects.get(instrument=instrument)
    # The tick's draw is seeded by (instrument, now): same draw, same dt, same price.
    assert after_an_hour.model_price == after_the_cap.model_price
    assert Candle.objects.filter(instrument=instrument, timeframe="1m").count() == 1


def test_a_new_session_takes_the_previous_close_as_reference():
    equity = EquityInstrumentFactory()
    friday_close = datetime(2026, 11, 27, 20, 59, tzinfo=UTC)  # Friday 15:59 New York
    quote = quoted(equity, ts=friday_close, price=D("50.00"))
    Quote.objects.filter(pk=quote.pk).update(
        reference_price=D("40.00"), day_volume=D("999"), day_high=D("55"), day_low=D("39")
    )
    monday_open = datetime(2026, 11, 30, 14, 30, 1, tzinfo=UTC)

    market_advance(now=monday_open)

    quote = Quote.objects.get(pk=quote.pk)
    assert quote.reference_price == D("50.00")
    assert quote.day_volume == quote.volume
    assert quote.day_high == quote.day_low == quote.last


def test_ticks_aggregate_into_exact_candles_of_every_timeframe():
    instrument = InstrumentFactory()
    t0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

    def tick(seconds, price, volume):
        p = D(price)
        return TickBar(instrument.id, t0 + timedelta(seconds=seconds), p, p, p, p, D(volume))

    candles_record_ticks(
        ticks=[tick(5, "100.00", "1"), tick(30, "101.50", "2"), tick(59, "99.25", "0.5")]
    )
    candles_record_ticks(ticks=[tick(70, "100.75", "3")])
    candles_record_ticks(ticks=[tick(299, "98.00", "1"), tick(300, "102.00", "4")])

    def ohlcv(timeframe, ts):
        c = Candle.objects.get(instrument=instrument, timeframe=timeframe, ts=ts)
        return c.open, c.high, c.low, c.close, c.volume

    assert ohlcv("1m", t0) == (D("100.00"), D("101.50"), D("99.25"), D("99.25"), D("3.5"))
    assert ohlcv("1m", t0 + timedelta(minutes=1)) == (D("100.75"),) * 4 + (D("3"),)
    assert ohlcv("5m", t0) == (D("100.00"), D("101.50"), D("98.00"), D("98.00"), D("7.5"))
    assert ohlcv("5m", t0 + timedelta(minutes=5)) == (D("102.00"),) * 4 + (D("4"),)
    for timeframe, start in (("15m", t0), ("1h", t0), ("1d", t0.replace(hour=0))):
        assert ohlcv(timeframe, start) == (
            D("100.00"),
            D("102.00"),
            D("98.00"),
            D("102.00"),
            D("11.5"),
        )
    rows = candles_for(instrument, "1m", limit=10)
    assert [row["t"] for row in rows] == [
        t0,
        t0 + timedelta(minutes=1),
        t0 + timedelta(minutes=4),
        t0 + timedelta(minutes=5),
    ]
    assert rows[0]["h"] == D("101.50")


def test_the_forming_candle_follows_the_ticks():
    instrument = InstrumentFactory()
    quoted(instrument, ts=WEDNESDAY)
    for second in (1, 2, 3):
        market_advance(now=WEDNESDAY + timedelta(seconds=second))
    quote = Quote.objects.get(instrument=instrument)
    candle = Candle.objects.get(instrument=instrument, timeframe="1m", ts=WEDNESDAY)
    assert candle.close == quote.last
    assert candle.low <= min(candle.open, candle.close) <= max(candle.open, candle.close)
    assert candle.high >= candle.low
    day = Candle.objects.get(instrument=instrument, timeframe="1d")
    assert (day.open, day.close, day.volume) == (candle.open, candle.close, candle.volume)


def test_it_publishes_one_tick_per_open_instrument_only_after_commit(
    django_capture_on_commit_callbacks,
):
    open_one, open_two = InstrumentFactory(), InstrumentFactory()
    closed = EquityInstrumentFactory()
    for instrument in (open_one, open_two, closed):
        quoted(instrument, ts=SATURDAY - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        market_advance(now=SATURDAY)

    async def listen() -> tuple[list, list]:
        # One event loop for the whole exchange: a layer's receive queues belong to a loop.
        layer = get_channel_layer()
        channel = await layer.new_channel()
        for instrument in (open_one, open_two, closed):
            await layer.group_add(f"market.{instrument.symbol}", channel)
        before_commit = await receive(channel, 1, timeout=0.2)
        await sync_to_async(lambda: [callback() for callback in callbacks])()
        return before_commit, await receive(channel, 3, timeout=3.0)

    before_commit, messages = async_to_sync(listen)()

    assert before_commit == []
    frames = [message["text"] for message in messages]
    assert len(frames) == 2
    ticks = {frame["symbol"]: frame for frame in map(json.loads, frames)}
    assert set(ticks) == {open_one.symbol, open_two.symbol}
    quote = quote_for_symbol(open_one.symbol)
    tick = ticks[open_one.symbol]
    assert tick["type"] == "tick"
    assert D(tick["bid"]) == quote.bid
    assert D(tick["ask"]) == quote.ask
    assert D(tick["last"]) == quote.last
    assert tick["ts"] == "2026-11-28T15:00:00Z"


def test_query_count_does_not_grow_with_the_number_of_instruments(
    django_assert_max_num_queries,
):
    def run(count: int, second: int) -> int:
        for _ in range(count):
            quoted(InstrumentFactory(), ts=WEDNESDAY)
        with CaptureQueriesContext(connection) as captured:
            moved = market_advance(now=WEDNESDAY + timedelta(seconds=second))
        assert len(moved) == Quote.objects.count()
        return len(captured)

    few = run(2, 1)
    many = run(12, 2)
    assert few == many
    with django_assert_max_num_queries(8):
        market_advance(now=WEDNESDAY + timedelta(seconds=3))


def test_a_replay_instrument_steps_through_its_imported_bars_and_loops():
    instrument = InstrumentFactory(feed=Feed.REPLAY, spread_bps=D("2"))
    quoted(instrument, ts=WEDNESDAY)
    t0 = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
    bars = [
        ("101.00", "103.00", "100.50", "102.00", "5"),
        ("102.00", "102.50", "99.00", "99.50", "7"),
        ("99.50", "100.00", "98.00", "98.75", "1"),
    ]
    ReplayBar.objects.bulk_create(
        ReplayBar(
            instrument=instrument,
            ts=t0 + timedelta(minutes=i),
            open=D(o),
            high=D(h),
            low=D(low),
            close=D(c),
            volume=D(v),
        )
        for i, (o, h, low, c, v) in enumerate(bars)
    )

    lasts = []
    for second in range(1, 5):
        market_advance(now=WEDNESDAY + timedelta(seconds=second))
        lasts.append(Quote.objects.get(instrument=instrument).last)

    assert lasts == [D("102.00"), D("99.50"), D("98.75"), D("102.00")]
    quote = Quote.objects.get(instrument=instrument)
    assert quote.replay_cursor == t0
    assert quote.bid < quote.last < quote.ask
    candle = Candle.objects.get(instrument=instrument, timeframe="1m", ts=WEDNESDAY)
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
        D("101.00"),
        D("103.00"),
        D("98.00"),
        D("102.00"),
        D("18"),
    )


def test_a_replay_instrument_without_bars_stands_still():
    instrument = InstrumentFactory(feed=Feed.REPLAY)
    quoted(instrument, ts=WEDNESDAY)
    assert market_advance(now=WEDNESDAY + timedelta(seconds=1)) == []


@pytest.mark.django_db(transaction=True)
def test_a_run_is_skipped_while_another_holds_the_lock():
    instrument = InstrumentFactory()
    quoted(instrument, ts=WEDNESDAY)
    holding, release = threading.Event(), threading.Event()
    errors = []

    def hold_the_lock():
        try:
            with market_advance_lock() as acquired:
                assert acquired
                holding.set()
                release.wait(10)
        except Exception as exc:  # surfaced below; a thread's exception is otherwise lost
            errors.append(exc)
            holding.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        assert market_advance(now=WEDNESDAY + timedelta(seconds=1)) == []
        assert Quote.objects.get(instrument=instrument).ts == WEDNESDAY
    finally:
        release.set()
        holder.join(10)
    assert errors == []
    assert market_advance(now=WEDNESDAY + timedelta(seconds=2)) == [instrument.id]
