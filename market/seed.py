"""The demo universe: instruments in every session style, their quotes and recent history."""

import time as clock
from datetime import time
from decimal import Decimal as D

from market.history import candles_backfill
from market.models import ALL_DAYS, AssetClass, Instrument
from market.services import market_seed_quotes

NEW_YORK, KOLKATA = "America/New_York", "Asia/Kolkata"
WEEKDAYS = "01234"
FX_DAYS = "01236"  # sessions open Sunday-Thursday 17:00 New York and run 24 hours
SEED_HISTORY_DAYS = 2

_CRYPTO = {
    "asset_class": AssetClass.CRYPTO,
    "session_timezone": "UTC",
    "session_open": time(0, 0),
    "session_close": time(0, 0),
    "session_days": ALL_DAYS,
    "commission_rate": D("0.0005"),
}
_US = {
    "asset_class": AssetClass.EQUITY,
    "tick_size": D("0.01"),
    "lot_size": D("1"),
    "min_quantity": D("1"),
    "max_quantity": D("100000"),
    "session_timezone": NEW_YORK,
    "session_open": time(9, 30),
    "session_close": time(16, 0),
    "session_days": WEEKDAYS,
    "max_leverage": D("4"),
}
_FX = {
    "asset_class": AssetClass.FX,
    "lot_size": D("1000"),
    "min_quantity": D("1000"),
    "max_quantity": D("10000000"),
    "session_timezone": NEW_YORK,
    "session_open": time(17, 0),
    "session_close": time(17, 0),
    "session_days": FX_DAYS,
    "max_leverage": D("30"),
    "commission_rate": D("0.00005"),
    "liquidity": D("5000000"),
}

UNIVERSE = [
    {**_CRYPTO, "symbol": "BTC-USD", "name": "Bitcoin", "tick_size": D("0.01"),
     "lot_size": D("0.00001"), "min_quantity": D("0.0001"), "max_quantity": D("100"),
     "spread_bps": D("1.5"), "volatility": D("0.55"), "jump_intensity": D("12"),
     "jump_size": D("0.03"), "liquidity": D("5"), "initial_price": D("65000.00"),
     "max_leverage": D("5")},
    {**_CRYPTO, "symbol": "ETH-USD", "name": "Ether", "tick_size": D("0.01"),
     "lot_size": D("0.0001"), "min_quantity": D("0.001"), "max_quantity": D("2000"),
     "spread_bps": D("2"), "volatility": D("0.70"), "jump_intensity": D("12"),
     "jump_size": D("0.04"), "liquidity": D("60"), "initial_price": D("3200.00"),
     "max_leverage": D("5")},
    {**_CRYPTO, "symbol": "SOL-USD", "name": "Solana", "tick_size": D("0.001"),
     "lot_size": D("0.01"), "min_quantity": D("0.01"), "max_quantity": D("50000"),
     "spread_bps": D("4"), "volatility": D("0.90"), "jump_intensity": D("15"),
     "jump_size": D("0.05"), "liquidity": D("800"), "initial_price": D("150.000"),
     "max_leverage": D("3")},
    {**_US, "symbol": "AAPL", "name": "Apple Inc.", "spread_bps": D("1"),
     "volatility": D("0.25"), "drift": D("0.08"), "jump_intensity": D("2"),
     "jump_size": D("0.03"), "liquidity": D("2000"), "initial_price": D("228.50")},
    {**_US, "symbol": "MSFT", "name": "Microsoft Corp.", "spread_bps": D("1"),
     "volatility": D("0.24"), "drift": D("0.08"), "jump_intensity": D("2"),
     "jump_size": D("0.03"), "liquidity": D("1500"), "initial_price": D("420.00")},
    {**_US, "symbol": "TSLA", "name": "Tesla Inc.", "spread_bps": D("2"),
     "volatility": D("0.55"), "drift": D("0.05"), "jump_intensity": D("4"),
     "jump_size": D("0.05"), "liquidity": D("3000"), "initial_price": D("250.00"),
     "max_leverage": D("2")},
    {**_US, "symbol": "NVDA", "name": "NVIDIA Corp.", "spread_bps": D("1.5"),
     "volatility": D("0.50"), "drift": D("0.10"), "jump_intensity": D("3"),
     "jump_size": D("0.05"), "liquidity": D("5000"), "initial_price": D("125.00"),
     "max_leverage": D("3")},
    {**_US, "symbol": "SPY", "name": "SPDR S&P 500 ETF Trust", "asset_class": AssetClass.ETF,
     "spread_bps": D("0.5"), "volatility": D("0.16"), "drift": D("0.07"),
     "jump_intensity": D("1"), "jump_size": D("0.02"), "liquidity": D("10000"),
     "initial_price": D("560.00"), "max_leverage": D("5")},
    {**_FX, "symbol": "EURUSD", "name": "Euro / US Dollar", "tick_size": D("0.00001"),
     "spread_bps": D("0.8"), "volatility": D("0.07"), "initial_price": D("1.08500")},
    {**_FX, "symbol": "GBPUSD", "name": "British Pound / US Dollar",
     "tick_size": D("0.00001"), "spread_bps": D("1.2"), "volatility": D("0.08"),
     "initial_price": D("1.27000")},
    {**_FX, "symbol": "USDJPY", "name": "US Dollar / Japanese Yen", "quote_currency": "JPY",
     "tick_size": D("0.001"), "spread_bps": D("1"), "volatility": D("0.09"),
     "initial_price": D("150.000")},
    {"symbol": "NIFTY50", "name": "NIFTY 50 Index", "asset_class": AssetClass.INDEX,
     "quote_currency": "INR", "tick_size": D("0.05"), "lot_size": D("1"),
     "min_quantity": D("1"), "max_quantity": D("10000"), "spread_bps": D("1"),
     "volatility": D("0.13"), "drift": D("0.10"), "jump_intensity": D("1"),
     "jump_size": D("0.02"), "liquidity": D("500"), "initial_price": D("24500.00"),
     "max_leverage": D("10"), "session_timezone": KOLKATA, "session_open": time(9, 15),
     "session_close": time(15, 30), "session_days": WEEKDAYS},
]  # fmt: skip


def seed_market(stdout) -> None:
    """Create the universe (existing instruments are left as operators set them), the missing
    quotes, and SEED_HISTORY_DAYS of 1-minute history for instruments that have none."""
    created = []
    for spec in UNIVERSE:
        fields = dict(spec)
        symbol = fields.pop("symbol")
        _, was_created = Instrument.objects.get_or_create(symbol=symbol, defaults=fields)
        if was_created:
            created.append(symbol)
    stdout.write(
        f"  instruments    {len(UNIVERSE)} in the universe, {len(created)} created"
        + (f" ({', '.join(created)})" if created else " (all exist)")
    )
    quotes = market_seed_quotes()
    stdout.write(f"  quotes         {quotes} created")
    started = clock.perf_counter()
    # At least two equity sessions, so every chart has something on a Monday morning too.
    results = candles_backfill(days=SEED_HISTORY_DAYS, only_if_empty=True, at_least_minutes=780)
    elapsed = clock.perf_counter() - started
    if results:
        rows = sum(result.rows for result in results)
        stdout.write(
            f"  history        {SEED_HISTORY_DAYS} days for {len(results)} instruments, "
            f"{rows} candles in {elapsed:.1f} s"
        )
    else:
        stdout.write("  history        present (not regenerated)")
