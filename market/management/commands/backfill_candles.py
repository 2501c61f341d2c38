"""Generate candle history with the instruments' own price model."""

import time

from django.core.management.base import BaseCommand, CommandError

from market.history import candles_backfill
from market.models import Instrument


class Command(BaseCommand):
    help = (
        "Generate N days of 1-minute candles (and the 5m/15m/1h/1d roll-ups) before each "
        "instrument's earliest candle, with its price model and only during its session."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, required=True, help="days of history")
        parser.add_argument("--symbol", action="append", help="only this symbol (repeatable)")
        parser.add_argument("--seed", type=int, default=None, help="random seed (reproducible)")

    def handle(self, *args, days: float, symbol: list[str] | None, seed: int | None, **options):
        if not 0 < days <= 3660:
            raise CommandError("--days must be between 0 and 3660")
        if symbol:
            known = set(
                Instrument.objects.filter(symbol__in=symbol).values_list("symbol", flat=True)
            )
            unknown = sorted(set(symbol) - known)
            if unknown:
                raise CommandError(f"unknown symbol: {', '.join(unknown)}")
        started = time.perf_counter()
        results = candles_backfill(days=days, symbols=symbol, seed=seed)
        elapsed = time.perf_counter() - started
        for result in results:
            self.stdout.write(
                f"  {result.symbol:<10} {result.minutes:>8} minutes {result.rows:>8} rows"
            )
        total = sum(result.rows for result in results)
        self.stdout.write(
            self.style.SUCCESS(
                f"Backfilled {days:g} days for {len(results)} instruments: "
                f"{total} candle rows in {elapsed:.1f} s."
            )
        )
