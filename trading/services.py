"""Trading operations: accounts, order placement and execution, positions.

Every public function runs in one transaction with the trading account row locked
(`select_for_update`), so concurrent requests on one account are serialised and can never
overdraw it. Refusals raise TradingError (422) or TradingConflict (409) with a stable code
before anything is written. Stream events are published after commit (trading.realtime).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from config.api import ConflictError, DomainError
from config.money import ROUND_DOWN, ZERO, is_on_step, quantize_cash, quantize_step
from ledger.models import HOUSE_CAPITAL, HOUSE_FEES, HOUSE_TRADING_PNL, JournalKind
from ledger.services import cash_account_open, house_account, journal_post
from market.models import Instrument, Quote
from trading import pricing
from trading.models import (
    OPEN_STATUSES,
    Fill,
    LegRole,
    Order,
    OrderSource,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
    TradingAccount,
    TradingRules,
)
from trading.realtime import AccountEvents
from trading.selectors import (
    account_state,
    commission_terms,
    effective_leverage,
    open_positions,
    reference_price,
    reserved_margin,
)

DEFAULT_ACCOUNT_NAME = "Main"


class TradingError(DomainError):
    """A well-formed request refused by a trading rule (HTTP 422)."""


class TradingConflict(ConflictError):
    """The request conflicts with the current state (HTTP 409)."""


# --- accounts ---------------------------------------------------------------------------------


def _check_leverage(value: Decimal) -> Decimal:
    cap = Decimal(settings.TRADING_MAX_LEVERAGE)
    if value < 1 or value > cap:
        raise TradingError(
            "leverage_out_of_range", f"Leverage must be between 1 and {cap}.", field="max_leverage"
        )
    return value


def _check_initial_balance(value: Decimal) -> Decimal:
    cap = Decimal(settings.TRADING_MAX_INITIAL_BALANCE)
    if value <= 0 or value > cap or value != quantize_cash(value):
        raise TradingError(
            "initial_balance_out_of_range",
            f"The initial balance must be a positive amount in cents, at most {cap:,}.",
            field="initial_balance",
        )
    return value


@transaction.atomic
def account_open(
    *,
    owner,
    name: str,
    initial_balance: Decimal,
    max_leverage: Decimal = Decimal("1"),
    max_daily_loss: Decimal | None = None,
    rules: TradingRules | None = None,
    is_default: bool = False,
) -> TradingAccount:
    """Open a trading account and deposit its initial balance (a `deposit` journal from
    house capital). Writes the ledger cash account, the trading account and the journal."""
    _check_initial_balance(initial_balance)
    _check_leverage(max_leverage)
    if max_daily_loss is not None and max_daily_loss <= 0:
        raise TradingError(
            "invalid_daily_loss", "The daily loss limit must be positive.", field="max_daily_loss"
        )
    cash = cash_account_open(owner=owner, name=f"{owner} · {name}")
    account = TradingAccount.objects.create(
        owner=owner,
        name=name,
        cash_account=cash,
        initial_balance=initial_balance,
        max_leverage=max_leverage,
        max_daily_loss=max_daily_loss,
        rules=rules,
        is_default=is_default,
    )
    journal_post(
        kind=JournalKind.DEPOSIT,
        lines=[(cash, initial_balance), (house_account(HOUSE_CAPITAL), -initial_balance)],
        memo="Initial deposit",
        reference_type="trading_account",
        reference_id=str(account.pk),
    )
    account.cash_account = cash
    return account


def account_default_for(user) -> TradingAccount:
    """The user's default account, opened on first use (100,000 USD, leverage from settings)."""
    account = (
        TradingAccount.objects.select_related("cash_account", "rules")
        .filter(owner=user, is_default=True, is_archived=False)
        .first()
    )
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return account_open(
                owner=user,
                name=DEFAULT_ACCOUNT_NAME,
                initial_balance=Decimal(settings.TRADING_DEFAULT_BALANCE),
                max_leverage=Decimal(settings.TRADING_DEFAULT_LEVERAGE),
                is_default=True,
            )
    except IntegrityError:  # a concurrent first use opened it
        return TradingAccount.objects.select_related("cash_account", "rules").get(
            owner=user, is_default=True, is_archived=False
        )


