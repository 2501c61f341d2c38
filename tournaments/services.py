"""Tournament operations: lifecycle, joining, disqualification, standings and prizes.

Every public function runs in one transaction and locks the tournament row first
(`select_for_update`), so the lifecycle, joins, disqualifications and recomputes of one
tournament are serialised. Lock order: tournament, then trading accounts (through the
trading services), then ledger accounts (through ledger.services). Refusals raise
TournamentError (422), TournamentForbidden (403) or TournamentConflict (409) with a stable
code, before anything is written. Stream messages are published after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import status as http

from accounts.consumers import user_group
from config.api import ConflictError, DomainError
from config.joblock import job_lock as _job_lock
from config.realtime import publish, publish_frame_now
from ledger.models import HOUSE_PRIZES, JournalKind
from ledger.services import house_account, journal_post
from tournaments import selectors
from tournaments.models import (
    RULES_SOURCE,
    Participant,
    PrizeAward,
    Tournament,
    TournamentStatus,
)
from tournaments.realtime import STANDINGS_TOP_N, standings_frame, tournament_group
from tournaments.standings import standings_upsert
from trading.models import OPEN_STATUSES, Order, TradingAccount, TradingRules
from trading.services import account_default_for, account_open, account_orders_cancel

logger = logging.getLogger(__name__)

# Advisory lock keys of the scheduled jobs ("PTTL", "PTTS"); unique in the project.
LIFECYCLE_LOCK_KEY = 0x5054544C
STANDINGS_LOCK_KEY = 0x50545453

ACTIVE_STATUSES = (TournamentStatus.UPCOMING, TournamentStatus.RUNNING)


class TournamentError(DomainError):
    """Refused by a tournament rule (HTTP 422)."""


class TournamentForbidden(DomainError):
    """Not allowed for this caller (HTTP 403), e.g. a wrong join code."""

    status = http.HTTP_403_FORBIDDEN


class TournamentConflict(ConflictError):
    """The tournament's state does not allow it (HTTP 409)."""


def _locked(tournament: Tournament) -> Tournament:
    return Tournament.objects.select_for_update().get(pk=tournament.pk)


def _rules_queryset(tournament: Tournament):
    return TradingRules.objects.filter(source=RULES_SOURCE, source_id=tournament.pk)


def _publish_status(tournament: Tournament) -> None:
    publish(
        tournament_group(tournament.pk),
        {"type": "tournament_status", "tournament": tournament.pk, "status": tournament.status},
    )


# --- rules --------------------------------------------------------------------------------------


def _rules_fields(tournament: Tournament) -> dict:
    """The trading rules a participant's account gets from TOURNAMENT."""
    return {
        "max_leverage": tournament.max_leverage,
        "allow_short": tournament.allow_short,
        "commission_rate": tournament.commission_rate,
        "min_commission": tournament.min_commission,
        "max_position_share": tournament.max_position_share,
        "trading_starts_at": tournament.starts_at,
        "trading_ends_at": tournament.ends_at,
        "allow_api_orders": tournament.bots_allowed,
        "allow_reset": False,
        "allow_deposits": False,
    }


def _rules_create(tournament: Tournament) -> TradingRules:
    rules = TradingRules.objects.create(
        source=RULES_SOURCE, source_id=tournament.pk, **_rules_fields(tournament)
    )
    instruments = list(tournament.allowed_instruments.all())
    if instruments:
        rules.allowed_instruments.set(instruments)
    return rules


