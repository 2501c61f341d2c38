"""Trading API under /api/accounts: accounts, orders, positions, fills, ledger, equity history.

Thin views: parse with trading.api.serializers, call trading.services / selectors, serialise.
Every path goes through `selectors.account_get_for_user`, so another user's account (and
anything in it) is the same 404 `not_found` as one that does not exist. Refusals by trading
rules are 422 and conflicts 409 (config.api.exception_handler), both with a stable `code`.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import BoundedLimitOffsetPagination, ErrorSerializer, validated
from ledger.selectors import postings_for_account
from trading import selectors, services
from trading.api.serializers import (
    AccountCreateInput,
    AccountOutput,
    AccountUpdateInput,
    FillOutput,
    HistoryOutput,
    HistoryQuery,
    LedgerLineOutput,
    OrderInput,
    OrderOutput,
    OrdersQuery,
    PositionCloseInput,
    PositionOutput,
    PositionProtectInput,
    PositionsQuery,
    paginated,
)
from trading.models import (
    OrderSource,
    Position,
    TradingAccount,
)
from trading.services import OrderRequest

# --- schema bits --------------------------------------------------------------------------------

BAD_INPUT = OpenApiResponse(ErrorSerializer, description="Invalid input (field `errors`).")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such account (or not yours).")
REFUSED = OpenApiResponse(
    ErrorSerializer,
    description="Refused by a trading rule, e.g. `insufficient_buying_power`, "
    "`market_closed`, `unknown_instrument`, `quantity_not_on_lot`, `price_not_on_tick`.",
)
TAGS = ["trading"]

HISTORY_WINDOWS = {"1D": timedelta(days=1), "1W": timedelta(weeks=1), "1M": timedelta(days=30)}
HISTORY_MAX_POINTS = 1000
_SYMBOL = re.compile(r"[A-Za-z0-9._-]{1,32}")


# --- helpers ------------------------------------------------------------------------------------


@dataclass
class AccountView:
    """An account with its valuation at the current quotes (what AccountOutput shows)."""

    account: TradingAccount
    state: selectors.AccountState


def _account(request: Request, account_id: int) -> TradingAccount:
    return selectors.account_get_for_user(user=request.user, account_id=account_id)


def _account_answer(account: TradingAccount) -> dict:
    return AccountOutput(AccountView(account, selectors.account_state(account))).data


def _order_answer(account: TradingAccount, order_id: int) -> dict:
    return OrderOutput(selectors.order_get_for_account(account, order_id)).data


def _page(request: Request, queryset, serializer_class, convert=None) -> Response:
    paginator = BoundedLimitOffsetPagination()
    rows = paginator.paginate_queryset(queryset, request)
    if convert is not None:
        rows = [convert(row) for row in rows]
    return paginator.get_paginated_response(serializer_class(rows, many=True).data)


def _open_position(account: TradingAccount, symbol: str) -> Position:
    if not _SYMBOL.fullmatch(symbol):
        raise Http404("No open position in that symbol.")
    position = selectors.open_positions(account).filter(instrument__symbol=symbol.upper()).first()
    if position is None:
        raise Http404("No open position in that symbol.")
    return position


# --- accounts -----------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    tags=TAGS,
    operation_id="accounts_list",
    responses={200: paginated(AccountOutput)},
    summary="List my trading accounts",
    description="Includes the default account (opened on first use).",
)
@extend_schema(
    methods=["POST"],
    tags=TAGS,
    request=AccountCreateInput,
    responses={201: AccountOutput, 400: BAD_INPUT, 422: REFUSED},
    summary="Open a trading account",
    description="The initial balance is deposited at once; max_leverage 1 to the server's cap "
    "(422 `leverage_out_of_range`).",
)
@api_view(["GET", "POST"])
def account_list(request: Request) -> Response:
    if request.method == "POST":
        data = validated(AccountCreateInput, request.data)
        account = services.account_open(owner=request.user, **data)
        return Response(_account_answer(account), status=status.HTTP_201_CREATED)
    services.account_default_for(request.user)
    open_positions = Prefetch(
        "positions",
        queryset=Position.objects.filter(closed_at__isnull=True)
        .select_related("instrument", "instrument__quote")
        .order_by("instrument__symbol"),
        to_attr="open_position_list",
    )
    accounts = selectors.accounts_for_user(request.user).prefetch_related(open_positions)
    return _page(
        request,
        accounts,
        AccountOutput,
        lambda account: AccountView(
            account, selectors.account_state(account, account.open_position_list)
        ),
    )


@extend_schema(
    methods=["GET"],
    tags=TAGS,
    responses={200: AccountOutput, 404: NOT_FOUND},
    summary="One trading account with balances",
)
@extend_schema(
    methods=["PATCH"],
    tags=TAGS,
    request=AccountUpdateInput,
    responses={200: AccountOutput, 400: BAD_INPUT, 404: NOT_FOUND, 422: REFUSED},
    summary="Rename, change leverage or the daily loss limit",
)
@extend_schema(
    methods=["DELETE"],
    tags=TAGS,
    request=None,
    responses={
        204: OpenApiResponse(description="Deleted (archived; the ledger history stays)."),
        404: NOT_FOUND,
        409: OpenApiResponse(ErrorSerializer, description="`positions_open`"),
    },
    summary="Delete a trading account",
)
@api_view(["GET", "PATCH", "DELETE"])
def account_detail(request: Request, account_id: int) -> Response:
    account = _account(request, account_id)
    if request.method == "PATCH":
        data = validated(AccountUpdateInput, request.data)
        account = services.account_update(
            account=account,
            name=data.get("name"),
            max_leverage=data.get("max_leverage"),
            max_daily_loss=data.get("max_daily_loss"),
            clear_daily_loss="max_daily_loss" in data and data["max_daily_loss"] is None,
        )
    elif request.method == "DELETE":
        services.account_delete(account=account)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(_account_answer(account))


@extend_schema(
    tags=TAGS,
    request=None,
    responses={200: AccountOutput, 404: NOT_FOUND, 422: REFUSED},
    summary="Reset to the initial balance",
    description="Cancels open orders and closes positions (their P&L discarded); history is "
    "kept. Not for tournament accounts (422 `reset_not_allowed`).",
)
@api_view(["POST"])
def account_reset(request: Request, account_id: int) -> Response:
    account = services.account_reset(account=_account(request, account_id))
    return Response(_account_answer(account))


# --- orders -------------------------------------------------------------------------------------


@extend_schema(
    methods=["GET"],
    tags=TAGS,
    operation_id="accounts_orders_list",
    parameters=[OrdersQuery],
    responses={200: paginated(OrderOutput), 400: BAD_INPUT, 404: NOT_FOUND},
    summary="List orders, newest first",
)
@extend_schema(
    methods=["POST"],
    tags=TAGS,
    request=OrderInput,
    responses={
        201: OrderOutput,
        200: OpenApiResponse(OrderOutput, description="Replay of a known client_order_id."),
        400: BAD_INPUT,
        404: NOT_FOUND,
        409: OpenApiResponse(
            ErrorSerializer, description="`client_order_id_conflict`: other parameters."
        ),
        422: REFUSED,
    },
    summary="Place an order",
    description="Market and marketable orders fill at once; others rest until the market "
    "reaches them. Fields that do not belong to the order type are refused (400), as are "
    "unknown fields (`unknown_field`).",
)
@api_view(["GET", "POST"])
def order_list(request: Request, account_id: int) -> Response:
    account = _account(request, account_id)
    if request.method == "POST":
        data = validated(OrderInput, request.data)
        order_request = OrderRequest(
            symbol=data["symbol"],
            side=data["side"],
            type=data["type"],
            quantity=data["quantity"],
            limit_price=data.get("limit_price"),
            stop_price=data.get("stop_price"),
            trail_percent=data.get("trail_percent"),
            trail_price=data.get("trail_price"),
            time_in_force=data["time_in_force"],
            client_order_id=data["client_order_id"],
            take_profit=(data.get("take_profit") or {}).get("limit_price"),
            stop_loss=(data.get("stop_loss") or {}).get("stop_price"),
        )
        order, created = services.order_place(
            account=account, request=order_request, source=OrderSource.API
        )
        return Response(
            _order_answer(account, order.pk),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
    query = validated(OrdersQuery, request.query_params)
    orders = selectors.orders_for_account(
        account, status=query["status"], symbol=query.get("symbol") or None
    )
    return _page(request, orders, OrderOutput)


@extend_schema(
    methods=["GET"],
    tags=TAGS,
    responses={200: OrderOutput, 404: NOT_FOUND},
    summary="One order",
)
@extend_schema(
    methods=["DELETE"],
    tags=TAGS,
    request=None,
    responses={
        200: OpenApiResponse(OrderOutput, description="The canceled order."),
        404: NOT_FOUND,
        409: OpenApiResponse(ErrorSerializer, description="`order_closed`"),
    },
    summary="Cancel an order (and its open bracket exits)",
)
@api_view(["GET", "DELETE"])
def order_detail(request: Request, account_id: int, order_id: int) -> Response:
    account = _account(request, account_id)
    if request.method == "DELETE":
        services.order_cancel(account=account, order_id=order_id)
    return Response(_order_answer(account, order_id))


# --- positions ----------------------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    operation_id="accounts_positions_list",
    parameters=[PositionsQuery],
    responses={200: paginated(PositionOutput), 400: BAD_INPUT, 404: NOT_FOUND},
    summary="Open positions (or closed ones with ?is_open=false)",
)
@api_view(["GET"])
def position_list(request: Request, account_id: int) -> Response:
    account = _account(request, account_id)
    query = validated(PositionsQuery, request.query_params)
    if query["is_open"]:
        positions = selectors.open_positions(account)
    else:
        positions = selectors.closed_positions(account)
    return _page(
        request,
        positions,
        PositionOutput,
        lambda position: selectors.value_position(account, position),
    )


@extend_schema(
    methods=["GET"],
    tags=TAGS,
    responses={200: PositionOutput, 404: NOT_FOUND},
    summary="One open position",
)
@extend_schema(
    methods=["PATCH"],
    tags=TAGS,
    request=PositionProtectInput,
    responses={200: PositionOutput, 400: BAD_INPUT, 404: NOT_FOUND, 422: REFUSED},
    summary="Set or clear the position's stop-loss and take-profit",
    description="Fields left out are kept; null clears one.",
)
@api_view(["GET", "PATCH"])
def position_detail(request: Request, account_id: int, symbol: str) -> Response:
    account = _account(request, account_id)
    position = _open_position(account, symbol)
    if request.method == "PATCH":
        data = validated(PositionProtectInput, request.data)
        services.position_protect(
            account=account,
            symbol=position.instrument.symbol,
            stop_loss=data.get("stop_loss"),
            take_profit=data.get("take_profit"),
            fields=set(data),
        )
        position = _open_position(account, symbol)
    return Response(PositionOutput(selectors.value_position(account, position)).data)


@extend_schema(
    tags=TAGS,
    request=PositionCloseInput,
    responses={
        201: OpenApiResponse(OrderOutput, description="The closing market order."),
        400: BAD_INPUT,
        404: OpenApiResponse(ErrorSerializer, description="No such account or open position."),
        422: REFUSED,
    },
    summary="Close all or part of a position at market",
)
@api_view(["POST"])
def position_close(request: Request, account_id: int) -> Response:
    account = _account(request, account_id)
    data = validated(PositionCloseInput, request.data)
    order = services.position_close(
        account=account,
        symbol=data["symbol"],
        quantity=data.get("quantity"),
        percent=data.get("percent"),
        source=OrderSource.API,
    )
    return Response(_order_answer(account, order.pk), status=status.HTTP_201_CREATED)


# --- fills, ledger, history ---------------------------------------------------------------------


@extend_schema(
    tags=TAGS,
    operation_id="accounts_fills_list",
    responses={200: paginated(FillOutput), 404: NOT_FOUND},
    summary="Executions, newest first",
)
@api_view(["GET"])
def fill_list(request: Request, account_id: int) -> Response:
    account = _account(request, account_id)
    return _page(request, selectors.fills_for_account(account), FillOutput)


@extend_schema(
    tags=TAGS,
    operation_id="accounts_ledger_list",
    responses={200: paginated(LedgerLineOutput), 404: NOT_FOUND},
    summary="The account's ledger lines, newest first",
    description="Every change to the cash balance: deposit, commission, trade_pnl, funding, "
    "reset, adjustment, prize, liquidation, with the balance after it and what caused it.",
)
@api_view(["GET"])
def ledger_list(request: Request, account_id: int) -> Response:
    account = _account(request, account_id)
    return _page(request, postings_for_account(account.cash_account), LedgerLineOutput)


@extend_schema(
    tags=TAGS,
    parameters=[HistoryQuery],
    responses={200: HistoryOutput, 400: BAD_INPUT, 404: NOT_FOUND},
    summary="Equity over time",
    description="Scheduled equity snapshots within the period, oldest first (thinned to at "
    f"most {HISTORY_MAX_POINTS}), then the current equity as the last point.",
)
@api_view(["GET"])
def account_history(request: Request, account_id: int) -> Response:
    account = _account(request, account_id)
    period = validated(HistoryQuery, request.query_params)["period"]
    now = timezone.now()
    since = now - HISTORY_WINDOWS[period] if period in HISTORY_WINDOWS else None
    rows = selectors.equity_points(account, since=since, now=now, max_points=HISTORY_MAX_POINTS)
    return Response(HistoryOutput({"period": period, "points": rows}).data)
