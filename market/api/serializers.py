"""Shapes of the market API. Prices are decimal strings on the instrument's tick grid."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_attribute

from market.formatting import plain, price_text
from market.models import AssetClass, Timeframe
from market.selectors import session_info

MAX_CANDLES = 1000
DEFAULT_CANDLES = 500
MAX_MOVERS = 20
DEFAULT_MOVERS = 5


@extend_schema_field({"type": "string", "format": "decimal", "example": "43125.50"})
class PriceField(serializers.Field):
    """A price rounded to a tick grid. The tick comes from the attribute path TICK of the
    object being serialised, or, without one, from the `tick_size` in the serializer context."""

    def __init__(self, *, tick: str | None = "instrument.tick_size", **kwargs):
        self.tick_path = tick.split(".") if tick else None
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        value = super().get_attribute(instance)
        if self.tick_path is None:
            tick = self.context["tick_size"]
        else:
            tick = get_attribute(instance, self.tick_path)
        return value, tick

    def to_representation(self, value):
        price, tick = value
        return price_text(price, tick)


@extend_schema_field({"type": "string", "format": "decimal", "example": "0.01"})
class PlainDecimalField(serializers.Field):
    """A decimal string without trailing zeros."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return plain(value)


class QuoteOutput(serializers.Serializer):
    symbol = serializers.CharField(source="instrument.symbol")
    bid = PriceField()
    ask = PriceField()
    last = PriceField()
    volume = PlainDecimalField(help_text="Volume of the last tick.")
    change_pct = serializers.DecimalField(
        max_digits=12, decimal_places=4, help_text="Change since the reference price, in %."
    )
    ts = serializers.DateTimeField(help_text="Time of the last tick (UTC).")


class QuoteDetailOutput(QuoteOutput):
    day_high = PriceField()
    day_low = PriceField()
    day_volume = PlainDecimalField()
    reference_price = PriceField(help_text="The price change_pct is measured from.")


class InstrumentOutput(serializers.Serializer):
    symbol = serializers.CharField()
    name = serializers.CharField()
    asset_class = serializers.ChoiceField(choices=AssetClass.choices)
    quote_currency = serializers.CharField()
    tick_size = PlainDecimalField()
    lot_size = PlainDecimalField()
    min_quantity = PlainDecimalField()
    max_quantity = PlainDecimalField()
    max_leverage = PlainDecimalField()
    is_open = serializers.SerializerMethodField(help_text="Open for trading right now.")

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_is_open(self, instrument) -> bool:
        return instrument.is_open_at(self.context["now"])


class SessionOutput(serializers.Serializer):
    timezone = serializers.CharField(help_text="IANA time zone the hours are given in.")
    open = serializers.TimeField(help_text="Local opening time.")
    close = serializers.TimeField(help_text="Local closing time (at or before open: next day).")
    days = serializers.ListField(
        child=serializers.CharField(), help_text="Weekdays a session opens on (mon ... sun)."
    )
    always_open = serializers.BooleanField(help_text="Trades 24/7.")
    is_open = serializers.BooleanField()
    is_halted = serializers.BooleanField()
    next_open = serializers.DateTimeField(allow_null=True)
    next_close = serializers.DateTimeField(allow_null=True)


class InstrumentDetailOutput(InstrumentOutput):
    is_halted = serializers.BooleanField()
    session = serializers.SerializerMethodField()
    quote = QuoteDetailOutput(allow_null=True, help_text="Null until the first tick.")

    @extend_schema_field(SessionOutput)
    def get_session(self, instrument) -> dict:
        return SessionOutput(session_info(instrument, self.context["now"])).data


class CandleOutput(serializers.Serializer):
    t = serializers.DateTimeField(help_text="Start of the bucket (UTC).")
    o = PriceField(tick=None)
    h = PriceField(tick=None)
    l = PriceField(tick=None)  # noqa: E741 (the contract's name)
    c = PriceField(tick=None)
    v = PlainDecimalField()


class CandlesQuery(serializers.Serializer):
    timeframe = serializers.ChoiceField(choices=Timeframe.choices, default=Timeframe.M1)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_CANDLES, default=DEFAULT_CANDLES)
    start = serializers.DateTimeField(required=False, help_text="ISO 8601; naive means UTC.")
    end = serializers.DateTimeField(required=False, help_text="ISO 8601; naive means UTC.")

    def validate(self, attrs):
        start, end = attrs.get("start"), attrs.get("end")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError(
                {"start": ["start must not be after end."]}, code="invalid_range"
            )
        return attrs


class InstrumentsQuery(serializers.Serializer):
    asset_class = serializers.ChoiceField(choices=AssetClass.choices, required=False)
    q = serializers.CharField(max_length=50, required=False, allow_blank=True)


class MoversQuery(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_MOVERS, default=DEFAULT_MOVERS)


class MoverOutput(serializers.Serializer):
    symbol = serializers.CharField(source="instrument.symbol")
    name = serializers.CharField(source="instrument.name")
    last = PriceField()
    change_pct = serializers.DecimalField(max_digits=12, decimal_places=4)


class MoversOutput(serializers.Serializer):
    gainers = MoverOutput(many=True)
    losers = MoverOutput(many=True)


class WatchlistInput(serializers.Serializer):
    symbol = serializers.CharField(max_length=20)


class WatchlistEntryOutput(serializers.Serializer):
    symbol = serializers.CharField(source="instrument.symbol")
    name = serializers.CharField(source="instrument.name")
    asset_class = serializers.CharField(source="instrument.asset_class")
    added_at = serializers.DateTimeField(source="created_at")
    quote = serializers.SerializerMethodField()

    @extend_schema_field(QuoteOutput(allow_null=True))
    def get_quote(self, entry):
        quote = getattr(entry.instrument, "quote", None)
        return None if quote is None else QuoteOutput(quote, context=self.context).data
