"""Keep a scheduled job from overlapping itself: `with job_lock(key) as acquired:` never waits.

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`, released in `finally`, and
by the server if the connection dies), so every worker on every machine agrees. Not the
transaction-scoped variant: jobs such as the matcher commit once per account, and one open
transaction for the whole pass would keep every touched row locked until its end.
SQLite (the embedded run, one process): a process-level lock per key.

The services underneath are safe without it (row locks, idempotency markers); the lock saves
work, it is not what keeps money right.
"""

import threading
import zlib
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_PROCESS_LOCKS: dict[int, threading.Lock] = defaultdict(threading.Lock)
_PROCESS_LOCKS_GUARD = threading.Lock()


def job_lock_key(name: str) -> int:
    """A stable 32-bit advisory lock key for job NAME (fits PostgreSQL's bigint key)."""
    return zlib.crc32(f"papertrade.{name}".encode())


@contextmanager
def job_lock(key: int) -> Iterator[bool]:
    """Take the lock KEY without waiting; yields whether this run got it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            (acquired,) = cursor.fetchone()
        try:
            yield bool(acquired)
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    with _PROCESS_LOCKS_GUARD:
        lock = _PROCESS_LOCKS[key]
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
