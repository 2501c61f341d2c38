"""Celery wrappers of the tournament jobs (config.jobs); each is safe to run twice and never
overlaps itself (the services take a lock and skip when it is held)."""

from celery import shared_task


@shared_task(name="tournaments.tasks.advance_tournaments", ignore_result=True)
def advance_tournaments() -> None:
    """Start and finish the tournaments that are due."""
    from tournaments.services import tournaments_advance

    tournaments_advance()


@shared_task(name="tournaments.tasks.recompute_standings", ignore_result=True)
def recompute_standings() -> None:
    """Recompute the standings of every upcoming and running tournament."""
    from tournaments.services import standings_recompute_active

    standings_recompute_active()


@shared_task(name="tournaments.tasks.step_bots", ignore_result=True)
def step_bots() -> None:
    """One round of the simulated participants' trading."""
    from tournaments.bots import bots_step

    bots_step()
