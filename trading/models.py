"""Trading accounts, their rule sets, orders, fills, positions and equity snapshots."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from ledger.models import LedgerAccount
from market.models import Instrument

MONEY = {"max_digits": 20, "decimal_places": 2}
PRICE = {"max_digits": 24, "decimal_places": 10}
QTY = {"max_digits": 24, "decimal_places": 10}


class Side(models.TextChoices):
    BUY = "buy", "Buy"
    SELL = "sell", "Sell"


class OrderType(models.TextChoices):
    MARKET = "market", "Market"
    LIMIT = "limit", "Limit"
    STOP = "stop", "Stop"
    STOP_LIMIT = "stop_limit", "Stop limit"
    TRAILING_STOP = "trailing_stop", "Trailing stop"


class TimeInForce(models.TextChoices):
    GTC = "gtc", "Good till canceled"
    DAY = "day", "Day"
    IOC = "ioc", "Immediate or cancel"
    FOK = "fok", "Fill or kill"


class OrderStatus(models.TextChoices):
    NEW = "new", "New"
    PARTIALLY_FILLED = "partially_filled", "Partially filled"
    FILLED = "filled", "Filled"
    CANCELED = "canceled", "Canceled"
    EXPIRED = "expired", "Expired"
    REJECTED = "rejected", "Rejected"


OPEN_STATUSES = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class LegRole(models.TextChoices):
    TAKE_PROFIT = "take_profit", "Take profit"
    STOP_LOSS = "stop_loss", "Stop loss"


class OrderSource(models.TextChoices):
    WEB = "web", "Website"
    API = "api", "API"
    SYSTEM = "system", "System (exits, liquidation)"


class TradingRules(models.Model):
    """Extra rules for an account (e.g. a tournament's), enforced by trading.

    Trading knows nothing of what set them: `source` / `source_id` only label the origin.
    Empty `allowed_instruments` means every instrument.
    """

    source = models.CharField(max_length=30, blank=True)
    source_id = models.BigIntegerField(null=True, blank=True)
    allowed_instruments = models.ManyToManyField(Instrument, blank=True, related_name="+")
    max_leverage = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    allow_short = models.BooleanField(default=True)
    commission_rate = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    min_commission = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    max_position_share = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="Largest share of equity one instrument may take, e.g. 0.5 for 50 %.",
    )
    trading_starts_at = models.DateTimeField(null=True, blank=True)
    trading_ends_at = models.DateTimeField(null=True, blank=True)
    allow_api_orders = models.BooleanField(default=True, help_text="Bots allowed.")
    allow_reset = models.BooleanField(default=True)
    allow_deposits = models.BooleanField(default=True)

    class Meta:
        verbose_name = "trading rule set"

    def __str__(self) -> str:
        return f"rules {self.pk} ({self.source or 'custom'} {self.source_id or ''})".strip()


class TradingAccount(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="trading_accounts"
    )
    name = models.CharField(max_length=60)
    currency = models.CharField(max_length=3, default="USD")
    cash_account = models.OneToOneField(
        LedgerAccount, on_delete=models.PROTECT, related_name="trading_account"
    )
    initial_balance = models.DecimalField(**MONEY)
    max_leverage = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    max_daily_loss = models.DecimalField(**MONEY, null=True, blank=True)
    rules = models.OneToOneField(
        TradingRules, on_delete=models.PROTECT, null=True, blank=True, related_name="account"
    )
    is_default = models.BooleanField(default=False)
    is_archived = models.BooleanField(default=False)
    realized_pnl = models.DecimalField(**MONEY, default=Decimal("0"))
    # Day-loss bookkeeping: equity at the start of the current UTC day.
    day_start_equity = models.DecimalField(**MONEY, null=True, blank=True)
    day_start_date = models.DateField(null=True, blank=True)
    # Per-account sequence of stream events (a gap tells a client to resync over REST).
    event_seq = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(is_default=True),
                name="trading_account_one_default",
            ),
            models.CheckConstraint(
                condition=Q(max_leverage__gte=1) & Q(max_leverage__lte=100),
                name="trading_account_leverage_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.owner_id})"

    @property
    def balance(self) -> Decimal:
        return self.cash_account.balance


class Order(models.Model):
    account = models.ForeignKey(TradingAccount, on_delete=models.CASCADE, related_name="orders")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    # NULL (not "") when absent, so the per-account unique constraint ignores it.
    client_order_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    side = models.CharField(max_length=4, choices=Side.choices)
    type = models.CharField(max_length=16, choices=OrderType.choices)
    time_in_force = models.CharField(
        max_length=3, choices=TimeInForce.choices, default=TimeInForce.GTC
    )
    quantity = models.DecimalField(**QTY)
    filled_quantity = models.DecimalField(**QTY, default=Decimal("0"))
    avg_fill_price = models.DecimalField(**PRICE, null=True, blank=True)
    limit_price = models.DecimalField(**PRICE, null=True, blank=True)
    stop_price = models.DecimalField(**PRICE, null=True, blank=True)
    trail_percent = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    trail_price = models.DecimalField(**PRICE, null=True, blank=True)
    # Best price seen since placement (high for sell trails, low for buy trails).
    water_mark = models.DecimalField(**PRICE, null=True, blank=True)
    triggered_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.NEW)
    reject_reason = models.CharField(max_length=200, blank=True)
    # Bracket: exits are child orders of the entry, one cancels the other.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="legs"
    )
    leg_role = models.CharField(max_length=12, choices=LegRole.choices, blank=True)
    take_profit_price = models.DecimalField(**PRICE, null=True, blank=True)
    stop_loss_price = models.DecimalField(**PRICE, null=True, blank=True)
    reduce_only = models.BooleanField(default=False)
    source = models.CharField(max_length=6, choices=OrderSource.choices, default=OrderSource.API)
    commission = models.DecimalField(**MONEY, default=Decimal("0"))
    # The quote timestamp this order last traded against: one fill per order per tick.
    last_fill_quote_ts = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    filled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "client_order_id"],
                condition=Q(client_order_id__isnull=False),
                name="order_client_id_unique_per_account",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(
                condition=Q(filled_quantity__gte=0) & Q(filled_quantity__lte=models.F("quantity")),
                name="order_filled_within_quantity",
            ),
        ]
        indexes = [
            # The matcher's range queries touch open orders only: partial indexes keep their
            # cost proportional to the crossing orders, not to all orders ever placed.
            models.Index(
                fields=["instrument", "side", "limit_price"],
                name="order_open_limit_idx",
                condition=Q(status__in=["new", "partially_filled"], type="limit"),
            ),
            models.Index(
                fields=["instrument", "side", "stop_price"],
                name="order_open_stop_idx",
                condition=Q(
                    status__in=["new", "partially_filled"],
                    type__in=["stop", "stop_limit", "trailing_stop"],
                    triggered_at__isnull=True,
                ),
            ),
            models.Index(
                fields=["instrument"],
                name="order_open_working_idx",
                condition=Q(status__in=["new", "partially_filled"])
                & (Q(type="market") | Q(triggered_at__isnull=False)),
            ),
            models.Index(fields=["account", "status", "-created_at"], name="order_account_idx"),
            # DAY-order expiry (trading.matching): open DAY orders by expiry time.
            models.Index(
                fields=["expires_at"],
                name="order_open_day_idx",
                condition=Q(status__in=["new", "partially_filled"], time_in_force="day"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.side} {self.quantity} {self.instrument_id} {self.type}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity


class Fill(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fills")
    account = models.ForeignKey(TradingAccount, on_delete=models.CASCADE, related_name="fills")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=4, choices=Side.choices)
    quantity = models.DecimalField(**QTY)
    price = models.DecimalField(**PRICE)
    commission = models.DecimalField(**MONEY)
    realized_pnl = models.DecimalField(**MONEY, default=Decimal("0"))
    is_liquidation = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="fill_account_idx")]

    def __str__(self) -> str:
        return f"fill {self.side} {self.quantity} {self.instrument_id} @ {self.price}"


class Position(models.Model):
    """Net position of an account in an instrument; quantity < 0 is short.

    One open row per (account, instrument); when it goes flat it is closed (closed_at set) and
    kept as history, and the next trade opens a new row.
    """

    account = models.ForeignKey(TradingAccount, on_delete=models.CASCADE, related_name="positions")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(**QTY, default=Decimal("0"))
    avg_price = models.DecimalField(**PRICE, default=Decimal("0"))
    realized_pnl = models.DecimalField(**MONEY, default=Decimal("0"))
    stop_loss = models.DecimalField(**PRICE, null=True, blank=True)
    take_profit = models.DecimalField(**PRICE, null=True, blank=True)
    funding_paid_on = models.DateField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "instrument"],
                condition=Q(closed_at__isnull=True),
                name="position_one_open_per_instrument",
            )
        ]
        indexes = [
            models.Index(
                fields=["instrument"],
                name="position_open_protect_idx",
                condition=Q(closed_at__isnull=True)
                & (Q(stop_loss__isnull=False) | Q(take_profit__isnull=False)),
            ),
            models.Index(
                fields=["instrument"],
                name="position_open_idx",
                condition=Q(closed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.quantity} {self.instrument_id}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def side(self) -> str:
        return "long" if self.quantity > 0 else "short" if self.quantity < 0 else "flat"


class EquitySnapshot(models.Model):
    account = models.ForeignKey(
        TradingAccount, on_delete=models.CASCADE, related_name="equity_snapshots"
    )
    ts = models.DateTimeField()
    balance = models.DecimalField(**MONEY)
    equity = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["ts"]
        constraints = [
            models.UniqueConstraint(fields=["account", "ts"], name="equity_snapshot_unique")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.ts:%Y-%m-%d %H:%M} {self.equity}"