def _lock(account: TradingAccount) -> TradingAccount:
    return (
        TradingAccount.objects.select_for_update(of=("self",))
        .select_related("cash_account", "rules")
        .get(pk=account.pk)
    )


@transaction.atomic
def account_update(
    *,
    account: TradingAccount,
    name: str | None = None,
    max_leverage: Decimal | None = None,
    max_daily_loss: Decimal | None = None,
    clear_daily_loss: bool = False,
) -> TradingAccount:
    account = _lock(account)
    fields = []
    if name is not None:
        account.name = name
        fields.append("name")
    if max_leverage is not None:
        if account.rules_id and account.rules.source:
            raise TradingError("rules_locked", "This account's leverage is set by its rules.")
        account.max_leverage = _check_leverage(max_leverage)
        fields.append("max_leverage")
    if clear_daily_loss or max_daily_loss is not None:
        if max_daily_loss is not None and max_daily_loss <= 0:
            raise TradingError("invalid_daily_loss", "The daily loss limit must be positive.")
        account.max_daily_loss = max_daily_loss
        fields.append("max_daily_loss")
    if fields:
        account.save(update_fields=fields)
    return account


def _cancel_open_orders(account: TradingAccount, events: AccountEvents, reason: str, now) -> int:
    orders = list(Order.objects.filter(account=account, status__in=OPEN_STATUSES))
    for order in orders:
        _finish(order, OrderStatus.CANCELED, reason, now)
        events.add("order_update", order_payload(order))
    return len(orders)


@transaction.atomic
def account_reset(*, account: TradingAccount, now: datetime | None = None) -> TradingAccount:
    """Back to the initial balance: open orders canceled, positions closed without a trade
    (their P&L discarded), a `reset` journal restoring the cash. History is kept."""
    now = now or timezone.now()
    account = _lock(account)
    if account.rules_id and not account.rules.allow_reset:
        raise TradingError("reset_not_allowed", "This account cannot be reset.")
    events = AccountEvents(account)
    _cancel_open_orders(account, events, "account reset", now)
    for position in Position.objects.filter(account=account, closed_at__isnull=True):
        position.quantity = ZERO
        position.closed_at = now
        position.updated_at = now
        position.stop_loss = position.take_profit = None
        position.save()
        events.add("position_update", position_payload(position, None))
    difference = account.initial_balance - account.cash_account.balance
    if difference:
        journal_post(
            kind=JournalKind.RESET,
            lines=[(account.cash_account, difference), (house_account(HOUSE_CAPITAL), -difference)],
            memo="Account reset",
            reference_type="trading_account",
            reference_id=str(account.pk),
        )
    account.realized_pnl = ZERO
    account.day_start_equity = None
    account.day_start_date = None
    account.save(update_fields=["realized_pnl", "day_start_equity", "day_start_date"])
    events.balance_changed()
    events.flush()
    return account


@transaction.atomic
def account_delete(*, account: TradingAccount) -> None:
    """Archive an account (its ledger history stays). Refused while positions are open."""
    account = _lock(account)
    if account.rules_id and account.rules.source:
        raise TradingConflict("account_has_rules", "This account belongs to a competition.")
    if Position.objects.filter(account=account, closed_at__isnull=True).exists():
        raise TradingConflict("positions_open", "Close the open positions first.")
    events = AccountEvents(account)
    _cancel_open_orders(account, events, "account deleted", timezone.now())
    account.is_archived = True
    account.is_default = False
    account.save(update_fields=["is_archived", "is_default"])
    events.flush()


@transaction.atomic
def account_orders_cancel(
    *, account: TradingAccount, reason: str, now: datetime | None = None
) -> int:
    """Cancel every open order of ACCOUNT with REASON (e.g. its competition ended); returns
    how many. Locks the account row; publishes the order updates after commit."""
    now = now or timezone.now()
    account = _lock(account)
    events = AccountEvents(account)
    count = _cancel_open_orders(account, events, reason, now)
    events.flush()
    return count


