"""The trading pages: trade ticket, portfolio, orders, activity, trading accounts, dashboard.

Every page full and as an htmx fragment; every order type through the ticket as a plain POST and
with htmx; refusals next to their field; cancel, close, SL/TP, reset, delete, create; another
user's account is a 404; query counts do not grow with positions and orders.
"""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from market.models import Candle, Instrument, Timeframe, Watchlist
from trading.models import Order, OrderStatus, OrderType, Position, Side, TradingAccount
from trading.services import OrderRequest, order_place
from trading.tests.factories import make_account, make_market

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def alice():
    return UserFactory(email="alice@example.com", display_name="alice")


@pytest.fixture
def bob():
    return UserFactory(email="bob@example.com", display_name="bob")


@pytest.fixture
def alice_client(alice):
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob):
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def btc():
    return make_market("BTC-USD", bid="99.99", ask="100.01")


@pytest.fixture
def account(alice):
    return make_account(alice, leverage=Decimal("2"), is_default=True)


def place(account, **fields):
    fields.setdefault("symbol", "BTC-USD")
    fields.setdefault("side", Side.BUY)
    fields.setdefault("type", OrderType.MARKET)
    fields.setdefault("quantity", Decimal("1"))
    order, _ = order_place(account=account, request=OrderRequest(**fields))
    return order


def ticket(**fields) -> dict:
    data = {"side": "buy", "type": "market", "quantity": "1", "time_in_force": "gtc"}
    data.update(fields)
    return data


def triggers(response) -> dict:
    return json.loads(response["HX-Trigger"])


def html(response) -> str:
    return response.content.decode()


# --- pages and fragments ------------------------------------------------------------------------


def test_the_trade_page_has_the_ticket_the_position_and_the_orders(alice_client, btc, account):
    place(account)
    place(account, type=OrderType.LIMIT, quantity=Decimal("0.5"), limit_price=Decimal("90"))
    response = alice_client.get("/trade/BTC-USD/")
    assert response.status_code == 200
    page = html(response)
    assert 'id="order-ticket"' in page
    assert 'action="/trade/BTC-USD/order"' in page
    for value in ("market", "limit", "stop", "stop_limit", "trailing_stop"):
        assert f'<option value="{value}"' in page
    for value in ("gtc", "day", "ioc", "fok"):
        assert f'<option value="{value}"' in page
    assert 'name="take_profit"' in page and 'name="stop_loss"' in page
    assert 'id="trade-position"' in page and 'data-tick-symbol="BTC-USD"' in page
    assert "Limit 90.00" in page  # the resting order, on the tick grid
    assert f'data-account-id="{account.pk}"' in page  # the live socket's account
    assert "js/live.js" in page and "js/chart.js" in page
    assert "data-chart" in page and 'data-symbol="BTC-USD"' in page  # the market half


def test_an_anonymous_visitor_sees_the_chart_and_a_login_prompt(client, btc):
    page = html(client.get("/trade/BTC-USD/"))
    assert "data-ticket-slot" in page
    assert "Log in</a> or" in page
    assert 'id="order-ticket"' not in page
    assert client.get("/portfolio/").status_code == 302


@pytest.mark.parametrize("part", ["account", "ticket", "position", "orders"])
def test_each_trade_part_is_a_fragment(alice_client, btc, account, part):
    place(account)
    response = alice_client.get(f"/trade/BTC-USD/?account={account.pk}&part={part}", **HTMX)
    assert response.status_code == 200
    assert "<html" not in html(response)
    assert html(response).strip().startswith("<section")


def test_trade_without_a_symbol_keeps_the_account(alice_client, btc, account):
    response = alice_client.get(f"/trade/?account={account.pk}")
    assert response["Location"] == f"/trade/BTC-USD/?account={account.pk}"


@pytest.mark.parametrize("part", ["summary", "positions", "orders", "fills", "activity"])
def test_each_portfolio_part_is_a_fragment(alice_client, btc, account, part):
    place(account)
    response = alice_client.get(f"/portfolio/?account={account.pk}&part={part}", **HTMX)
    assert response.status_code == 200
    assert "<html" not in html(response)
    assert f'data-live-part="{part}"' in html(response)


