"""Shapes of the trading API: strict input (400 with field errors, nothing written) and the
answers. Money goes out as strings with cents ("100000.00"); prices and quantities as plain
decimal strings without trailing zeros ("0.015", "43125.5").

Input serializers only check shape (types, presence, digits, which fields an order type takes);
every trading rule (buying power, lot and tick grids, leverage caps, sessions) is the services'
and answers 422.
"""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.core.validators import RegexValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from config.money import quantize_cash
from market.formatting import plain
from trading.models import OrderType, Side, TimeInForce

# --- fields -------------------------------------------------------------------------------------

_DECIMAL_TEXT_MAX = 64  # characters; longer strings cannot pass the digit limits anyway


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "decimal"}, {"type": "number"}],
        "example": "0.015",
        "description": "A positive decimal, as a string (preferred) or a JSON number.",
    }
)
class StrictDecimalField(serializers.Field):
    """A positive, finite decimal with bounded digits, from a JSON string or number.

    Numbers arrive as int or Decimal (config.parsers.DecimalJSONParser), never float; floats,
    booleans, NaN, Infinity, zero, negatives and values beyond the column's digits are refused
    with a field error. Trailing zeros do not count as decimal places ("1.500" has one).
    """

    default_error_messages = {
        "invalid": 'A decimal number is required, e.g. "0.015".',
        "not_finite": "NaN and Infinity are not allowed.",
        "not_positive": "Must be greater than zero.",
        "max_whole_digits": "At most {max_whole_digits} digits before the decimal point.",
        "max_decimal_places": "At most {decimal_places} decimal places.",
        "max_value": "At most {max_value}.",
    }

    def __init__(
        self,
        *,
        max_whole_digits: int,
        decimal_places: int,
        max_value: Decimal | None = None,
        **kwargs,
    ):
        self.max_whole_digits = max_whole_digits
        self.decimal_places = decimal_places
        self.max_value = max_value
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | Decimal):
            self.fail("invalid")
        if isinstance(data, str):
            text = data.strip()
            if not text or len(text) > _DECIMAL_TEXT_MAX:
                self.fail("invalid")
            try:
                value = Decimal(text)
            except InvalidOperation:
                self.fail("invalid")
        else:
            value = Decimal(data)
        if not value.is_finite():
            self.fail("not_finite")
        if value <= 0:
            self.fail("not_positive")
        _, digits, exponent = value.as_tuple()
        digits = list(digits)
        while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
            digits.pop()
            exponent += 1
        if len(digits) + exponent > self.max_whole_digits:
            self.fail("max_whole_digits", max_whole_digits=self.max_whole_digits)
        if -exponent > self.decimal_places:
            self.fail("max_decimal_places", decimal_places=self.decimal_places)
        if exponent > 0:  # "1E+2": write it out, so it is stored and echoed as 100
            digits, exponent = digits + [0] * exponent, 0
        value = Decimal((0, tuple(digits), exponent))
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", max_value=self.max_value)
        return value

    def to_representation(self, value) -> str:
        return plain(value)


def price_field(**kwargs) -> StrictDecimalField:
    """Prices and quantities: the Order/Position columns hold 14 whole digits and 10 places."""
    return StrictDecimalField(max_whole_digits=14, decimal_places=10, **kwargs)


def money_field(**kwargs) -> StrictDecimalField:
    """Cash amounts: cents, and below the ledger's limit (ledger.models.CASH_LIMIT)."""
    return StrictDecimalField(max_whole_digits=13, decimal_places=2, **kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "example": "0.015"})
class DecimalText(serializers.Field):
    """A price or quantity: a plain decimal string without trailing zeros, or null."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return plain(value)


@extend_schema_field({"type": "string", "format": "decimal", "example": "100000.00"})
class MoneyText(serializers.Field):
    """Cash (and percentages): two decimal places."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> str:
        return str(quantize_cash(value))


