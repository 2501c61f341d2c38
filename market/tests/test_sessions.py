"""Instrument sessions across time zones, weekends, DST and the FX week."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from market.models import Instrument
from market.seed import UNIVERSE

NY = ZoneInfo("America/New_York")
IST = ZoneInfo("Asia/Kolkata")


def instrument(symbol: str) -> Instrument:
    spec = next(dict(s) for s in UNIVERSE if s["symbol"] == symbol)
    return Instrument(**spec)


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.mark.parametrize(
    "when",
    [
        datetime(2026, 11, 28, 12, 0, tzinfo=UTC),  # Saturday
        datetime(2026, 11, 29, 23, 59, tzinfo=UTC),  # Sunday
        datetime(2026, 11, 23, 0, 0, tzinfo=UTC),  # Monday midnight
    ],
)
def test_crypto_is_open_around_the_clock(when):
    assert instrument("BTC-USD").is_open_at(when)


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (ny(2026, 11, 25, 9, 29), False),
        (ny(2026, 11, 25, 9, 30), True),
        (ny(2026, 11, 25, 15, 59), True),
        (ny(2026, 11, 25, 16, 0), False),
        (ny(2026, 11, 28, 11, 0), False),  # Saturday
        (ny(2026, 11, 29, 11, 0), False),  # Sunday
    ],
)
def test_us_equities_trade_new_york_hours_on_weekdays(when, is_open):
    assert instrument("AAPL").is_open_at(when) is is_open


def test_us_equities_follow_new_york_daylight_saving_time():
    aapl = instrument("AAPL")
    # Winter (EST, UTC-5): the open is 14:30 UTC. Summer (EDT, UTC-4): 13:30 UTC.
    assert not aapl.is_open_at(datetime(2026, 3, 6, 14, 29, tzinfo=UTC))  # Friday, EST
    assert aapl.is_open_at(datetime(2026, 3, 6, 14, 30, tzinfo=UTC))
    # DST starts on Sunday 8 March 2026: Monday opens an hour earlier in UTC.
    assert aapl.is_open_at(datetime(2026, 3, 9, 13, 30, tzinfo=UTC))
    assert not aapl.is_open_at(datetime(2026, 3, 9, 13, 29, tzinfo=UTC))
    assert not aapl.is_open_at(datetime(2026, 3, 9, 20, 0, tzinfo=UTC))  # 16:00 EDT
    # DST ends on Sunday 1 November 2026.
    assert aapl.is_open_at(datetime(2026, 11, 2, 14, 30, tzinfo=UTC))
    assert not aapl.is_open_at(datetime(2026, 11, 2, 13, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (ny(2026, 11, 27, 16, 59), True),  # Friday just before the weekly close
        (ny(2026, 11, 27, 17, 0), False),  # Friday 17:00 New York: closed for the weekend
        (ny(2026, 11, 28, 12, 0), False),  # Saturday
        (ny(2026, 11, 29, 16, 59), False),  # Sunday before the open
        (ny(2026, 11, 29, 17, 0), True),  # Sunday 17:00 New York: the week opens
        (ny(2026, 11, 30, 3, 0), True),  # overnight into Monday
        (ny(2026, 12, 2, 17, 0), True),  # Wednesday's roll: continuous
        (ny(2026, 12, 3, 23, 0), True),  # Thursday night (Thursday's session)
        (ny(2026, 12, 4, 12, 0), True),  # Friday daytime
    ],
)
def test_fx_trades_24_5_from_sunday_to_friday_17_00_new_york(when, is_open):
    assert instrument("EURUSD").is_open_at(when) is is_open


def test_fx_boundaries_hold_in_utc_across_dst():
    eurusd = instrument("EURUSD")
    # Summer: Friday 17:00 EDT is 21:00 UTC. Winter: 17:00 EST is 22:00 UTC.
    assert eurusd.is_open_at(datetime(2026, 7, 10, 20, 59, tzinfo=UTC))
    assert not eurusd.is_open_at(datetime(2026, 7, 10, 21, 0, tzinfo=UTC))
    assert eurusd.is_open_at(datetime(2026, 12, 4, 21, 59, tzinfo=UTC))
    assert not eurusd.is_open_at(datetime(2026, 12, 4, 22, 0, tzinfo=UTC))
    assert not eurusd.is_open_at(datetime(2026, 12, 6, 21, 59, tzinfo=UTC))
    assert eurusd.is_open_at(datetime(2026, 12, 6, 22, 0, tzinfo=UTC))


def test_fx_session_window_runs_past_midnight():
    opens, closes = instrument("EURUSD").session_window_containing(ny(2026, 11, 30, 3, 0))
    assert opens == ny(2026, 11, 29, 17, 0)
    assert closes == ny(2026, 11, 30, 17, 0)


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (datetime(2026, 11, 25, 9, 14, tzinfo=IST), False),
        (datetime(2026, 11, 25, 9, 15, tzinfo=IST), True),
        (datetime(2026, 11, 25, 3, 45, tzinfo=UTC), True),  # the same instant in UTC
        (datetime(2026, 11, 25, 15, 29, tzinfo=IST), True),
        (datetime(2026, 11, 25, 15, 30, tzinfo=IST), False),
        (datetime(2026, 11, 28, 10, 0, tzinfo=IST), False),  # Saturday
        # Friday evening in New York is already Saturday in Kolkata: closed.
        (ny(2026, 11, 27, 23, 0), False),
    ],
)
def test_nifty_trades_kolkata_hours(when, is_open):
    assert instrument("NIFTY50").is_open_at(when) is is_open


def test_a_halted_instrument_is_closed():
    btc = instrument("BTC-USD")
    btc.is_halted = True
    assert not btc.is_open_at(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="aware"):
        instrument("AAPL").is_open_at(datetime(2026, 11, 25, 12, 0))
