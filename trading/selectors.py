"""Reads shared by pages, API, services and tasks."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet
from django.http import Http404

from config.money import ZERO, quantize_cash
from ledger.selectors import postings_for_account
from market.models import Candle, Instrument, Quote, Timeframe
from market.selectors import suggested_instruments, watchlist_for
from trading import pricing
from trading.models import OPEN_STATUSES, EquitySnapshot, Fill, Order, Position, TradingAccount


def account_get_for_user(*, user, account_id) -> TradingAccount:
    """The user's (non-archived) account, or Http404 — also when it is someone else's."""
    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        raise Http404("No such account.") from None
    account = (
        TradingAccount.objects.select_related("cash_account", "rules")
        .filter(pk=account_id, owner=user, is_archived=False)
        .first()
    )
    if account is None:
        raise Http404("No such account.")
    return account


def accounts_for_user(user) -> QuerySet[TradingAccount]:
    return TradingAccount.objects.select_related("cash_account", "rules").filter(
        owner=user, is_archived=False
    )


def effective_leverage(account: TradingAccount, instrument) -> Decimal:
    caps = [account.max_leverage, instrument.max_leverage]
    if account.rules_id and account.rules.max_leverage:
        caps.append(account.rules.max_leverage)
    return max(Decimal("1"), min(caps))


@dataclass
class PositionValuation:
    position: Position
    quote: Quote | None
    mark: Decimal
    unrealized_pnl: Decimal
    market_value: Decimal
    margin: Decimal

    @property
    def unrealized_pnl_pct(self) -> Decimal:
        cost = abs(self.position.quantity) * self.position.avg_price
        if not cost:
            return ZERO
        return (self.unrealized_pnl / cost * 100).quantize(Decimal("0.01"))


@dataclass
class AccountState:
    balance: Decimal
    unrealized_pnl: Decimal
    margin_used: Decimal
    positions: list[PositionValuation] = field(default_factory=list)

    @property
    def equity(self) -> Decimal:
        return self.balance + self.unrealized_pnl

    @property
    def free_margin(self) -> Decimal:
        return self.equity - self.margin_used

    def rounded(self) -> dict[str, Decimal]:
        return {
            "balance": quantize_cash(self.balance),
            "equity": quantize_cash(self.equity),
            "unrealized_pnl": quantize_cash(self.unrealized_pnl),
            "margin_used": quantize_cash(self.margin_used),
            "free_margin": quantize_cash(self.free_margin),
        }


def open_positions(account: TradingAccount) -> QuerySet[Position]:
    return (
        Position.objects.filter(account=account, closed_at__isnull=True)
        .select_related("instrument", "instrument__quote")
        .order_by("instrument__symbol")
    )


def value_position(account: TradingAccount, position: Position) -> PositionValuation:
    instrument = position.instrument
    quote = getattr(instrument, "quote", None)
    if quote is None:
        mark = position.avg_price
    else:
        mark = pricing.mark_price(quantity=position.quantity, bid=quote.bid, ask=quote.ask)
    leverage = effective_leverage(account, instrument)
    return PositionValuation(
        position=position,
        quote=quote,
        mark=mark,
        unrealized_pnl=pricing.unrealized_pnl(
            quantity=position.quantity, avg_price=position.avg_price, mark=mark
        ),
        market_value=position.quantity * mark,
        margin=pricing.margin_for(quantity=position.quantity, price=mark, leverage=leverage),
    )


def account_state(account: TradingAccount, positions=None) -> AccountState:
    """Balance, unrealised P&L, equity, margin used and free margin at the current quotes."""
    if positions is None:
        positions = list(open_positions(account))
    valuations = [value_position(account, position) for position in positions]
    return AccountState(
        balance=account.cash_account.balance,
        unrealized_pnl=sum((v.unrealized_pnl for v in valuations), ZERO),
        margin_used=sum((v.margin for v in valuations), ZERO),
        positions=valuations,
    )


def balance_payload(account: TradingAccount) -> dict:
    """The `balance_update` event / account money fields, as decimal strings."""
    state = account_state(account)
    return {key: str(value) for key, value in state.rounded().items()} | {
        "realized_pnl": str(account.realized_pnl)
    }


def open_orders(account: TradingAccount) -> QuerySet[Order]:
    return (
        Order.objects.filter(account=account, status__in=OPEN_STATUSES)
        .select_related("instrument")
        .order_by("-created_at", "-id")
    )


def orders_for_account(
    account: TradingAccount, *, status: str = "all", symbol: str | None = None
) -> QuerySet[Order]:
    """The API's order list ("all", "open" or "closed"): the history with bracket legs."""
    history = order_history(account, status="" if status == "all" else status, symbol=symbol or "")
    return history.prefetch_related("legs", "legs__instrument")


