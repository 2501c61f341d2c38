from datetime import time
from decimal import Decimal

import factory
from django.utils import timezone

from market.models import ALL_DAYS, AssetClass, Instrument, Quote


class InstrumentFactory(factory.django.DjangoModelFactory):
    """A 24/7 crypto-like instrument priced around 100 with a 0.01 tick."""

    class Meta:
        model = Instrument
        django_get_or_create = ("symbol",)

    symbol = factory.Sequence(lambda n: f"TST{n}")
    name = factory.LazyAttribute(lambda o: f"Test instrument {o.symbol}")
    asset_class = AssetClass.CRYPTO
    quote_currency = "USD"
    tick_size = Decimal("0.01")
    lot_size = Decimal("0.001")
    min_quantity = Decimal("0.001")
    max_quantity = Decimal("10000")
    spread_bps = Decimal("2")
    volatility = Decimal("0.5")
    drift = Decimal("0")
    liquidity = Decimal("100")
    initial_price = Decimal("100.00")
    max_leverage = Decimal("10")
    commission_rate = Decimal("0.0002")
    min_commission = Decimal("0.01")
    session_timezone = "UTC"
    session_open = time(0, 0)
    session_close = time(0, 0)
    session_days = ALL_DAYS


class EquityInstrumentFactory(InstrumentFactory):
    """New York hours on weekdays."""

    asset_class = AssetClass.EQUITY
    tick_size = Decimal("0.01")
    lot_size = Decimal("1")
    min_quantity = Decimal("1")
    session_timezone = "America/New_York"
    session_open = time(9, 30)
    session_close = time(16, 0)
    session_days = "01234"


class QuoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quote

    instrument = factory.SubFactory(InstrumentFactory)
    bid = Decimal("99.99")
    ask = Decimal("100.01")
    last = Decimal("100.00")
    volume = Decimal("1")
    day_volume = Decimal("100")
    reference_price = Decimal("100.00")
    change_pct = Decimal("0")
    day_high = Decimal("100.50")
    day_low = Decimal("99.50")
    ts = factory.LazyFunction(timezone.now)