def test_the_portfolio_shows_cards_positions_orders_fills_activity_and_chart(
    alice_client, btc, account
):
    place(account, quantity=Decimal("2"))
    place(account, type=OrderType.LIMIT, quantity=Decimal("1"), limit_price=Decimal("50"))
    page = html(alice_client.get("/portfolio/"))
    for heading in ("Equity", "Balance", "Margin used", "Free margin", "Day P&amp;L"):
        assert heading in page
    assert "Positions</h2>" in page and "Open orders</h2>" in page
    assert "Recent fills</h2>" in page and "Activity</h2>" in page
    assert 'id="equity-data"' in page and "js/equity-chart.js" in page
    assert "Limit 50.00" in page
    assert "Initial deposit" in page and "Commission" in page
    assert "▲" not in page  # arrows come from CSS classes, next to the colour
    assert 'class="num big down"' in page or 'class="num big up"' in page  # day P&L has a side


def test_empty_states_say_what_to_do(alice_client, btc, account):
    page = html(alice_client.get("/portfolio/"))
    assert "No open positions yet — open the" in page
    assert "No fills yet" in page
    dashboard = html(alice_client.get("/"))
    # Watching nothing: suggestions to star, with live prices like a watchlist.
    assert "You watch nothing yet" in dashboard
    assert 'data-tick-symbol="BTC-USD"' in dashboard
    assert 'action="/markets/BTC-USD/watch"' in dashboard


def test_the_dashboard_lists_positions_and_sends_to_the_portfolio_to_manage_them(
    alice_client, btc, account
):
    place(account)
    dashboard = html(alice_client.get("/"))
    positions = dashboard.split('id="positions"')[1].split("</section>")[0]
    assert 'data-tick-symbol="BTC-USD"' in positions
    assert "/positions/BTC-USD/close" not in positions  # an overview: no per-row forms
    assert f'href="/portfolio/?account={account.pk}"' in positions
    portfolio = html(alice_client.get("/portfolio/"))
    assert 'action="/positions/BTC-USD/close"' in portfolio
    assert 'action="/positions/BTC-USD/protect"' in portfolio


def test_a_trader_who_watches_something_gets_no_suggestions(alice_client, alice, btc, account):
    eth = make_market("ETH-USD", bid="9.99", ask="10.01")
    Watchlist.objects.create(user=alice, instrument=eth)
    dashboard = html(alice_client.get("/"))
    assert "You watch nothing yet" not in dashboard
    assert 'data-tick-symbol="ETH-USD"' in dashboard
    assert 'data-tick-symbol="BTC-USD"' not in dashboard


def test_orders_history_filters_and_pages(alice_client, btc, account):
    place(account)
    for i in range(30):
        place(account, type=OrderType.LIMIT, quantity=Decimal("0.1"), limit_price=Decimal(50 + i))
    eth = make_market("ETH-USD", bid="9.99", ask="10.01")
    place(account, symbol=eth.symbol, side=Side.SELL, quantity=Decimal("1"))
    page = html(alice_client.get("/orders/"))
    assert "Page 1 of 2" in page
    filtered = alice_client.get("/orders/", {"symbol": "eth-usd", "part": "history"}, **HTMX)
    assert "<html" not in html(filtered)
    assert "ETH-USD" in html(filtered) and "Limit 5" not in html(filtered)
    by_status = html(alice_client.get("/orders/", {"status": "filled"}))
    assert by_status.count("<td>Filled") == 2
    by_type = html(alice_client.get("/orders/", {"type": "limit", "side": "buy"}))
    assert "Market" not in by_type.split('id="history"')[1]
    assert "No orders match" in html(alice_client.get("/orders/", {"side": "sell", "type": "stop"}))