_NO_CONTROL_CHARACTERS = RegexValidator(
    r"^[^\x00-\x1f\x7f]*$", "Control characters are not allowed.", code="invalid"
)


class StrictCharField(serializers.CharField):
    """Text that must arrive as a JSON string (DRF's CharField would turn 12 into "12")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# --- input --------------------------------------------------------------------------------------


class StrictInput(serializers.Serializer):
    """Refuses fields it does not know (code `unknown_field`) instead of dropping them, so a
    client that sends `balance` or `status` learns it cannot set them."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {key: [ErrorDetail("Unknown field.", code="unknown_field")] for key in unknown}
                )
        return super().to_internal_value(data)


class AccountCreateInput(StrictInput):
    name = StrictCharField(max_length=60, validators=[_NO_CONTROL_CHARACTERS])
    initial_balance = money_field()
    max_leverage = StrictDecimalField(
        max_whole_digits=4, decimal_places=2, default=Decimal("1"), help_text="1 to 100."
    )
    max_daily_loss = money_field(required=False, allow_null=True)


class AccountUpdateInput(StrictInput):
    name = StrictCharField(max_length=60, required=False, validators=[_NO_CONTROL_CHARACTERS])
    max_leverage = StrictDecimalField(max_whole_digits=4, decimal_places=2, required=False)
    max_daily_loss = money_field(
        required=False, allow_null=True, help_text="null removes the limit."
    )


class TakeProfitInput(StrictInput):
    limit_price = price_field()


class StopLossInput(StrictInput):
    stop_price = price_field()


# Which price fields each order type takes (every other one is refused).
ORDER_TYPE_FIELDS: dict[str, set[str]] = {
    OrderType.MARKET: set(),
    OrderType.LIMIT: {"limit_price"},
    OrderType.STOP: {"stop_price"},
    OrderType.STOP_LIMIT: {"limit_price", "stop_price"},
    OrderType.TRAILING_STOP: {"trail_percent", "trail_price"},
}


class OrderInput(StrictInput):
    symbol = StrictCharField(max_length=32)
    side = serializers.ChoiceField(choices=Side.choices)
    type = serializers.ChoiceField(choices=OrderType.choices)
    quantity = price_field()
    limit_price = price_field(required=False, allow_null=True)
    stop_price = price_field(required=False, allow_null=True)
    trail_percent = StrictDecimalField(
        max_whole_digits=4, decimal_places=4, required=False, allow_null=True
    )
    trail_price = price_field(required=False, allow_null=True)
    time_in_force = serializers.ChoiceField(choices=TimeInForce.choices, default=TimeInForce.GTC)
    client_order_id = StrictCharField(
        max_length=64,
        required=False,
        allow_null=True,
        allow_blank=True,
        validators=[_NO_CONTROL_CHARACTERS],
        help_text="Your id for the order, unique per account: sending it again returns the "
        "original order (200) or, with other parameters, 409 client_order_id_conflict.",
    )
    take_profit = TakeProfitInput(required=False, allow_null=True)
    stop_loss = StopLossInput(required=False, allow_null=True)

    def validate_symbol(self, value: str) -> str:
        return value.strip().upper()

    def validate(self, attrs):
        order_type = attrs["type"]
        allowed = ORDER_TYPE_FIELDS[order_type]
        errors: dict[str, list[ErrorDetail]] = {}
        for name in ("limit_price", "stop_price", "trail_percent", "trail_price"):
            if attrs.get(name) is not None and name not in allowed:
                errors[name] = [
                    ErrorDetail(f"Not used by {order_type} orders.", code="not_allowed")
                ]
        required = [name for name in ("limit_price", "stop_price") if name in allowed]
        for name in required:
            if attrs.get(name) is None:
                errors[name] = [ErrorDetail(f"Required for {order_type} orders.", code="required")]
        if order_type == OrderType.TRAILING_STOP:
            given = [n for n in ("trail_percent", "trail_price") if attrs.get(n) is not None]
            if len(given) != 1:
                errors["trail_percent"] = [
                    ErrorDetail(
                        "Give exactly one of trail_percent and trail_price.",
                        code="required" if not given else "not_allowed",
                    )
                ]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["client_order_id"] = attrs.get("client_order_id") or None
        return attrs


