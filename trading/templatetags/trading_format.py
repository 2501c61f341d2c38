"""Presentation filters for cash amounts on the trading pages (formatting only)."""

from decimal import Decimal

from django import template

from config.money import quantize_cash

register = template.Library()


def _grouped(value: Decimal) -> str:
    rounded = quantize_cash(value)
    return f"{abs(rounded) if rounded == 0 else rounded:,.2f}"  # never "-0.00"


@register.filter
def money(value: Decimal | None) -> str:
    """{{ summary.equity|money }} -> "100,000.00"; an em dash without a value."""
    return "—" if value is None else _grouped(value)


@register.filter
def signed_money(value: Decimal | None) -> str:
    """A change in cash with its sign: "+1,250.00", "-40.10", "0.00"."""
    if value is None:
        return "—"
    rounded = quantize_cash(value)
    return f"+{_grouped(rounded)}" if rounded > 0 else _grouped(rounded)


@register.filter
def signed_pct(value: Decimal | None) -> str:
    """A percentage with its sign and two places: "+1.25%"."""
    if value is None:
        return "—"
    rounded = value.quantize(Decimal("0.01"))
    if rounded == 0:
        return "0.00%"
    return f"+{rounded}%" if rounded > 0 else f"{rounded}%"