# --- payloads (stream events and API answers share them) ---------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def order_payload(order: Order) -> dict:
    return {
        "id": order.pk,
        "client_order_id": order.client_order_id,
        "symbol": order.instrument.symbol,
        "side": order.side,
        "type": order.type,
        "time_in_force": order.time_in_force,
        "quantity": _dec(order.quantity),
        "filled_quantity": _dec(order.filled_quantity),
        "avg_fill_price": _dec(order.avg_fill_price),
        "limit_price": _dec(order.limit_price),
        "stop_price": _dec(order.stop_price),
        "status": order.status,
        "reject_reason": order.reject_reason,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "filled_at": _iso(order.filled_at),
    }


def fill_payload(fill: Fill) -> dict:
    return {
        "id": fill.pk,
        "order_id": fill.order_id,
        "symbol": fill.instrument.symbol,
        "side": fill.side,
        "quantity": _dec(fill.quantity),
        "price": _dec(fill.price),
        "commission": _dec(fill.commission),
        "realized_pnl": _dec(fill.realized_pnl),
        "ts": _iso(fill.created_at),
    }


def position_payload(position: Position, quote: Quote | None) -> dict:
    return {
        "symbol": position.instrument.symbol,
        "quantity": _dec(position.quantity),
        "avg_price": _dec(position.avg_price),
        "realized_pnl": _dec(position.realized_pnl),
        "stop_loss": _dec(position.stop_loss),
        "take_profit": _dec(position.take_profit),
        "is_open": position.closed_at is None,
    }


# --- order placement ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRequest:
    symbol: str
    side: str
    type: str
    quantity: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_percent: Decimal | None = None
    trail_price: Decimal | None = None
    time_in_force: str = TimeInForce.GTC
    client_order_id: str | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None

    def matches(self, order: Order) -> bool:
        """Whether ORDER was placed with these parameters (idempotent retries)."""
        return (
            order.instrument.symbol == self.symbol.upper()
            and order.side == self.side
            and order.type == self.type
            and order.quantity == self.quantity
            and order.limit_price == self.limit_price
            and (self.type == OrderType.TRAILING_STOP or order.stop_price == self.stop_price)
            and order.trail_percent == self.trail_percent
            and order.trail_price == self.trail_price
            and order.time_in_force == self.time_in_force
            and order.take_profit_price == self.take_profit
            and order.stop_loss_price == self.stop_loss
        )


def _instrument_for(symbol: str) -> Instrument:
    instrument = Instrument.objects.select_related("quote").filter(symbol=symbol.upper()).first()
    if instrument is None:
        raise TradingError(
            "unknown_instrument", f"There is no instrument {symbol!r}.", field="symbol"
        )
    if instrument.is_halted:
        raise TradingError("instrument_halted", f"{instrument.symbol} is halted.", field="symbol")
    return instrument


def _check_rules(account: TradingAccount, instrument: Instrument, source: str, now) -> None:
    rules = account.rules
    if rules is None:
        return
    if rules.trading_starts_at and now < rules.trading_starts_at:
        raise TradingError("trading_not_started", "Trading on this account has not started yet.")
    if rules.trading_ends_at and now >= rules.trading_ends_at:
        raise TradingError("trading_ended", "Trading on this account has ended.")
    if source == OrderSource.API and not rules.allow_api_orders:
        raise TradingError("bots_not_allowed", "Orders through the API are not allowed here.")
    if (
        rules.allowed_instruments.exists()
        and not rules.allowed_instruments.filter(pk=instrument.pk).exists()
    ):
        raise TradingError(
            "instrument_not_allowed", f"{instrument.symbol} is not allowed here.", field="symbol"
        )


def _check_grid(request: OrderRequest, instrument: Instrument) -> None:
    qty = request.quantity
    if qty < instrument.min_quantity or qty > instrument.max_quantity:
        raise TradingError(
            "quantity_out_of_range",
            f"Quantity must be between {instrument.min_quantity.normalize():f} and "
            f"{instrument.max_quantity.normalize():f}.",
            field="quantity",
        )
    if not is_on_step(qty, instrument.lot_size):
        raise TradingError(
            "quantity_not_on_lot",
            f"Quantity must be a multiple of {instrument.lot_size.normalize():f}.",
            field="quantity",
        )
    for name in ("limit_price", "stop_price", "trail_price", "take_profit", "stop_loss"):
        value = getattr(request, name)
        if value is not None and not is_on_step(value, instrument.tick_size):
            raise TradingError(
                "price_not_on_tick",
                f"Prices must be multiples of {instrument.tick_size.normalize():f}.",
                field=name,
            )


