"""How market numbers are shown: prices on the instrument's tick grid, plain decimal strings.

Display only; the money rules themselves live in config/money.py. Used by the API serializers,
the template filters and the tick snapshots, so a price reads the same everywhere.
"""

from decimal import Decimal

from config.money import ROUND_HALF_EVEN, quantize_step


def plain(value: Decimal) -> str:
    """A decimal as a plain string without trailing zeros or exponent ("0.01", "100")."""
    if value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def price_text(value: Decimal | None, tick_size: Decimal) -> str | None:
    """VALUE rounded to the tick grid with as many places as the tick ("43125.50")."""
    if value is None:
        return None
    return str(quantize_step(value, tick_size.normalize(), rounding=ROUND_HALF_EVEN))


def pct_text(value: Decimal | None) -> str | None:
    """A percentage with two places and its sign ("+1.25", "-0.40", "0.00")."""
    if value is None:
        return None
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    if rounded > 0:
        return f"+{rounded}"
    if rounded == 0:
        return "0.00"
    return str(rounded)


def direction(value: Decimal | None, places: Decimal | None = Decimal("0.01")) -> str:
    """ "up", "down" or "" for a change: the CSS class (which also draws ▲/▼). Judged on the
    value as shown (two places by default), so "0.00" never gets an arrow; PLACES None judges
    the exact value (e.g. a sparkline's colour)."""
    if value is None:
        return ""
    shown = value if places is None else value.quantize(places, rounding=ROUND_HALF_EVEN)
    if shown == 0:
        return ""
    return "up" if shown > 0 else "down"