def test_activity_lists_the_ledger_lines(alice_client, btc, account):
    place(account)
    page = html(alice_client.get("/activity/"))
    assert "Initial deposit" in page and "+100,000.00" in page
    fragment = alice_client.get("/activity/", {"part": "activity"}, **HTMX)
    assert "<html" not in html(fragment) and "Deposit" in html(fragment)


def test_the_navigation_points_to_the_trading_pages(alice_client, btc, account):
    page = html(alice_client.get("/portfolio/"))
    assert 'href="/trade/"' in page and 'href="/portfolio/"' in page and 'href="/orders/"' in page


# --- the ticket: every order type, plain and htmx -----------------------------------------------

ORDER_CASES = [
    ("market", {}, OrderStatus.FILLED),
    ("limit", {"limit_price": "90"}, OrderStatus.NEW),
    ("stop", {"stop_price": "110"}, OrderStatus.NEW),
    ("stop_limit", {"stop_price": "110", "limit_price": "111"}, OrderStatus.NEW),
    ("trailing_stop", {"trail_by": "percent", "trail_amount": "5"}, OrderStatus.NEW),
    ("trailing_stop", {"trail_by": "price", "trail_amount": "3"}, OrderStatus.NEW),
]


@pytest.mark.parametrize(("order_type", "fields", "status"), ORDER_CASES)
def test_every_order_type_as_a_plain_post(alice_client, btc, account, order_type, fields, status):
    response = alice_client.post(
        "/trade/BTC-USD/order", ticket(type=order_type, account=account.pk, **fields)
    )
    assert response.status_code == 302
    assert response["Location"] == f"/trade/BTC-USD/?account={account.pk}"
    order = Order.objects.get(account=account)
    assert (order.type, order.status, order.source) == (order_type, status, "web")
    if fields.get("trail_by") == "percent":
        assert order.trail_percent == Decimal("5") and order.trail_price is None
    if fields.get("trail_by") == "price":
        assert order.trail_price == Decimal("3") and order.trail_percent is None
    followed = html(alice_client.get(response["Location"]))
    expected = "Bought 1 BTC-USD at" if status == OrderStatus.FILLED else f"order #{order.pk}"
    assert expected in followed


@pytest.mark.parametrize(("order_type", "fields", "status"), ORDER_CASES)
def test_every_order_type_with_htmx(alice_client, btc, account, order_type, fields, status):
    data = ticket(type=order_type, client_order_id="ticket-1", **fields)
    response = alice_client.post("/trade/BTC-USD/order", data, **HTMX)
    assert response.status_code == 200
    order = Order.objects.get(account=account)
    assert (order.type, order.status) == (order_type, status)
    assert "<html" not in html(response)
    assert html(response).strip().startswith('<section id="ticket"')
    events = triggers(response)
    assert events["pt-toast"]["kind"] == "success"
    assert events["pt-toast"]["order"] == order.pk
    assert f"#{order.pk}" in events["pt-toast"]["text"]
    assert {"position", "orders"} <= set(events["pt-refresh"]["parts"])
    # A fresh ticket: a new client_order_id, so the next order is a new one.
    assert order.client_order_id == "ticket-1"
    assert 'name="client_order_id"' in html(response) and "ticket-1" not in html(response)


def test_a_bracket_order_and_the_time_in_force_reach_the_order(alice_client, btc, account):
    alice_client.post(
        "/trade/BTC-USD/order",
        ticket(
            type="limit", limit_price="95", time_in_force="day", take_profit="120", stop_loss="80"
        ),
        **HTMX,
    )
    order = Order.objects.get(account=account, parent__isnull=True)
    assert order.time_in_force == "day" and order.expires_at is not None
    assert (order.take_profit_price, order.stop_loss_price) == (Decimal("120"), Decimal("80"))


def test_the_same_ticket_sent_twice_places_one_order(alice_client, btc, account):
    data = ticket(type="limit", limit_price="90", client_order_id="tkt-1")
    alice_client.post("/trade/BTC-USD/order", data, **HTMX)
    alice_client.post("/trade/BTC-USD/order", data, **HTMX)
    assert Order.objects.filter(account=account).count() == 1


