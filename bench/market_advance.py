"""Benchmark: `market_advance` on PostgreSQL for 10, 100 and 1,000 instruments.

Run: `.venv/bin/python -m bench.market_advance` (PostgreSQL at BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/pt_bench, created and migrated if missing). Each size is
timed against a baseline measured in the same run: the bare SQL of one bulk quote UPDATE of the
same rows (UPDATE ... FROM VALUES, committed), i.e. the floor any tick must pay. The channel
layer is whatever REDIS_URL selects (unset: in-memory, so publishing costs little). Prints a
table; asserts nothing. Goal: <= 20 ms p50 for 100 instruments.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pt_bench")
SIZES = (10, 100, 1000)
RUNS = {10: 200, 100: 200, 1000: 40}


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _setup_django() -> None:
    os.environ["DATABASE_URL"] = DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    _ensure_database(DATABASE_URL)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _universe(size: int):
    from datetime import time as clock_time

    from market.models import Instrument, Quote
    from market.services import market_seed_quotes

    have = Instrument.objects.filter(symbol__startswith="BENCH").count()
    Instrument.objects.bulk_create(
        Instrument(
            symbol=f"BENCH{n:04d}",
            name=f"Bench {n}",
            asset_class="crypto",
            tick_size=Decimal("0.01"),
            lot_size=Decimal("0.001"),
            min_quantity=Decimal("0.001"),
            max_quantity=Decimal("1000"),
            spread_bps=Decimal("2"),
            volatility=Decimal("0.6"),
            jump_intensity=Decimal("10"),
            jump_size=Decimal("0.02"),
            liquidity=Decimal("50"),
            initial_price=Decimal("100") + n,
            session_open=clock_time(0, 0),
            session_close=clock_time(0, 0),
        )
        for n in range(have, max(SIZES))
    )
    market_seed_quotes()
    # Everything outside the first SIZE instruments is halted (halted ones are not loaded).
    Instrument.objects.exclude(symbol__startswith="BENCH").update(is_halted=True)
    bench = list(
        Instrument.objects.filter(symbol__startswith="BENCH")
        .order_by("symbol")
        .values_list("id", flat=True)
    )
    Instrument.objects.filter(id__in=bench[:size]).update(is_halted=False)
    Instrument.objects.filter(id__in=bench[size:]).update(is_halted=True)
    return list(Quote.objects.filter(instrument_id__in=bench[:size]))


def _baseline(quotes) -> float:
    """One committed UPDATE ... FROM (VALUES ...) of the tick's quote columns for QUOTES."""
    from django.db import connection, transaction

    values = []
    params: list = []
    for q in quotes:
        values.append("(%s, %s, %s, %s, %s, %s, %s, %s)")
        params += [q.instrument_id, q.bid, q.ask, q.last, q.volume, q.change_pct, q.ts, q.bid]
    sql = (
        "UPDATE market_quote AS q SET bid = v.bid, ask = v.ask, last = v.last, "
        "volume = v.volume, change_pct = v.change_pct, ts = v.ts, model_price = v.mp "
        f"FROM (VALUES {', '.join(values)}) AS v(id, bid, ask, last, volume, change_pct, ts, mp) "
        "WHERE q.instrument_id = v.id"
    )
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            sql.replace(
                "(%s, %s, %s, %s, %s, %s, %s, %s)",
                "(%s::bigint, %s::numeric, "
                "%s::numeric, %s::numeric, %s::numeric, %s::numeric, "
                "%s::timestamptz, %s::numeric)",
            ),
            params,
        )
    return time.perf_counter() - started


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return p50 * 1000, p95 * 1000


def main() -> int:
    _setup_django()
    from django.conf import settings
    from django.db import reset_queries
    from django.utils import timezone

    from market.services import market_advance

    settings.DEBUG = False  # no query log growing inside the timed loop
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[1]
    print(f"market_advance on PostgreSQL ({DATABASE_URL.rsplit('/', 1)[1]}), layer {layer}")
    print(
        f"{'instruments':>11} {'runs':>5} {'advance p50':>12} {'advance p95':>12} "
        f"{'bare UPDATE p50':>16} {'bare UPDATE p95':>16} {'ratio p50':>10}"
    )
    now = timezone.now()
    for size in SIZES:
        quotes = _universe(size)
        runs = RUNS[size]
        advance, baseline = [], []
        for run in range(runs + 5):
            now += timedelta(seconds=1)
            started = time.perf_counter()
            moved = market_advance(now=now)
            elapsed = time.perf_counter() - started
            bare = _baseline(quotes)
            reset_queries()
            if run >= 5:  # warm-up: connection, caches, plans
                advance.append(elapsed)
                baseline.append(bare)
            if len(moved) != size:
                print(f"unexpected: {len(moved)} instruments moved, wanted {size}")
                return 1
        a50, a95 = _percentiles(advance)
        b50, b95 = _percentiles(baseline)
        print(
            f"{size:>11} {runs:>5} {a50:>9.2f} ms {a95:>9.2f} ms "
            f"{b50:>13.2f} ms {b95:>13.2f} ms {a50 / b50:>9.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    sys.exit(main())
