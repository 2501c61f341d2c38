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


JOBS: list[Job] = []

JOBS.append(
    Job(
        name="ledger-reconcile",
        interval=300,
        service="ledger.services.ledger_reconcile_job",
        task="ledger.tasks.reconcile_ledger",
        queue="default",
        expires=300,
    )
)