@transaction.atomic
def tournament_rules_sync(*, tournament: Tournament) -> int:
    """Copy TOURNAMENT's rules onto every participant's trading rule set (after an operator
    edit). Set-based: two UPDATEs and a rewrite of the instrument links. Locks the tournament
    row. Returns how many rule sets were updated."""
    tournament = _locked(tournament)
    rules = _rules_queryset(tournament)
    count = rules.update(**_rules_fields(tournament))
    TradingAccount.objects.filter(rules__in=rules).update(max_leverage=tournament.max_leverage)
    links = TradingRules.allowed_instruments.through
    wanted = set(tournament.allowed_instruments.values_list("pk", flat=True))
    current = set(
        links.objects.filter(tradingrules__in=rules).values_list("instrument_id", flat=True)
    )
    if wanted != current or not count:
        links.objects.filter(tradingrules__in=rules).delete()
        rule_ids = list(rules.values_list("pk", flat=True))
        links.objects.bulk_create(
            [links(tradingrules_id=r, instrument_id=i) for r in rule_ids for i in wanted],
            batch_size=5000,
        )
    return count


def _window_sync(tournament: Tournament) -> None:
    _rules_queryset(tournament).update(
        trading_starts_at=tournament.starts_at, trading_ends_at=tournament.ends_at
    )


# --- lifecycle ----------------------------------------------------------------------------------


@transaction.atomic
def tournament_publish(*, tournament: Tournament, now: datetime | None = None) -> Tournament:
    """draft -> upcoming: the tournament becomes visible and open for registration.

    Refuses (409 invalid_status) anything but a draft, (422 window_passed) a tournament whose
    end has passed. Locks the tournament row."""
    now = now or timezone.now()
    tournament = _locked(tournament)
    if tournament.status != TournamentStatus.DRAFT:
        raise TournamentConflict("invalid_status", f"The tournament is {tournament.status}.")
    if tournament.ends_at <= now:
        raise TournamentError("window_passed", "The tournament's end is in the past.")
    tournament.status = TournamentStatus.UPCOMING
    tournament.save(update_fields=["status"])
    _publish_status(tournament)
    return tournament


@transaction.atomic
def tournament_start(*, tournament: Tournament, now: datetime | None = None) -> Tournament:
    """upcoming (or draft) -> running, at starts_at by the schedule or now by an operator.

    An operator's start before starts_at moves starts_at (and every participant's trading
    window) to NOW. Refuses (409 invalid_status) other states and (422 window_passed) a
    tournament whose end has passed. Locks the tournament row; publishes the new status and
    fresh standings after commit."""
    now = now or timezone.now()
    tournament = _locked(tournament)
    if tournament.status not in (TournamentStatus.DRAFT, TournamentStatus.UPCOMING):
        raise TournamentConflict("invalid_status", f"The tournament is {tournament.status}.")
    if tournament.ends_at <= now:
        raise TournamentError("window_passed", "The tournament's end is in the past.")
    fields = ["status"]
    if tournament.starts_at > now:
        tournament.starts_at = now
        fields.append("starts_at")
        _window_sync(tournament)
    tournament.status = TournamentStatus.RUNNING
    tournament.save(update_fields=fields)
    _publish_status(tournament)
    standings_recompute(tournament=tournament, now=now)
    return tournament


@transaction.atomic
def tournament_finish(*, tournament: Tournament, now: datetime | None = None) -> Tournament:
    """running -> finished, at ends_at by the schedule or now by an operator ("end now").

    In order: trading windows closed at the end (an early end moves ends_at to NOW), open
    orders of every participant canceled, standings recomputed at the current marks and
    frozen (open positions are VALUED at the marks, not closed), prizes paid (see
    `_prizes_award`), participants notified. A tournament already finished is returned
    unchanged, so a second or concurrent run does nothing (the second waits for the row
    lock, then sees `finished`). Refuses (409 invalid_status) other states."""
    now = now or timezone.now()
    tournament = _locked(tournament)
    if tournament.status == TournamentStatus.FINISHED:
        return tournament
    if tournament.status != TournamentStatus.RUNNING:
        raise TournamentConflict("invalid_status", f"The tournament is {tournament.status}.")
    if tournament.ends_at > now:
        tournament.ends_at = now
        tournament.save(update_fields=["ends_at"])
        _window_sync(tournament)
    _orders_cancel(tournament, "the tournament ended", now)
    tournament.status = TournamentStatus.FINISHED
    tournament.finished_at = now
    tournament.save(update_fields=["status", "finished_at"])
    _recompute(tournament, now=now, final=True)
    awards = _prizes_award(tournament, now)
    _notify_finished(tournament, awards)
    _publish_status(tournament)
    return tournament


