"""Reads shared by pages, API, consumers and services."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, F, QuerySet
from django.http import Http404

from tournaments.models import (
    PUBLIC_STATUSES,
    Participant,
    PrizeAward,
    Standing,
    Tournament,
    TournamentStatus,
)

LEADERBOARD_MAX_LIMIT = 500
# Display order. The same as `position` (rank, then earlier entry; the disqualified, rank NULL,
# last), spelled so that the (tournament, rank, position) index serves it without a sort.
BOARD_ORDER = (F("rank").asc(nulls_last=True), "position")


def tournaments_list(status: str | None = None) -> QuerySet[Tournament]:
    """Published tournaments (drafts are the operators' business), optionally of one status,
    with `participant_count` annotated. Upcoming soonest first, the others newest first."""
    tournaments = Tournament.objects.filter(status__in=PUBLIC_STATUSES).annotate(
        participant_count=Count("participants")
    )
    if status:
        tournaments = tournaments.filter(status=status)
    if status == TournamentStatus.UPCOMING:
        return tournaments.order_by("starts_at", "id")
    return tournaments.order_by("-starts_at", "-id")


def tournament_get(*, tournament_id=None, slug: str | None = None) -> Tournament:
    """A published tournament by id or slug with prizes prefetched, or Http404 (drafts too)."""
    tournaments = (
        Tournament.objects.filter(status__in=PUBLIC_STATUSES)
        .annotate(participant_count=Count("participants"))
        .prefetch_related("prizes", "allowed_instruments")
    )
    if slug is not None:
        tournament = tournaments.filter(slug=slug).first()
    else:
        try:
            tournament = tournaments.filter(pk=int(tournament_id)).first()
        except (TypeError, ValueError):
            tournament = None
    if tournament is None:
        raise Http404("No such tournament.")
    return tournament


def tournament_exists(tournament_id: int) -> bool:
    return Tournament.objects.filter(pk=tournament_id, status__in=PUBLIC_STATUSES).exists()


def leaderboard(tournament: Tournament, limit: int = 50, offset: int = 0) -> list[Standing]:
    """Standings in display order (rank, then earlier entry), LIMIT bounded to 500.

    One query: an index range scan on (tournament, rank, position)."""
    limit = max(0, min(int(limit), LEADERBOARD_MAX_LIMIT))
    offset = max(0, int(offset))
    return list(
        Standing.objects.filter(tournament=tournament)
        .select_related("participant__user")
        .order_by(*BOARD_ORDER)[offset : offset + limit]
    )


def leaderboard_count(tournament: Tournament) -> int:
    return Standing.objects.filter(tournament=tournament).count()


def participant_for(tournament: Tournament, user) -> Participant | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Participant.objects.select_related("account", "user")
        .filter(tournament=tournament, user=user)
        .first()
    )


def standing_for(tournament: Tournament, user) -> Standing | None:
    """USER's standing in TOURNAMENT (None when not entered or not computed yet)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Standing.objects.select_related("participant__user", "participant__account")
        .filter(tournament=tournament, participant__user=user)
        .first()
    )


def tournaments_for_user(user) -> QuerySet[Participant]:
    """USER's entries, newest first, with the tournament and the standing (one query)."""
    return (
        Participant.objects.filter(user=user, tournament__status__in=PUBLIC_STATUSES)
        .select_related("tournament", "standing", "account")
        .order_by("-joined_at", "-id")
    )


def running_entries_for(user) -> list[Participant]:
    """USER's entries in running tournaments with the standing and the field's size (one
    query), the soonest to end first: the dashboard's "my tournaments"."""
    return list(
        Participant.objects.filter(user=user, tournament__status=TournamentStatus.RUNNING)
        .select_related("tournament", "standing")
        .annotate(field_size=Count("tournament__participants"))
        .order_by("tournament__ends_at", "tournament_id")
    )


def joinable_for(user, now: datetime, limit: int = 3) -> list[Tournament]:
    """Public tournaments USER is not in whose registration is open at NOW, running ones first
    (the dashboard's invitation when USER is in none)."""
    candidates = (
        tournaments_list()
        .filter(status__in=(TournamentStatus.RUNNING, TournamentStatus.UPCOMING), join_code="")
        .exclude(participants__user=user)
        .order_by("status", "ends_at", "id")  # "running" sorts before "upcoming"
    )
    return [t for t in candidates[: limit * 3] if t.registration_open_at(now)][:limit]


def awards_for(tournament: Tournament) -> list[PrizeAward]:
    return list(
        PrizeAward.objects.filter(tournament=tournament)
        .select_related("participant__user", "prize")
        .order_by("rank", "id")
    )
