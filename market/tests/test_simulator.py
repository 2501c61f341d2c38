"""The price model, proven statistically. Pure Python: no database, no Django."""

import itertools
import math
import random
import statistics
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest

from market.simulator import (
    MAX_STEP_SECONDS,
    SECONDS_PER_YEAR,
    ManualClock,
    PriceModel,
    Simulator,
    step,
)

START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # a Monday


def model(**overrides) -> PriceModel:
    params = {
        "volatility": Decimal("0.5"),
        "drift": Decimal("0"),
        "spread_bps": Decimal("2"),
        "tick_size": Decimal("0.01"),
        "lot_size": Decimal("0.001"),
        "liquidity": Decimal("100"),
    }
    params.update(overrides)
    return PriceModel(**params)


def log_returns(prices: list[Decimal]) -> list[float]:
    return [math.log(b / a) for a, b in itertools.pairwise(prices)]


def path(m: PriceModel, *, steps: int, dt: float, seed: int, start=Decimal("100")) -> list:
    rng = random.Random(seed)
    ticks, price = [], start
    for _ in range(steps):
        tick = step(m, price, dt, rng)
        ticks.append(tick)
        price = tick.model_price
    return ticks


def test_realised_volatility_of_a_long_path_matches_the_configured_one():
    m = model(volatility=Decimal("0.5"))
    ticks = path(m, steps=40_000, dt=1.0, seed=7)
    realised = statistics.pstdev(log_returns([t.model_price for t in ticks])) * math.sqrt(
        SECONDS_PER_YEAR
    )
    # Standard error of the estimate is 0.5 / sqrt(2 * 40000) = 0.35 %; allow 3 %.
    assert realised == pytest.approx(0.5, rel=0.03)


def test_quoted_last_prices_carry_the_same_volatility_despite_the_tick_grid():
    m = model(volatility=Decimal("0.3"), tick_size=Decimal("0.01"))
    ticks = path(m, steps=40_000, dt=60.0, seed=8)
    dt_years = 60.0 / SECONDS_PER_YEAR
    realised = statistics.pstdev(log_returns([t.last for t in ticks])) / math.sqrt(dt_years)
    assert realised == pytest.approx(0.3, rel=0.05)


@pytest.mark.parametrize("drift", [Decimal("0.3"), Decimal("-0.3")])
def test_returns_are_centred_on_the_drift(drift):
    m = model(volatility=Decimal("0.2"), drift=drift)
    rng = random.Random(11)
    dt_days = 1.0
    dt = dt_days * 86400
    start = Decimal("100")
    gross = [float(step(m, start, dt, rng).model_price / start) - 1 for _ in range(40_000)]
    annual_mean = statistics.fmean(gross) / (dt / SECONDS_PER_YEAR)
    # Standard error: 0.2 / sqrt(40000 days / 365.25) = 0.019; allow 4 of them.
    assert annual_mean == pytest.approx(float(drift), abs=0.077)


def test_mean_log_return_is_the_drift_less_half_the_variance():
    m = model(volatility=Decimal("0.4"), drift=Decimal("0.1"))
    rng = random.Random(12)
    dt = 86400.0
    start = Decimal("100")
    logs = [math.log(step(m, start, dt, rng).model_price / start) for _ in range(40_000)]
    annual = statistics.fmean(logs) / (dt / SECONDS_PER_YEAR)
    assert annual == pytest.approx(0.1 - 0.5 * 0.4**2, abs=4 * 0.4 / math.sqrt(40_000 / 365.25))


def test_jumps_add_their_variance():
    m = model(volatility=Decimal("0.1"), jump_intensity=Decimal("2000"), jump_size=Decimal("0.01"))
    ticks = path(m, steps=20_000, dt=3600.0, seed=13)
    dt_years = 3600.0 / SECONDS_PER_YEAR
    realised = statistics.pstdev(log_returns([t.model_price for t in ticks])) / math.sqrt(dt_years)
    expected = math.sqrt(0.1**2 + 2000 * 0.01**2)  # 0.458
    assert realised == pytest.approx(expected, rel=0.1)


