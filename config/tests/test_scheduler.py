import asyncio
import threading

import pytest

from config.scheduler import InProcessScheduler, next_slot_after


def test_the_next_slot_is_one_interval_later_when_on_time():
    assert next_slot_after(10.0, 1.0, now=10.4) == 11.0


def test_missed_slots_are_skipped_not_run_in_a_burst():
    # The run that started at 10 took 3.5 s: slots 11, 12 and 13 are gone, the next is 14.
    assert next_slot_after(10.0, 1.0, now=13.5) == 14.0
    assert next_slot_after(10.0, 1.0, now=13.0) == 13.0


async def test_a_registered_job_runs_repeatedly_and_stops_cleanly():
    calls = 0
    enough = threading.Event()
    thread_names = set()

    def job():
        nonlocal calls
        calls += 1
        thread_names.add(threading.current_thread().name)
        if calls >= 3:
            enough.set()

    scheduler = InProcessScheduler()
    scheduler.register("count", 0.01, job)
    scheduler.start()
    assert scheduler.running
    assert await asyncio.to_thread(enough.wait, 5)
    await scheduler.stop()
    assert not scheduler.running
    stopped_at = calls
    await asyncio.sleep(0.05)
    assert calls == stopped_at >= 3
    assert threading.main_thread().name not in thread_names  # runs off the event loop


async def test_a_failing_job_is_counted_and_keeps_its_schedule():
    failed_twice = threading.Event()

    def broken():
        if scheduled.failures >= 1:
            failed_twice.set()
        raise RuntimeError("boom")

    scheduler = InProcessScheduler()
    scheduled = scheduler.register("broken", 0.01, broken)
    scheduler.start()
    assert await asyncio.to_thread(failed_twice.wait, 5)
    await scheduler.stop()
    assert scheduled.failures >= 2
    assert scheduled.runs == 0


@pytest.mark.django_db
def test_the_configured_jobs_are_the_beat_schedule():
    from config.celery import build_beat_schedule
    from config.jobs import JOBS

    schedule = build_beat_schedule()
    assert set(schedule) == {job.name for job in JOBS}
    scheduler = InProcessScheduler()
    scheduler.register_configured_jobs()
    assert [job.name for job in scheduler.jobs] == [job.name for job in JOBS]
