"""Publishing to channel groups, after the surrounding transaction commits."""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def publish_now(group: str, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, {"type": "stream.event", "payload": payload})
    except Exception:
        # A lost stream message is recoverable (clients resync over REST); a failed commit is not.
        logger.exception("publishing to %s failed", group)


def publish_frame_now(group: str, frame: dict) -> None:
    """Send one pre-encoded text frame that consumers relay verbatim."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        text = json.dumps(frame, separators=(",", ":"))
        async_to_sync(layer.group_send)(group, {"type": "stream.frame", "text": text})
    except Exception:
        logger.exception("publishing to %s failed", group)


def publish(group: str, payload: dict) -> None:
    """Publish PAYLOAD to GROUP once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: publish_now(group, payload))
