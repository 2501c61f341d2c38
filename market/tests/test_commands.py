"""backfill_candles, import_candles and the seed."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Max, Min, Sum

from market.models import Candle, Feed, Instrument, Quote, ReplayBar
from market.seed import UNIVERSE, seed_market
from market.services import market_seed_quotes
from market.tests.factories import EquityInstrumentFactory, InstrumentFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_backfill_generates_minutes_and_consistent_rollups_ending_at_the_quote():
    btc = InstrumentFactory(symbol="BFX-USD", initial_price=D("100.00"))
    market_seed_quotes()
    run("backfill_candles", "--days", "1", "--symbol", "BFX-USD", "--seed", "3")

    minutes = Candle.objects.filter(instrument=btc, timeframe="1m").order_by("ts")
    assert minutes.count() == 1440
    assert minutes.last().close == Quote.objects.get(instrument=btc).last
    for candle in minutes[:200]:
        assert candle.low <= min(candle.open, candle.close)
        assert candle.high >= max(candle.open, candle.close)
        assert candle.low > 0
        assert candle.close % D("0.01") == 0
    hour = Candle.objects.filter(instrument=btc, timeframe="1h").order_by("ts")[5]
    inside = minutes.filter(ts__gte=hour.ts, ts__lt=hour.ts + timedelta(hours=1))
    agg = inside.aggregate(h=Max("high"), low=Min("low"), v=Sum("volume"))
    assert (hour.open, hour.close) == (inside.first().open, inside.last().close)
    assert (hour.high, hour.low, hour.volume) == (agg["h"], agg["low"], agg["v"])

    # A second run extends the history backwards without touching what exists.
    first_before = minutes.first().ts
    run("backfill_candles", "--days", "1", "--symbol", "BFX-USD")
    assert minutes.count() == 2880
    assert minutes.last().ts == first_before + timedelta(minutes=1439)


def test_backfill_only_fills_session_minutes():
    aapl = EquityInstrumentFactory(symbol="BFXEQ")
    market_seed_quotes()
    run("backfill_candles", "--days", "7", "--symbol", "BFXEQ", "--seed", "4")
    rows = list(Candle.objects.filter(instrument=aapl, timeframe="1m").values_list("ts", flat=True))
    assert len(rows) == 5 * 390
    assert all(aapl.is_open_at(ts) for ts in rows)


def test_backfill_refuses_unknown_symbols_and_silly_days():
    with pytest.raises(CommandError, match="unknown symbol: NOPE"):
        run("backfill_candles", "--days", "1", "--symbol", "NOPE")
    with pytest.raises(CommandError, match="--days"):
        run("backfill_candles", "--days", "0")


GOOD_CSV = """timestamp,open,high,low,close,volume
2024-01-02T09:01:00Z,101.5,102,101,101.75,12.5
2024-01-02T09:00:00Z,100,101.5,99.5,101.5,10
1704186120,101.75,101.8,101.1,101.2,3
"""


def test_import_loads_bars_with_decimals_and_switches_to_replay(tmp_path):
    instrument = InstrumentFactory(symbol="IMP")
    path = tmp_path / "bars.csv"
    path.write_text(GOOD_CSV)

    out = run("import_candles", str(path), "--symbol", "IMP", "--replay")

    assert "Imported 3 bars for IMP" in out
    bars = list(ReplayBar.objects.filter(instrument=instrument).order_by("ts"))
    assert [bar.ts for bar in bars] == [
        datetime(2024, 1, 2, 9, minute, tzinfo=UTC) for minute in (0, 1, 2)
    ]
    assert (bars[1].open, bars[1].high, bars[1].low, bars[1].close, bars[1].volume) == (
        D("101.5"),
        D("102"),
        D("101"),
        D("101.75"),
        D("12.5"),
    )
    instrument.refresh_from_db()
    assert instrument.feed == Feed.REPLAY
    # Importing again updates rather than duplicates.
    run("import_candles", str(path), "--symbol", "IMP")
    assert ReplayBar.objects.filter(instrument=instrument).count() == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("t,o,h,l,c\n", "missing column 'v'"),
        ("t,o,h,l,c,v\n", "no rows"),
        ("t,o,h,l,c,v\n2024-01-02T09:00:00Z,abc,1,1,1,1\n", "line 2: o='abc' is not a number"),
        ("t,o,h,l,c,v\n2024-01-02T09:00:00Z,1,0.5,1,1,1\n", "line 2: high/low do not bracket"),
        ("t,o,h,l,c,v\n2024-01-02T09:00:00Z,0,1,0,1,1\n", "line 2: prices must be positive"),
        ("t,o,h,l,c,v\n2024-01-02T09:00:00Z,1,1,1,1,-1\n", "volume must not be negative"),
        ("t,o,h,l,c,v\nyesterday,1,1,1,1,1\n", "line 2: 'yesterday' is not an ISO 8601"),
        ("t,o,h,l,c,v\n2024-01-02T09:00:30Z,1,1,1,1,1\n", "not the start of a minute"),
        ("t,o,h,l,c,v\n2024-01-02T09:00:00Z,1,1,1\n", "line 2: expected 6 columns"),
        (
            "t,o,h,l,c,v\n2024-01-02T09:00:00Z,1,1,1,1,1\n2024-01-02T09:00:00Z,1,1,1,1,1\n",
            "line 3: a second bar",
        ),
    ],
)
def test_import_refuses_bad_files_with_a_clear_message(tmp_path, content, message):
    instrument = InstrumentFactory(symbol="BAD")
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        run("import_candles", str(path), "--symbol", "BAD")
    assert not ReplayBar.objects.filter(instrument=instrument).exists()


def test_import_refuses_a_missing_file_and_an_unknown_symbol(tmp_path):
    InstrumentFactory(symbol="BAD")
    with pytest.raises(CommandError, match="cannot read"):
        run("import_candles", str(tmp_path / "nope.csv"), "--symbol", "BAD")
    with pytest.raises(CommandError, match="unknown symbol"):
        run("import_candles", str(tmp_path / "nope.csv"), "--symbol", "NOPE")


def test_import_exits_non_zero_from_the_command_line(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "bad.csv"
    path.write_text("nonsense\n")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_candles", str(path), "--symbol", "X"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0


def test_seed_is_idempotent_and_keeps_live_quotes():
    out = StringIO()
    seed_market(out)
    assert Instrument.objects.count() == len(UNIVERSE)
    assert Quote.objects.count() == len(UNIVERSE)
    btc = Quote.objects.get(instrument__symbol="BTC-USD")
    assert Candle.objects.filter(instrument__symbol="BTC-USD", timeframe="1m").count() >= 2880
    Quote.objects.filter(pk=btc.pk).update(last=D("70000.00"))
    Instrument.objects.filter(symbol="BTC-USD").update(volatility=D("0.9"))
    candles = Candle.objects.count()

    seed_market(StringIO())

    assert Instrument.objects.count() == len(UNIVERSE)
    assert Quote.objects.get(pk=btc.pk).last == D("70000.00")
    assert Instrument.objects.get(symbol="BTC-USD").volatility == D("0.9")
    assert Candle.objects.count() == candles
    aapl = Instrument.objects.get(symbol="AAPL")
    assert Candle.objects.filter(instrument=aapl, timeframe="1m").count() >= 390
