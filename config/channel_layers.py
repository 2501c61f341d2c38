"""The channels-redis layer with a receive path that stays linear in the number of sockets.

channels-redis 4 (core.RedisChannelLayer) lets every consumer of a process compete for one
asyncio.Lock to read the process's shared Redis list: each waiting consumer holds a pending
`lock.acquire()` task, and asyncio.Lock.acquire() scans every queued waiter, so one group
message to N sockets of a process costs O(N^2) (about a second per tick at 3,000 sockets; see
bench/tick_fanout.py). Here one receiver task per process reads that list and hands each
message to the per-channel buffers, and consumers just wait on their buffer: O(N) per message.

Unchanged from channels-redis: the Redis keys and messages (processes running either class
interoperate), capacity (a full process list drops group messages silently, a full per-socket
buffer drops its oldest message), expiry, the in-flight backup list, sends and groups.
"""

import asyncio

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer


class _ReceiverFailed:
    """Put in a waiting consumer's buffer when the receiver task failed, to raise there."""

    def __init__(self, error: BaseException):
        self.error = error


class RedisChannelLayer(_RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._receiver: asyncio.Task | None = None
        self._receiver_loop = None
        self._receivers = 0

    async def receive(self, channel):
        if "!" not in channel:
            return await super().receive(channel)
        assert self.require_valid_channel_name(channel)
        real_channel = self.non_local_name(channel)
        assert real_channel.endswith(self.client_prefix + "!"), "Wrong client prefix"
        loop = asyncio.get_running_loop()
        running = self._receiver is not None and not self._receiver.done()
        if running and self._receiver_loop is not loop:
            raise RuntimeError("Two event loops are trying to receive() on one channel layer!")
        self._receivers += 1
        try:
            if not running:
                self._receiver_loop = loop
                self._receiver = loop.create_task(self._receive_into_buffers(real_channel))
            buffer = self.receive_buffer[channel]
            message = await buffer.get()
            if buffer.empty() and self.receive_buffer.get(channel) is buffer:
                del self.receive_buffer[channel]
        except asyncio.CancelledError:
            self.receive_buffer.pop(channel, None)
            raise
        finally:
            self._receivers -= 1
            if self._receivers == 0 and self._receiver is not None:
                # Nobody waits: stop reading Redis (a cancelled read leaves the message in
                # the backup list, which the next read puts back first).
                self._receiver.cancel()
                self._receiver = None
        if isinstance(message, _ReceiverFailed):
            raise message.error
        return message

    async def _receive_into_buffers(self, real_channel: str) -> None:
        try:
            while self._receivers > 0:
                message_channel, message = await self.receive_single(real_channel)
                if isinstance(message_channel, list):
                    for name in message_channel:
                        self.receive_buffer[name].put_nowait(message)
                else:
                    self.receive_buffer[message_channel].put_nowait(message)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # Fail the waiting consumers as channels-redis would (the one reading raised).
            failed = _ReceiverFailed(error)
            for buffer in list(self.receive_buffer.values()):
                buffer.put_nowait(failed)
