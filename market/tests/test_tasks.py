"""The Celery wrapper and its schedule."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import build_beat_schedule
from config.jobs import JOBS
from market.models import Quote
from market.tasks import advance_market
from market.tests.factories import InstrumentFactory, QuoteFactory


@pytest.mark.django_db
def test_the_task_advances_the_market():
    instrument = InstrumentFactory()
    QuoteFactory(instrument=instrument, ts=timezone.now() - timedelta(seconds=2))
    result = advance_market.delay()
    assert instrument.id in result.get()
    assert Quote.objects.get(instrument=instrument).ts > timezone.now() - timedelta(seconds=2)


def test_beat_runs_the_tick_every_second_on_its_own_queue_and_drops_late_runs():
    job = next(job for job in JOBS if job.name == "market-advance")
    assert job.service == "market.services.market_advance"
    entry = build_beat_schedule()["market-advance"]
    assert entry == {
        "task": "market.tasks.advance_market",
        "schedule": 1.0,
        "options": {"queue": "ticks", "expires": 1.0},
    }
