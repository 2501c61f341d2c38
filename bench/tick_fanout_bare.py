"""Tick fan-out benchmark: the bare `websockets` baseline server (started by bench.tick_fanout).

`python -m bench.tick_fanout_bare PORT` serves WS_PATH on 127.0.0.1:PORT with no framework:
a connected socket joins a set and gets one hello frame (the counterpart of the snapshot that
tells a client it is in the channels group); a run broadcasts each frame to the whole set with
websockets.asyncio.server.broadcast (one encode, then a write per socket, no awaiting).

Commands (JSON lines on stdin):
  {"cmd": "run", "run": id, "ticks": K, "interval": s, "frame": {...}}
  {"cmd": "count"}      sockets currently registered
  {"cmd": "quit"}
"""

import asyncio
import json
import sys
import time

from websockets.asyncio.server import broadcast, serve

from bench.tick_fanout_common import WS_PATH, reply, reply_channel, stamped

MAX_TICKS = 10_000
HELLO = json.dumps({"type": "hello", "snapshot": True})

clients: set = set()


async def handler(websocket) -> None:
    if websocket.request.path != WS_PATH:
        await websocket.close(code=4404)
        return
    clients.add(websocket)
    try:
        await websocket.send(HELLO)
        await websocket.wait_closed()
    finally:
        clients.discard(websocket)


async def run(base: dict, run_id: str, ticks: int, interval: float) -> dict:
    ticks = max(0, min(int(ticks), MAX_TICKS))
    broadcast_ms = []
    first_ns = last_ns = None
    loop = asyncio.get_running_loop()
    start = loop.time()
    for seq in range(ticks):
        delay = start + seq * interval - loop.time()
        # Yield to the loop between frames even in a burst, as any server must.
        await asyncio.sleep(max(0.0, delay))
        frame = stamped(base, run_id, seq)
        if first_ns is None:
            first_ns = frame["bench"]["sent_ns"]
        last_ns = frame["bench"]["sent_ns"]
        began = time.perf_counter()
        broadcast(clients, json.dumps(frame, separators=(",", ":")))
        broadcast_ms.append((time.perf_counter() - began) * 1000)
    return {"ok": True, "first_ns": first_ns, "last_ns": last_ns, "publish_ms": broadcast_ms}


async def main(port: int) -> None:
    out = reply_channel()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=1024):
        reply(out, ready=True)
        while line := await reader.readline():
            command = json.loads(line)
            if command["cmd"] == "run":
                result = await run(
                    command["frame"], command["run"], command["ticks"], command["interval"]
                )
                reply(out, **result)
            elif command["cmd"] == "count":
                reply(out, ok=True, size=len(clients))
            elif command["cmd"] == "quit":
                reply(out, ok=True)
                break


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
