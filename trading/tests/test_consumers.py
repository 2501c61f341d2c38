"""`/ws/accounts/{id}/`: the owner's live stream, with a snapshot and a per-account sequence."""

import asyncio
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.consumers import CLOSE_NOT_FOUND
from accounts.tests.factories import UserFactory
from config.asgi import application
from config.realtime import publish_frame_now
from market.models import Quote
from market.realtime import tick_frame, tick_group
from trading.tests.factories import make_account, make_market

pytestmark = pytest.mark.django_db(transaction=True)

# Database work runs through database_sync_to_async, which closes the worker thread's connection
# afterwards (plain sync_to_async would leave it open and block dropping the test database).

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
EVENT_TYPES = {"order_update", "fill", "position_update", "balance_update"}


async def connect(path: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def authenticate(communicator, user) -> None:
    token = await database_sync_to_async(lambda: str(AccessToken.for_user(user)))()
    await communicator.send_json_to({"type": "auth", "token": token})


def _alice_with_account():
    alice = UserFactory(email="alice@example.com", display_name="alice")
    return alice, make_account(alice, leverage=Decimal("2"))


def _place_market_order(user, account) -> dict:
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    response = client.post(
        f"/api/accounts/{account.pk}/orders",
        {"symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": "2"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


async def test_the_owner_gets_a_snapshot_then_every_event_of_an_api_order_in_sequence():
    alice, account = await database_sync_to_async(_alice_with_account)()
    await database_sync_to_async(make_market)("BTC-USD", bid="99.99", ask="100.01")
    communicator = await connect(f"/ws/accounts/{account.pk}/")
    await authenticate(communicator, alice)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "authenticated"
    snapshot = await communicator.receive_json_from(timeout=5)
    assert snapshot == {
        "type": "snapshot",
        "seq": 0,
        "account": {
            "id": account.pk,
            "balance": "100000.00",
            "equity": "100000.00",
            "unrealized_pnl": "0.00",
            "margin_used": "0.00",
            "free_margin": "100000.00",
            "realized_pnl": "0.00",
        },
    }

    order = await database_sync_to_async(_place_market_order)(alice, account)

    events = []
    while not events or events[-1]["type"] != "balance_update":
        events.append(await communicator.receive_json_from(timeout=5))
    assert {event["type"] for event in events} == EVENT_TYPES
    assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
    assert all(event["account"] == account.pk for event in events)
    order_updates = [event for event in events if event["type"] == "order_update"]
    assert order_updates[0]["id"] == order["id"]
    assert order_updates[-1]["status"] == "filled"
    (fill,) = [event for event in events if event["type"] == "fill"]
    assert (fill["order_id"], Decimal(fill["quantity"])) == (order["id"], Decimal("2"))
    (position,) = [event for event in events if event["type"] == "position_update"]
    assert position["symbol"] == "BTC-USD"
    assert Decimal(position["quantity"]) == Decimal("2")
    assert events[-1]["balance"] == "99999.95"

    # A socket opened now starts its sequence where the stream left off.
    late = await connect(f"/ws/accounts/{account.pk}/")
    await authenticate(late, alice)
    await late.receive_json_from(timeout=5)
    late_snapshot = await late.receive_json_from(timeout=5)
    assert late_snapshot["seq"] == events[-1]["seq"]
    assert late_snapshot["account"]["balance"] == "99999.95"

    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()
    await late.disconnect()


async def test_bobs_socket_on_alices_account_is_closed_with_4404():
    _, account = await database_sync_to_async(_alice_with_account)()
    bob = await database_sync_to_async(UserFactory)(email="bob@example.com")
    communicator = await connect(f"/ws/accounts/{account.pk}/")
    await authenticate(communicator, bob)
    error = await communicator.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "not_found")
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


async def test_bob_receives_nothing_of_alices_events():
    alice, account = await database_sync_to_async(_alice_with_account)()
    await database_sync_to_async(make_market)("BTC-USD", bid="99.99", ask="100.01")
    bob = await database_sync_to_async(UserFactory)(email="bob@example.com")
    bob_account = await database_sync_to_async(make_account)(bob)
    communicator = await connect(f"/ws/accounts/{bob_account.pk}/")
    await authenticate(communicator, bob)
    await communicator.receive_json_from(timeout=5)  # authenticated
    assert (await communicator.receive_json_from(timeout=5))["type"] == "snapshot"
    await database_sync_to_async(_place_market_order)(alice, account)
    await asyncio.sleep(0.3)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


@pytest.mark.parametrize("account_part", ["abc", "999999", "-1", "1.5"])
async def test_an_unknown_or_malformed_account_is_closed_with_4404(account_part):
    alice, _ = await database_sync_to_async(_alice_with_account)()
    communicator = await connect(f"/ws/accounts/{account_part}/")
    await authenticate(communicator, alice)
    assert (await communicator.receive_json_from(timeout=5))["code"] == "not_found"
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == CLOSE_NOT_FOUND


async def test_a_session_cookie_authenticates_the_account_socket():
    alice, account = await database_sync_to_async(_alice_with_account)()
    client = Client()
    await database_sync_to_async(client.force_login)(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = WebsocketCommunicator(
        application, f"/ws/accounts/{account.pk}/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "authenticated"
    assert (await communicator.receive_json_from(timeout=5))["type"] == "snapshot"
    await communicator.disconnect()


async def test_an_unauthenticated_socket_gets_nothing_and_is_closed():
    _, account = await database_sync_to_async(_alice_with_account)()
    communicator = await connect(f"/ws/accounts/{account.pk}/")
    await communicator.send_json_to({"type": "subscribe"})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "auth_required"
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == 4401


async def test_the_account_socket_also_carries_the_ticks_it_subscribes_to():
    """One socket per trading page: account events and the on-screen symbols' ticks."""
    alice, account = await database_sync_to_async(_alice_with_account)()
    btc = await database_sync_to_async(make_market)("BTC-USD", bid="99.99", ask="100.01")
    await database_sync_to_async(make_market)("ETH-USD", bid="9.99", ask="10.01")
    communicator = await connect(f"/ws/accounts/{account.pk}/")
    await authenticate(communicator, alice)
    assert (await communicator.receive_json_from(timeout=5))["type"] == "authenticated"
    assert (await communicator.receive_json_from(timeout=5))["type"] == "snapshot"

    await communicator.send_json_to({"type": "subscribe", "symbols": ["btc-usd", "NOPE"]})
    error = await communicator.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "unknown_symbol")
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "subscribed",
        "symbols": ["BTC-USD"],
    }
    snapshot = await communicator.receive_json_from(timeout=5)
    assert (snapshot["type"], snapshot["symbol"], snapshot["snapshot"]) == ("tick", "BTC-USD", True)

    quote = await database_sync_to_async(lambda: Quote.objects.get(pk=btc.pk))()
    quote.last = Decimal("100.50")
    frame = tick_frame("BTC-USD", quote)
    await database_sync_to_async(publish_frame_now)(tick_group("ETH-USD"), frame)
    await database_sync_to_async(publish_frame_now)(tick_group("BTC-USD"), frame)
    # Frames of one socket arrive in order: the unsubscribed ETH group's frame never comes.
    assert await communicator.receive_json_from(timeout=5) == frame

    # The account's own events still flow on the same socket.
    await database_sync_to_async(_place_market_order)(alice, account)
    seen = {(await communicator.receive_json_from(timeout=5))["type"] for _ in range(4)}
    assert seen <= EVENT_TYPES | {"tick"} and "fill" in seen

    await communicator.send_json_to({"type": "unsubscribe", "symbols": ["BTC-USD"]})
    while (message := await communicator.receive_json_from(timeout=5))["type"] != "unsubscribed":
        pass
    assert message["symbols"] == []
    await communicator.disconnect()


async def test_tick_subscriptions_on_the_account_socket_need_authentication_first():
    _, account = await database_sync_to_async(_alice_with_account)()
    communicator = await connect(f"/ws/accounts/{account.pk}/")
    await communicator.send_json_to({"type": "subscribe", "symbols": ["BTC-USD"]})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "auth_required"
    assert (await communicator.receive_output(timeout=5))["code"] == 4401