def _check_bracket(request: OrderRequest, reference: Decimal) -> None:
    tp, sl = request.take_profit, request.stop_loss
    if tp is None and sl is None:
        return
    buy = request.side == Side.BUY
    if tp is not None and (tp <= reference if buy else tp >= reference):
        raise TradingError(
            "invalid_bracket",
            "The take-profit must be beyond the entry price.",
            field="take_profit",
        )
    if sl is not None and (sl >= reference if buy else sl <= reference):
        raise TradingError(
            "invalid_bracket",
            "The stop-loss must be on the losing side of the entry.",
            field="stop_loss",
        )


def _open_position(account: TradingAccount, instrument: Instrument) -> Position | None:
    return Position.objects.filter(
        account=account, instrument=instrument, closed_at__isnull=True
    ).first()


def _roll_day(account: TradingAccount, equity: Decimal, now) -> None:
    today = now.astimezone(UTC).date()
    if account.day_start_date != today:
        account.day_start_date = today
        account.day_start_equity = quantize_cash(equity)
        account.save(update_fields=["day_start_date", "day_start_equity"])


def _check_risk(
    account: TradingAccount,
    instrument: Instrument,
    request: OrderRequest,
    reference: Decimal,
    now,
) -> list[Position]:
    """Refuse an order the account cannot afford or its rules forbid. Returns the open
    positions it valued (the caller holds the account lock, so they stay current)."""
    positions = list(open_positions(account))
    state = account_state(account, positions)
    _roll_day(account, state.equity, now)
    position = next(
        (v.position for v in state.positions if v.position.instrument_id == instrument.pk), None
    )
    position_qty = position.quantity if position else ZERO
    opening = pricing.opening_quantity(
        position_qty=position_qty, side=request.side, quantity=request.quantity
    )
    if opening <= 0:
        return positions  # only reduces exposure: always allowed
    signed_after = position_qty + (
        request.quantity if request.side == Side.BUY else -request.quantity
    )
    rules = account.rules
    if rules is not None and not rules.allow_short and signed_after < 0:
        raise TradingError("short_selling_not_allowed", "Short selling is not allowed here.")
    if (
        account.max_daily_loss is not None
        and account.day_start_equity is not None
        and account.day_start_equity - state.equity >= account.max_daily_loss
    ):
        raise TradingError(
            "daily_loss_limit",
            f"Today's loss has reached this account's limit of {account.max_daily_loss}.",
        )
    leverage = effective_leverage(account, instrument)
    rate, minimum = commission_terms(account, instrument)
    added = pricing.margin_for(quantity=opening, price=reference, leverage=leverage)
    fee = pricing.commission_for(notional=request.quantity * reference, rate=rate, minimum=minimum)
    available = state.free_margin - reserved_margin(account)
    if added + fee > available:
        raise TradingError(
            "insufficient_buying_power",
            f"This order needs {quantize_cash(added + fee)} of margin; "
            f"{quantize_cash(max(available, ZERO))} is free.",
        )
    if rules is not None and rules.max_position_share is not None and state.equity > 0:
        exposure = abs(signed_after) * reference
        if exposure > rules.max_position_share * state.equity:
            raise TradingError(
                "max_position_share",
                f"One instrument may take at most {rules.max_position_share:.0%} of equity.",
            )
    return positions


def _day_expiry(instrument: Instrument, now: datetime) -> datetime:
    window = instrument.session_window_containing(now)
    if window is not None and not instrument.is_always_open:
        return window[1]
    return datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=now.tzinfo)


def _trail_amount(order: Order, reference: Decimal) -> Decimal:
    if order.trail_price is not None:
        return order.trail_price
    return reference * order.trail_percent / 100


def trailing_stop_level(order: Order, water_mark: Decimal, tick: Decimal) -> Decimal:
    """Stop level of a trailing stop at WATER_MARK, on the tick grid, never <= 0."""
    amount = _trail_amount(order, water_mark)
    if order.side == Side.SELL:
        return max(quantize_step(water_mark - amount, tick, ROUND_DOWN), tick)
    return quantize_step(water_mark + amount, tick)


