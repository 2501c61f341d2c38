"""The one list of scheduled jobs.

Celery beat builds its schedule from it, and the in-process scheduler of the embedded run
calls the same service functions directly. Later features append their jobs here.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Job:
    name: str
    interval: float  # seconds
    service: str  # dotted path of the service function the job runs (no arguments)
    task: str  # Celery task name that wraps the same service
    queue: str = "default"
    # Seconds after which a queued run is dropped instead of executed late (None: never).
    expires: float | None = None
    options: dict = field(default_factory=dict)


JOBS: list[Job] = [
    # The price tick, on its own queue and dropped rather than run late: ticks never bunch up.
    Job(
        name="market-advance",
        interval=1.0,
        service="market.services.market_advance",
        task="market.tasks.advance_market",
        queue="ticks",
        expires=1.0,
    ),
    Job(
        name="ledger-reconcile",
        interval=300,
        service="ledger.services.ledger_reconcile_job",
        task="ledger.tasks.reconcile_ledger",
        queue="default",
        expires=300,
    ),
    # The matcher: every second on the tick queue; each run re-reads the open orders.
    Job(
        name="trading-match-orders",
        interval=1.0,
        service="trading.jobs.match_orders_job",
        task="trading.tasks.match_orders",
        queue="ticks",
        expires=1.0,
    ),
    Job(
        name="trading-charge-funding",
        interval=60,
        service="trading.jobs.funding_charge_job",
        task="trading.tasks.charge_funding",
        queue="default",
        expires=60,
    ),
    Job(
        name="trading-snapshot-equity",
        interval=60,
        service="trading.jobs.equity_snapshot_job",
        task="trading.tasks.snapshot_equity",
        queue="default",
        expires=60,
    ),
    # Tournament lifecycle, leaderboards, and the seeded bot traders (`manage.py run_bots`
    # does the bots' work instead where no scheduler runs this job).
    Job(
        name="tournaments-advance",
        interval=2.0,
        service="tournaments.services.tournaments_advance",
        task="tournaments.tasks.advance_tournaments",
        queue="default",
        expires=2.0,
    ),
    Job(
        name="tournaments-standings",
        interval=5.0,
        service="tournaments.services.standings_recompute_active",
        task="tournaments.tasks.recompute_standings",
        queue="default",
        expires=5.0,
    ),
    Job(
        name="tournaments-bots",
        interval=3.0,
        service="tournaments.bots.bots_step",
        task="tournaments.tasks.step_bots",
        queue="default",
        expires=3.0,
    ),
]
