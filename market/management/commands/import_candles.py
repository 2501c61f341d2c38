"""Load real 1-minute OHLCV bars from a CSV file as an instrument's replay source."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from market.history import CandleFileError, parse_candles_csv, replay_bars_import
from market.models import Instrument


class Command(BaseCommand):
    help = (
        "Import 1-minute OHLCV bars (CSV with a header: t|timestamp, o, h, l, c, v; times in "
        "ISO 8601, UTC unless an offset is given, or epoch seconds) for --symbol. With "
        "--replay the instrument's feed switches to replaying them."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--symbol", required=True)
        parser.add_argument(
            "--replay", action="store_true", help="set the instrument's feed to replay"
        )

    def handle(self, *args, file: Path, symbol: str, replay: bool, **options):
        instrument = Instrument.objects.filter(symbol=symbol).first()
        if instrument is None:
            raise CommandError(f"unknown symbol {symbol!r}")
        try:
            bars = parse_candles_csv(file)
        except CandleFileError as exc:
            raise CommandError(str(exc)) from exc
        count = replay_bars_import(instrument=instrument, bars=bars, replay=replay)
        feed = " and set its feed to replay" if replay else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {count} bars for {symbol} ({bars[0][0]:%Y-%m-%d %H:%M} to "
                f"{bars[-1][0]:%Y-%m-%d %H:%M} UTC){feed}."
            )
        )
