"""Quantisation rules for money, prices and quantities — the one place they are stated.

Everything is Decimal. Cash is kept to cents (ROUND_HALF_EVEN, banker's rounding, so rounding
errors do not drift one way over many postings). Prices sit on an instrument's tick grid and
quantities on its lot grid; which way to round depends on who the rounding must not favour, so
callers pass the mode explicitly.
"""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation

CASH_STEP = Decimal("0.01")
RATE_STEP = Decimal("0.0001")  # percentages and ratios shown to users (e.g. return %)
ZERO = Decimal("0")

__all__ = [
    "CASH_STEP",
    "RATE_STEP",
    "ROUND_DOWN",
    "ROUND_HALF_EVEN",
    "ROUND_HALF_UP",
    "ROUND_UP",
    "ZERO",
    "is_on_step",
    "quantize_cash",
    "quantize_rate",
    "quantize_step",
    "to_decimal",
]


def to_decimal(value) -> Decimal:
    """Parse a decimal from str/int/Decimal (never float: floats are refused)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (bool, float)):
        raise TypeError("floats and booleans are not money")
    elif isinstance(value, int | str):
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise ValueError(f"{value!r} is not a decimal number") from exc
    else:
        raise TypeError(f"cannot make a decimal from {type(value).__name__}")
    if not result.is_finite():
        raise ValueError("decimal must be finite")
    return result


def quantize_cash(amount: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    return amount.quantize(CASH_STEP, rounding=rounding)


def quantize_rate(value: Decimal) -> Decimal:
    return value.quantize(RATE_STEP, rounding=ROUND_HALF_EVEN)


def quantize_step(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round VALUE to a multiple of STEP (a tick size or lot size), keeping STEP's exponent."""
    if step <= 0:
        raise ValueError("step must be positive")
    units = (value / step).quantize(Decimal(1), rounding=rounding)
    return (units * step).quantize(step)


def is_on_step(value: Decimal, step: Decimal) -> bool:
    return (value % step) == 0
