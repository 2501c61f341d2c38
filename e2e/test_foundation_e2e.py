import asyncio
import json
import urllib.request

import pytest
import websockets

pytestmark = pytest.mark.e2e


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_the_real_stack_is_healthy_and_serves_pages(live_stack):
    with urllib.request.urlopen(f"{live_stack.base_url}/health", timeout=10) as response:
        assert json.loads(response.read()) == {
            "status": "ok",
            "database": "ok",
            "channel_layer": "ok",
            "broker": "ok",
        }
    with urllib.request.urlopen(f"{live_stack.base_url}/", timeout=10) as response:
        assert "Practise trading with virtual money" in response.read().decode()


def test_a_script_signs_up_and_authenticates_a_socket_with_its_token(live_stack):
    tokens = _post_json(
        f"{live_stack.base_url}/api/auth/signup",
        {"email": "script@example.com", "password": "a-long-script-password-1"},
    )

    async def talk() -> list[dict]:
        async with websockets.connect(f"{live_stack.ws_url}/ws/notifications/") as socket:
            await socket.send(json.dumps({"type": "auth", "token": tokens["access"]}))
            first = json.loads(await asyncio.wait_for(socket.recv(), 10))
            await socket.send(json.dumps({"type": "ping"}))
            second = json.loads(await asyncio.wait_for(socket.recv(), 10))
            return [first, second]

    first, second = asyncio.run(talk())
    assert first["type"] == "authenticated"
    assert second == {"type": "pong"}


def test_a_socket_with_a_bad_token_is_closed_with_4401(live_stack):
    async def talk() -> int:
        async with websockets.connect(f"{live_stack.ws_url}/ws/notifications/") as socket:
            await socket.send(json.dumps({"type": "auth", "token": "not-a-token"}))
            try:
                while True:
                    await asyncio.wait_for(socket.recv(), 10)
            except websockets.ConnectionClosed as closed:
                return closed.rcvd.code

    assert asyncio.run(talk()) == 4401
