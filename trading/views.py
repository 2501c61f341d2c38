"""Trading pages: the trade page with its order ticket, portfolio, orders, activity, trading
accounts and the dashboard. Function views: parse a form, call a service or selector, render.

htmx requests get fragments (`?part=<name>` on GET pages, rendered as "page.html#name"); every
action also works as a plain POST (redirect with a message, or the page re-rendered with the
errors). Action responses to htmx carry an HX-Trigger with `pt-toast` (a message) and
`pt-refresh` (the page parts to reload), which static/js/live.js acts on.
"""

import json
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.api import DomainError
from market import selectors as market_selectors
from market.formatting import plain
from market.views import chart_page_context
from trading import presenters, selectors, services
from trading.forms import (
    AccountCreateForm,
    AccountRenameForm,
    ClosePositionForm,
    OrderFilterForm,
    OrderTicketForm,
    ProtectForm,
)
from trading.models import OrderSource, TradingAccount

TRADE_PARTS = ("account", "ticket", "estimate", "position", "orders")
PORTFOLIO_PARTS = ("summary", "positions", "orders", "fills", "activity")
DASHBOARD_PARTS = ("summary", "positions", "fills")
PAGE_SIZE = 25

# Service error fields that have another name on the ticket, and refusals without a field
# that belong next to one.
TICKET_FIELD_ALIASES = {"trail_percent": "trail_amount", "trail_price": "trail_amount"}
TICKET_CODE_FIELDS = {
    "insufficient_buying_power": "quantity",
    "max_position_share": "quantity",
    "short_selling_not_allowed": "side",
    "invalid_trail": "trail_amount",
    "market_closed": "type",
}


# --- helpers ------------------------------------------------------------------------------------


def _account(request: HttpRequest, accounts: list[TradingAccount] | None = None) -> TradingAccount:
    """The account in `?account=` (or the POSTed `account`), else the user's default one
    (opened on first use). ACCOUNTS, when the caller has them, saves a query."""
    raw = request.POST.get("account") or request.GET.get("account")
    if raw:
        if accounts is not None and str(raw).isdigit():
            found = next((a for a in accounts if a.pk == int(raw)), None)
            if found is not None:
                return found
        return selectors.account_get_for_user(user=request.user, account_id=raw)
    if accounts is not None:
        default = next((a for a in accounts if a.is_default), None)
        if default is not None:
            return default
    return services.account_default_for(request.user)


def _accounts_and_current(request: HttpRequest) -> dict:
    """The switcher's context: the user's accounts and the current one (one query)."""
    accounts = list(selectors.accounts_for_user(request.user))
    account = _account(request, accounts)
    if all(a.pk != account.pk for a in accounts):  # just opened
        accounts.append(account)
    return {"account": account, "accounts": accounts}


def _with_account(url: str, account: TradingAccount) -> str:
    return f"{url}?account={account.pk}"


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return fallback


def _part(request: HttpRequest, allowed: tuple[str, ...]) -> str | None:
    part = request.GET.get("part")
    return part if request.htmx and part in allowed else None


def _trigger(response: HttpResponse, *, toast=None, refresh=(), order=None) -> HttpResponse:
    """HX-Trigger: `pt-toast` {text, kind, order} and `pt-refresh` {parts} (static/js/live.js;
    `order` lets it show one toast per order when the account socket reports it too)."""
    events = {}
    if toast:
        events["pt-toast"] = {"text": toast[0], "kind": toast[1], "order": order}
    if refresh:
        events["pt-refresh"] = {"parts": list(refresh)}
    if events:
        response["HX-Trigger"] = json.dumps(events)
    return response


def _add_domain_error(form, exc: DomainError, aliases=None, by_code=None) -> None:
    field = (aliases or {}).get(exc.field, exc.field) or (by_code or {}).get(exc.code)
    form.add_error(field if field in form.fields else None, exc.message)


def _confirm(request, *, title, message, action, button, fields, cancel_url, danger=True):
    """A confirmation page for plain POSTs (htmx asks with hx-confirm instead)."""
    context = {
        "title": title,
        "message": message,
        "action": action,
        "button": button,
        "fields": fields,
        "cancel_url": cancel_url,
        "danger": danger,
    }
    return TemplateResponse(request, "trading/confirm.html", context)


# --- trade page ---------------------------------------------------------------------------------


def _instrument(symbol: str):
    instrument = market_selectors.instrument_by_symbol(symbol)
    if instrument is None:
        raise Http404("No such instrument.")
    return instrument


