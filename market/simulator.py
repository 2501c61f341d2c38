"""The price model: a seedable jump-diffusion on the tick grid. Pure Python, no Django imports.

The state carried from one tick to the next is one Decimal, the *model price*: the unrounded
mid (kept to `STATE_STEP`). Quoted prices are derived from it each tick: the mid rounded to the
tick grid is the `last`, bid and ask sit `spread_bps` apart around the mid, rounded outwards to
the grid, at least one tick apart and never below one tick. Keeping the unrounded state (rather
than stepping from the rounded last) matters: a quiet instrument whose one-second move is
smaller than a tick would otherwise be rounded back to where it was, tick after tick, and never
move at all.

The process, for a step of `dt` years (log space, so the price stays positive):

    ln S' = ln S + (mu - sigma^2 / 2) dt + sigma sqrt(dt) Z + sum of J_k,   Z ~ N(0, 1)

with N ~ Poisson(lambda dt) jumps J_k ~ N(-s^2 / 2, s^2) (compensated, so jumps do not change
the expected price). `mu` is the annualised drift of the price, `sigma` the annualised
volatility, `lambda` the expected jumps a year and `s` the jump size. Floats are used only for
the random draw; every price in and out is a Decimal.

Who decides *when* to step is the caller: `step` is a pure function of (state, dt, rng), and
`Simulator` wraps it with an injected clock and an `is_open(when)` predicate, stepping only
while the session is open and never by more than `max_step_seconds` at once (so a late or
missed call never produces a burst or a gap jump).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Protocol

SECONDS_PER_YEAR = 365.25 * 24 * 3600
STATE_STEP = Decimal("1e-10")  # the model price is stored with 10 decimal places
MAX_STEP_SECONDS = 5.0
_BPS = Decimal("10000")
_TWO = Decimal(2)

__all__ = [
    "MAX_STEP_SECONDS",
    "SECONDS_PER_YEAR",
    "STATE_STEP",
    "Clock",
    "ManualClock",
    "PriceModel",
    "Simulator",
    "SystemClock",
    "Tick",
    "ceil_to_step",
    "draw_log_return",
    "floor_to_step",
    "poisson",
    "quote_around",
    "round_to_step",
    "step",
]


# --- Decimal grid helpers (pure twins of config.money, which imports Django's package) --------


def _to_step(value: Decimal, step_size: Decimal, rounding: str) -> Decimal:
    units = (value / step_size).to_integral_value(rounding=rounding)
    return (units * step_size).quantize(step_size)


def round_to_step(value: Decimal, step_size: Decimal) -> Decimal:
    return _to_step(value, step_size, ROUND_HALF_EVEN)


def floor_to_step(value: Decimal, step_size: Decimal) -> Decimal:
    return _to_step(value, step_size, ROUND_FLOOR)


def ceil_to_step(value: Decimal, step_size: Decimal) -> Decimal:
    return _to_step(value, step_size, ROUND_CEILING)


def grid(step_size: Decimal) -> Decimal:
    """STEP with its exponent tidied (0.0100000000 -> 0.01) so results print naturally."""
    normal = step_size.normalize()
    return normal if normal.as_tuple().exponent <= 0 else normal.quantize(Decimal(1))


# --- The model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceModel:
    """One instrument's simulator parameters (Decimals in, as stored on the instrument)."""

    volatility: Decimal  # annualised, 0.65 = 65 %
    drift: Decimal = Decimal("0")  # annualised
    jump_intensity: Decimal = Decimal("0")  # expected jumps a year
    jump_size: Decimal = Decimal("0")  # std dev of a jump's log size
    spread_bps: Decimal = Decimal("1")
    tick_size: Decimal = Decimal("0.01")
    lot_size: Decimal = Decimal("1")
    liquidity: Decimal = Decimal("100")  # quantity displayed at the quote
    # Derived once (the hot path draws thousands a second); not constructor arguments.
    sigma: float = field(init=False, repr=False, compare=False)
    mu: float = field(init=False, repr=False, compare=False)
    lam: float = field(init=False, repr=False, compare=False)
    jump: float = field(init=False, repr=False, compare=False)
    tick: Decimal = field(init=False, repr=False, compare=False)
    lot: Decimal = field(init=False, repr=False, compare=False)
    half_spread: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.tick_size <= 0 or self.lot_size <= 0:
            raise ValueError("tick_size and lot_size must be positive")
        if self.volatility < 0 or self.jump_intensity < 0 or self.jump_size < 0:
            raise ValueError("volatility and jump parameters must not be negative")
        if self.spread_bps < 0:
            raise ValueError("spread_bps must not be negative")
        derived = {
            "sigma": float(self.volatility),
            "mu": float(self.drift),
            "lam": float(self.jump_intensity),
            "jump": float(self.jump_size),
            "tick": grid(self.tick_size),
            "lot": grid(self.lot_size),
            "half_spread": self.spread_bps / _BPS / _TWO,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class Tick:
    """One step's outcome. `model_price` is the state to hand to the next step."""

    ts: datetime | None
    model_price: Decimal
    bid: Decimal
    ask: Decimal
    last: Decimal
    volume: Decimal


def draw_log_return(
    model: PriceModel, dt_seconds: float, rng: random.Random
) -> tuple[float, float]:
    """(log return, |diffusion shock| in std devs) of one step of DT_SECONDS."""
    dt = dt_seconds / SECONDS_PER_YEAR
    sigma = model.sigma
    z = rng.gauss(0.0, 1.0)
    log_return = (model.mu - 0.5 * sigma * sigma) * dt + sigma * math.sqrt(dt) * z
    lam = model.lam
    if lam > 0.0 and model.jump > 0.0:
        jumps = poisson(lam * dt, rng)
        size = model.jump
        for _ in range(jumps):
            log_return += rng.gauss(-0.5 * size * size, size)
    return log_return, abs(z)


def poisson(mean: float, rng: random.Random) -> int:
    # Knuth's method: exact and cheap for the tiny means of one-second steps.
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def quote_around(model: PriceModel, model_price: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(bid, ask, last) on the tick grid around the unrounded MODEL_PRICE; all >= one tick."""
    tick = model.tick
    half = model_price * model.half_spread
    bid = max(floor_to_step(model_price - half, tick), tick)
    ask = max(ceil_to_step(model_price + half, tick), bid + tick)
    last = min(max(round_to_step(model_price, tick), bid), ask)
    return bid, ask, last


def step(
    model: PriceModel,
    model_price: Decimal,
    dt_seconds: float,
    rng: random.Random,
    *,
    ts: datetime | None = None,
) -> Tick:
    """Advance MODEL_PRICE by one step of DT_SECONDS; a pure function of its arguments."""
    if model_price <= 0:
        raise ValueError("model price must be positive")
    if dt_seconds <= 0:
        raise ValueError("dt must be positive")
    log_return, shock = draw_log_return(model, dt_seconds, rng)
    new_price = float(model_price) * math.exp(log_return)
    state = Decimal(new_price).quantize(STATE_STEP, rounding=ROUND_HALF_EVEN)
    tick = model.tick
    if state < tick:
        # The grid cannot show less than one tick; the model never quotes zero.
        state = tick
    bid, ask, last = quote_around(model, state)
    # Volume: on average a tenth of the displayed liquidity per second, more on big moves.
    mean = float(model.liquidity) * dt_seconds * 0.1 * (1.0 + shock)
    raw_volume = Decimal(repr(rng.expovariate(1.0) * mean)) if mean > 0 else Decimal(0)
    lot = model.lot
    volume = _to_step(raw_volume, lot, ROUND_DOWN)
    return Tick(ts=ts, model_price=state, bid=bid, ask=ask, last=last, volume=volume)


# --- Clocks and the session-aware driver ---------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to (tests and backfills)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now = self._now + timedelta(seconds=seconds)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class Simulator:
    """Steps one instrument's price on an injected clock, only while its session is open.

    Each `tick()` reads the clock once and makes at most one step, of the time since the
    previous tick capped at `max_step_seconds`. While the session is closed it returns None and
    the price does not move; the first tick after the open steps by at most the cap (no gap).
    """

    def __init__(
        self,
        model: PriceModel,
        *,
        model_price: Decimal,
        clock: Clock,
        is_open: Callable[[datetime], bool] = lambda when: True,
        seed: int | str | None = None,
        max_step_seconds: float = MAX_STEP_SECONDS,
    ) -> None:
        self.model = model
        self.model_price = model_price
        self.clock = clock
        self.is_open = is_open
        self.rng = random.Random(seed)
        self.max_step_seconds = max_step_seconds
        self.last_ts: datetime = clock.now()

    def tick(self) -> Tick | None:
        now = self.clock.now()
        elapsed = (now - self.last_ts).total_seconds()
        if elapsed <= 0 or not self.is_open(now):
            if elapsed > 0:
                self.last_ts = now
            return None
        dt = min(elapsed, self.max_step_seconds)
        result = step(self.model, self.model_price, dt, self.rng, ts=now)
        self.model_price = result.model_price
        self.last_ts = now
        return result
