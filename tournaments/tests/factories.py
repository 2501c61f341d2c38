"""Tournaments for tests, made through the real services where it matters."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from tournaments.models import Prize, Tournament, TournamentStatus

_counter = {"n": 0}


def make_tournament(
    *,
    status: str = TournamentStatus.RUNNING,
    instruments=(),
    prizes=(),
    starts_at=None,
    ends_at=None,
    **fields,
) -> Tournament:
    """A tournament in STATUS (default: running since an hour, ending in a day)."""
    _counter["n"] += 1
    now = timezone.now()
    if starts_at is None:
        upcoming = status == TournamentStatus.UPCOMING
        starts_at = now + timedelta(hours=1) if upcoming else now - timedelta(hours=1)
    ends_at = ends_at or starts_at + timedelta(days=1)
    defaults = {
        "name": f"Cup {_counter['n']}",
        "slug": f"cup-{_counter['n']}",
        "starting_balance": Decimal("10000.00"),
        "max_leverage": Decimal("2"),
    }
    tournament = Tournament.objects.create(
        status=status, starts_at=starts_at, ends_at=ends_at, **{**defaults, **fields}
    )
    if instruments:
        tournament.allowed_instruments.set(instruments)
    for rank_from, rank_to, amount in prizes:
        Prize.objects.create(
            tournament=tournament, rank_from=rank_from, rank_to=rank_to, amount=Decimal(amount)
        )
    return tournament