def order_get_for_account(account: TradingAccount, order_id) -> Order:
    try:
        order_id = int(order_id)
    except (TypeError, ValueError):
        raise Http404("No such order.") from None
    order = (
        Order.objects.select_related("instrument")
        .prefetch_related("legs", "legs__instrument")
        .filter(account=account, pk=order_id)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return order


# === Pages (web UI): estimates, panels and lists for trading/views.py =========================
# Reads only. The estimate mirrors the pre-trade arithmetic of trading.services.order_place
# (reference price, opening quantity, margin, commission, reserved margin) with trading.pricing,
# so the ticket shows what the check will ask for; the service remains the authority.


SPARKLINE_WINDOW = timedelta(hours=1)


def commission_terms(account: TradingAccount, instrument: Instrument) -> tuple[Decimal, Decimal]:
    """(rate, minimum) of commission for ACCOUNT on INSTRUMENT: its rules override the
    instrument's schedule."""
    rules = account.rules if account.rules_id else None
    rate = rules.commission_rate if rules and rules.commission_rate is not None else None
    minimum = rules.min_commission if rules and rules.min_commission is not None else None
    return (
        instrument.commission_rate if rate is None else rate,
        instrument.min_commission if minimum is None else minimum,
    )


def reserved_margin(account: TradingAccount) -> Decimal:
    """Margin held for the account's resting orders that would add exposure (one query)."""
    reserved = ZERO
    orders = Order.objects.filter(
        account=account, status__in=OPEN_STATUSES, reduce_only=False
    ).select_related("instrument", "instrument__quote")
    for order in orders:
        quote = getattr(order.instrument, "quote", None)
        price = order.limit_price or order.stop_price or (quote.ask if quote else None)
        if price is None:
            continue
        reserved += pricing.margin_for(
            quantity=order.remaining_quantity,
            price=price,
            leverage=effective_leverage(account, order.instrument),
        )
    return reserved


def reference_price(request, quote: Quote) -> Decimal:
    """The price an order is risk-checked at: the worse of its own price and the market."""
    buy = request.side == "buy"
    market = quote.ask if buy else quote.bid
    own = request.limit_price or request.stop_price
    if own is None:
        return market
    return max(own, market) if buy else own


def _estimate_reference(request, instrument: Instrument, quote: Quote) -> Decimal:
    if request.type == "market":
        liquidity = instrument.liquidity
        return pricing.fill_price(
            side=request.side,
            bid=quote.bid,
            ask=quote.ask,
            quantity=min(request.quantity, liquidity) if liquidity > 0 else request.quantity,
            liquidity=liquidity,
            tick=instrument.tick_size,
        )
    return reference_price(request, quote)


def order_estimate(account: TradingAccount, request) -> dict:
    """What an order (a trading.services.OrderRequest) would cost before it is sent.

    Keys: instrument, price (estimated fill or reference price), notional, commission, margin
    (for the part that adds exposure), required (margin + commission), free_margin (after
    margin reserved for resting orders), free_after, leverage, fits (bool), reduces_only
    (bool), and reason (a text, None when a price is known). All Decimal, cash to cents.
    """
    instrument = (
        Instrument.objects.select_related("quote").filter(symbol=request.symbol.upper()).first()
    )
    quote = getattr(instrument, "quote", None) if instrument else None
    if instrument is None or quote is None:
        return {"instrument": instrument, "reason": "No price yet for this instrument."}
    price = _estimate_reference(request, instrument, quote)
    positions = list(open_positions(account))
    state = account_state(account, positions)
    held = next((p.quantity for p in positions if p.instrument_id == instrument.pk), ZERO)
    opening = pricing.opening_quantity(
        position_qty=held, side=request.side, quantity=request.quantity
    )
    leverage = effective_leverage(account, instrument)
    rate, minimum = commission_terms(account, instrument)
    notional = request.quantity * price
    commission = pricing.commission_for(notional=notional, rate=rate, minimum=minimum)
    margin = pricing.margin_for(quantity=opening, price=price, leverage=leverage)
    free = state.free_margin - reserved_margin(account)
    required = margin + commission
    return {
        "instrument": instrument,
        "reason": None,
        "price": price,
        "notional": quantize_cash(notional),
        "commission": quantize_cash(commission),
        "margin": quantize_cash(margin),
        "required": quantize_cash(required),
        "free_margin": quantize_cash(free),
        "free_after": quantize_cash(free - required),
        "leverage": leverage,
        "reduces_only": opening <= 0,
        "fits": opening <= 0 or required <= free,
    }


def day_start_equity(account: TradingAccount, now: datetime) -> Decimal:
    """Equity at the start of NOW's UTC day: the account's own day mark when it is today's,
    else the last snapshot before midnight, else the initial balance."""
    today = now.astimezone(UTC).date()
    if account.day_start_date == today and account.day_start_equity is not None:
        return account.day_start_equity
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    last = (
        EquitySnapshot.objects.filter(account=account, ts__lt=midnight)
        .order_by("-ts")
        .values_list("equity", flat=True)
        .first()
    )
    return account.initial_balance if last is None else last


def position_in(account: TradingAccount, instrument: Instrument) -> PositionValuation | None:
    position = (
        Position.objects.filter(account=account, instrument=instrument, closed_at__isnull=True)
        .select_related("instrument", "instrument__quote")
        .first()
    )
    return None if position is None else value_position(account, position)


def open_orders_in(account: TradingAccount, instrument: Instrument | None = None) -> list[Order]:
    orders = open_orders(account).select_related("instrument", "parent")
    if instrument is not None:
        orders = orders.filter(instrument=instrument)
    return list(orders)


def recent_fills(account: TradingAccount, *, limit: int = 10) -> list[Fill]:
    return list(
        Fill.objects.filter(account=account)
        .select_related("instrument")
        .order_by("-created_at", "-id")[:limit]
    )


def closed_positions(account: TradingAccount) -> QuerySet[Position]:
    return (
        Position.objects.filter(account=account, closed_at__isnull=False)
        .select_related("instrument", "instrument__quote")
        .order_by("-closed_at", "-id")
    )


def equity_points(
    account: TradingAccount, *, since: datetime | None, now: datetime, max_points: int
):
    """Equity snapshots from SINCE (None: all) to NOW, oldest first, thinned to at most
    MAX_POINTS, then the current equity as the last point: [{ts, equity, balance}]."""
    snapshots = EquitySnapshot.objects.filter(account=account, ts__lte=now)
    if since is not None:
        snapshots = snapshots.filter(ts__gte=since)
    rows = list(snapshots.order_by("ts").values("ts", "equity", "balance"))
    if len(rows) > max_points:
        rows = rows[:: -(-len(rows) // max_points)]  # every k-th row, k = ceil(n / max)
    state = account_state(account)
    rows.append({"ts": now, "equity": state.equity, "balance": state.balance})
    return rows


def fills_for_account(account: TradingAccount) -> QuerySet[Fill]:
    return (
        Fill.objects.filter(account=account)
        .select_related("instrument", "order")
        .order_by("-created_at", "-id")
    )


def equity_history(account: TradingAccount, *, limit: int = 1000) -> list[tuple[datetime, Decimal]]:
    """The last LIMIT equity snapshots, oldest first: [(ts, equity)]."""
    rows = (
        EquitySnapshot.objects.filter(account=account)
        .order_by("-ts")
        .values_list("ts", "equity")[:limit]
    )
    return list(reversed(rows))


def ledger_lines(account: TradingAccount):
    """The account's cash postings, newest first, with their journal (a queryset to page)."""
    return postings_for_account(account.cash_account)


def order_history(
    account: TradingAccount,
    *,
    status: str = "",
    symbol: str = "",
    side: str = "",
    order_type: str = "",
) -> QuerySet[Order]:
    """Orders of ACCOUNT, newest first; STATUS is "open", "closed" or one order status."""
    orders = Order.objects.filter(account=account).select_related("instrument", "parent")
    if status == "open":
        orders = orders.filter(status__in=OPEN_STATUSES)
    elif status == "closed":
        orders = orders.exclude(status__in=OPEN_STATUSES)
    elif status:
        orders = orders.filter(status=status)
    if symbol:
        orders = orders.filter(instrument__symbol=symbol.upper())
    if side:
        orders = orders.filter(side=side)
    if order_type:
        orders = orders.filter(type=order_type)
    return orders.order_by("-created_at", "-id")


def watchlist_closes(user, now: datetime) -> tuple[list[tuple], bool]:
    """The dashboard's watchlist with the 1m closes of the last hour (two queries):
    ([(instrument, [close, ...])], suggested). Closes run oldest first. A user who watches
    nothing gets a few suggested instruments instead (suggested True), to star from there."""
    instruments = [entry.instrument for entry in watchlist_for(user)]
    suggested = not instruments
    if suggested:
        instruments = suggested_instruments()
    ids = [instrument.pk for instrument in instruments]
    closes: dict[int, list[Decimal]] = {pk: [] for pk in ids}
    if ids:
        rows = (
            Candle.objects.filter(
                instrument_id__in=ids, timeframe=Timeframe.M1, ts__gte=now - SPARKLINE_WINDOW
            )
            .order_by("instrument_id", "ts")
            .values_list("instrument_id", "close")
        )
        for instrument_id, close in rows:
            closes[instrument_id].append(close)
    return [(instrument, closes[instrument.pk]) for instrument in instruments], suggested


# === end pages ==================================================================================
