"""Forms of the trading pages. They check shape only (presence, numbers, which fields an order
type takes); every trading rule is trading.services' and comes back as a TradingError shown
next to its field."""

import uuid
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from trading.models import OrderStatus, OrderType, Side, TimeInForce
from trading.services import OrderRequest

PRICE_DIGITS = {"max_digits": 24, "decimal_places": 10}
CASH_DIGITS = {"max_digits": 15, "decimal_places": 2}


def _positive(value: Decimal) -> None:
    if value is not None and value <= 0:
        raise ValidationError("Must be greater than zero.", code="not_positive")


def price_field(label: str, **kwargs) -> forms.DecimalField:
    kwargs.setdefault("required", False)
    return forms.DecimalField(
        label=label,
        validators=[_positive],
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        **PRICE_DIGITS,
        **kwargs,
    )


# Which price fields each order type takes; the others are ignored (hidden on the ticket).
ORDER_TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    OrderType.MARKET: (),
    OrderType.LIMIT: ("limit_price",),
    OrderType.STOP: ("stop_price",),
    OrderType.STOP_LIMIT: ("stop_price", "limit_price"),
    OrderType.TRAILING_STOP: ("trail_amount",),
}


class OrderTicketForm(forms.Form):
    side = forms.ChoiceField(
        label="Side", choices=Side.choices, initial=Side.BUY, widget=forms.RadioSelect
    )
    type = forms.ChoiceField(label="Order type", choices=OrderType.choices, initial="market")
    quantity = price_field("Quantity", required=True)
    limit_price = price_field("Limit price")
    stop_price = price_field("Stop price")
    trail_by = forms.ChoiceField(
        label="Trail by",
        choices=[("percent", "Percent"), ("price", "Price distance")],
        initial="percent",
        required=False,
    )
    trail_amount = price_field("Trail amount")
    time_in_force = forms.ChoiceField(
        label="Time in force", choices=TimeInForce.choices, initial=TimeInForce.GTC
    )
    take_profit = price_field("Take-profit (limit)", help_text="Optional bracket exit.")
    stop_loss = price_field("Stop-loss (stop)", help_text="Optional bracket exit.")
    # A fresh id per rendered ticket: a double submit places the order once.
    client_order_id = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("client_order_id", uuid.uuid4().hex)

    def clean(self):
        cleaned = super().clean()
        order_type = cleaned.get("type")
        if order_type is None:
            return cleaned
        wanted = ORDER_TYPE_FIELDS[order_type]
        for name in ("limit_price", "stop_price", "trail_amount"):
            if name in wanted:
                if cleaned.get(name) is None and name not in self.errors:
                    label = self.fields[name].label
                    self.add_error(name, f"{label} is required for a {order_type} order.")
            else:
                cleaned[name] = None
        if order_type == OrderType.TRAILING_STOP and not cleaned.get("trail_by"):
            cleaned["trail_by"] = "percent"
        return cleaned

    def to_request(self, symbol: str) -> OrderRequest:
        data = self.cleaned_data
        trailing = data["type"] == OrderType.TRAILING_STOP
        by_percent = trailing and data.get("trail_by") == "percent"
        return OrderRequest(
            symbol=symbol,
            side=data["side"],
            type=data["type"],
            quantity=data["quantity"],
            limit_price=data.get("limit_price"),
            stop_price=data.get("stop_price"),
            trail_percent=data["trail_amount"] if by_percent else None,
            trail_price=data["trail_amount"] if trailing and not by_percent else None,
            time_in_force=data["time_in_force"],
            client_order_id=data.get("client_order_id") or None,
            take_profit=data.get("take_profit"),
            stop_loss=data.get("stop_loss"),
        )


class ClosePositionForm(forms.Form):
    percent = forms.DecimalField(
        label="Share to close (%)",
        initial=Decimal("100"),
        max_digits=7,
        decimal_places=4,
        max_value=Decimal("100"),
        validators=[_positive],
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class ProtectForm(forms.Form):
    stop_loss = price_field("Stop-loss", help_text="Empty removes it.")
    take_profit = price_field("Take-profit", help_text="Empty removes it.")


class AccountCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=60)
    initial_balance = forms.DecimalField(
        label="Initial balance (USD)",
        initial=Decimal("100000.00"),
        validators=[_positive],
        **CASH_DIGITS,
    )
    max_leverage = forms.DecimalField(
        label="Max leverage",
        initial=Decimal("2"),
        min_value=Decimal("1"),
        max_digits=6,
        decimal_places=2,
    )
    max_daily_loss = forms.DecimalField(
        label="Daily loss limit (USD)",
        required=False,
        validators=[_positive],
        help_text="Optional: new orders are refused once today's loss reaches it.",
        **CASH_DIGITS,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cap = Decimal(settings.TRADING_MAX_LEVERAGE)
        field = self.fields["max_leverage"]
        field.validators.append(_max(cap))
        field.widget.attrs["max"] = str(cap)
        field.help_text = f"From 1 to {cap}."

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


def _max(cap: Decimal):
    def check(value: Decimal) -> None:
        if value is not None and value > cap:
            raise ValidationError(f"At most {cap}.", code="max_value")

    return check


class AccountRenameForm(forms.Form):
    name = forms.CharField(label="New name", max_length=60)

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class OrderFilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), ("open", "Open"), ("closed", "Closed"), *OrderStatus.choices],
    )
    symbol = forms.CharField(label="Symbol", required=False, max_length=32)
    side = forms.ChoiceField(
        label="Side", required=False, choices=[("", "Any side"), *Side.choices]
    )
    type = forms.ChoiceField(
        label="Type", required=False, choices=[("", "Any type"), *OrderType.choices]
    )

    def filters(self) -> dict[str, str]:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "status": data["status"],
            "symbol": data["symbol"].strip(),
            "side": data["side"],
            "order_type": data["type"],
        }