@transaction.atomic
def order_place(
    *,
    account: TradingAccount,
    request: OrderRequest,
    source: str = OrderSource.API,
    now: datetime | None = None,
) -> tuple[Order, bool]:
    """Validate, risk-check and (if marketable) execute an order. Returns (order, created).

    Locks the account row. Same client_order_id + same parameters returns the original order
    (created False); other parameters raise TradingConflict. Refusals raise TradingError and
    write nothing. Marketable orders fill inside this transaction; order/fill/position/balance
    events are published after commit.
    """
    now = now or timezone.now()
    account = _lock(account)
    if request.client_order_id:
        existing = (
            Order.objects.select_related("instrument")
            .filter(account=account, client_order_id=request.client_order_id)
            .first()
        )
        if existing is not None:
            if request.matches(existing):
                return existing, False
            raise TradingConflict(
                "client_order_id_conflict",
                "client_order_id was already used for an order with other parameters.",
            )
    instrument = _instrument_for(request.symbol)
    _check_rules(account, instrument, source, now)
    _check_grid(request, instrument)
    quote = getattr(instrument, "quote", None)
    if quote is None:
        raise TradingError("no_quote", f"{instrument.symbol} has no price yet.")
    is_open = instrument.is_open_at(now)
    if request.type == OrderType.MARKET and not is_open:
        raise TradingError("market_closed", f"The {instrument.symbol} market is closed.")
    if request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) and not is_open:
        raise TradingError("market_closed", "IOC and FOK orders need an open market.")
    if request.trail_percent is not None and not (0 < request.trail_percent <= 50):
        raise TradingError("invalid_trail", "trail_percent must be above 0 and at most 50.")
    reference = reference_price(request, quote)
    _check_bracket(request, reference)
    positions = _check_risk(account, instrument, request, reference, now)

    order = Order(
        account=account,
        instrument=instrument,
        client_order_id=request.client_order_id or None,
        side=request.side,
        type=request.type,
        time_in_force=request.time_in_force,
        quantity=request.quantity,
        limit_price=request.limit_price,
        stop_price=request.stop_price,
        trail_percent=request.trail_percent,
        trail_price=request.trail_price,
        take_profit_price=request.take_profit,
        stop_loss_price=request.stop_loss,
        source=source,
        created_at=now,
        updated_at=now,
    )
    if request.type == OrderType.TRAILING_STOP:
        order.water_mark = quote.bid if request.side == Side.SELL else quote.ask
        order.stop_price = trailing_stop_level(order, order.water_mark, instrument.tick_size)
    if request.time_in_force == TimeInForce.DAY:
        order.expires_at = _day_expiry(instrument, now)
    order.save()
    events = AccountEvents(account)
    events.add("order_update", order_payload(order))
    if is_open:
        trigger_if_crossed(order, quote, now)
        if order_is_executable(order, quote):
            execute_order(
                account=account,
                order=order,
                quote=quote,
                now=now,
                events=events,
                positions=positions,
            )
    if order.is_open and order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        reason = "not filled immediately" if order.filled_quantity == 0 else "rest canceled (IOC)"
        _finish(order, OrderStatus.CANCELED, reason, now)
        events.add("order_update", order_payload(order))
    events.flush()
    return order, True


# --- execution ----------------------------------------------------------------------------------


def trigger_if_crossed(order: Order, quote: Quote, now) -> None:
    """Stops trigger when the market reaches them: buy stops at ask >= stop, sell stops at
    bid <= stop. A triggered stop trades as a market order, a stop-limit as a limit order."""
    if order.type not in (OrderType.STOP, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP):
        return
    if order.triggered_at is not None:
        return
    crossed = (
        quote.ask >= order.stop_price if order.side == Side.BUY else quote.bid <= order.stop_price
    )
    if crossed:
        order.triggered_at = now
        order.updated_at = now
        order.save(update_fields=["triggered_at", "updated_at"])