def _trade_context(request, instrument, *, account=None, form=None, estimate=None, parts=None):
    context = {"instrument": instrument}
    if parts is None:  # the whole page: the market half too
        context.update(chart_page_context(request, instrument))
    context["next_url"] = reverse("trading:trade", args=[instrument.symbol])
    if not request.user.is_authenticated:
        return context
    if parts is None:
        if account is None:
            context.update(_accounts_and_current(request))
        else:
            context.update(
                account=account, accounts=list(selectors.accounts_for_user(request.user))
            )
        account = context["account"]
        parts = set(TRADE_PARTS)
    account = account or _account(request)
    context["account"] = account
    context["next_url"] = _with_account(context["next_url"], account)
    context["form"] = form or OrderTicketForm()
    context["estimate"] = estimate
    context.update(presenters.trade_panels(account, instrument, parts, timezone.now()))
    return context


@require_GET
def trade(request: HttpRequest, symbol: str) -> HttpResponse:
    if symbol != symbol.upper():
        query = request.META.get("QUERY_STRING")
        url = reverse("trading:trade", args=[symbol.upper()])
        return redirect(f"{url}?{query}" if query else url, permanent=True)
    instrument = _instrument(symbol)
    part = _part(request, TRADE_PARTS) if request.user.is_authenticated else None
    if part:
        context = _trade_context(request, instrument, parts={part})
        return TemplateResponse(request, f"trading/trade.html#{part}", context)
    return TemplateResponse(request, "trading/trade.html", _trade_context(request, instrument))


@login_required
@require_POST
def order_place(request: HttpRequest, symbol: str) -> HttpResponse:
    instrument = _instrument(symbol)
    account = _account(request)
    form = OrderTicketForm(request.POST)
    status = 400
    toast = None
    if form.is_valid():
        try:
            order, _ = services.order_place(
                account=account, request=form.to_request(instrument.symbol), source=OrderSource.WEB
            )
        except DomainError as exc:
            _add_domain_error(form, exc, TICKET_FIELD_ALIASES, TICKET_CODE_FIELDS)
            status = exc.status
            toast = (f"Order refused: {exc.message}", "error")
        else:
            text, kind = presenters.order_outcome(order)
            if not request.htmx:
                (messages.success if kind == "success" else messages.error)(request, text)
                return redirect(_with_account(reverse("trading:trade", args=[symbol]), account))
            context = _trade_context(request, instrument, account=account, parts={"ticket"})
            response = TemplateResponse(request, "trading/trade.html#ticket", context)
            response["X-Order-Id"] = str(order.pk)
            return _trigger(
                response,
                toast=(text, kind),
                refresh=("account", "position", "orders", "summary"),
                order=order.pk,
            )
    if request.htmx:
        context = _trade_context(request, instrument, account=account, form=form, parts={"ticket"})
        response = TemplateResponse(request, "trading/trade.html#ticket", context, status=status)
        return _trigger(response, toast=toast)
    context = _trade_context(request, instrument, account=account, form=form)
    return TemplateResponse(request, "trading/trade.html", context, status=status)


@login_required
@require_GET
def order_estimate(request: HttpRequest, symbol: str) -> HttpResponse:
    """What the ticket's order would cost (htmx: the estimate fragment; else the page)."""
    instrument = _instrument(symbol)
    account = _account(request)
    form = OrderTicketForm(request.GET)
    estimate, missing = None, []
    if form.is_valid():
        estimate = selectors.order_estimate(account, form.to_request(instrument.symbol))
    else:
        missing = [form.fields[name].label.lower() for name in form.errors if name in form.fields]
    if request.htmx:
        context = {"estimate": estimate, "estimate_missing": missing, "instrument": instrument}
        return TemplateResponse(request, "trading/trade.html#estimate", context)
    context = _trade_context(request, instrument, account=account, form=form, estimate=estimate)
    return TemplateResponse(request, "trading/trade.html", context)


# --- actions on orders and positions ------------------------------------------------------------


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    account = _account(request)
    try:
        order = services.order_cancel(account=account, order_id=order_id)
    except DomainError as exc:
        text, kind = exc.message, "error"
        status = exc.status
    else:
        text, kind = f"Order #{order.pk} canceled.", "success"
        status = 200
    if not request.htmx:
        (messages.success if kind == "success" else messages.error)(request, text)
        return redirect(_safe_next(request, _with_account(reverse("trading:portfolio"), account)))
    # The row is removed (hx-swap outerHTML on it); the parts reload to the true state.
    return _trigger(
        HttpResponse("", status=status),
        toast=(text, kind),
        refresh=("orders", "history", "account", "summary"),
        order=order_id,
    )