class PositionProtectInput(StrictInput):
    stop_loss = price_field(required=False, allow_null=True, help_text="null clears it.")
    take_profit = price_field(required=False, allow_null=True, help_text="null clears it.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                "Send stop_loss and/or take_profit (null clears one).", code="required"
            )
        return attrs


class PositionCloseInput(StrictInput):
    symbol = StrictCharField(max_length=32)
    quantity = price_field(required=False, help_text="How much to close (default: all).")
    percent = StrictDecimalField(
        max_whole_digits=3,
        decimal_places=4,
        max_value=Decimal("100"),
        required=False,
        help_text="Share of the position to close, above 0 and at most 100.",
    )

    def validate_symbol(self, value: str) -> str:
        return value.strip().upper()

    def validate(self, attrs):
        if "quantity" in attrs and "percent" in attrs:
            raise serializers.ValidationError(
                {
                    "percent": [
                        ErrorDetail("Give quantity or percent, not both.", code="not_allowed")
                    ]
                }
            )
        return attrs


class OrdersQuery(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["open", "closed", "all"], default="all", help_text="Default: all."
    )
    symbol = serializers.CharField(max_length=32, required=False, allow_blank=True)


class PositionsQuery(serializers.Serializer):
    is_open = serializers.BooleanField(
        default=True, help_text="false lists closed positions (history)."
    )


HISTORY_PERIODS = ["1D", "1W", "1M", "all"]


class HistoryQuery(serializers.Serializer):
    period = serializers.ChoiceField(choices=HISTORY_PERIODS, default="1M")


# --- output -------------------------------------------------------------------------------------


class AccountOutput(serializers.Serializer):
    """Built from a trading.api.views.AccountView (the account and its valuation)."""

    id = serializers.IntegerField(source="account.pk")
    name = serializers.CharField(source="account.name")
    currency = serializers.CharField(source="account.currency")
    balance = MoneyText(source="state.balance")
    equity = MoneyText(source="state.equity")
    unrealized_pnl = MoneyText(source="state.unrealized_pnl")
    realized_pnl = MoneyText(source="account.realized_pnl")
    margin_used = MoneyText(source="state.margin_used")
    free_margin = MoneyText(source="state.free_margin", help_text="Buying power.")
    max_leverage = DecimalText(source="account.max_leverage")
    tournament = serializers.SerializerMethodField(
        help_text="The tournament this account belongs to, or null."
    )
    initial_balance = MoneyText(source="account.initial_balance")
    max_daily_loss = MoneyText(source="account.max_daily_loss", allow_null=True)
    is_default = serializers.BooleanField(source="account.is_default")
    created_at = serializers.DateTimeField(source="account.created_at")

    @extend_schema_field(OpenApiTypes.INT)
    def get_tournament(self, view) -> int | None:
        rules = view.account.rules
        if rules is not None and rules.source == "tournament":
            return rules.source_id
        return None


