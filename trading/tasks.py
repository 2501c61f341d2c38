"""Celery wrappers of the scheduled trading jobs (config.jobs): no arguments or ids only, the
service imported inside, each guarded by its job lock so a run never overlaps itself."""

from celery import shared_task


@shared_task(name="trading.tasks.match_orders", ignore_result=True)
def match_orders(instrument_ids: list[int] | None = None) -> dict | None:
    """One matcher pass (every second on the "ticks" queue, 1 s expiry).

    Takes the instrument ids a tick moved when chained after `market.tasks.advance_market`
    (a Celery `link` passes them as the first argument); all instruments otherwise. Safe to run
    twice: a repeated pass on the same tick fills nothing more. Returns the report as a dict,
    or None when another pass held the lock.
    """
    from trading.jobs import match_orders_job

    return match_orders_job(instrument_ids)


@shared_task(name="trading.tasks.charge_funding", ignore_result=True)
def charge_funding() -> int | None:
    """Daily funding (acts once per position per UTC day; see trading.jobs.funding_charge)."""
    from trading.jobs import funding_charge_job

    return funding_charge_job()


@shared_task(name="trading.tasks.snapshot_equity", ignore_result=True)
def snapshot_equity() -> int | None:
    """Equity snapshots, one per account per minute (reruns within the minute write nothing)."""
    from trading.jobs import equity_snapshot_job

    return equity_snapshot_job()