def test_a_refused_order_shows_its_reason_by_the_field_and_creates_nothing(
    alice_client, btc, account
):
    response = alice_client.post("/trade/BTC-USD/order", ticket(quantity="5000"), **HTMX)
    assert response.status_code == 422
    page = html(response)
    error = page.split('id="id_quantity_error"', 1)[1].split("</small>", 1)[0]
    assert "of margin;" in error and "is free" in error
    assert 'aria-invalid="true"' in page
    assert triggers(response)["pt-toast"]["kind"] == "error"
    assert not Order.objects.exists()


def test_a_refusal_with_a_price_field_is_shown_next_to_it(alice_client, btc, account):
    response = alice_client.post(
        "/trade/BTC-USD/order", ticket(type="limit", limit_price="90.005"), **HTMX
    )
    assert response.status_code == 422
    error = html(response).split('id="id_limit_price_error"', 1)[1].split("</small>", 1)[0]
    assert "multiples of 0.01" in error
    assert not Order.objects.exists()


def test_a_refused_plain_post_renders_the_page_with_the_error(alice_client, btc, account):
    response = alice_client.post("/trade/BTC-USD/order", ticket(quantity="5000"))
    assert response.status_code == 422
    page = html(response)
    assert "<html" in page and "is free" in page
    assert 'value="5000"' in page  # what was typed stays
    assert not Order.objects.exists()


def test_a_malformed_ticket_is_a_400_with_field_errors(alice_client, btc, account):
    response = alice_client.post("/trade/BTC-USD/order", ticket(type="limit"), **HTMX)
    assert response.status_code == 400
    assert "Limit price is required for a limit order." in html(response)
    response = alice_client.post("/trade/BTC-USD/order", ticket(quantity="NaN"), **HTMX)
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_the_estimate_shows_cost_commission_and_margin(alice_client, btc, account):
    response = alice_client.get(
        "/trade/BTC-USD/estimate",
        {
            "side": "buy",
            "type": "limit",
            "quantity": "10",
            "limit_price": "100",
            "time_in_force": "gtc",
        },
        **HTMX,
    )
    page = html(response)
    assert response.status_code == 200 and "<html" not in page
    assert "1,000.10" in page  # notional at the worse of the limit and the ask (100.01)
    assert "0.21" in page  # commission: 0.02 % of the notional, rounded up
    assert "500.05" in page  # margin at 2x
    assert "99,499.74" in page  # free margin after
    assert not Order.objects.exists()


def test_the_estimate_button_works_without_javascript(alice_client, btc, account):
    response = alice_client.get("/trade/BTC-USD/estimate", ticket(quantity="2"))
    page = html(response)
    assert "<html" in page and "Free margin after" in page


def test_the_estimate_warns_when_margin_is_short(alice_client, btc, account):
    page = html(alice_client.get("/trade/BTC-USD/estimate", ticket(quantity="5000"), **HTMX))
    assert "Not enough free margin" in page


# --- cancel, close, SL/TP -----------------------------------------------------------------------


def test_cancel_with_htmx_and_as_a_plain_post(alice_client, btc, account):
    first = place(account, type=OrderType.LIMIT, limit_price=Decimal("90"))
    second = place(account, type=OrderType.LIMIT, limit_price=Decimal("91"))
    response = alice_client.post(f"/orders/{first.pk}/cancel", {"account": account.pk}, **HTMX)
    assert response.status_code == 200
    assert triggers(response)["pt-toast"]["text"] == f"Order #{first.pk} canceled."
    assert "orders" in triggers(response)["pt-refresh"]["parts"]
    response = alice_client.post(
        f"/orders/{second.pk}/cancel", {"account": account.pk, "next": "/orders/"}
    )
    assert response.status_code == 302 and response["Location"] == "/orders/"
    assert set(Order.objects.values_list("status", flat=True)) == {OrderStatus.CANCELED}


def test_canceling_a_closed_order_says_why(alice_client, btc, account):
    filled = place(account)
    response = alice_client.post(f"/orders/{filled.pk}/cancel", {}, **HTMX)
    assert response.status_code == 409
    assert "already filled" in triggers(response)["pt-toast"]["text"]


def test_closing_asks_first_then_closes_part_of_the_position(alice_client, btc, account):
    place(account, quantity=Decimal("4"))
    data = {"account": account.pk, "percent": "50"}
    asked = alice_client.post("/positions/BTC-USD/close", data)
    assert asked.status_code == 200
    assert "Close 50 % of your BTC-USD position" in html(asked)
    assert Position.objects.get(closed_at__isnull=True).quantity == Decimal("4")
    done = alice_client.post("/positions/BTC-USD/close", {**data, "confirm": "yes"})
    assert done.status_code == 302
    assert Position.objects.get(closed_at__isnull=True).quantity == Decimal("2")
    with_htmx = alice_client.post(
        "/positions/BTC-USD/close", {**data, "percent": "100", "confirm": "yes"}, **HTMX
    )
    assert with_htmx.status_code == 200
    assert triggers(with_htmx)["pt-toast"]["text"].startswith("Closed: Sold 2 BTC-USD")
    assert not Position.objects.filter(closed_at__isnull=True).exists()


def test_closing_without_a_position_is_a_404(alice_client, btc, account):
    data = {"percent": "100", "confirm": "yes"}
    assert alice_client.post("/positions/BTC-USD/close", data, **HTMX).status_code == 404


def test_stop_loss_and_take_profit_edit(alice_client, btc, account):
    place(account)
    response = alice_client.post(
        "/positions/BTC-USD/protect", {"stop_loss": "90", "take_profit": "120"}, **HTMX
    )
    assert response.status_code == 200
    assert "Saved." in html(response)
    position = Position.objects.get(closed_at__isnull=True)
    assert (position.stop_loss, position.take_profit) == (Decimal("90"), Decimal("120"))
    cleared = alice_client.post("/positions/BTC-USD/protect", {"stop_loss": "", "take_profit": ""})
    assert cleared.status_code == 302
    position.refresh_from_db()
    assert (position.stop_loss, position.take_profit) == (None, None)


def test_a_stop_loss_on_the_wrong_side_is_shown_by_the_field(alice_client, btc, account):
    place(account)
    response = alice_client.post("/positions/BTC-USD/protect", {"stop_loss": "150"}, **HTMX)
    assert response.status_code == 422
    page = html(response)
    assert 'aria-invalid="true"' in page and "would trigger at once" in page
    assert Position.objects.get(closed_at__isnull=True).stop_loss is None


# --- trading accounts ---------------------------------------------------------------------------


def test_create_an_account(alice_client, alice):
    response = alice_client.post(
        "/trading-accounts/",
        {"name": "Swing", "initial_balance": "25000", "max_leverage": "5", "max_daily_loss": "500"},
    )
    created = TradingAccount.objects.get(owner=alice, name="Swing")
    assert response["Location"] == f"/portfolio/?account={created.pk}"
    assert created.cash_account.balance == Decimal("25000.00")
    assert (created.max_leverage, created.max_daily_loss) == (Decimal("5"), Decimal("500"))


def test_creating_an_account_with_bad_input_shows_the_errors(alice_client, alice):
    response = alice_client.post(
        "/trading-accounts/", {"name": "", "initial_balance": "-1", "max_leverage": "500"}
    )
    assert response.status_code == 400
    page = html(response)
    assert "This field is required." in page and "At most 100." in page
    assert not TradingAccount.objects.filter(owner=alice).exclude(is_default=True).exists()


