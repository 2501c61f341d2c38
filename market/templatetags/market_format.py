"""Presentation filters for market numbers (formatting only; see market/formatting.py)."""

from decimal import Decimal

from django import template

from market import formatting

register = template.Library()


@register.filter
def price(value: Decimal | None, tick_size: Decimal) -> str:
    """{{ quote.bid|price:instrument.tick_size }} -> "43125.50"; an em dash without a value."""
    return formatting.price_text(value, tick_size) or "—"


@register.filter
def pct(value: Decimal | None) -> str:
    """{{ quote.change_pct|pct }} -> "+1.25%"."""
    text = formatting.pct_text(value)
    return "—" if text is None else f"{text}%"


@register.filter
def direction(value: Decimal | None) -> str:
    """CSS class for a change: "up" or "down" (the class also draws ▲ / ▼)."""
    return formatting.direction(value)


@register.filter
def tick_decimals(tick_size: Decimal) -> int:
    """Decimal places of a tick size, for scripts that format live prices the same way."""
    return max(0, -tick_size.normalize().as_tuple().exponent)


@register.filter
def plain(value: Decimal | None) -> str:
    """A decimal without trailing zeros: tick 0.0100000000 -> "0.01"."""
    return "—" if value is None else formatting.plain(value)
