"""Jobs and commands: the Celery tasks, the job lock, the seed and the bots."""

import io
import random

import pytest
from django.core.management import call_command
from django.db import connection, connections

from config.jobs import JOBS
from tournaments import services
from tournaments.models import Participant, Standing, Tournament, TournamentStatus
from tournaments.seed import SLUG, seed_tournaments
from tournaments.services import tournament_join
from tournaments.tasks import advance_tournaments, recompute_standings, step_bots
from tournaments.tests.factories import make_tournament
from trading.models import Order, OrderSource
from trading.tests.factories import make_market

pytestmark = pytest.mark.django_db


def test_the_jobs_are_registered():
    names = {job.name: job for job in JOBS}
    assert names["tournaments-advance"].task == "tournaments.tasks.advance_tournaments"
    assert names["tournaments-standings"].service == (
        "tournaments.services.standings_recompute_active"
    )
    assert names["tournaments-bots"].service == "tournaments.bots.bots_step"


def test_the_tasks_run_the_services(alice):
    running = make_tournament()
    tournament_join(tournament=running, user=alice)
    due = make_tournament(status=TournamentStatus.UPCOMING, starts_at=None)
    Tournament.objects.filter(pk=due.pk).update(starts_at=running.starts_at)

    advance_tournaments.delay()
    recompute_standings.delay()
    step_bots.delay()

    due.refresh_from_db()
    assert due.status == TournamentStatus.RUNNING
    assert Standing.objects.filter(tournament=running).count() == 1


def test_a_job_skips_while_another_run_holds_its_lock():
    make_tournament()
    if connection.vendor == "postgresql":
        # Another session (another worker) holds the job's advisory lock.
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [services.STANDINGS_LOCK_KEY])
            assert services.standings_recompute_active().skipped
        finally:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [services.STANDINGS_LOCK_KEY])
            other.close()
    else:
        with services._job_lock(services.STANDINGS_LOCK_KEY) as acquired:
            assert acquired
            assert services.standings_recompute_active().skipped
    assert not services.standings_recompute_active().skipped


@pytest.fixture
def seeded_market(db):
    for symbol in ("BTC-USD", "ETH-USD", "SOL-USD"):
        make_market(symbol, bid="99.99", ask="100.01")


def test_the_seed_adds_a_running_tournament_with_bots_and_is_idempotent(seeded_market):
    out = io.StringIO()
    seed_tournaments(out)
    seed_tournaments(out)

    tournament = Tournament.objects.get(slug=SLUG)
    assert tournament.status == TournamentStatus.RUNNING
    assert tournament.prizes.count() == 3
    bots = Participant.objects.filter(tournament=tournament)
    assert bots.count() == 8
    assert all(p.is_bot and not p.user.has_usable_password() for p in bots)
    assert "(exists)" in out.getvalue()


def test_bots_trade_through_the_services(seeded_market):
    seed_tournaments(io.StringIO())

    from tournaments.bots import bots_step

    rng = random.Random(7)
    acted = sum(bots_step(rng=rng) for _ in range(6))

    assert acted > 0
    orders = Order.objects.filter(account__tournament_entry__is_bot=True)
    assert orders.exists()
    assert set(orders.values_list("source", flat=True)) == {OrderSource.API}


def test_run_bots_once(seeded_market):
    seed_tournaments(io.StringIO())
    out = io.StringIO()
    call_command("run_bots", "--once", stdout=out)
    assert "bots acted:" in out.getvalue()
