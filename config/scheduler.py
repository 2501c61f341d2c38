"""In-process scheduler for the embedded run (`manage.py serve` without Celery beat).

Each registered job runs in its own asyncio task on the server's event loop: the job's service
function is called in a worker thread, then the task sleeps until the next slot. A job never
overlaps itself, and slots missed while a run was slow are skipped rather than run in a burst.
Running the service from a worker thread of the server's loop matters: channel-layer sends made
with `async_to_sync` inside it are carried out on that loop, where the in-memory layer lives.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass
class ScheduledJob:
    name: str
    interval: float
    func: Callable[[], object]
    runs: int = 0
    failures: int = 0


class InProcessScheduler:
    def __init__(self) -> None:
        self.jobs: list[ScheduledJob] = []
        self._tasks: list[asyncio.Task] = []
        self._stopping = asyncio.Event()

    def register(self, name: str, interval: float, func: Callable[[], object]) -> ScheduledJob:
        job = ScheduledJob(name=name, interval=interval, func=func)
        self.jobs.append(job)
        return job

    def register_configured_jobs(self) -> None:
        from config.jobs import JOBS

        for job in JOBS:
            self.register(job.name, job.interval, import_string(job.service))

    def start(self) -> None:
        """Start every job's loop on the running event loop."""
        self._stopping.clear()
        self._tasks = [asyncio.ensure_future(self._run_job(job)) for job in self.jobs]

    async def stop(self) -> None:
        """Stop the loops; a run in progress finishes first."""
        self._stopping.set()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    @property
    def running(self) -> bool:
        return any(not task.done() for task in self._tasks)

    async def _run_job(self, job: ScheduledJob) -> None:
        next_slot = time.monotonic()
        while not self._stopping.is_set():
            await sync_to_async(_call_job, thread_sensitive=False)(job)
            now = time.monotonic()
            next_slot = next_slot_after(next_slot, job.interval, now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=next_slot - now)


def next_slot_after(slot: float, interval: float, now: float) -> float:
    """The next start time after SLOT: one interval later, or, when a slow run has made us miss
    slots, the first slot still in the future (missed ones are skipped, not run in a burst)."""
    following = slot + interval
    if following >= now:
        return following
    return following + math.ceil((now - following) / interval) * interval


def _call_job(job: ScheduledJob) -> None:
    close_old_connections()
    try:
        job.func()
        job.runs += 1
    except Exception:
        job.failures += 1
        logger.exception("scheduled job %s failed", job.name)
    finally:
        close_old_connections()
