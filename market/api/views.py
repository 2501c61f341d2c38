"""Market API: instruments, quotes, candles, movers (public) and the watchlist (per user).

Symbols in paths are case-insensitive (`btc-usd` is BTC-USD). Unknown symbols answer 404
`not_found`; bad query parameters 400 with the failing field's code.
"""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import BoundedLimitOffsetPagination, ErrorSerializer, validated
from market import selectors
from market.api.serializers import (
    CandleOutput,
    CandlesQuery,
    InstrumentDetailOutput,
    InstrumentOutput,
    InstrumentsQuery,
    MoversOutput,
    MoversQuery,
    QuoteOutput,
    WatchlistEntryOutput,
    WatchlistInput,
)
from market.models import Instrument
from market.watchlist import WATCHLIST_MAX_ENTRIES, watchlist_add, watchlist_remove

SYMBOL_PARAM = OpenApiParameter(
    "symbol", OpenApiTypes.STR, OpenApiParameter.PATH, description="e.g. BTC-USD (any case)"
)
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such instrument (`not_found`).")


def _instrument_or_404(symbol: str) -> Instrument:
    instrument = selectors.instrument_by_symbol(symbol)
    if instrument is None:
        raise NotFound(f"No instrument {symbol.upper()!r}.", code="not_found")
    return instrument


@extend_schema(
    parameters=[InstrumentsQuery],
    responses={200: InstrumentOutput(many=True), 400: ErrorSerializer},
    auth=[],
    summary="List instruments",
    description="Filter with `asset_class`; `q` searches symbol and name (case-insensitive). "
    "Paginated with `limit` (at most 500) and `offset`.",
)
class InstrumentList(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = InstrumentOutput
    pagination_class = BoundedLimitOffsetPagination

    def get_queryset(self):
        query = validated(InstrumentsQuery, self.request.query_params)
        return selectors.instruments_list(
            asset_class=query.get("asset_class"), q=query.get("q") or None
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}


@extend_schema(
    parameters=[SYMBOL_PARAM],
    responses={200: InstrumentDetailOutput, 404: NOT_FOUND},
    auth=[],
    summary="One instrument with its trading session and current quote",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def instrument_detail(request: Request, symbol: str) -> Response:
    instrument = _instrument_or_404(symbol)
    context = {"now": timezone.now(), "request": request}
    return Response(InstrumentDetailOutput(instrument, context=context).data)


@extend_schema(
    parameters=[SYMBOL_PARAM],
    responses={
        200: QuoteOutput,
        404: OpenApiResponse(
            ErrorSerializer, description="No such instrument, or no tick yet (`no_quote`)."
        ),
    },
    auth=[],
    summary="The current quote",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def quote(request: Request, symbol: str) -> Response:
    instrument = _instrument_or_404(symbol)
    current = selectors.quote_for_symbol(instrument.symbol)
    if current is None:
        raise NotFound(f"{instrument.symbol} has no quote yet.", code="no_quote")
    return Response(QuoteOutput(current).data)


@extend_schema(
    parameters=[SYMBOL_PARAM, CandlesQuery],
    responses={200: CandleOutput(many=True), 400: ErrorSerializer, 404: NOT_FOUND},
    auth=[],
    summary="OHLCV candles, oldest first",
    description="The most recent `limit` candles (default 500, at most 1000) of the timeframe, "
    "within `start` and `end` when given. The last candle may still be forming. Prices are on "
    "the instrument's tick grid.",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def candles(request: Request, symbol: str) -> Response:
    instrument = _instrument_or_404(symbol)
    query = validated(CandlesQuery, request.query_params)
    rows = selectors.candles_for(
        instrument,
        query["timeframe"],
        start=query.get("start"),
        end=query.get("end"),
        limit=query["limit"],
    )
    context = {"tick_size": instrument.tick_size}
    return Response(CandleOutput(rows, many=True, context=context).data)


@extend_schema(
    parameters=[MoversQuery],
    responses={200: MoversOutput, 400: ErrorSerializer},
    auth=[],
    summary="Top gainers and losers by change_pct",
    description="Gainers have change_pct > 0 (largest first), losers < 0 (largest fall "
    "first); `limit` per side, default 5, at most 20.",
)
@api_view(["GET"])
@permission_classes([AllowAny])
def movers(request: Request) -> Response:
    query = validated(MoversQuery, request.query_params)
    return Response(MoversOutput(selectors.movers(limit=query["limit"])).data)


WATCHLIST_DESCRIPTION = (
    f"The caller's watchlist, in the order added (at most {WATCHLIST_MAX_ENTRIES} entries, "
    "returned whole). POST `{symbol}` adds an instrument: 201 when added, 200 with the existing "
    "entry when it is already there (adding is idempotent), 400 `unknown_symbol`, 409 "
    "`watchlist_full`."
)


@extend_schema(
    methods=["GET"],
    responses={200: WatchlistEntryOutput(many=True), 401: ErrorSerializer},
    summary="My watchlist",
    description=WATCHLIST_DESCRIPTION,
)
@extend_schema(
    methods=["POST"],
    request=WatchlistInput,
    responses={
        201: WatchlistEntryOutput,
        200: OpenApiResponse(WatchlistEntryOutput, description="Already on the watchlist."),
        400: ErrorSerializer,
        401: ErrorSerializer,
        409: ErrorSerializer,
    },
    summary="Add an instrument to my watchlist (idempotent)",
    description=WATCHLIST_DESCRIPTION,
)
@api_view(["GET", "POST"])
def watchlist(request: Request) -> Response:
    if request.method == "POST":
        data = validated(WatchlistInput, request.data)
        added = watchlist_add(user=request.user, symbol=data["symbol"])
        entry = selectors.watchlist_for(request.user).get(pk=added.entry.pk)
        code = status.HTTP_201_CREATED if added.created else status.HTTP_200_OK
        return Response(WatchlistEntryOutput(entry).data, status=code)
    entries = selectors.watchlist_for(request.user)
    return Response(WatchlistEntryOutput(entries, many=True).data)


@extend_schema(
    parameters=[SYMBOL_PARAM],
    responses={
        204: OpenApiResponse(description="Removed."),
        401: ErrorSerializer,
        404: OpenApiResponse(ErrorSerializer, description="Not on the watchlist (`not_watched`)."),
    },
    summary="Remove an instrument from my watchlist",
)
@api_view(["DELETE"])
def watchlist_entry(request: Request, symbol: str) -> Response:
    watchlist_remove(user=request.user, symbol=symbol)
    return Response(status=status.HTTP_204_NO_CONTENT)