def order_is_executable(order: Order, quote: Quote) -> bool:
    if not order.is_open:
        return False
    if order.last_fill_quote_ts is not None and order.last_fill_quote_ts >= quote.ts:
        return False  # already traded against this tick
    if order.type == OrderType.MARKET:
        return True
    if order.type in (OrderType.STOP, OrderType.TRAILING_STOP):
        return order.triggered_at is not None
    if order.type == OrderType.STOP_LIMIT and order.triggered_at is None:
        return False
    # limit, or a triggered stop-limit
    if order.side == Side.BUY:
        return quote.ask <= order.limit_price
    return quote.bid >= order.limit_price


def _finish(order: Order, status: str, reason: str, now) -> None:
    order.status = status
    order.reject_reason = reason[:200]
    order.updated_at = now
    order.save(update_fields=["status", "reject_reason", "updated_at"])


def execute_order(
    *,
    account: TradingAccount,
    order: Order,
    quote: Quote,
    now: datetime,
    events: AccountEvents,
    is_liquidation: bool = False,
    positions: list[Position] | None = None,
) -> Fill | None:
    """Fill as much of ORDER as this tick allows. The caller holds the account lock.

    Fills at most the instrument's per-tick liquidity; FOK fills all or nothing; reduce-only
    orders never grow or flip a position. Writes the fill, the position, the commission and
    realised-P&L journals, and the order; adds the stream events. POSITIONS: the account's
    open positions when the caller has just read them under the same lock (order_place's
    risk check), which spares reading them again for the margin re-check.
    """
    instrument = order.instrument
    position = (
        Position.objects.select_for_update()
        .filter(account=account, instrument=instrument, closed_at__isnull=True)
        .first()
    )
    if position is not None:
        position.instrument = instrument  # the events read it; spare the lookup
    position_qty = position.quantity if position else ZERO
    quantity = min(order.remaining_quantity, instrument.liquidity)
    if order.reduce_only:
        reducible = position_qty if order.side == Side.SELL else -position_qty
        if reducible <= 0:
            _finish(order, OrderStatus.CANCELED, "no position left to close", now)
            events.add("order_update", order_payload(order))
            return None
        quantity = min(quantity, reducible)
    quantity = quantize_step(quantity, instrument.lot_size, ROUND_DOWN)
    if quantity <= 0:
        return None
    if order.time_in_force == TimeInForce.FOK and quantity < order.remaining_quantity:
        _finish(order, OrderStatus.CANCELED, "not enough liquidity to fill completely", now)
        events.add("order_update", order_payload(order))
        return None

    price = pricing.fill_price(
        side=order.side,
        bid=quote.bid,
        ask=quote.ask,
        quantity=quantity,
        liquidity=instrument.liquidity,
        tick=instrument.tick_size,
    )
    if order.limit_price is not None and order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        price = (
            min(price, order.limit_price)
            if order.side == Side.BUY
            else max(price, order.limit_price)
        )
    rate, minimum = commission_terms(account, instrument)
    commission = pricing.commission_for(notional=quantity * price, rate=rate, minimum=minimum)

    if not is_liquidation and not order.reduce_only:
        opening = pricing.opening_quantity(
            position_qty=position_qty, side=order.side, quantity=quantity
        )
        if opening > 0:
            state = account_state(account, positions)
            leverage = effective_leverage(account, instrument)
            needed = (
                pricing.margin_for(quantity=opening, price=price, leverage=leverage) + commission
            )
            if needed > state.free_margin:
                status = (
                    OrderStatus.REJECTED if order.filled_quantity == 0 else OrderStatus.CANCELED
                )
                _finish(order, status, "insufficient buying power at execution", now)
                events.add("order_update", order_payload(order))
                return None

    change = pricing.apply_fill(
        quantity=position_qty,
        avg_price=position.avg_price if position else ZERO,
        side=order.side,
        fill_qty=quantity,
        price=price,
    )
    if position is None:
        position = Position(account=account, instrument=instrument, opened_at=now)
    position.quantity = change.quantity
    position.avg_price = change.avg_price
    position.realized_pnl += change.realized_pnl
    position.updated_at = now
    if change.quantity == 0:
        position.closed_at = now
        position.stop_loss = position.take_profit = None
    position.save()
    fill = Fill.objects.create(
        order=order,
        account=account,
        instrument=instrument,
        side=order.side,
        quantity=quantity,
        price=price,
        commission=commission,
        realized_pnl=change.realized_pnl,
        is_liquidation=is_liquidation,
        created_at=now,
    )
    reference = {"reference_type": "fill", "reference_id": str(fill.pk)}
    journal_post(
        kind=JournalKind.COMMISSION,
        lines=[(account.cash_account, -commission), (house_account(HOUSE_FEES), commission)],
        memo=f"Commission {order.side} {quantity.normalize():f} {instrument.symbol}",
        **reference,
    )
    if change.realized_pnl:
        journal_post(
            kind=JournalKind.LIQUIDATION if is_liquidation else JournalKind.TRADE_PNL,
            lines=[
                (account.cash_account, change.realized_pnl),
                (house_account(HOUSE_TRADING_PNL), -change.realized_pnl),
            ],
            memo=f"Realised P&L {instrument.symbol}",
            **reference,
        )
        account.realized_pnl += change.realized_pnl
        account.save(update_fields=["realized_pnl"])

    filled_before = order.filled_quantity
    order.filled_quantity = filled_before + quantity
    order.avg_fill_price = (
        ((order.avg_fill_price or ZERO) * filled_before + price * quantity) / order.filled_quantity
    ).quantize(pricing.AVG_PRICE_STEP)
    order.commission += commission
    order.last_fill_quote_ts = quote.ts
    order.updated_at = now
    if order.filled_quantity == order.quantity:
        order.status = OrderStatus.FILLED
        order.filled_at = now
    else:
        order.status = OrderStatus.PARTIALLY_FILLED
    order.save()

    events.add("fill", fill_payload(fill))
    events.add("order_update", order_payload(order))
    events.add("position_update", position_payload(position, quote))
    _after_fill_brackets(account, order, quantity, now, events)
    events.balance_changed()
    return fill