@transaction.atomic
def tournament_cancel(*, tournament: Tournament, now: datetime | None = None) -> Tournament:
    """draft, upcoming or running -> canceled: trading stops at NOW, open orders are canceled,
    no prizes. Refuses (409 invalid_status) a finished or canceled tournament."""
    now = now or timezone.now()
    tournament = _locked(tournament)
    if tournament.status not in (
        TournamentStatus.DRAFT,
        TournamentStatus.UPCOMING,
        TournamentStatus.RUNNING,
    ):
        raise TournamentConflict("invalid_status", f"The tournament is {tournament.status}.")
    _rules_queryset(tournament).update(trading_ends_at=now)
    _orders_cancel(tournament, "the tournament was canceled", now)
    tournament.status = TournamentStatus.CANCELED
    tournament.finished_at = now
    tournament.save(update_fields=["status", "finished_at"])
    _publish_status(tournament)
    return tournament


def _orders_cancel(tournament: Tournament, reason: str, now: datetime) -> int:
    """Cancel the open orders of every participant account: one query finds the accounts that
    have any, then trading cancels them account by account (each under its account lock)."""
    account_ids = (
        Order.objects.filter(
            account__tournament_entry__tournament=tournament, status__in=OPEN_STATUSES
        )
        .values_list("account_id", flat=True)
        .distinct()
    )
    canceled = 0
    for account in TradingAccount.objects.filter(pk__in=list(account_ids)).order_by("pk"):
        canceled += account_orders_cancel(account=account, reason=reason, now=now)
    return canceled


# --- joining and disqualification ---------------------------------------------------------------


@transaction.atomic
def tournament_join(
    *,
    tournament: Tournament,
    user,
    join_code: str | None = None,
    is_bot: bool = False,
    now: datetime | None = None,
) -> Participant:
    """Enter USER: a TradingRules set with the tournament's rules and a dedicated trading
    account funded with the starting balance (a deposit journal).

    Refusals, nothing written: 409 already_joined, 409 registration_closed (not published,
    before the registration window, after it or after the end), 403 wrong_join_code (private
    tournament), 409 bots_not_allowed (a bot entrant where bots are not allowed), 409
    tournament_full. Locks the tournament row, so concurrent joins at capacity are serialised
    and can never exceed max_participants."""
    now = now or timezone.now()
    tournament = _locked(tournament)
    if Participant.objects.filter(tournament=tournament, user=user).exists():
        raise TournamentConflict("already_joined", "You are already in this tournament.")
    if not tournament.registration_open_at(now):
        raise TournamentConflict("registration_closed", "Registration is closed.")
    if tournament.join_code and not constant_time_compare(
        (join_code or "").strip(), tournament.join_code
    ):
        raise TournamentForbidden(
            "wrong_join_code", "That join code is not right.", field="join_code"
        )
    if is_bot and not tournament.bots_allowed:
        raise TournamentConflict("bots_not_allowed", "This tournament does not allow bots.")
    if (
        tournament.max_participants is not None
        and Participant.objects.filter(tournament=tournament).count() >= tournament.max_participants
    ):
        raise TournamentConflict("tournament_full", "The tournament is full.")
    rules = _rules_create(tournament)
    account = account_open(
        owner=user,
        name=tournament.name[:60],
        initial_balance=tournament.starting_balance,
        max_leverage=tournament.max_leverage,
        rules=rules,
    )
    return Participant.objects.create(
        tournament=tournament, user=user, account=account, is_bot=is_bot, joined_at=now
    )


