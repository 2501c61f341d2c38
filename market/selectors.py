"""Market reads shared by pages, API and services.

`candles_for` and `quote_for_symbol` belong to the tick pipeline (issue 3, simulator part); the
page/API helpers add their own read functions below them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from datetime import time as time_of_day
from decimal import Decimal

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from market.formatting import plain, price_text
from market.models import TIMEFRAME_SECONDS, Candle, Instrument, Quote, Watchlist
from market.realtime import tick_frame

CANDLES_DEFAULT_LIMIT = 500
CANDLES_MAX_LIMIT = 1000


def candles_for(
    instrument: Instrument | int,
    timeframe: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = CANDLES_DEFAULT_LIMIT,
) -> list[dict]:
    """The most recent LIMIT candles of TIMEFRAME with start <= t < end, oldest first.

    Rows are {t, o, h, l, c, v}: t the bucket start (aware, UTC), the rest Decimals as stored
    (prices are on the tick grid; the caller formats them). The last candle may still be
    forming. LIMIT is clamped to 1..CANDLES_MAX_LIMIT; an unknown TIMEFRAME is a ValueError.
    One indexed range query on (instrument, timeframe, ts).
    """
    if timeframe not in TIMEFRAME_SECONDS:
        raise ValueError(f"unknown timeframe {timeframe!r}")
    limit = max(1, min(int(limit), CANDLES_MAX_LIMIT))
    instrument_id = instrument.pk if isinstance(instrument, Instrument) else instrument
    rows = Candle.objects.filter(instrument_id=instrument_id, timeframe=timeframe)
    if start is not None:
        rows = rows.filter(ts__gte=start)
    if end is not None:
        rows = rows.filter(ts__lt=end)
    newest = rows.order_by("-ts").values_list("ts", "open", "high", "low", "close", "volume")
    return [
        {"t": t, "o": o, "h": h, "l": low, "c": c, "v": v}
        for t, o, h, low, c, v in reversed(newest[:limit])
    ]


def quote_for_symbol(symbol: str) -> Quote | None:
    """The current quote of SYMBOL (instrument selected with it), or None if it has none."""
    return Quote.objects.select_related("instrument").filter(instrument__symbol=symbol).first()


# === Market surface (pages, API, sockets): instrument list and search, sessions, movers,
# watchlists, tick snapshots. Owned by the market pages/API part of issue 3. ===============


def _quote_or_none(instrument: Instrument) -> Quote | None:
    try:
        return instrument.quote
    except Quote.DoesNotExist:
        return None


def instruments_list(
    *, asset_class: str | None = None, q: str | None = None
) -> QuerySet[Instrument]:
    """Instruments with their quote (one query), filtered by asset class and a search term
    matched against symbol or name, case-insensitively."""
    qs = Instrument.objects.select_related("quote").order_by("symbol")
    if asset_class:
        qs = qs.filter(asset_class=asset_class)
    if q:
        qs = qs.filter(Q(symbol__icontains=q) | Q(name__icontains=q))
    return qs


def instrument_by_symbol(symbol: str) -> Instrument | None:
    """One instrument with its quote; symbols are matched case-insensitively."""
    return Instrument.objects.select_related("quote").filter(symbol=symbol.upper()).first()


def symbol_search(term: str, *, limit: int = 8) -> list[Instrument]:
    """Instruments for the trade page's symbol switcher, best first: the exact symbol, then
    symbols starting with TERM, then any symbol or name containing it."""
    term = term.strip()
    if not term:
        return []
    matches = (
        Instrument.objects.select_related("quote")
        .filter(Q(symbol__icontains=term) | Q(name__icontains=term))
        .annotate(
            rank=Case(
                When(symbol__iexact=term, then=Value(0)),
                When(symbol__istartswith=term, then=Value(1)),
                When(name__istartswith=term, then=Value(2)),
                default=Value(3),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "symbol")
    )
    return list(matches[:limit])


def find_symbol(term: str) -> str | None:
    """The symbol TERM names: an exact symbol, or the only instrument matching it."""
    matches = symbol_search(term, limit=2)
    if matches and (matches[0].symbol == term.strip().upper() or len(matches) == 1):
        return matches[0].symbol
    return None


def default_trade_symbol() -> str | None:
    """The instrument the trade page opens on: BTC-USD when listed, else the first one."""
    if Instrument.objects.filter(symbol=DEFAULT_TRADE_SYMBOL).exists():
        return DEFAULT_TRADE_SYMBOL
    return Instrument.objects.order_by("symbol").values_list("symbol", flat=True).first()


DEFAULT_TRADE_SYMBOL = "BTC-USD"
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SessionInfo:
    timezone: str
    open: time_of_day
    close: time_of_day
    days: list[str]
    always_open: bool
    is_open: bool
    is_halted: bool
    next_open: datetime | None
    next_close: datetime | None


def session_info(instrument: Instrument, now: datetime) -> SessionInfo:
    """The instrument's trading session as seen at NOW, with the next open and close when the
    session is not continuous (24/7 instruments have neither)."""
    window = instrument.session_window_containing(now)
    always = instrument.is_always_open
    return SessionInfo(
        timezone=instrument.session_timezone,
        open=instrument.session_open,
        close=instrument.session_close,
        days=[WEEKDAY_NAMES[int(d)] for d in sorted(set(instrument.session_days))],
        always_open=always,
        is_open=instrument.is_open_at(now),
        is_halted=instrument.is_halted,
        next_open=None if always else instrument.next_open_after(now),
        next_close=None if always or window is None else window[1].astimezone(UTC),
    )


def movers(*, limit: int = 5) -> dict[str, list[Quote]]:
    """Top gainers (change_pct > 0, biggest first) and losers (< 0, biggest fall first)."""
    quotes = Quote.objects.select_related("instrument")
    return {
        "gainers": list(quotes.filter(change_pct__gt=0).order_by("-change_pct")[:limit]),
        "losers": list(quotes.filter(change_pct__lt=0).order_by("change_pct")[:limit]),
    }


def watchlist_for(user) -> QuerySet[Watchlist]:
    """USER's watchlist entries, in their order, with instrument and quote (one query)."""
    return (
        Watchlist.objects.filter(user=user)
        .select_related("instrument__quote")
        .order_by("position", "created_at")
    )


