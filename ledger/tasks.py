"""Celery wrappers over ledger services."""

from celery import shared_task


@shared_task(name="ledger.tasks.reconcile_ledger")
def reconcile_ledger() -> bool:
    """Scheduled reconciliation (config.jobs). Read-only, so a repeated or overlapping run is
    harmless. Returns whether the book reconciled."""
    from ledger.services import ledger_reconcile_job

    return ledger_reconcile_job().ok