@login_required
@require_POST
def position_close(request: HttpRequest, symbol: str) -> HttpResponse:
    account = _account(request)
    form = ClosePositionForm(request.POST)
    fallback = _with_account(reverse("trading:portfolio"), account)
    if not form.is_valid():
        message = " ".join(e for errors in form.errors.values() for e in errors)
        if request.htmx:
            return _trigger(HttpResponse("", status=400), toast=(message, "error"))
        messages.error(request, message)
        return redirect(_safe_next(request, fallback))
    percent = form.cleaned_data["percent"]
    if not request.htmx and request.POST.get("confirm") != "yes":
        return _confirm(
            request,
            title=f"Close {symbol.upper()}",
            message=f"Close {plain(percent)} % of your {symbol.upper()} position "
            f"in {account.name} at market?",
            action=reverse("trading:position_close", args=[symbol]),
            button="Close position",
            fields={
                "account": account.pk,
                "percent": percent,
                "next": _safe_next(request, fallback),
            },
            cancel_url=_safe_next(request, fallback),
        )
    try:
        order = services.position_close(
            account=account, symbol=symbol, percent=percent, source=OrderSource.WEB
        )
    except DomainError as exc:
        text, kind, status, order_id = exc.message, "error", exc.status, None
    else:
        text, kind = presenters.order_outcome(order)
        text, status, order_id = f"Closed: {text}", 200, order.pk
    if not request.htmx:
        (messages.success if kind == "success" else messages.error)(request, text)
        return redirect(_safe_next(request, fallback))
    return _trigger(
        HttpResponse("", status=status),
        toast=(text, kind),
        refresh=("position", "positions", "summary", "account", "fills", "activity"),
        order=order_id,
    )


@login_required
@require_POST
def position_protect(request: HttpRequest, symbol: str) -> HttpResponse:
    account = _account(request)
    form = ProtectForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.position_protect(
                account=account,
                symbol=symbol,
                stop_loss=form.cleaned_data["stop_loss"],
                take_profit=form.cleaned_data["take_profit"],
                fields={"stop_loss", "take_profit"},
            )
        except DomainError as exc:
            _add_domain_error(form, exc)
            status = exc.status
        else:
            text = f"{symbol.upper()} stop-loss and take-profit saved."
            if not request.htmx:
                messages.success(request, text)
                fallback = _with_account(reverse("trading:portfolio"), account)
                return redirect(_safe_next(request, fallback))
            context = {"account": account, "symbol": symbol.upper(), "form": form, "saved": True}
            response = TemplateResponse(request, "trading/_protect_form.html", context)
            return _trigger(response, toast=(text, "success"), refresh=("position", "positions"))
    context = {"account": account, "symbol": symbol.upper(), "form": form}
    if request.htmx:
        return TemplateResponse(request, "trading/_protect_form.html", context, status=status)
    context["title"] = f"Stop-loss and take-profit for {symbol.upper()}"
    return TemplateResponse(request, "trading/protect.html", context, status=status)


# --- portfolio, orders, activity ----------------------------------------------------------------


