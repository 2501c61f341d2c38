import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.consumers import CLOSE_UNAUTHENTICATED, user_group
from accounts.tests.factories import UserFactory
from config.asgi import application
from config.realtime import publish_now

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def connect(path="/ws/notifications/", headers=(ORIGIN,)):
    communicator = WebsocketCommunicator(application, path, headers=list(headers))
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def test_a_session_cookie_authenticates_the_socket():
    user = await sync_to_async(UserFactory)()
    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    communicator = await connect(headers=(ORIGIN, (b"cookie", cookie)))
    message = await communicator.receive_json_from(timeout=5)
    assert message == {"type": "authenticated", "user": user.display_name}
    await communicator.disconnect()


async def test_a_jwt_as_the_first_message_authenticates_and_events_arrive():
    user = await sync_to_async(UserFactory)()
    communicator = await connect(headers=())
    await communicator.send_json_to({"type": "auth", "token": str(AccessToken.for_user(user))})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "authenticated"
    await sync_to_async(publish_now)(user_group(user.pk), {"type": "notice", "text": "hello"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "notice", "text": "hello"}
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.parametrize("token", ["garbage", "", None, 42])
async def test_a_bad_token_closes_the_socket_with_4401(token):
    await sync_to_async(UserFactory)()
    communicator = await connect()
    await communicator.send_json_to({"type": "auth", "token": token})
    error = await communicator.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == "token_not_valid"
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_a_refresh_token_cannot_authenticate_a_socket():
    user = await sync_to_async(UserFactory)()
    communicator = await connect()
    refresh = await sync_to_async(RefreshToken.for_user)(user)
    await communicator.send_json_to({"type": "auth", "token": str(refresh)})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "token_not_valid"
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == CLOSE_UNAUTHENTICATED


async def test_anything_but_auth_first_closes_the_socket():
    communicator = await connect()
    await communicator.send_json_to({"type": "subscribe"})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "auth_required"
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == CLOSE_UNAUTHENTICATED


async def test_a_silent_socket_is_closed_after_the_auth_timeout(settings):
    settings.WS_AUTH_TIMEOUT_SECONDS = 0.2
    communicator = await connect()
    assert (await communicator.receive_json_from(timeout=5))["code"] == "auth_timeout"
    closed = await communicator.receive_output(timeout=5)
    assert closed["code"] == CLOSE_UNAUTHENTICATED


async def test_malformed_messages_get_an_error_and_the_socket_stays_open():
    communicator = await connect()
    await communicator.send_to(text_data="{nope")
    assert (await communicator.receive_json_from(timeout=5))["code"] == "bad_message"
    await communicator.send_json_to(["a list"])
    assert (await communicator.receive_json_from(timeout=5))["code"] == "bad_message"
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused_at_the_handshake():
    communicator = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[(b"origin", b"https://evil.example")]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert not connected


async def test_a_send_to_a_browser_that_already_left_is_dropped_quietly():
    """daphne raises autobahn's Disconnected when a frame goes to a socket the browser closed
    while the consumer awaited something (e.g. the auth database hop)."""
    from autobahn.exception import Disconnected

    from accounts.consumers import JsonSocketConsumer

    sent = []

    async def gone(message):
        sent.append(message)
        raise Disconnected("Attempt to send on a closed protocol")

    consumer = JsonSocketConsumer()
    consumer.base_send = gone
    await consumer.send_json({"type": "authenticated"})
    await consumer.send_error("not_found", "No such stream.")
    await consumer.send(text_data="{}")
    assert [m["type"] for m in sent] == ["websocket.send"] * 3