def _after_fill_brackets(account, order: Order, quantity: Decimal, now, events) -> None:
    """Keep bracket exits in step: an entry's exits cover what it filled; an exit that fills
    shrinks its sibling (one cancels the other)."""
    if order.parent_id is None and (order.take_profit_price or order.stop_loss_price):
        exit_side = Side.SELL if order.side == Side.BUY else Side.BUY
        legs = {leg.leg_role: leg for leg in order.legs.all()}
        specs = [
            (LegRole.TAKE_PROFIT, OrderType.LIMIT, {"limit_price": order.take_profit_price}),
            (LegRole.STOP_LOSS, OrderType.STOP, {"stop_price": order.stop_loss_price}),
        ]
        for role, order_type, prices in specs:
            if next(iter(prices.values())) is None:
                continue
            leg = legs.get(role)
            if leg is None:
                leg = Order.objects.create(
                    account=account,
                    instrument=order.instrument,
                    side=exit_side,
                    type=order_type,
                    time_in_force=TimeInForce.GTC,
                    quantity=order.filled_quantity,
                    parent=order,
                    leg_role=role,
                    reduce_only=True,
                    source=OrderSource.SYSTEM,
                    created_at=now,
                    updated_at=now,
                    **prices,
                )
            elif leg.is_open:
                leg.quantity = order.filled_quantity
                leg.updated_at = now
                leg.save(update_fields=["quantity", "updated_at"])
            events.add("order_update", order_payload(leg))
    elif order.parent_id is not None:
        for sibling in Order.objects.filter(
            parent_id=order.parent_id, status__in=OPEN_STATUSES
        ).exclude(pk=order.pk):
            remaining = sibling.quantity - quantity
            if order.status == OrderStatus.FILLED or remaining <= sibling.filled_quantity:
                _finish(sibling, OrderStatus.CANCELED, "other bracket exit filled", now)
            else:
                sibling.quantity = remaining
                sibling.updated_at = now
                sibling.save(update_fields=["quantity", "updated_at"])
            events.add("order_update", order_payload(sibling))


# --- cancel, close, protect ---------------------------------------------------------------------