def test_no_price_is_off_the_tick_grid_or_at_or_below_zero():
    # A wildly volatile instrument trading near its tick size is the hardest case.
    m = model(volatility=Decimal("5"), tick_size=Decimal("0.01"), spread_bps=Decimal("50"))
    ticks = path(m, steps=20_000, dt=3600.0, seed=14, start=Decimal("0.05"))
    for t in ticks:
        for price in (t.bid, t.ask, t.last):
            assert price > 0
            assert price % Decimal("0.01") == 0
        assert t.bid < t.ask
        assert t.bid <= t.last <= t.ask
        assert t.volume >= 0
        assert t.volume % Decimal("0.001") == 0


def test_odd_tick_sizes_stay_on_their_grid():
    m = model(tick_size=Decimal("0.05"), lot_size=Decimal("1"))
    for t in path(m, steps=2000, dt=1.0, seed=15, start=Decimal("24500")):
        assert t.bid % Decimal("0.05") == 0
        assert t.ask % Decimal("0.05") == 0
        assert t.last % Decimal("0.05") == 0


def test_bid_and_ask_sit_the_spread_apart_around_the_mid():
    m = model(spread_bps=Decimal("10"), tick_size=Decimal("0.0001"))
    for t in path(m, steps=500, dt=1.0, seed=16):
        spread_bps = (t.ask - t.bid) / t.model_price * 10000
        assert Decimal("10") <= spread_bps <= Decimal("10.1")
        assert t.bid < t.model_price < t.ask


def test_it_is_deterministic_for_a_seed():
    a = path(model(), steps=500, dt=1.0, seed=42)
    b = path(model(), steps=500, dt=1.0, seed=42)
    c = path(model(), steps=500, dt=1.0, seed=43)
    assert a == b
    assert a != c
    assert all(isinstance(t.last, Decimal) for t in a)


def nine_to_four_weekdays(when: datetime) -> bool:
    return when.weekday() < 5 and time(9, 30) <= when.time() < time(16, 0)


def test_no_tick_happens_outside_the_session():
    clock = ManualClock(START)
    sim = Simulator(
        model(), model_price=Decimal("100"), clock=clock, is_open=nine_to_four_weekdays, seed=1
    )
    ticks, closed_calls = [], 0
    for _ in range(7 * 24 * 60):  # a week, once a minute
        clock.advance(60)
        before = sim.model_price
        tick = sim.tick()
        if nine_to_four_weekdays(clock.now()):
            assert tick is not None
            ticks.append(tick)
        else:
            closed_calls += 1
            assert tick is None
            assert sim.model_price == before
    assert all(nine_to_four_weekdays(t.ts) for t in ticks)
    assert len(ticks) == 5 * 390
    assert closed_calls == 7 * 24 * 60 - 5 * 390


def test_a_late_call_steps_once_by_at_most_the_cap():
    def run(gap_seconds: float):
        clock = ManualClock(START)
        sim = Simulator(model(), model_price=Decimal("100"), clock=clock, seed=5)
        clock.advance(gap_seconds)
        return sim.tick()

    late, capped = run(3600), run(MAX_STEP_SECONDS)
    # An hour without calls moves the price like a MAX_STEP_SECONDS step: no burst, no gap.
    assert late.ts == START + timedelta(seconds=3600)
    assert replace(late, ts=None) == replace(capped, ts=None)


def test_a_call_without_time_passing_does_not_move():
    clock = ManualClock(START)
    sim = Simulator(model(), model_price=Decimal("100"), clock=clock, seed=5)
    assert sim.tick() is None
    assert sim.model_price == Decimal("100")


def test_invalid_parameters_are_refused():
    with pytest.raises(ValueError, match="tick_size"):
        model(tick_size=Decimal("0"))
    with pytest.raises(ValueError, match="volatility"):
        model(volatility=Decimal("-0.1"))
    with pytest.raises(ValueError, match="positive"):
        step(model(), Decimal("0"), 1.0, random.Random(1))
