"""Market pages: the instrument list (/markets/) and the chart page (/trade/<symbol>/)."""

import json
from contextlib import suppress

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_POST

from config.api import DomainError
from market import selectors
from market.forms import InstrumentFilterForm
from market.models import Timeframe
from market.watchlist import NotWatched, UnknownSymbol, watchlist_add, watchlist_remove

CHART_TIMEFRAMES = [value for value, _ in Timeframe.choices]
DEFAULT_CHART_TIMEFRAME = Timeframe.M1


@require_GET
def instrument_list(request: HttpRequest) -> HttpResponse:
    form = InstrumentFilterForm(request.GET or None)
    rows = selectors.market_rows(**form.filters(), user=request.user, now=timezone.now())
    context = {"form": form, "rows": rows, "next_url": request.get_full_path()}
    template = "market/list.html#table" if request.htmx else "market/list.html"
    return TemplateResponse(request, template, context)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("market:list")


def _watch_response(request: HttpRequest, symbol: str, *, watched: bool) -> HttpResponse:
    if request.htmx:
        context = {
            "symbol": symbol,
            "watched": watched,
            "next_url": _safe_next(request),
            "compact": request.POST.get("compact") == "1",
        }
        return TemplateResponse(request, "market/_watch_button.html", context)
    return redirect(_safe_next(request))


@login_required
@require_POST
def watch(request: HttpRequest, symbol: str) -> HttpResponse:
    try:
        added = watchlist_add(user=request.user, symbol=symbol)
    except UnknownSymbol as exc:
        raise Http404(exc.message) from exc
    except DomainError as exc:
        if request.htmx:
            # Nothing changed: keep the button as it was and say why in a toast.
            response = _watch_response(request, symbol.upper(), watched=False)
            response["HX-Trigger"] = json.dumps(
                {"pt-toast": {"text": exc.message, "kind": "error"}}
            )
            return response
        messages.error(request, exc.message)
        return redirect(_safe_next(request))
    symbol = added.entry.instrument.symbol
    if not request.htmx:
        messages.success(request, f"{symbol} is on your watchlist.")
    return _watch_response(request, symbol, watched=True)


@login_required
@require_POST
def unwatch(request: HttpRequest, symbol: str) -> HttpResponse:
    symbol = symbol.upper()
    if selectors.instrument_by_symbol(symbol) is None:
        raise Http404("No such instrument.")
    with suppress(NotWatched):  # Already off the list: the outcome the user asked for.
        watchlist_remove(user=request.user, symbol=symbol)
    if not request.htmx:
        messages.success(request, f"{symbol} is off your watchlist.")
    return _watch_response(request, symbol, watched=False)


@require_GET
def symbol_search(request: HttpRequest) -> HttpResponse:
    """The trade page's symbol switcher: up to eight matches as links (an htmx fragment)."""
    keep = request.GET.copy()
    term = keep.pop("q", [""])[-1][:50]
    context = {
        "term": term.strip(),
        "matches": selectors.symbol_search(term),
        "keep": keep.urlencode(),  # e.g. the trading account shown
    }
    return TemplateResponse(request, "market/_symbol_results.html", context)


@require_GET
def trade_default(request: HttpRequest) -> HttpResponse:
    """/trade/ opens the default symbol; /trade/?q=<term> (the switcher without script)
    opens the instrument TERM names, or the markets list searched for it. Other parameters
    (account, timeframe) are kept."""
    params = request.GET.copy()
    term = params.pop("q", [""])[-1].strip()[:50]
    if term:
        symbol = selectors.find_symbol(term)
        if symbol is None:
            messages.info(request, f"No single instrument matches “{term}”: pick one below.")
            return redirect(f"{reverse('market:list')}?{urlencode({'q': term})}")
    else:
        symbol = selectors.default_trade_symbol()
        if symbol is None:
            return redirect("market:list")
    url = reverse("market:instrument", args=[symbol])
    return redirect(f"{url}?{params.urlencode()}" if params else url)


def chart_page_context(request: HttpRequest, instrument) -> dict:
    """The market half of /trade/<symbol>/ (market/trade.html): chart timeframe, quote,
    session and watch state. The trading app's page adds its ticket and panels to it."""
    timeframe = request.GET.get("timeframe", DEFAULT_CHART_TIMEFRAME)
    return {
        "instrument": instrument,
        "quote": selectors.quote_of(instrument),
        "session": selectors.session_info(instrument, timezone.now()),
        "watched": instrument.symbol in selectors.watched_symbols(request.user),
        "timeframes": CHART_TIMEFRAMES,
        "timeframe": timeframe if timeframe in CHART_TIMEFRAMES else DEFAULT_CHART_TIMEFRAME,
    }


@require_GET
def instrument(request: HttpRequest, symbol: str) -> HttpResponse:
    if symbol != symbol.upper():
        return redirect("market:instrument", symbol=symbol.upper(), permanent=True)
    found = selectors.instrument_by_symbol(symbol)
    if found is None:
        raise Http404("No such instrument.")
    context = {**chart_page_context(request, found), "next_url": request.get_full_path()}
    return TemplateResponse(request, "market/trade.html", context)
