"""What a hostile or careless client can send to /api/accounts: every bad input is a 4xx with a
stable code and writes nothing; another user's objects are 404; fields a client must not set
are refused; the same client_order_id sent concurrently creates one order."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tests.factories import UserFactory
from ledger.models import Journal, Posting
from trading.models import Fill, Order, OrderStatus, Position, TradingAccount
from trading.tests.factories import make_account, make_market

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@example.com", display_name="alice")


@pytest.fixture
def bob(db):
    return UserFactory(email="bob@example.com", display_name="bob")


@pytest.fixture
def market(db):
    return make_market("BTC-USD", bid="99.99", ask="100.01")


@pytest.fixture
def alice_account(alice):
    return make_account(alice, leverage=Decimal("2"))


@pytest.fixture
def alice_api(alice):
    return client_for(alice)


@pytest.fixture
def bob_api(bob):
    return client_for(bob)


def snapshot() -> dict:
    """Everything a request could have written."""
    return {
        "orders": list(Order.objects.order_by("pk").values_list("pk", "status", "quantity")),
        "fills": Fill.objects.count(),
        "journals": Journal.objects.count(),
        "postings": Posting.objects.count(),
        "positions": list(
            Position.objects.order_by("pk").values_list(
                "pk", "quantity", "stop_loss", "take_profit", "closed_at"
            )
        ),
        "accounts": list(
            TradingAccount.objects.order_by("pk").values_list(
                "pk", "owner_id", "name", "max_leverage", "max_daily_loss", "is_archived"
            )
        ),
    }


ORDER = {"symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": "1"}


# --- authentication and isolation ---------------------------------------------------------------


ENDPOINTS = [
    ("get", "", None),
    ("patch", "", {"name": "mine now"}),
    ("delete", "", None),
    ("post", "/reset", None),
    ("get", "/orders", None),
    ("post", "/orders", ORDER),
    ("get", "/orders/{order}", None),
    ("delete", "/orders/{order}", None),
    ("get", "/positions", None),
    ("get", "/positions?is_open=false", None),
    ("get", "/positions/BTC-USD", None),
    ("patch", "/positions/BTC-USD", {"stop_loss": "90"}),
    ("post", "/positions/close", {"symbol": "BTC-USD"}),
    ("get", "/fills", None),
    ("get", "/ledger", None),
    ("get", "/history", None),
]


@pytest.fixture
def alice_with_trades(alice_api, alice_account, market):
    """Alice holds a position and a resting order."""
    alice_api.post(f"/api/accounts/{alice_account.pk}/orders", ORDER, format="json")
    resting = alice_api.post(
        f"/api/accounts/{alice_account.pk}/orders",
        {**ORDER, "type": "limit", "limit_price": "90"},
        format="json",
    )
    return alice_account, resting.json()["id"]


def _call(client, method, path, body):
    kwargs = {"format": "json"} if body is not None else {}
    return getattr(client, method)(path, body, **kwargs)


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS)
def test_bob_cannot_see_or_touch_alices_account(bob_api, alice_with_trades, method, suffix, body):
    account, order_id = alice_with_trades
    before = snapshot()
    path = f"/api/accounts/{account.pk}" + suffix.format(order=order_id)
    response = _call(bob_api, method, path, body)
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert snapshot() == before


@pytest.mark.parametrize("method", ["get", "delete"])
def test_bob_cannot_reach_alices_order_through_his_own_account(
    bob, bob_api, alice_with_trades, method
):
    _, order_id = alice_with_trades
    bob_account = make_account(bob)
    before = snapshot()
    response = getattr(bob_api, method)(f"/api/accounts/{bob_account.pk}/orders/{order_id}")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert snapshot() == before
    assert Order.objects.get(pk=order_id).status == OrderStatus.NEW


def test_bob_lists_only_his_own_accounts(alice_account, bob, bob_api):
    results = bob_api.get("/api/accounts").json()["results"]
    assert [a["id"] for a in results] == list(
        TradingAccount.objects.filter(owner=bob).values_list("pk", flat=True)
    )
    assert alice_account.pk not in [a["id"] for a in results]


@pytest.mark.parametrize(("method", "suffix", "body"), ENDPOINTS)
def test_every_endpoint_needs_authentication(alice_with_trades, method, suffix, body):
    account, order_id = alice_with_trades
    before = snapshot()
    path = f"/api/accounts/{account.pk}" + suffix.format(order=order_id)
    response = _call(APIClient(), method, path, body)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert snapshot() == before


def test_a_bad_token_is_401(alice_account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get("/api/accounts")
    assert response.status_code == 401
    assert response.json()["code"]


@pytest.mark.parametrize(
    "account_part", ["abc", "1.5", "-1", "99999999999999999999999999", "0x1", "%00", "1%20"]
)
def test_an_account_id_that_is_not_an_integer_or_not_there_is_404(alice_api, account_part):
    for suffix in ("", "/orders", "/positions"):
        response = alice_api.get(f"/api/accounts/{account_part}{suffix}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_paths_have_no_trailing_slash_and_never_redirect(alice_api, alice_account):
    response = alice_api.post("/api/accounts/", {"name": "x"}, format="json")
    assert response.status_code == 404
    response = alice_api.get(f"/api/accounts/{alice_account.pk}/orders/")
    assert response.status_code == 404


# --- malformed orders ---------------------------------------------------------------------------

BAD_NUMBERS = [
    ("-1", "not_positive"),
    ("0", "not_positive"),
    ("0.000", "not_positive"),
    (0, "not_positive"),
    (-5, "not_positive"),
    ("NaN", "not_finite"),
    ("nan", "not_finite"),
    ("sNaN", "not_finite"),
    ("Infinity", "not_finite"),
    ("-Infinity", "not_finite"),
    ("1e400", "max_whole_digits"),
    ("123456789012345", "max_whole_digits"),
    (10**30, "max_whole_digits"),
    ("1" * 80, "invalid"),
    ("0.00000000001", "max_decimal_places"),
    ("abc", "invalid"),
    ("1,5", "invalid"),
    ("0x10", "invalid"),
    ("", "invalid"),
    ("   ", "invalid"),
    (True, "invalid"),
    (False, "invalid"),
    ([], "invalid"),
    ({}, "invalid"),
    ([1], "invalid"),
]


def _assert_refused(response, field, code):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == code, body
    assert field in body["errors"], body
    assert body["detail"]


@pytest.mark.parametrize(("value", "code"), BAD_NUMBERS)
def test_a_bad_quantity_is_refused_and_writes_nothing(
    alice_api, alice_account, market, value, code
):
    before = snapshot()
    response = alice_api.post(
        f"/api/accounts/{alice_account.pk}/orders", {**ORDER, "quantity": value}, format="json"
    )
    _assert_refused(response, "quantity", code)
    assert snapshot() == before


@pytest.mark.parametrize(("value", "code"), BAD_NUMBERS)
@pytest.mark.parametrize(
    ("order_type", "field", "extra"),
    [
        ("limit", "limit_price", {}),
        ("stop", "stop_price", {}),
        ("trailing_stop", "trail_price", {}),
        ("trailing_stop", "trail_percent", {}),
        ("market", "take_profit", {}),
    ],
)
def test_bad_prices_are_refused_and_write_nothing(
    alice_api, alice_account, market, value, code, order_type, field, extra
):
    before = snapshot()
    if field == "take_profit":
        body = {**ORDER, "take_profit": {"limit_price": value}}
    else:
        body = {**ORDER, "type": order_type, field: value, **extra}
    response = alice_api.post(f"/api/accounts/{alice_account.pk}/orders", body, format="json")
    _assert_refused(response, field, code)
    assert snapshot() == before


@pytest.mark.parametrize(
    "raw",
    [
        '{"symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": NaN}',
        '{"symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": Infinity}',
        '{"symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": -Infinity}',
        '{"symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": 1',
        "not json",
        "[" * 100_000,
        '"a string"',
        "[1, 2]",
        "null",
        "42",
    ],
)
def test_malformed_json_is_a_400_with_a_code(alice_api, alice_account, market, raw):
    before = snapshot()
    response = alice_api.post(
        f"/api/accounts/{alice_account.pk}/orders", raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] in {"parse_error", "invalid", "null"}
    assert snapshot() == before


def test_only_json_is_accepted(alice_api, alice_account, market):
    before = snapshot()
    response = alice_api.post(f"/api/accounts/{alice_account.pk}/orders", ORDER)  # multipart
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"symbol": None}, "symbol", "null"),
        ({"side": None}, "side", "null"),
        ({"side": "BUY"}, "side", "invalid_choice"),
        ({"side": "hold"}, "side", "invalid_choice"),
        ({"side": 1}, "side", "invalid_choice"),
        ({"type": "iceberg"}, "type", "invalid_choice"),
        ({"type": ["market"]}, "type", "invalid_choice"),
        ({"time_in_force": "gtd"}, "time_in_force", "invalid_choice"),
        ({"symbol": "X" * 33}, "symbol", "max_length"),
        ({"symbol": "BTC\u0000USD"}, "symbol", "null_characters_not_allowed"),
        ({"symbol": {"a": 1}}, "symbol", "invalid"),
        ({"symbol": 42}, "symbol", "invalid"),
        ({"client_order_id": "x" * 65}, "client_order_id", "max_length"),
        ({"client_order_id": "a\nb"}, "client_order_id", "invalid"),
        ({"client_order_id": 12}, "client_order_id", "invalid"),
        ({"type": "limit"}, "limit_price", "required"),
        ({"type": "limit", "limit_price": None}, "limit_price", "required"),
        ({"type": "stop"}, "stop_price", "required"),
        ({"type": "stop_limit", "stop_price": "110"}, "limit_price", "required"),
        ({"type": "stop_limit", "limit_price": "110"}, "stop_price", "required"),
        ({"type": "trailing_stop"}, "trail_percent", "required"),
        (
            {"type": "trailing_stop", "trail_percent": "1", "trail_price": "1"},
            "trail_percent",
            "not_allowed",
        ),
        ({"limit_price": "100"}, "limit_price", "not_allowed"),
        ({"stop_price": "100"}, "stop_price", "not_allowed"),
        ({"trail_percent": "1"}, "trail_percent", "not_allowed"),
        ({"type": "limit", "limit_price": "90", "stop_price": "80"}, "stop_price", "not_allowed"),
        ({"type": "stop", "stop_price": "110", "trail_price": "1"}, "trail_price", "not_allowed"),
        ({"take_profit": "110"}, "take_profit", "invalid"),
        ({"take_profit": {}}, "take_profit", "required"),
        ({"stop_loss": {"limit_price": "90"}}, "stop_loss", "unknown_field"),
        ({"take_profit": {"limit_price": "110", "quantity": "5"}}, "take_profit", "unknown_field"),
    ],
)
def test_malformed_orders_are_refused_with_field_errors(
    alice_api, alice_account, market, changes, field, code
):
    before = snapshot()
    body = {**ORDER, **changes}
    response = alice_api.post(f"/api/accounts/{alice_account.pk}/orders", body, format="json")
    _assert_refused(response, field, code)
    assert snapshot() == before


@pytest.mark.parametrize("missing", ["symbol", "side", "type", "quantity"])
def test_missing_order_fields_are_refused(alice_api, alice_account, market, missing):
    before = snapshot()
    body = {key: value for key, value in ORDER.items() if key != missing}
    response = alice_api.post(f"/api/accounts/{alice_account.pk}/orders", body, format="json")
    _assert_refused(response, missing, "required")
    assert snapshot() == before


@pytest.mark.parametrize(
    "field",
    ["status", "filled_quantity", "owner", "account", "balance", "price", "leverage", "source"],
)
def test_fields_a_client_must_not_set_are_refused_on_orders(
    alice_api, alice_account, market, field
):
    before = snapshot()
    body = {**ORDER, field: "filled" if field == "status" else "1"}
    response = alice_api.post(f"/api/accounts/{alice_account.pk}/orders", body, format="json")
    _assert_refused(response, field, "unknown_field")
    assert snapshot() == before


# --- accounts: bad input and fields a client must not set ---------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"initial_balance": "-5"}, "initial_balance", "not_positive"),
        ({"initial_balance": "0"}, "initial_balance", "not_positive"),
        ({"initial_balance": "NaN"}, "initial_balance", "not_finite"),
        ({"initial_balance": "1e20"}, "initial_balance", "max_whole_digits"),
        ({"initial_balance": "10.005"}, "initial_balance", "max_decimal_places"),
        ({"initial_balance": True}, "initial_balance", "invalid"),
        ({"max_leverage": "0"}, "max_leverage", "not_positive"),
        ({"max_leverage": "1e6"}, "max_leverage", "max_whole_digits"),
        ({"max_daily_loss": "-1"}, "max_daily_loss", "not_positive"),
        ({"name": ""}, "name", "blank"),
        ({"name": "x" * 61}, "name", "max_length"),
        ({"balance": "1000000"}, "balance", "unknown_field"),
        ({"owner": 1}, "owner", "unknown_field"),
        ({"is_default": True}, "is_default", "unknown_field"),
        ({"realized_pnl": "5"}, "realized_pnl", "unknown_field"),
        ({"rules": 1}, "rules", "unknown_field"),
    ],
)
def test_bad_account_input_is_refused_and_writes_nothing(alice, alice_api, body, field, code):
    before = snapshot()
    response = alice_api.post(
        "/api/accounts",
        {"name": "New", "initial_balance": "1000", "max_leverage": "2", **body},
        format="json",
    )
    _assert_refused(response, field, code)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"max_leverage": "101"}, "leverage_out_of_range"),
        ({"max_leverage": "0.5"}, "leverage_out_of_range"),
        ({"initial_balance": "99999999999"}, "initial_balance_out_of_range"),
    ],
)
def test_leverage_and_balance_beyond_the_caps_are_refused(alice, alice_api, body, code):
    before = snapshot()
    response = alice_api.post(
        "/api/accounts",
        {"name": "New", "initial_balance": "1000", "max_leverage": "2", **body},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"balance": "1000000"}, 400, "unknown_field"),
        ({"owner": 2}, 400, "unknown_field"),
        ({"initial_balance": "5"}, 400, "unknown_field"),
        ({"is_archived": True}, 400, "unknown_field"),
        ({"event_seq": 0}, 400, "unknown_field"),
        ({"max_leverage": "500"}, 422, "leverage_out_of_range"),
        ({"max_leverage": "NaN"}, 400, "not_finite"),
        ({"max_daily_loss": "0"}, 400, "not_positive"),
        ({"name": None}, 400, "null"),
    ],
)
def test_an_account_update_never_writes_what_a_client_must_not_set(
    alice_api, alice_account, body, status, code
):
    before = snapshot()
    balance = alice_account.cash_account.balance
    response = alice_api.patch(f"/api/accounts/{alice_account.pk}", body, format="json")
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert snapshot() == before
    alice_account.refresh_from_db()
    alice_account.cash_account.refresh_from_db()
    assert alice_account.cash_account.balance == balance
    assert alice_account.max_leverage == Decimal("2")


# --- positions: bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"quantity": "1", "percent": "50"}, "percent", "not_allowed"),
        ({"percent": "150"}, "percent", "max_value"),
        ({"percent": "0"}, "percent", "not_positive"),
        ({"quantity": "-1"}, "quantity", "not_positive"),
        ({"quantity": "NaN"}, "quantity", "not_finite"),
        ({"symbol": None}, "symbol", "null"),
        ({"side": "sell"}, "side", "unknown_field"),
    ],
)
def test_bad_close_requests_are_refused(alice_api, alice_with_trades, body, field, code):
    account, _ = alice_with_trades
    before = snapshot()
    response = alice_api.post(
        f"/api/accounts/{account.pk}/positions/close", {"symbol": "BTC-USD", **body}, "json"
    )
    _assert_refused(response, field, code)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"stop_loss": "-1"}, "stop_loss", "not_positive"),
        ({"take_profit": "Infinity"}, "take_profit", "not_finite"),
        ({"take_profit": "1e50"}, "take_profit", "max_whole_digits"),
        ({"quantity": "5"}, "quantity", "unknown_field"),
        ({"avg_price": "1"}, "avg_price", "unknown_field"),
    ],
)
def test_bad_protection_is_refused(alice_api, alice_with_trades, body, field, code):
    account, _ = alice_with_trades
    before = snapshot()
    response = alice_api.patch(f"/api/accounts/{account.pk}/positions/BTC-USD", body, "json")
    _assert_refused(response, field, code)
    assert snapshot() == before


@pytest.mark.parametrize("query", ["?is_open=maybe", "?status=x", "?period=5Y"])
def test_bad_query_parameters_are_400(alice_api, alice_account, query):
    path = {
        "?is_open=maybe": "/positions",
        "?status=x": "/orders",
        "?period=5Y": "/history",
    }[query]
    response = alice_api.get(f"/api/accounts/{alice_account.pk}{path}{query}")
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "invalid_choice"}


# --- concurrency (PostgreSQL) -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real threads"
)
def test_the_same_client_order_id_sent_concurrently_creates_one_order():
    alice = UserFactory(email="alice@example.com")
    account = make_account(alice, leverage=Decimal("2"))
    make_market("BTC-USD", bid="99.99", ask="100.01")
    token = str(AccessToken.for_user(alice))
    body = (
        '{"symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": "1",'
        ' "client_order_id": "same-id"}'
    )
    barrier = threading.Barrier(32)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def send():
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            barrier.wait(timeout=30)
            response = client.post(
                f"/api/accounts/{account.pk}/orders", body, content_type="application/json"
            )
            with lock:
                answers.append((response.status_code, response.json()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 32
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * 31 + [201]
    (order,) = Order.objects.filter(account=account)
    assert {answer["id"] for _, answer in answers} == {order.pk}
    assert order.client_order_id == "same-id"
    assert Fill.objects.filter(account=account).count() == 1
    assert Position.objects.get(account=account).quantity == Decimal("1")