@transaction.atomic
def order_cancel(*, account: TradingAccount, order_id: int, now: datetime | None = None) -> Order:
    """Cancel an open order (and its bracket exits). 409 `order_closed` if it is not open."""
    now = now or timezone.now()
    account = _lock(account)
    order = Order.objects.select_related("instrument").filter(account=account, pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    if not order.is_open:
        raise TradingConflict("order_closed", f"The order is already {order.status}.")
    events = AccountEvents(account)
    _finish(order, OrderStatus.CANCELED, "canceled by you", now)
    events.add("order_update", order_payload(order))
    if order.parent_id is None:
        for leg in order.legs.filter(status__in=OPEN_STATUSES).select_related("instrument"):
            if order.filled_quantity == 0:
                _finish(leg, OrderStatus.CANCELED, "entry canceled", now)
                events.add("order_update", order_payload(leg))
    events.flush()
    return order


@transaction.atomic
def position_close(
    *,
    account: TradingAccount,
    symbol: str,
    quantity: Decimal | None = None,
    percent: Decimal | None = None,
    source: str = OrderSource.API,
    now: datetime | None = None,
) -> Order:
    """Close all or part of a position at market (a reduce-only market order)."""
    now = now or timezone.now()
    account = _lock(account)
    instrument = Instrument.objects.select_related("quote").filter(symbol=symbol.upper()).first()
    position = _open_position(account, instrument) if instrument else None
    if position is None:
        raise Http404("No open position in that symbol.")
    size = abs(position.quantity)
    if percent is not None:
        if not (0 < percent <= 100):
            raise TradingError("invalid_percent", "percent must be above 0 and at most 100.")
        quantity = quantize_step(size * percent / 100, instrument.lot_size, ROUND_DOWN)
    quantity = size if quantity is None else quantity
    if quantity <= 0 or quantity > size:
        raise TradingError(
            "invalid_quantity",
            f"Close between {instrument.lot_size.normalize():f} and {size.normalize():f}.",
        )
    if not instrument.is_open_at(now):
        raise TradingError("market_closed", f"The {instrument.symbol} market is closed.")
    order = Order.objects.create(
        account=account,
        instrument=instrument,
        side=Side.SELL if position.quantity > 0 else Side.BUY,
        type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        quantity=quantity,
        reduce_only=True,
        source=source,
        created_at=now,
        updated_at=now,
    )
    events = AccountEvents(account)
    events.add("order_update", order_payload(order))
    execute_order(account=account, order=order, quote=instrument.quote, now=now, events=events)
    if order.is_open:
        _finish(order, OrderStatus.CANCELED, "rest canceled (not enough liquidity this tick)", now)
        events.add("order_update", order_payload(order))
    events.flush()
    return order


@transaction.atomic
def position_protect(
    *,
    account: TradingAccount,
    symbol: str,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
    fields: set[str],
) -> Position:
    """Set or clear (None) a position's stop-loss and take-profit; FIELDS says which to touch."""
    account = _lock(account)
    instrument = Instrument.objects.select_related("quote").filter(symbol=symbol.upper()).first()
    position = _open_position(account, instrument) if instrument else None
    if position is None:
        raise Http404("No open position in that symbol.")
    quote = instrument.quote
    long = position.quantity > 0
    mark = pricing.mark_price(quantity=position.quantity, bid=quote.bid, ask=quote.ask)
    for name, value in (("stop_loss", stop_loss), ("take_profit", take_profit)):
        if name not in fields or value is None:
            continue
        if not is_on_step(value, instrument.tick_size) or value <= 0:
            raise TradingError("price_not_on_tick", "Prices must be on the tick grid.", field=name)
        wrong_side = (
            (value >= mark if long else value <= mark)
            if name == "stop_loss"
            else (value <= mark if long else value >= mark)
        )
        if wrong_side:
            raise TradingError(
                "invalid_protection",
                f"A {name.replace('_', '-')} at {value} would trigger at once (mark {mark}).",
                field=name,
            )
    if "stop_loss" in fields:
        position.stop_loss = stop_loss
    if "take_profit" in fields:
        position.take_profit = take_profit
    position.updated_at = timezone.now()
    position.save(update_fields=["stop_loss", "take_profit", "updated_at"])
    events = AccountEvents(account)
    events.add("position_update", position_payload(position, quote))
    events.flush()
    return position