class OrderLegOutput(serializers.Serializer):
    id = serializers.IntegerField()
    client_order_id = serializers.CharField(allow_null=True)
    symbol = serializers.CharField(source="instrument.symbol")
    side = serializers.CharField()
    type = serializers.CharField()
    time_in_force = serializers.CharField()
    quantity = DecimalText()
    filled_quantity = DecimalText()
    avg_fill_price = DecimalText(allow_null=True)
    limit_price = DecimalText(allow_null=True)
    stop_price = DecimalText(allow_null=True, help_text="For trailing stops: the current level.")
    trail_percent = DecimalText(allow_null=True)
    trail_price = DecimalText(allow_null=True)
    status = serializers.CharField()
    reject_reason = serializers.CharField(help_text="Why it was rejected or canceled, or ''.")
    commission = MoneyText()
    parent_id = serializers.IntegerField(allow_null=True, help_text="The entry of a bracket exit.")
    leg_role = serializers.CharField(help_text="take_profit or stop_loss for bracket exits.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    filled_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)


class TakeProfitOutput(serializers.Serializer):
    limit_price = DecimalText(source="take_profit_price")


class StopLossOutput(serializers.Serializer):
    stop_price = DecimalText(source="stop_loss_price")


class OrderOutput(OrderLegOutput):
    take_profit = serializers.SerializerMethodField()
    stop_loss = serializers.SerializerMethodField()
    legs = OrderLegOutput(
        many=True, help_text="Bracket exits (created as the entry fills), one cancels the other."
    )

    @extend_schema_field(TakeProfitOutput(allow_null=True))
    def get_take_profit(self, order) -> dict | None:
        return None if order.take_profit_price is None else TakeProfitOutput(order).data

    @extend_schema_field(StopLossOutput(allow_null=True))
    def get_stop_loss(self, order) -> dict | None:
        return None if order.stop_loss_price is None else StopLossOutput(order).data


class PositionOutput(serializers.Serializer):
    """Built from a trading.selectors.PositionValuation."""

    symbol = serializers.CharField(source="position.instrument.symbol")
    quantity = DecimalText(source="position.quantity", help_text="Negative when short.")
    side = serializers.CharField(source="position.side", help_text="long, short or flat.")
    avg_price = DecimalText(source="position.avg_price")
    mark_price = DecimalText(source="mark", help_text="The bid for longs, the ask for shorts.")
    market_value = MoneyText(help_text="quantity x mark (negative when short).")
    unrealized_pnl = MoneyText()
    unrealized_pnl_pct = MoneyText()
    realized_pnl = MoneyText(source="position.realized_pnl")
    margin = MoneyText()
    stop_loss = DecimalText(source="position.stop_loss", allow_null=True)
    take_profit = DecimalText(source="position.take_profit", allow_null=True)
    is_open = serializers.BooleanField(source="position.is_open")
    opened_at = serializers.DateTimeField(source="position.opened_at")
    closed_at = serializers.DateTimeField(source="position.closed_at", allow_null=True)


class FillOutput(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    symbol = serializers.CharField(source="instrument.symbol")
    side = serializers.CharField()
    quantity = DecimalText()
    price = DecimalText()
    commission = MoneyText()
    realized_pnl = MoneyText()
    is_liquidation = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ReferenceOutput(serializers.Serializer):
    type = serializers.CharField(source="reference_type", help_text="e.g. fill, trading_account")
    id = serializers.CharField(source="reference_id")


class LedgerLineOutput(serializers.Serializer):
    """One posting to the account's cash, with its journal."""

    id = serializers.IntegerField()
    journal_id = serializers.IntegerField()
    kind = serializers.CharField(source="journal.kind")
    amount = MoneyText(help_text="Change to the balance (negative for a debit).")
    balance_after = MoneyText()
    reference = ReferenceOutput(source="journal")
    memo = serializers.CharField(source="journal.memo")
    created_at = serializers.DateTimeField()


class EquityPointOutput(serializers.Serializer):
    ts = serializers.DateTimeField()
    equity = MoneyText()
    balance = MoneyText()


class HistoryOutput(serializers.Serializer):
    period = serializers.CharField()
    points = EquityPointOutput(many=True, help_text="Oldest first; the last one is now.")


def paginated(serializer_class: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The schema of a BoundedLimitOffsetPagination page of SERIALIZER_CLASS."""
    name = serializer_class.__name__.removesuffix("Output")
    return type(
        f"{name}Page",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )
