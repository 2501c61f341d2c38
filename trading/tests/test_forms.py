"""The trading pages' forms: shape only (the services decide every trading rule)."""

from decimal import Decimal

import pytest

from trading.forms import (
    AccountCreateForm,
    ClosePositionForm,
    OrderFilterForm,
    OrderTicketForm,
    ProtectForm,
)
from trading.models import OrderType


def ticket(**fields) -> OrderTicketForm:
    data = {"side": "buy", "type": "market", "quantity": "1", "time_in_force": "gtc"}
    data.update(fields)
    return OrderTicketForm(data)


def test_a_market_ticket_becomes_an_order_request():
    form = ticket(quantity="0.015", client_order_id="abc")
    assert form.is_valid(), form.errors
    request = form.to_request("BTC-USD")
    assert (request.symbol, request.side, request.type) == ("BTC-USD", "buy", "market")
    assert request.quantity == Decimal("0.015")
    assert request.client_order_id == "abc"
    assert request.limit_price is request.stop_price is request.take_profit is None


@pytest.mark.parametrize(
    ("order_type", "missing"),
    [
        ("limit", ["limit_price"]),
        ("stop", ["stop_price"]),
        ("stop_limit", ["stop_price", "limit_price"]),
        ("trailing_stop", ["trail_amount"]),
    ],
)
def test_each_order_type_requires_its_prices(order_type, missing):
    form = ticket(type=order_type)
    assert not form.is_valid()
    assert sorted(form.errors) == sorted(missing)


def test_prices_of_other_order_types_are_ignored():
    form = ticket(type="limit", limit_price="90", stop_price="95", trail_amount="2")
    assert form.is_valid(), form.errors
    request = form.to_request("X")
    assert request.limit_price == Decimal("90")
    assert request.stop_price is None and request.trail_percent is request.trail_price is None


def test_a_trailing_stop_trails_by_percent_or_by_price():
    by_percent = ticket(type="trailing_stop", trail_by="percent", trail_amount="2.5")
    assert by_percent.is_valid(), by_percent.errors
    request = by_percent.to_request("X")
    assert (request.trail_percent, request.trail_price) == (Decimal("2.5"), None)
    by_price = ticket(type="trailing_stop", trail_by="price", trail_amount="40")
    assert by_price.is_valid(), by_price.errors
    request = by_price.to_request("X")
    assert (request.trail_percent, request.trail_price) == (None, Decimal("40"))


def test_brackets_and_time_in_force_pass_through():
    form = ticket(
        type="limit", limit_price="90", take_profit="120", stop_loss="80", time_in_force="ioc"
    )
    assert form.is_valid(), form.errors
    request = form.to_request("X")
    assert (request.take_profit, request.stop_loss, request.time_in_force) == (
        Decimal("120"),
        Decimal("80"),
        "ioc",
    )


@pytest.mark.parametrize(
    "quantity", ["0", "-1", "NaN", "Infinity", "abc", "", "1e400", "0.00000000001"]
)
def test_bad_quantities_are_refused(quantity):
    form = ticket(quantity=quantity)
    assert not form.is_valid()
    assert "quantity" in form.errors


@pytest.mark.parametrize(
    ("field", "value"), [("side", "hold"), ("type", "iceberg"), ("time_in_force", "forever")]
)
def test_unknown_choices_are_refused(field, value):
    form = ticket(**{field: value})
    assert not form.is_valid()
    assert field in form.errors


def test_an_unbound_ticket_carries_a_fresh_client_order_id():
    first, second = OrderTicketForm(), OrderTicketForm()
    assert first["client_order_id"].value() != second["client_order_id"].value()
    assert len(first["client_order_id"].value()) == 32


def test_errors_mark_the_field_invalid_for_assistive_technology():
    form = ticket(quantity="-1")
    form.is_valid()
    widget = str(form["quantity"])
    assert 'aria-invalid="true"' in widget
    assert 'aria-describedby="id_quantity_error"' in widget


@pytest.mark.parametrize(
    ("percent", "valid"),
    [("100", True), ("12.5", True), ("0", False), ("101", False), ("-5", False)],
)
def test_the_close_share_is_above_zero_and_at_most_100(percent, valid):
    assert ClosePositionForm({"percent": percent}).is_valid() is valid


def test_protect_fields_may_be_empty_to_clear_them():
    form = ProtectForm({"stop_loss": "", "take_profit": "120"})
    assert form.is_valid()
    assert form.cleaned_data == {"stop_loss": None, "take_profit": Decimal("120")}
    assert not ProtectForm({"stop_loss": "-3"}).is_valid()


def test_account_creation_checks_the_leverage_cap_and_the_cents(settings):
    settings.TRADING_MAX_LEVERAGE = 50
    ok = AccountCreateForm({"name": "  Swing ", "initial_balance": "2500.50", "max_leverage": "5"})
    assert ok.is_valid(), ok.errors
    assert ok.cleaned_data["name"] == "Swing"
    assert ok.cleaned_data["max_daily_loss"] is None
    too_much = AccountCreateForm({"name": "x", "initial_balance": "1.001", "max_leverage": "51"})
    assert not too_much.is_valid()
    assert set(too_much.errors) == {"initial_balance", "max_leverage"}


def test_order_filters():
    form = OrderFilterForm(
        {"status": "open", "symbol": " btc-usd ", "side": "sell", "type": "limit"}
    )
    assert form.filters() == {
        "status": "open",
        "symbol": "btc-usd",
        "side": "sell",
        "order_type": OrderType.LIMIT,
    }
    assert OrderFilterForm({"status": "sideways"}).filters() == {}
    assert OrderFilterForm({}).filters() == {
        "status": "",
        "symbol": "",
        "side": "",
        "order_type": "",
    }