SUGGESTED_SYMBOLS = ("BTC-USD", "ETH-USD", "AAPL", "EURUSD", "SPY")


def suggested_instruments(limit: int = 5) -> list[Instrument]:
    """Instruments to suggest to someone who watches nothing: well-known ones when listed,
    then the first listed (one or two queries)."""
    listed = Instrument.objects.select_related("quote")
    found = {i.symbol: i for i in listed.filter(symbol__in=SUGGESTED_SYMBOLS)}
    known = [found[symbol] for symbol in SUGGESTED_SYMBOLS if symbol in found][:limit]
    if len(known) < limit:
        rest = listed.exclude(symbol__in=SUGGESTED_SYMBOLS).order_by("symbol")
        known += list(rest[: limit - len(known)])
    return known


def watched_symbols(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(Watchlist.objects.filter(user=user).values_list("instrument__symbol", flat=True))


def snapshot_frame(instrument: Instrument, quote: Quote) -> dict:
    """The current quote as a `tick` frame, prices on the tick grid (sent on subscribe)."""
    tick = instrument.tick_size
    frame = tick_frame(instrument.symbol, quote)
    frame.update(
        bid=price_text(quote.bid, tick),
        ask=price_text(quote.ask, tick),
        last=price_text(quote.last, tick),
        volume=plain(quote.volume),
        change_pct=str(quote.change_pct.quantize(Decimal("0.0001"))),
    )
    return frame


def tick_snapshots(symbols: Iterable[str]) -> dict[str, dict | None]:
    """For each listed SYMBOL that exists: its snapshot tick frame (None without a quote)."""
    instruments = Instrument.objects.select_related("quote").filter(symbol__in=list(symbols))
    result: dict[str, dict | None] = {}
    for instrument in instruments:
        quote = _quote_or_none(instrument)
        result[instrument.symbol] = None if quote is None else snapshot_frame(instrument, quote)
    return result


def quote_of(instrument: Instrument) -> Quote | None:
    """The instrument's quote (loaded with select_related) or None before its first tick."""
    return _quote_or_none(instrument)


@dataclass(frozen=True)
class MarketRow:
    instrument: Instrument
    quote: Quote | None
    is_open: bool
    watched: bool


def market_rows(*, asset_class: str | None, q: str | None, user, now: datetime) -> list[MarketRow]:
    """The markets page: instruments with quote, session state and the user's watch flag
    (two queries, one more for a logged-in user)."""
    watched = watched_symbols(user)
    return [
        MarketRow(
            instrument=instrument,
            quote=_quote_or_none(instrument),
            is_open=instrument.is_open_at(now),
            watched=instrument.symbol in watched,
        )
        for instrument in instruments_list(asset_class=asset_class, q=q)
    ]
