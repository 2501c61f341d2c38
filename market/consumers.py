"""Tick streams for browsers and scripts (public: no authentication needed).

`/ws/market/`            send {"type": "subscribe" | "unsubscribe", "symbols": [...]};
                         answered with {"type": "subscribed" | "unsubscribed", "symbols": [...]}
                         listing every symbol the socket follows afterwards. Each newly
                         subscribed symbol's current quote follows at once as a `tick` frame
                         marked "snapshot": true. At most MAX_SYMBOLS_PER_SOCKET symbols.
`/ws/market/<symbol>/`   ticks of one instrument from the start (snapshot first); an unknown
                         symbol is closed with 4404.
Errors are {"type": "error", "code", "detail"} and leave the socket open. Ticks are relayed
from the publisher's pre-encoded frames (see market/realtime.py).
"""

import json
import re

from channels.db import database_sync_to_async

from accounts.consumers import CLOSE_NOT_FOUND, JsonSocketConsumer
from market import selectors
from market.realtime import tick_group

MAX_SYMBOLS_PER_SOCKET = 50
MAX_SYMBOLS_PER_MESSAGE = MAX_SYMBOLS_PER_SOCKET
SYMBOL_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,19}$")


def _encode(frame: dict) -> str:
    return json.dumps({**frame, "snapshot": True}, separators=(",", ":"))


class TickSubscriptions:
    """The subscribe/unsubscribe protocol, for any socket that carries ticks: `/ws/market/`,
    and the account socket, so a trading page needs one socket for its ticks and its events.
    Mixed into a JsonSocketConsumer; call `leave_tick_groups` on disconnect."""

    tick_symbols: set[str]

    async def handle_tick_subscription(self, message_type: str, content: dict) -> bool:
        """Handle a subscribe/unsubscribe message; False when the message is something else."""
        if message_type not in ("subscribe", "unsubscribe"):
            return False
        if not hasattr(self, "tick_symbols"):
            self.tick_symbols = set()
        symbols = self._parse_symbols(content.get("symbols"))
        if symbols is None:
            await self.send_error(
                "bad_symbols",
                f'"symbols" must be a non-empty list of at most {MAX_SYMBOLS_PER_MESSAGE} '
                "symbol strings.",
            )
        elif message_type == "subscribe":
            await self._subscribe(symbols)
        else:
            await self._unsubscribe(symbols)
        return True

    async def leave_tick_groups(self) -> None:
        for symbol in getattr(self, "tick_symbols", ()):
            await self.channel_layer.group_discard(tick_group(symbol), self.channel_name)

    @staticmethod
    def _parse_symbols(raw) -> list[str] | None:
        if not isinstance(raw, list) or not raw or len(raw) > MAX_SYMBOLS_PER_MESSAGE:
            return None
        if not all(isinstance(item, str) for item in raw):
            return None
        return list(dict.fromkeys(item.strip().upper() for item in raw))

    async def _subscribe(self, symbols: list[str]) -> None:
        new = [s for s in symbols if s not in self.tick_symbols]
        if len(self.tick_symbols) + len(new) > MAX_SYMBOLS_PER_SOCKET:
            await self.send_error(
                "too_many_symbols",
                f"A socket follows at most {MAX_SYMBOLS_PER_SOCKET} symbols; "
                "unsubscribe from some first. Nothing was subscribed.",
            )
            return
        wellformed = [s for s in new if SYMBOL_RE.match(s)]
        # The snapshot is read before joining: a tick in between is at most one tick of
        # staleness, fixed by the next one (clients ignore frames older than what they hold).
        snapshots = await database_sync_to_async(selectors.tick_snapshots)(wellformed)
        unknown = [s for s in new if s not in snapshots]
        if unknown:
            await self.send_error("unknown_symbol", f"No such instrument: {', '.join(unknown)}.")
        added = [s for s in new if s in snapshots]
        for symbol in added:
            await self.channel_layer.group_add(tick_group(symbol), self.channel_name)
            self.tick_symbols.add(symbol)
        await self.send_json({"type": "subscribed", "symbols": sorted(self.tick_symbols)})
        for symbol in added:
            if snapshots[symbol] is not None:
                await self.send(text_data=_encode(snapshots[symbol]))

    async def _unsubscribe(self, symbols: list[str]) -> None:
        for symbol in symbols:
            if symbol in self.tick_symbols:
                await self.channel_layer.group_discard(tick_group(symbol), self.channel_name)
                self.tick_symbols.discard(symbol)
        await self.send_json({"type": "unsubscribed", "symbols": sorted(self.tick_symbols)})


class MarketConsumer(TickSubscriptions, JsonSocketConsumer):
    """`/ws/market/`: ticks of the symbols this socket subscribed to."""

    async def connect(self):
        self.tick_symbols = set()
        await self.accept()

    async def disconnect(self, code):
        await self.leave_tick_groups()

    async def handle_message(self, message_type: str, content: dict) -> None:
        if not await self.handle_tick_subscription(message_type, content):
            await super().handle_message(message_type, content)


class InstrumentTicksConsumer(JsonSocketConsumer):
    """`/ws/market/<symbol>/`: ticks of one instrument, no subscription needed."""

    group: str | None = None

    async def connect(self):
        symbol = str(self.scope["url_route"]["kwargs"]["symbol"]).upper()
        snapshots = {}
        if SYMBOL_RE.match(symbol):
            snapshots = await database_sync_to_async(selectors.tick_snapshots)([symbol])
        await self.accept()
        if symbol not in snapshots:
            await self.send_error("not_found", f"No instrument {symbol!r}.")
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = tick_group(symbol)
        await self.channel_layer.group_add(self.group, self.channel_name)
        if snapshots[symbol] is not None:
            await self.send(text_data=_encode(snapshots[symbol]))

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
