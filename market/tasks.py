"""Celery wrappers of the market services."""

from celery import shared_task


@shared_task(name="market.tasks.advance_market", ignore_result=True)
def advance_market() -> list[int]:
    """One market tick (beat sends it every second on the "ticks" queue with a 1 s expiry).

    Safe to run twice: the tick lock skips an overlapping run and an instrument ticked less
    than MIN_STEP_SECONDS ago is left alone. Returns the ids that moved; the trading issue
    chains the matcher on them.
    """
    from market.services import market_advance

    return market_advance()
