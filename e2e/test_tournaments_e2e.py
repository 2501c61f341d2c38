import asyncio
import json
import time
import urllib.request

import pytest
import websockets

pytestmark = pytest.mark.e2e


def test_beat_recomputes_standings_and_they_arrive_on_the_tournament_socket(live_stack):
    url = f"{live_stack.base_url}/api/tournaments?status=running"
    with urllib.request.urlopen(url, timeout=10) as response:
        running = json.loads(response.read())["results"]
    assert running, "the seed adds a running tournament"
    tournament_id = running[0]["id"]

    async def collect() -> tuple[dict, dict | None]:
        path = f"{live_stack.ws_url}/ws/tournaments/{tournament_id}/"
        async with websockets.connect(path) as socket:
            snapshot = json.loads(await asyncio.wait_for(socket.recv(), 10))
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(socket.recv(), deadline - time.monotonic())
                except TimeoutError:
                    break
                message = json.loads(raw)
                if message.get("type") == "standings" and not message.get("snapshot"):
                    return snapshot, message
        return snapshot, None

    snapshot, update = asyncio.run(collect())
    assert snapshot["type"] == "standings"
    assert update is not None, live_stack.logs()
    assert update["rows"], update
    ranks = [row["rank"] for row in update["rows"] if row["rank"] is not None]
    assert ranks == sorted(ranks)