@login_required
@require_GET
def portfolio(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    part = _part(request, PORTFOLIO_PARTS)
    if part:
        account = _account(request)
        next_url = _with_account(reverse("trading:portfolio"), account)
        context = {"next_url": next_url, **presenters.account_panels(account, {part}, now)}
        return TemplateResponse(request, f"trading/portfolio.html#{part}", context)
    switcher = _accounts_and_current(request)
    account = switcher["account"]
    next_url = _with_account(reverse("trading:portfolio"), account)
    context = {
        **switcher,
        **presenters.account_panels(account, {*PORTFOLIO_PARTS, "equity"}, now),
        "next_url": next_url,
    }
    return TemplateResponse(request, "trading/portfolio.html", context)


@login_required
@require_GET
def orders(request: HttpRequest) -> HttpResponse:
    switcher = _accounts_and_current(request)
    account = switcher["account"]
    form = OrderFilterForm(request.GET or None)
    rows = selectors.order_history(account, **form.filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("part", None)
    context = {
        **switcher,
        "form": form,
        "page": page,
        "rows": presenters.order_rows(page.object_list),
        "query": query.urlencode(),
    }
    if _part(request, ("history",)):
        return TemplateResponse(request, "trading/orders.html#history", context)
    return TemplateResponse(request, "trading/orders.html", context)


@login_required
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    switcher = _accounts_and_current(request)
    account = switcher["account"]
    page = Paginator(selectors.ledger_lines(account), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {**switcher, "page": page, "query": f"account={account.pk}"}
    if _part(request, ("activity",)):
        return TemplateResponse(request, "trading/activity.html#activity", context)
    return TemplateResponse(request, "trading/activity.html", context)


# --- trading accounts ---------------------------------------------------------------------------


def _accounts_page(request, *, create_form=None, status=200, errors=None):
    services.account_default_for(request.user)  # a newcomer sees their first account
    accounts = selectors.accounts_for_user(request.user).annotate(
        open_positions=Count("positions", filter=Q(positions__closed_at__isnull=True))
    )
    errors = errors or {}
    context = {
        "rows": [{"account": a, "errors": errors.get(a.pk, [])} for a in accounts],
        "create_form": create_form or AccountCreateForm(),
    }
    return TemplateResponse(request, "trading/accounts.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def accounts(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _accounts_page(request)
    form = AccountCreateForm(request.POST)
    if form.is_valid():
        try:
            account = services.account_open(owner=request.user, **form.cleaned_data)
        except DomainError as exc:
            _add_domain_error(form, exc)
            return _accounts_page(request, create_form=form, status=exc.status)
        messages.success(request, f"Account “{account.name}” opened.")
        return redirect(_with_account(reverse("trading:portfolio"), account))
    return _accounts_page(request, create_form=form, status=400)


@login_required
@require_POST
def account_rename(request: HttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_get_for_user(user=request.user, account_id=account_id)
    form = AccountRenameForm(request.POST)
    if not form.is_valid():
        return _accounts_page(request, status=400, errors={account.pk: form.errors["name"]})
    services.account_update(account=account, name=form.cleaned_data["name"])
    messages.success(request, f"Renamed to “{form.cleaned_data['name']}”.")
    return redirect("trading:accounts")


@login_required
@require_POST
def account_reset(request: HttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_get_for_user(user=request.user, account_id=account_id)
    if request.POST.get("confirm") != "yes":
        return _confirm(
            request,
            title=f"Reset {account.name}",
            message=(
                f"Reset “{account.name}” to its initial balance? Open orders are canceled and "
                "positions closed without trading (their P&L is discarded). History is kept."
            ),
            action=reverse("trading:account_reset", args=[account.pk]),
            button="Reset account",
            fields={},
            cancel_url=reverse("trading:accounts"),
        )
    try:
        services.account_reset(account=account)
    except DomainError as exc:
        return _accounts_page(request, status=exc.status, errors={account.pk: [exc.message]})
    messages.success(request, f"“{account.name}” is back to its initial balance.")
    return redirect("trading:accounts")


@login_required
@require_POST
def account_delete(request: HttpRequest, account_id: int) -> HttpResponse:
    account = selectors.account_get_for_user(user=request.user, account_id=account_id)
    if request.POST.get("confirm") != "yes":
        return _confirm(
            request,
            title=f"Delete {account.name}",
            message=f"Delete “{account.name}”? It disappears from your lists; its ledger "
            "history is kept.",
            action=reverse("trading:account_delete", args=[account.pk]),
            button="Delete account",
            fields={},
            cancel_url=reverse("trading:accounts"),
        )
    try:
        services.account_delete(account=account)
    except DomainError as exc:
        return _accounts_page(
            request, status=exc.status, errors={account.pk: [f"Not deleted: {exc.message}"]}
        )
    messages.success(request, f"“{account.name}” deleted.")
    return redirect("trading:accounts")


# --- dashboard ----------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest, panels: Callable[[], list[str]] | None = None) -> HttpResponse:
    """Home for a signed-in user (called by config.views.home). PANELS are HTML fragments
    from other apps (settings.DASHBOARD_PANELS), shown in the dashboard's panels slot; PANELS
    makes them, called for the whole page only (not for the fragments live updates fetch)."""
    now = timezone.now()
    part = _part(request, DASHBOARD_PARTS)
    if part:
        account = _account(request)
        next_url = _with_account(reverse("home"), account)
        context = {"next_url": next_url, **presenters.account_panels(account, {part}, now)}
        return TemplateResponse(request, f"trading/dashboard.html#{part}", context)
    switcher = _accounts_and_current(request)
    account = switcher["account"]
    next_url = _with_account(reverse("home"), account)
    watchlist, suggested = selectors.watchlist_closes(request.user, now)
    context = {
        **switcher,
        "next_url": next_url,
        **presenters.account_panels(account, {*DASHBOARD_PARTS, "equity"}, now, fills=8),
        "watchlist": presenters.watch_rows(watchlist),
        "watchlist_suggested": suggested,
        "panels": panels() if panels else [],
    }
    return TemplateResponse(request, "trading/dashboard.html", context)
