import asyncio
import json
import time
import urllib.request

import pytest
import websockets

pytestmark = pytest.mark.e2e


def test_beat_and_a_worker_stream_ticks_to_a_websocket_client(live_stack):
    """Beat schedules the tick every second, the worker runs it, daphne relays it."""

    async def collect() -> list[dict]:
        ticks: list[dict] = []
        async with websockets.connect(f"{live_stack.ws_url}/ws/market/") as socket:
            await socket.send(json.dumps({"type": "subscribe", "symbols": ["BTC-USD"]}))
            deadline = time.monotonic() + 5
            while len(ticks) < 3 and time.monotonic() < deadline:
                try:
                    message = json.loads(
                        await asyncio.wait_for(socket.recv(), deadline - time.monotonic())
                    )
                except TimeoutError:
                    break
                if message.get("type") == "tick" and not message.get("snapshot"):
                    ticks.append(message)
        return ticks

    ticks = asyncio.run(collect())
    assert len(ticks) >= 3, live_stack.logs()
    assert {tick["symbol"] for tick in ticks} == {"BTC-USD"}
    stamps = [tick["ts"] for tick in ticks]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)  # one tick per second, not a bunched burst


def test_a_script_reads_candles_over_http(live_stack):
    url = f"{live_stack.base_url}/api/market/BTC-USD/candles?timeframe=1m&limit=5"
    with urllib.request.urlopen(url, timeout=10) as response:
        candles = json.loads(response.read())
    assert 1 <= len(candles) <= 5
    assert set(candles[0]) == {"t", "o", "h", "l", "c", "v"}
    assert all(isinstance(candles[0][key], str) for key in ("o", "h", "l", "c", "v"))
