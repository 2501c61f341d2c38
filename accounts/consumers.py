"""WebSocket consumer bases shared by every app, and the user's notification stream.

Close codes (documented in the README):
  4401  not authenticated: no valid session and no valid `auth` message within the time limit
  4404  the stream does not exist or is not yours
"""

import asyncio
import contextlib
import json
import logging

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from accounts.selectors import user_for_access_token

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class JsonSocketConsumer(AsyncJsonWebsocketConsumer):
    """JSON messages with a `type`; answers ping with pong and bad input with an `error`."""

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self.send_error("bad_message", "Send JSON text frames.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self.send_error("bad_message", "Messages must be JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_error("bad_message", 'Messages are objects with a "type".')
            return
        if content["type"] == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.handle_message(content["type"], content)

    async def handle_message(self, message_type: str, content: dict) -> None:
        await self.send_error("unknown_type", f"Unknown message type {message_type!r}.")

    async def send(self, text_data=None, bytes_data=None, close=False):
        # A browser that leaves while we await the database (e.g. the auth hop of a page it
        # closes at once) is gone: daphne raises on the send; the disconnect follows anyway.
        with contextlib.suppress(Disconnected):
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def send_json(self, content, close=False):
        # Channels' send_json calls its parent's send directly; route it through ours.
        await self.send(text_data=await self.encode_json(content), close=close)

    async def send_error(self, code: str, detail: str) -> None:
        await self.send_json({"type": "error", "code": code, "detail": detail})

    async def dispatch(self, message):
        """Relay published frames without Channels' per-message database hop.

        Channels 4.2+ runs close_old_connections in the sync thread before every handler: one
        thread round trip per socket per frame, serialised, which dominated a tick's fan-out
        (bench/tick_fanout.py). Relaying touches no database; handlers that do still use
        database_sync_to_async, which closes old connections around each call itself.
        """
        if message["type"] == "stream.frame":
            await self.stream_frame(message)
        elif message["type"] == "stream.event":
            await self.stream_event(message)
        else:
            await super().dispatch(message)

    async def stream_event(self, event: dict) -> None:
        """Relay an event published with type "stream.event" (its `payload` is the message)."""
        await self.send_json(event["payload"])

    async def stream_frame(self, event: dict) -> None:
        """Relay a pre-encoded JSON text frame (published once, sent to many sockets)."""
        await self.send(text_data=event["text"])


class AuthenticatedJsonConsumer(JsonSocketConsumer):
    """A socket that needs a user: the session cookie, or `{"type": "auth", "token": <JWT>}`
    as the first message within WS_AUTH_TIMEOUT_SECONDS. Tokens never travel in URLs.

    Subclasses implement `groups_for(user)`: the channel groups this user may join on this
    socket, or None when the stream does not exist or is not theirs (closed with 4404).
    """

    user = None

    async def connect(self):
        self.joined_groups: list[str] = []
        self._auth_deadline: asyncio.Task | None = None
        await self.accept()
        session_user = self.scope.get("user")
        if session_user is not None and session_user.is_authenticated:
            await self._authenticated(session_user)
        else:
            self._auth_deadline = asyncio.ensure_future(self._close_if_not_authenticated())

    async def _close_if_not_authenticated(self) -> None:
        await asyncio.sleep(settings.WS_AUTH_TIMEOUT_SECONDS)
        if self.user is None:
            await self.send_error("auth_timeout", "Not authenticated in time.")
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def disconnect(self, code):
        if self._auth_deadline is not None:
            self._auth_deadline.cancel()
        for group in self.joined_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def handle_message(self, message_type: str, content: dict) -> None:
        if self.user is None:
            if message_type != "auth":
                await self.send_error("auth_required", 'Send {"type": "auth", "token": ...} first.')
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            user = await database_sync_to_async(user_for_access_token)(content.get("token"))
            if user is None:
                await self.send_error("token_not_valid", "Token is invalid or expired.")
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            await self._authenticated(user)
            return
        if message_type == "auth":
            await self.send_error("already_authenticated", "This socket is authenticated.")
            return
        await self.handle_authenticated_message(message_type, content)

    async def handle_authenticated_message(self, message_type: str, content: dict) -> None:
        await super().handle_message(message_type, content)

    async def _authenticated(self, user) -> None:
        if self._auth_deadline is not None:
            self._auth_deadline.cancel()
        groups = await database_sync_to_async(self.groups_for)(user)
        if groups is None:
            await self.send_error("not_found", "No such stream.")
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.user = user
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined_groups.append(group)
        await self.send_json({"type": "authenticated", "user": user.display_name})
        await self.on_authenticated()

    def groups_for(self, user) -> list[str] | None:
        """Subclasses name their stream's groups; a socket without one has nothing to join."""
        return None

    async def on_authenticated(self) -> None:
        """Hook for subclasses, e.g. to send a snapshot."""


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


class NotificationsConsumer(AuthenticatedJsonConsumer):
    """`/ws/notifications/`: messages for the user (liquidations, tournament results, ...)."""

    def groups_for(self, user) -> list[str]:
        return [user_group(user.pk)]