@transaction.atomic
def participant_disqualify(
    *, participant: Participant, reason: str, operator, now: datetime | None = None
) -> Participant:
    """Disqualify PARTICIPANT with REASON (kept on record with the operator): trading stops at
    NOW, open orders are canceled, and the standings list them last without a rank.

    Refuses 422 reason_required, 409 already_disqualified, 409 tournament_closed (finished or
    canceled: the results stand). Locks the tournament row, then the account."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise TournamentError("reason_required", "Give a reason.", field="reason")
    tournament = _locked(participant.tournament)
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.disqualified_at is not None:
        raise TournamentConflict("already_disqualified", "Already disqualified.")
    if tournament.status not in (TournamentStatus.DRAFT, *ACTIVE_STATUSES):
        raise TournamentConflict("tournament_closed", "The tournament's results stand.")
    participant.disqualified_at = now
    participant.disqualification_reason = reason
    participant.disqualified_by = operator
    participant.save(
        update_fields=["disqualified_at", "disqualification_reason", "disqualified_by"]
    )
    TradingRules.objects.filter(account__pk=participant.account_id).update(trading_ends_at=now)
    account_orders_cancel(account=participant.account, reason="disqualified", now=now)
    publish(
        user_group(participant.user_id),
        {
            "type": "tournament_disqualified",
            "tournament": tournament.pk,
            "name": tournament.name,
            "reason": reason,
        },
    )
    if tournament.status in ACTIVE_STATUSES:
        _recompute(tournament, now=now, final=False)
    return participant


# --- standings ----------------------------------------------------------------------------------


@transaction.atomic
def standings_recompute(*, tournament: Tournament, now: datetime | None = None) -> int:
    """Recompute TOURNAMENT's standings with one set-based statement (tournaments.standings)
    and publish the top rows to the tournament's group after commit. Returns the number of
    rows inserted or changed.

    Only upcoming and running tournaments are recomputed; a finished one keeps its frozen
    standings (0 is returned). Locks the tournament row, so it never races a finish."""
    now = now or timezone.now()
    tournament = _locked(tournament)
    if tournament.status not in ACTIVE_STATUSES:
        return 0
    return _recompute(tournament, now=now, final=False)


def _recompute(tournament: Tournament, *, now: datetime, final: bool) -> int:
    changed = standings_upsert(
        tournament_id=tournament.pk,
        since=tournament.standings_computed_at,
        now=now,
        final=final,
    )
    tournament.standings_computed_at = now
    tournament.save(update_fields=["standings_computed_at"])
    frame = standings_frame(tournament, selectors.leaderboard(tournament, STANDINGS_TOP_N))
    group = tournament_group(tournament.pk)
    transaction.on_commit(lambda: publish_frame_now(group, frame))
    return changed


# --- prizes -------------------------------------------------------------------------------------


def _prizes_award(tournament: Tournament, now: datetime) -> list[PrizeAward]:
    """Pay each ranked participant the prize whose rank range holds their final rank: a
    `prize` journal from house:prizes to the winner's personal (default) trading account,
    and a PrizeAward record. Tied participants share a rank and each receives that rank's
    prize; a rank skipped by a tie pays nobody. The disqualified have no rank and win nothing.

    Exactly once: the database's unique (tournament, participant) constraint on PrizeAward
    refuses a second award; each award runs in a savepoint, so a refused one rolls back its
    journal too and is skipped."""
    prizes = list(tournament.prizes.order_by("rank_from", "id"))
    if not prizes:
        return []
    last_rank = max(prize.rank_to for prize in prizes)
    standings = (
        tournament.standings.filter(rank__isnull=False, rank__lte=last_rank)
        .select_related("participant__user")
        .order_by("position")
    )
    awards = []
    for standing in standings:
        prize = next((p for p in prizes if p.covers(standing.rank)), None)
        if prize is None:
            continue
        participant = standing.participant
        try:
            with transaction.atomic():
                account = account_default_for(participant.user)
                journal = journal_post(
                    kind=JournalKind.PRIZE,
                    lines=[
                        (account.cash_account, prize.amount),
                        (house_account(HOUSE_PRIZES), -prize.amount),
                    ],
                    memo=f"Prize: {tournament.name}, rank {standing.rank}"[:200],
                    reference_type="tournament",
                    reference_id=str(tournament.pk),
                )
                awards.append(
                    PrizeAward.objects.create(
                        tournament=tournament,
                        participant=participant,
                        prize=prize,
                        rank=standing.rank,
                        amount=prize.amount,
                        journal_id=journal.pk,
                        awarded_at=now,
                    )
                )
        except IntegrityError:
            logger.info(
                "prize for participant %s of tournament %s already paid",
                participant.pk,
                tournament.pk,
            )
    return awards


def _notify_finished(tournament: Tournament, awards: list[PrizeAward]) -> None:
    prizes = {award.participant_id: award for award in awards}
    entries = (
        tournament.participants.filter(is_bot=False)
        .select_related("standing")
        .only("id", "user_id", "standing__rank")
    )
    for participant in entries:
        standing = getattr(participant, "standing", None)
        award = prizes.get(participant.pk)
        publish(
            user_group(participant.user_id),
            {
                "type": "tournament_finished",
                "tournament": tournament.pk,
                "slug": tournament.slug,
                "name": tournament.name,
                "rank": standing.rank if standing else None,
                "prize": str(award.amount) if award else None,
            },
        )


# --- the schedule -------------------------------------------------------------------------------


@dataclass
class TickResult:
    started: list[int] = field(default_factory=list)
    finished: list[int] = field(default_factory=list)
    recomputed: list[int] = field(default_factory=list)
    skipped: bool = False


def tournaments_advance(*, now: datetime | None = None) -> TickResult:
    """The lifecycle job: start upcoming tournaments whose starts_at <= NOW, finish running
    ones whose ends_at <= NOW. Each transition is its own transaction; one that fails is
    logged and retried on the next run. Safe to run twice; never overlaps itself."""
    now = now or timezone.now()
    result = TickResult()
    with _job_lock(LIFECYCLE_LOCK_KEY) as acquired:
        if not acquired:
            result.skipped = True
            return result
        due_start = Tournament.objects.filter(
            status=TournamentStatus.UPCOMING, starts_at__lte=now
        ).order_by("starts_at", "pk")
        for tournament in due_start:
            try:
                tournament_start(tournament=tournament, now=now)
                result.started.append(tournament.pk)
            except DomainError:
                logger.exception("starting tournament %s failed", tournament.pk)
        due_end = Tournament.objects.filter(
            status=TournamentStatus.RUNNING, ends_at__lte=now
        ).order_by("ends_at", "pk")
        for tournament in due_end:
            try:
                tournament_finish(tournament=tournament, now=now)
                result.finished.append(tournament.pk)
            except DomainError:
                logger.exception("finishing tournament %s failed", tournament.pk)
    return result


def standings_recompute_active(*, now: datetime | None = None) -> TickResult:
    """The leaderboard job: recompute the standings of every upcoming and running tournament.
    Safe to run twice; never overlaps itself."""
    now = now or timezone.now()
    result = TickResult()
    with _job_lock(STANDINGS_LOCK_KEY) as acquired:
        if not acquired:
            result.skipped = True
            return result
        for tournament in Tournament.objects.filter(status__in=ACTIVE_STATUSES).order_by("pk"):
            standings_recompute(tournament=tournament, now=now)
            result.recomputed.append(tournament.pk)
    return result


def tournaments_tick(*, now: datetime | None = None) -> TickResult:
    """Both jobs at NOW: the lifecycle, then the standings of what is still active."""
    now = now or timezone.now()
    result = tournaments_advance(now=now)
    standings = standings_recompute_active(now=now)
    result.recomputed = standings.recomputed
    result.skipped = result.skipped or standings.skipped
    return result
