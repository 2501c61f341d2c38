"""Instruments, their latest quote, OHLCV candles and watchlists."""

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

PRICE = {"max_digits": 24, "decimal_places": 10}
QTY = {"max_digits": 24, "decimal_places": 10}


class AssetClass(models.TextChoices):
    CRYPTO = "crypto", "Crypto"
    EQUITY = "equity", "Equity"
    ETF = "etf", "ETF"
    FX = "fx", "FX"
    INDEX = "index", "Index"


class Feed(models.TextChoices):
    SIMULATED = "simulated", "Simulated (price model)"
    REPLAY = "replay", "Replay of imported candles"


class Timeframe(models.TextChoices):
    M1 = "1m", "1 minute"
    M5 = "5m", "5 minutes"
    M15 = "15m", "15 minutes"
    H1 = "1h", "1 hour"
    D1 = "1d", "1 day"


TIMEFRAME_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "1d": 86400}

ALL_DAYS = "0123456"  # Monday=0 ... Sunday=6


class Instrument(models.Model):
    """A tradable instrument and the parameters of its simulated market.

    Trading session: on each weekday listed in `session_days` (Monday=0) the market opens at
    `session_open` local time in `session_timezone` and closes at `session_close`; a close at
    or before the open means the session runs past midnight (open == close: 24 hours). So
    crypto is every day 00:00-00:00 UTC, FX is Sunday-Thursday 17:00-17:00 New York (24/5),
    US equities Monday-Friday 09:30-16:00 New York.
    """

    symbol = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    asset_class = models.CharField(max_length=10, choices=AssetClass.choices)
    quote_currency = models.CharField(max_length=3, default="USD")
    tick_size = models.DecimalField(**PRICE, validators=[MinValueValidator(Decimal("1e-10"))])
    lot_size = models.DecimalField(**QTY, validators=[MinValueValidator(Decimal("1e-10"))])
    min_quantity = models.DecimalField(**QTY)
    max_quantity = models.DecimalField(**QTY)
    # Simulator parameters.
    spread_bps = models.DecimalField(
        max_digits=10, decimal_places=4, help_text="Bid/ask spread in basis points of the mid."
    )
    volatility = models.DecimalField(
        max_digits=10, decimal_places=6, help_text="Annualised volatility, e.g. 0.65 for 65 %."
    )
    drift = models.DecimalField(
        max_digits=10, decimal_places=6, default=Decimal("0"), help_text="Annualised drift."
    )
    jump_intensity = models.DecimalField(
        max_digits=10, decimal_places=4, default=Decimal("0"), help_text="Expected jumps a year."
    )
    jump_size = models.DecimalField(
        max_digits=10, decimal_places=6, default=Decimal("0"), help_text="Std dev of a jump."
    )
    liquidity = models.DecimalField(
        **QTY, help_text="Quantity offered at the quote per tick; larger orders fill partially."
    )
    initial_price = models.DecimalField(**PRICE)
    # Trading terms.
    max_leverage = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    commission_rate = models.DecimalField(
        max_digits=8, decimal_places=6, default=Decimal("0.0002"), help_text="0.0002 = 0.02 %"
    )
    min_commission = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.01"))
    # Session.
    session_timezone = models.CharField(max_length=64, default="UTC")
    session_open = models.TimeField(default=time(0, 0))
    session_close = models.TimeField(default=time(0, 0))
    session_days = models.CharField(max_length=7, default=ALL_DAYS)
    feed = models.CharField(max_length=10, choices=Feed.choices, default=Feed.SIMULATED)
    is_halted = models.BooleanField(
        default=False, help_text="Halted instruments neither move nor trade."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["symbol"]
        constraints = [
            models.CheckConstraint(condition=Q(tick_size__gt=0), name="instrument_tick_positive"),
            models.CheckConstraint(condition=Q(lot_size__gt=0), name="instrument_lot_positive"),
            models.CheckConstraint(
                condition=Q(max_quantity__gte=models.F("min_quantity")),
                name="instrument_qty_range",
            ),
        ]

    def __str__(self) -> str:
        return self.symbol

    @property
    def is_always_open(self) -> bool:
        return self.session_days == ALL_DAYS and self.session_open == self.session_close

    def session_window_containing(self, when: datetime) -> tuple[datetime, datetime] | None:
        """The (open, close) of the session that is open at WHEN, or None when closed."""
        if when.tzinfo is None or when.utcoffset() is None:
            # astimezone() would read a naive value as the server's local time: refuse it.
            raise ValueError("session checks need an aware datetime")
        tz = ZoneInfo(self.session_timezone)
        local = when.astimezone(tz)
        # A session that runs past midnight may have opened yesterday.
        for days_back in (0, 1):
            day = local.date() - timedelta(days=days_back)
            if str(day.weekday()) not in self.session_days:
                continue
            opens = datetime.combine(day, self.session_open, tzinfo=tz)
            close_day = day if self.session_close > self.session_open else day + timedelta(days=1)
            closes = datetime.combine(close_day, self.session_close, tzinfo=tz)
            if opens <= local < closes:
                return opens, closes
        return None

    def next_open_after(self, when: datetime) -> datetime | None:
        """The first session open (UTC) after WHEN, looking 8 days ahead; None if none."""
        tz = ZoneInfo(self.session_timezone)
        local_day = when.astimezone(tz).date()
        for offset in range(9):
            day = local_day + timedelta(days=offset)
            if str(day.weekday()) not in self.session_days:
                continue
            opens = datetime.combine(day, self.session_open, tzinfo=tz).astimezone(UTC)
            if opens > when:
                return opens
        return None

    def is_open_at(self, when: datetime) -> bool:
        if self.is_halted:
            return False
        return self.session_window_containing(when) is not None


class Quote(models.Model):
    """The latest market state of an instrument (one row each, updated in bulk every tick)."""

    instrument = models.OneToOneField(
        Instrument, on_delete=models.CASCADE, primary_key=True, related_name="quote"
    )
    bid = models.DecimalField(**PRICE)
    ask = models.DecimalField(**PRICE)
    last = models.DecimalField(**PRICE)
    volume = models.DecimalField(**QTY, default=Decimal("0"), help_text="Volume of the last tick.")
    day_volume = models.DecimalField(**QTY, default=Decimal("0"))
    reference_price = models.DecimalField(
        **PRICE, help_text="Price change_pct is measured from (previous session close / 24h ago)."
    )
    change_pct = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    day_high = models.DecimalField(**PRICE)
    day_low = models.DecimalField(**PRICE)
    ts = models.DateTimeField()
    # Simulator state carried between ticks, so any worker can run the next one.
    model_price = models.DecimalField(
        **PRICE,
        null=True,
        blank=True,
        help_text="Unrounded mid of the price model (bid/ask/last are on the tick grid).",
    )
    replay_cursor = models.DateTimeField(
        null=True, blank=True, help_text="Replay feed: start of the last replayed imported bar."
    )

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.bid}/{self.ask}"

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


