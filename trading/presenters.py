"""What the trading pages show, computed from selectors: rows, cards, chart series, sparklines
and toast texts. Templates only format what these return (no arithmetic in templates or JS)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from config.money import ZERO, quantize_cash
from market.formatting import direction, plain, price_text
from trading import selectors
from trading.models import Order, OrderType, TradingAccount
from trading.selectors import AccountState, PositionValuation

# --- account summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    account: TradingAccount
    equity: Decimal
    balance: Decimal
    unrealized_pnl: Decimal
    margin_used: Decimal
    free_margin: Decimal
    day_pnl: Decimal
    day_pnl_pct: Decimal
    total_pnl: Decimal

    @property
    def day_direction(self) -> str:
        return direction(self.day_pnl)

    @property
    def unrealized_direction(self) -> str:
        return direction(self.unrealized_pnl)

    @property
    def total_direction(self) -> str:
        return direction(self.total_pnl)


def summary(account: TradingAccount, state: AccountState, now: datetime) -> Summary:
    values = state.rounded()
    start = selectors.day_start_equity(account, now)
    day = values["equity"] - start
    return Summary(
        account=account,
        equity=values["equity"],
        balance=values["balance"],
        unrealized_pnl=values["unrealized_pnl"],
        margin_used=values["margin_used"],
        free_margin=values["free_margin"],
        day_pnl=quantize_cash(day),
        day_pnl_pct=(day / start * 100).quantize(Decimal("0.01")) if start else ZERO,
        total_pnl=quantize_cash(values["equity"] - account.initial_balance),
    )


# --- positions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionRow:
    symbol: str
    name: str
    tick_size: Decimal
    decimals: int
    side: str  # "long" / "short"
    quantity: Decimal  # absolute
    avg_price: Decimal
    mark: Decimal
    mark_field: str  # which tick field marks it: "bid" for longs, "ask" for shorts
    unrealized_pnl: Decimal
    unrealized_pnl_pct: Decimal
    margin: Decimal
    stop_loss: Decimal | None
    take_profit: Decimal | None

    @property
    def pnl_direction(self) -> str:
        return direction(self.unrealized_pnl)


def decimals_of(tick_size: Decimal) -> int:
    return max(0, -tick_size.normalize().as_tuple().exponent)


def position_row(valuation: PositionValuation) -> PositionRow:
    position = valuation.position
    instrument = position.instrument
    long = position.quantity > 0
    return PositionRow(
        symbol=instrument.symbol,
        name=instrument.name,
        tick_size=instrument.tick_size,
        decimals=decimals_of(instrument.tick_size),
        side="long" if long else "short",
        quantity=abs(position.quantity),
        avg_price=position.avg_price,
        mark=valuation.mark,
        mark_field="bid" if long else "ask",
        unrealized_pnl=quantize_cash(valuation.unrealized_pnl),
        unrealized_pnl_pct=valuation.unrealized_pnl_pct,
        margin=quantize_cash(valuation.margin),
        stop_loss=position.stop_loss,
        take_profit=position.take_profit,
    )


def position_rows(state: AccountState) -> list[PositionRow]:
    return [position_row(v) for v in state.positions]


# --- orders ------------------------------------------------------------------------------------


def order_price_text(order: Order) -> str:
    """The order's own price terms, on its instrument's tick ("Limit 43000.50", "Market")."""
    tick = order.instrument.tick_size
    if order.type == OrderType.MARKET:
        return "Market"
    if order.type == OrderType.LIMIT:
        return f"Limit {price_text(order.limit_price, tick)}"
    if order.type == OrderType.STOP:
        return f"Stop {price_text(order.stop_price, tick)}"
    if order.type == OrderType.STOP_LIMIT:
        return (
            f"Stop {price_text(order.stop_price, tick)} → limit "
            f"{price_text(order.limit_price, tick)}"
        )
    trail = (
        f"{plain(order.trail_percent)} %"
        if order.trail_percent is not None
        else price_text(order.trail_price, tick)
    )
    level = f", stop now {price_text(order.stop_price, tick)}" if order.stop_price else ""
    return f"Trail {trail}{level}"


@dataclass(frozen=True)
class OrderRow:
    order: Order
    terms: str
    bracket: str
    can_cancel: bool


def order_rows(orders) -> list[OrderRow]:
    rows = []
    for order in orders:
        tick = order.instrument.tick_size
        legs = []
        if order.take_profit_price is not None:
            legs.append(f"TP {price_text(order.take_profit_price, tick)}")
        if order.stop_loss_price is not None:
            legs.append(f"SL {price_text(order.stop_loss_price, tick)}")
        if order.leg_role:
            legs.append(f"{order.get_leg_role_display()} of #{order.parent_id}")
        rows.append(
            OrderRow(
                order=order,
                terms=order_price_text(order),
                bracket=" · ".join(legs),
                can_cancel=order.is_open,
            )
        )
    return rows


def order_outcome(order: Order) -> tuple[str, str]:
    """(toast text, kind) after placing ORDER from the ticket."""
    symbol = order.instrument.symbol
    verb = "Bought" if order.side == "buy" else "Sold"
    qty = plain(order.quantity)
    if order.status == "filled":
        price = price_text(order.avg_fill_price, order.instrument.tick_size)
        return f"{verb} {qty} {symbol} at {price} (order #{order.pk}).", "success"
    if order.status == "partially_filled":
        price = price_text(order.avg_fill_price, order.instrument.tick_size)
        filled = plain(order.filled_quantity)
        return (
            f"{verb} {filled} of {qty} {symbol} at {price}; the rest is working "
            f"(order #{order.pk}).",
            "success",
        )
    if order.status in ("canceled", "rejected", "expired"):
        filled = f" after filling {plain(order.filled_quantity)}" if order.filled_quantity else ""
        reason = f": {order.reject_reason}" if order.reject_reason else ""
        return f"Order #{order.pk} {order.status}{filled}{reason}.", "error"
    side = "buy" if order.side == "buy" else "sell"
    return (
        f"{order.get_type_display()} {side} order #{order.pk} for {qty} {symbol} is working.",
        "success",
    )


# --- charts ------------------------------------------------------------------------------------


def equity_series(points, *, now: datetime, current: Decimal) -> list[dict]:
    """Line-series points for lightweight-charts: [{time: epoch seconds, value: "123.45"}],
    the snapshots followed by the current equity. Values stay decimal strings."""
    series = [{"time": int(ts.timestamp()), "value": str(equity)} for ts, equity in points]
    now_ts = int(now.timestamp())
    if not series or series[-1]["time"] < now_ts:
        series.append({"time": now_ts, "value": str(current)})
    return series


SPARK_WIDTH = Decimal("120")
SPARK_HEIGHT = Decimal("32")
SPARK_PAD = Decimal("2")


def sparkline(closes: list[Decimal]) -> dict:
    """An inline-SVG polyline of CLOSES: {"points": "x,y ...", "direction": "up"|"down"|""},
    scaled into a SPARK_WIDTH x SPARK_HEIGHT box (no points for fewer than two closes)."""
    if len(closes) < 2:
        return {"points": "", "direction": ""}
    low, high = min(closes), max(closes)
    span = high - low
    inner = SPARK_HEIGHT - 2 * SPARK_PAD
    step = SPARK_WIDTH / (len(closes) - 1)
    points = []
    for i, close in enumerate(closes):
        y = SPARK_PAD + (inner / 2 if not span else inner - (close - low) / span * inner)
        points.append(f"{(step * i).quantize(Decimal('0.1'))},{y.quantize(Decimal('0.1'))}")
    return {"points": " ".join(points), "direction": direction(closes[-1] - closes[0], places=None)}


@dataclass(frozen=True)
class WatchRow:
    symbol: str
    name: str
    tick_size: Decimal
    decimals: int
    quote: object
    spark: dict


def watch_rows(entries) -> list[WatchRow]:
    rows = []
    for instrument, closes in entries:
        rows.append(
            WatchRow(
                symbol=instrument.symbol,
                name=instrument.name,
                tick_size=instrument.tick_size,
                decimals=decimals_of(instrument.tick_size),
                quote=getattr(instrument, "quote", None),
                spark=sparkline(closes),
            )
        )
    return rows


# --- page panels -------------------------------------------------------------------------------

ACTIVITY_LINES = 20


def account_panels(account: TradingAccount, parts: set[str], now: datetime, *, fills=20) -> dict:
    """The context of the account panels named in PARTS (summary, positions, orders, fills,
    activity, equity), each read once, in a number of queries independent of the rows."""
    context: dict = {"account": account, "seq": account.event_seq}
    if parts & {"summary", "positions", "equity"}:
        state = selectors.account_state(account)
        if parts & {"summary", "equity"}:
            context["summary"] = summary(account, state, now)
        if "positions" in parts:
            context["positions"] = position_rows(state)
        if "equity" in parts:
            context["equity_series"] = equity_series(
                selectors.equity_history(account), now=now, current=context["summary"].equity
            )
    if "orders" in parts:
        context["orders"] = order_rows(selectors.open_orders_in(account))
    if "fills" in parts:
        context["fills"] = selectors.recent_fills(account, limit=fills)
    if "activity" in parts:
        context["activity"] = list(selectors.ledger_lines(account)[:ACTIVITY_LINES])
    return context


def trade_panels(account: TradingAccount, instrument, parts: set[str], now: datetime) -> dict:
    """The trade page's account panels: `summary` (account), `position_rows` and `orders` in
    the page's instrument. One positions read serves both the summary and the position."""
    context: dict = {"seq": account.event_seq}
    if parts & {"account", "position"}:
        state = selectors.account_state(account)
        if "account" in parts:
            context["summary"] = summary(account, state, now)
        if "position" in parts:
            context["position_rows"] = [
                position_row(v)
                for v in state.positions
                if v.position.instrument_id == instrument.pk
            ]
    if "orders" in parts:
        context["orders"] = order_rows(selectors.open_orders_in(account, instrument))
    return context
