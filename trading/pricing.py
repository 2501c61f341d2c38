"""Pure execution and margin arithmetic (no database): fill prices, commission, position
updates and margin. All Decimal."""

from dataclasses import dataclass
from decimal import Decimal

from config.money import ROUND_DOWN, ROUND_UP, ZERO, quantize_cash, quantize_step

# Slippage grows with the share of the tick's liquidity an order takes, capped at 1 %.
SLIPPAGE_PER_LIQUIDITY = Decimal("0.001")  # taking all the tick's liquidity costs 0.1 %
MAX_SLIPPAGE = Decimal("0.01")
AVG_PRICE_STEP = Decimal("0.0000000001")


def slippage_fraction(quantity: Decimal, liquidity: Decimal) -> Decimal:
    if liquidity <= 0:
        return MAX_SLIPPAGE
    return min(MAX_SLIPPAGE, SLIPPAGE_PER_LIQUIDITY * quantity / liquidity)


def fill_price(
    *, side: str, bid: Decimal, ask: Decimal, quantity: Decimal, liquidity: Decimal, tick: Decimal
) -> Decimal:
    """Buys pay the ask, sells get the bid, each moved against the trader by slippage and
    rounded to the tick grid against the trader."""
    slip = slippage_fraction(quantity, liquidity)
    if side == "buy":
        return quantize_step(ask * (1 + slip), tick, ROUND_UP)
    price = quantize_step(bid * (1 - slip), tick, ROUND_DOWN)
    return max(price, tick)


def commission_for(*, notional: Decimal, rate: Decimal, minimum: Decimal) -> Decimal:
    return max(quantize_cash(abs(notional) * rate, ROUND_UP), minimum)


@dataclass(frozen=True)
class PositionChange:
    quantity: Decimal  # signed, after the fill
    avg_price: Decimal
    realized_pnl: Decimal  # cash, rounded to cents


def apply_fill(
    *, quantity: Decimal, avg_price: Decimal, side: str, fill_qty: Decimal, price: Decimal
) -> PositionChange:
    """The position after a fill: average price on increase, realised P&L on reduce, and a
    flip through zero opening the remainder at the fill price."""
    signed = fill_qty if side == "buy" else -fill_qty
    if quantity == 0 or (quantity > 0) == (signed > 0):
        new_qty = quantity + signed
        avg = (abs(quantity) * avg_price + fill_qty * price) / abs(new_qty)
        return PositionChange(new_qty, avg.quantize(AVG_PRICE_STEP), ZERO)
    closing = min(abs(quantity), fill_qty)
    direction = 1 if quantity > 0 else -1
    realized = quantize_cash(closing * (price - avg_price) * direction)
    new_qty = quantity + signed
    if new_qty == 0:
        return PositionChange(ZERO, ZERO, realized)
    if (new_qty > 0) == (quantity > 0):
        return PositionChange(new_qty, avg_price, realized)
    return PositionChange(new_qty, price, realized)


def mark_price(*, quantity: Decimal, bid: Decimal, ask: Decimal) -> Decimal:
    """Longs are marked at the bid (what they would sell for), shorts at the ask."""
    return bid if quantity >= 0 else ask


def unrealized_pnl(*, quantity: Decimal, avg_price: Decimal, mark: Decimal) -> Decimal:
    return quantity * (mark - avg_price)


def margin_for(*, quantity: Decimal, price: Decimal, leverage: Decimal) -> Decimal:
    return abs(quantity) * price / leverage


def opening_quantity(*, position_qty: Decimal, side: str, quantity: Decimal) -> Decimal:
    """How much of an order adds exposure (the rest only reduces the position)."""
    signed = quantity if side == "buy" else -quantity
    if position_qty == 0 or (position_qty > 0) == (signed > 0):
        return quantity
    return max(ZERO, quantity - abs(position_qty))