def test_rename_reset_and_delete(alice_client, btc, account):
    assert alice_client.get("/trading-accounts/").status_code == 200
    alice_client.post(f"/trading-accounts/{account.pk}/rename", {"name": "Renamed"})
    account.refresh_from_db()
    assert account.name == "Renamed"

    place(account, quantity=Decimal("3"))
    asked = alice_client.post(f"/trading-accounts/{account.pk}/reset")
    assert "Reset “Renamed” to its initial balance?" in html(asked)
    assert Position.objects.filter(closed_at__isnull=True).exists()
    done = alice_client.post(f"/trading-accounts/{account.pk}/reset", {"confirm": "yes"})
    assert done.status_code == 302
    account.refresh_from_db()
    assert account.cash_account.balance == account.initial_balance
    assert not Position.objects.filter(closed_at__isnull=True).exists()

    alice_client.post(f"/trading-accounts/{account.pk}/delete", {"confirm": "yes"})
    account.refresh_from_db()
    assert account.is_archived


def test_deleting_an_account_with_positions_shows_the_409_reason(alice_client, btc, account):
    place(account)
    response = alice_client.post(f"/trading-accounts/{account.pk}/delete", {"confirm": "yes"})
    assert response.status_code == 409
    assert "Not deleted: Close the open positions first." in html(response)
    account.refresh_from_db()
    assert not account.is_archived


def test_the_account_switcher_selects_another_account(alice_client, alice, btc, account):
    other = make_account(alice, name="Second")
    page = html(alice_client.get(f"/portfolio/?account={other.pk}"))
    assert f'<option value="{other.pk}" selected>Second</option>' in page
    assert f'data-account-id="{other.pk}"' in page


# --- ownership ----------------------------------------------------------------------------------


def test_bob_cannot_see_or_act_on_alices_account(bob_client, btc, account):
    order = place(account, type=OrderType.LIMIT, limit_price=Decimal("90"))
    place(account)
    a = account.pk
    for url in (
        f"/portfolio/?account={a}",
        f"/orders/?account={a}",
        f"/activity/?account={a}",
        f"/trade/BTC-USD/?account={a}",
        f"/?account={a}",
        f"/trade/BTC-USD/estimate?account={a}&side=buy&type=market&quantity=1&time_in_force=gtc",
    ):
        assert bob_client.get(url).status_code == 404, url
    posts = [
        ("/trade/BTC-USD/order", ticket(account=a)),
        (f"/orders/{order.pk}/cancel", {"account": a}),
        (f"/orders/{order.pk}/cancel", {}),  # his own default account: not his order
        ("/positions/BTC-USD/close", {"account": a, "percent": "100", "confirm": "yes"}),
        ("/positions/BTC-USD/protect", {"account": a, "stop_loss": "90"}),
        (f"/trading-accounts/{a}/rename", {"name": "Mine"}),
        (f"/trading-accounts/{a}/reset", {"confirm": "yes"}),
        (f"/trading-accounts/{a}/delete", {"confirm": "yes"}),
    ]
    for url, data in posts:
        assert bob_client.post(url, data).status_code == 404, url
        assert bob_client.post(url, data, **HTMX).status_code == 404, url
    order.refresh_from_db()
    account.refresh_from_db()
    assert order.status == OrderStatus.NEW
    assert account.name == "Main" and not account.is_archived
    assert Order.objects.filter(account=account).count() == 2


# --- dashboard ----------------------------------------------------------------------------------


def test_home_is_the_landing_page_for_visitors_and_the_dashboard_when_logged_in(
    client, alice_client, btc, account
):
    assert "Practise trading with virtual money" in html(client.get("/"))
    page = html(alice_client.get("/"))
    assert "<h1>Dashboard</h1>" in page
    assert "Open positions</h2>" in page and "Recent fills</h2>" in page


def test_the_dashboard_watchlist_has_live_prices_and_a_sparkline(alice_client, alice, btc, account):
    Watchlist.objects.create(user=alice, instrument=btc)
    now = timezone.now().replace(second=0, microsecond=0)
    for i, close in enumerate(["100", "101", "99.5", "102"]):
        Candle.objects.create(
            instrument=btc,
            timeframe=Timeframe.M1,
            ts=now - timezone.timedelta(minutes=4 - i),
            open=Decimal(close),
            high=Decimal(close),
            low=Decimal(close),
            close=Decimal(close),
        )
    page = html(alice_client.get("/"))
    assert 'data-tick-symbol="BTC-USD"' in page and 'data-tick-field="last"' in page
    assert '<svg class="sparkline up"' in page
    assert 'points="0.0,' in page


