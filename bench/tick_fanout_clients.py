"""Tick fan-out benchmark: one client process holding many WebSocket connections (asyncio,
`websockets` client, no compression, no client pings), started by bench.tick_fanout.

A socket counts as connected once its first frame arrived: the snapshot from daphne (sent
after the consumer joined the tick group) or the hello of the bare server (sent after it joined
the broadcast set). Frames of the armed run are counted once per (socket, seq); the receipt
time is taken before parsing, and latency = receipt time.time_ns() - the frame's sent_ns.

Commands (JSON lines on stdin):
  {"cmd": "connect", "url": u, "n": N, "concurrency": c, "timeout": s}
  {"cmd": "arm", "run": id}                  count frames of this run from now on
  {"cmd": "collect", "expected": E, "quiet": s, "deadline": s}
      wait until E unique frames arrived, or nothing arrived for `quiet` seconds, or
      `deadline` seconds passed; reply with the counts and the latencies (microseconds)
  {"cmd": "close"}                            close every socket
  {"cmd": "quit"}
"""

import asyncio
import json
import sys
import time
from array import array

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.tick_fanout_common import reply, reply_channel

MAX_SOCKETS = 10_000
ATTEMPTS = 3  # per socket; a refused or timed-out handshake is retried after 0.5 s


class Fleet:
    def __init__(self) -> None:
        self.sockets: list = []
        self.tasks: list[asyncio.Task] = []
        self.closing = False
        self.disconnected = 0
        self.arm(None)

    def arm(self, run: str | None) -> None:
        self.run = run
        self.seen = [0] * len(self.sockets)
        self.latency_us = array("q")
        self.received = self.duplicates = self.stale = 0
        self.first_ns = self.last_ns = None
        self.last_activity = time.monotonic()
        self.disconnected = 0

    async def connect(self, url: str, n: int, concurrency: int, timeout: float) -> dict:
        n = max(0, min(int(n), MAX_SOCKETS - len(self.sockets)))
        gate = asyncio.Semaphore(max(1, int(concurrency)))
        errors: list[str] = []
        began = time.monotonic()

        failed = retried = 0

        async def attempt():
            websocket = await connect(
                url, compression=None, open_timeout=timeout, ping_interval=None, close_timeout=2
            )
            try:
                await asyncio.wait_for(websocket.recv(), timeout)
            except BaseException:
                websocket.transport.abort()
                raise
            return websocket

        async def one() -> None:
            nonlocal failed, retried
            async with gate:
                for attempt_number in range(ATTEMPTS):
                    try:
                        websocket = await attempt()
                        break
                    except Exception as exc:
                        if len(errors) < 5:
                            errors.append(f"{type(exc).__name__}: {exc}")
                        if attempt_number + 1 == ATTEMPTS:
                            failed += 1
                            return
                        retried += 1
                        await asyncio.sleep(0.5)
            index = len(self.sockets)
            self.sockets.append(websocket)
            self.seen.append(0)
            self.tasks.append(asyncio.create_task(self.read(websocket, index)))

        await asyncio.gather(*(one() for _ in range(n)))
        return {
            "ok": True,
            "connected": n - failed,
            "failed": failed,
            "retried": retried,
            "errors": errors,
            "seconds": round(time.monotonic() - began, 2),
        }

    async def read(self, websocket, index: int) -> None:
        try:
            async for message in websocket:
                now = time.time_ns()
                if self.run is None or '"bench"' not in message:
                    continue
                bench = json.loads(message)["bench"]
                if bench["run"] != self.run:
                    self.stale += 1
                    continue
                bit = 1 << bench["seq"]
                if self.seen[index] & bit:
                    self.duplicates += 1
                    continue
                self.seen[index] |= bit
                self.latency_us.append((now - bench["sent_ns"]) // 1000)
                self.received += 1
                if self.first_ns is None:
                    self.first_ns = now
                self.last_ns = now
                self.last_activity = time.monotonic()
        except ConnectionClosed:
            pass
        if not self.closing:
            self.disconnected += 1

    async def collect(self, expected: int, quiet: float, deadline: float) -> dict:
        now = time.monotonic()
        end = now + deadline
        self.last_activity = max(self.last_activity, now)
        while time.monotonic() < end:
            if self.received >= expected or time.monotonic() - self.last_activity > quiet:
                break
            await asyncio.sleep(0.02)
        return {
            "ok": True,
            "received": self.received,
            "duplicates": self.duplicates,
            "stale": self.stale,
            "disconnected": self.disconnected,
            "first_ns": self.first_ns,
            "last_ns": self.last_ns,
            "latency_us": self.latency_us.tolist(),
        }

    async def close(self) -> dict:
        self.closing = True
        gate = asyncio.Semaphore(200)

        async def one(websocket) -> None:
            async with gate:
                try:
                    await asyncio.wait_for(websocket.close(), 5)
                except Exception:
                    websocket.transport.abort()

        began = time.monotonic()
        await asyncio.gather(*(one(ws) for ws in self.sockets))
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        count = len(self.sockets)
        self.sockets, self.tasks, self.closing = [], [], False
        self.arm(None)
        return {"ok": True, "closed": count, "seconds": round(time.monotonic() - began, 2)}


async def main() -> None:
    out = reply_channel()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    fleet = Fleet()
    reply(out, ready=True)
    while line := await reader.readline():
        command = json.loads(line)
        name = command["cmd"]
        if name == "connect":
            result = await fleet.connect(
                command["url"], command["n"], command["concurrency"], command["timeout"]
            )
        elif name == "arm":
            fleet.arm(command["run"])
            result = {"ok": True}
        elif name == "collect":
            result = await fleet.collect(command["expected"], command["quiet"], command["deadline"])
        elif name == "close":
            result = await fleet.close()
        elif name == "quit":
            await fleet.close()
            reply(out, ok=True)
            return
        else:
            result = {"ok": False, "error": f"unknown command {name!r}"}
        reply(out, **result)


if __name__ == "__main__":
    asyncio.run(main())