class Candle(models.Model):
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="candles")
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    ts = models.DateTimeField(help_text="Start of the bucket (UTC).")
    open = models.DecimalField(**PRICE)
    high = models.DecimalField(**PRICE)
    low = models.DecimalField(**PRICE)
    close = models.DecimalField(**PRICE)
    volume = models.DecimalField(**QTY, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "timeframe", "ts"], name="candle_unique_bucket"
            )
        ]
        ordering = ["instrument", "timeframe", "ts"]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.timeframe} {self.ts:%Y-%m-%d %H:%M}"


class ReplayBar(models.Model):
    """An imported 1-minute OHLCV bar: the source a replay-fed instrument steps through."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="replay_bars")
    ts = models.DateTimeField(help_text="Start of the minute (UTC).")
    open = models.DecimalField(**PRICE)
    high = models.DecimalField(**PRICE)
    low = models.DecimalField(**PRICE)
    close = models.DecimalField(**PRICE)
    volume = models.DecimalField(**QTY, default=Decimal("0"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["instrument", "ts"], name="replaybar_unique_minute")
        ]
        ordering = ["instrument", "ts"]

    def __str__(self) -> str:
        return f"{self.instrument_id} replay {self.ts:%Y-%m-%d %H:%M}"


class Watchlist(models.Model):
    """One instrument on one user's watchlist."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlist"
    )
    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "instrument"], name="watchlist_unique")
        ]
        ordering = ["position", "created_at"]
        verbose_name = "watchlist entry"
        verbose_name_plural = "watchlist entries"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.instrument_id}"