@pytest.mark.parametrize("part", ["summary", "positions", "fills"])
def test_each_dashboard_part_is_a_fragment(alice_client, btc, account, part):
    place(account)
    response = alice_client.get(f"/?account={account.pk}&part={part}", **HTMX)
    assert response.status_code == 200 and "<html" not in html(response)


def my_panel(request):
    return "trading/_dashboard_panel_example.html", {"text": f"Panel for {request.user}"}


def test_other_apps_add_dashboard_panels_through_settings(
    alice_client, btc, account, settings, tmp_path
):
    (tmp_path / "trading").mkdir()
    (tmp_path / "trading" / "_dashboard_panel_example.html").write_text(
        '<section class="panel-example">{{ text }}</section>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    settings.DASHBOARD_PANELS = ["trading.tests.test_views.my_panel"]
    page = html(alice_client.get("/"))
    assert '<section class="panel-example">Panel for alice@example.com</section>' in page


PANEL_CALLS: list[str] = []


def counting_panel(request):
    PANEL_CALLS.append(request.get_full_path())


def test_live_fragment_refreshes_do_not_build_the_other_apps_panels(
    alice_client, btc, account, settings
):
    settings.DASHBOARD_PANELS = ["trading.tests.test_views.counting_panel"]
    PANEL_CALLS.clear()
    alice_client.get(f"/?account={account.pk}&part=positions", **HTMX)
    assert PANEL_CALLS == []
    alice_client.get("/")
    assert PANEL_CALLS == ["/"]


# --- query counts -------------------------------------------------------------------------------


def crowd(account, *, positions: int, orders: int) -> None:
    """POSITIONS open positions in as many instruments and ORDERS resting limit orders."""
    instruments = [
        Instrument.objects.filter(symbol=f"Q{i:03d}-USD").first() or make_market(f"Q{i:03d}-USD")
        for i in range(positions)
    ]
    Position.objects.bulk_create(
        Position(account=account, instrument=inst, quantity=Decimal("1"), avg_price=Decimal("99"))
        for inst in instruments
    )
    Order.objects.bulk_create(
        Order(
            account=account,
            instrument=instruments[i % len(instruments)],
            side=Side.BUY,
            type=OrderType.LIMIT,
            quantity=Decimal("0.01"),
            limit_price=Decimal("50"),
            source="web",
        )
        for i in range(orders)
    )


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


def test_dashboard_and_trade_page_queries_do_not_grow_with_rows(alice_client, alice, btc, account):
    urls = ("/", "/trade/Q000-USD/", "/portfolio/", "/orders/")
    crowd(account, positions=1, orders=1)
    few = {url: count_queries(alice_client, url) for url in urls}
    big = make_account(alice, name="Big", balance=Decimal("1000000"))
    crowd(big, positions=50, orders=200)  # instruments are shared (get_or_create)
    many = {url: count_queries(alice_client, f"{url}?account={big.pk}") for url in urls}
    assert many == few


def test_dashboard_and_trade_page_query_budget(
    alice_client, btc, account, django_assert_max_num_queries
):
    crowd(account, positions=50, orders=200)
    alice_client.get("/")  # warm up: session, content types
    # session, user, accounts, summary (positions+quotes, day-start equity), positions, equity
    # points, fills, watchlist (or suggestions) + closes, and the tournaments panel (2).
    with django_assert_max_num_queries(14):
        response = alice_client.get("/")
    positions = html(response).split('id="positions"')[1].split("</section>")[0]
    assert positions.count('data-tick-symbol="Q') == 50
    with django_assert_max_num_queries(10):
        response = alice_client.get("/trade/Q007-USD/")
    assert "Q007-USD" in html(response)
