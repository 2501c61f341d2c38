"""Lifecycle at its exact boundaries, joining, disqualification and prizes."""

import asyncio
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from django.db import connection, connections
from django.utils import timezone

from accounts.consumers import user_group
from accounts.tests.factories import UserFactory
from ledger.models import HOUSE_PRIZES, HOUSE_TRADING_PNL, Journal, JournalKind, Posting
from ledger.services import house_account, journal_post
from tournaments.models import Participant, PrizeAward, Standing, Tournament, TournamentStatus
from tournaments.services import (
    TournamentConflict,
    TournamentError,
    TournamentForbidden,
    participant_disqualify,
    tournament_cancel,
    tournament_finish,
    tournament_join,
    tournament_publish,
    tournament_start,
    tournaments_advance,
    tournaments_tick,
)
from tournaments.tests.factories import make_tournament
from trading.models import OrderSource, OrderStatus
from trading.services import OrderRequest, TradingError, account_default_for, order_place

pytestmark = pytest.mark.django_db
TICK = timedelta(microseconds=1)


# --- lifecycle ------------------------------------------------------------------------------------


def test_an_upcoming_tournament_starts_exactly_at_starts_at():
    starts = timezone.now() + timedelta(minutes=5)
    tournament = make_tournament(status=TournamentStatus.UPCOMING, starts_at=starts)

    assert tournaments_advance(now=starts - TICK).started == []
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.UPCOMING

    assert tournaments_advance(now=starts).started == [tournament.pk]
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.RUNNING
    assert tournament.starts_at == starts


def test_a_running_tournament_finishes_exactly_at_ends_at():
    ends = timezone.now() + timedelta(minutes=5)
    tournament = make_tournament(ends_at=ends)

    assert tournaments_advance(now=ends - TICK).finished == []
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.RUNNING

    assert tournaments_advance(now=ends).finished == [tournament.pk]
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.FINISHED
    assert tournament.finished_at == ends


def test_the_tick_is_safe_to_run_twice(alice):
    ends = timezone.now() + timedelta(minutes=5)
    tournament = make_tournament(ends_at=ends, prizes=[(1, 1, "100.00")])
    tournament_join(tournament=tournament, user=alice)

    first = tournaments_tick(now=ends)
    second = tournaments_tick(now=ends)

    assert first.finished == [tournament.pk]
    assert second.finished == []
    assert PrizeAward.objects.count() == 1


def test_publish_makes_a_draft_upcoming_and_refuses_anything_else():
    tournament = make_tournament(status=TournamentStatus.DRAFT)
    tournament_publish(tournament=tournament)
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.UPCOMING
    with pytest.raises(TournamentConflict) as exc:
        tournament_publish(tournament=tournament)
    assert exc.value.code == "invalid_status"


def test_an_operator_start_now_moves_the_start_and_the_trading_windows(alice, market):
    tournament = make_tournament(status=TournamentStatus.UPCOMING, instruments=[market])
    participant = tournament_join(tournament=tournament, user=alice)
    now = timezone.now()

    tournament_start(tournament=tournament, now=now)

    tournament.refresh_from_db()
    participant.account.rules.refresh_from_db()
    assert tournament.status == TournamentStatus.RUNNING
    assert tournament.starts_at == now
    assert participant.account.rules.trading_starts_at == now


def test_end_now_cancels_open_orders_and_closes_trading(alice, market):
    tournament = make_tournament(instruments=[market])
    participant = tournament_join(tournament=tournament, user=alice)
    order, _ = order_place(
        account=participant.account,
        request=OrderRequest(
            symbol="TEST-USD",
            side="buy",
            type="limit",
            quantity=Decimal("1"),
            limit_price=Decimal("90.00"),
        ),
        source=OrderSource.WEB,
    )
    now = timezone.now()

    tournament_finish(tournament=tournament, now=now)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert order.reject_reason == "the tournament ended"
    participant.account.rules.refresh_from_db()
    assert participant.account.rules.trading_ends_at == now
    assert Standing.objects.get(participant=participant).is_final


def test_cancel_stops_trading_and_pays_nothing(alice):
    tournament = make_tournament(prizes=[(1, 1, "100.00")])
    tournament_join(tournament=tournament, user=alice)

    tournament_cancel(tournament=tournament)

    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.CANCELED
    assert not PrizeAward.objects.exists()
    with pytest.raises(TournamentConflict):
        tournament_finish(tournament=tournament)


# --- joining --------------------------------------------------------------------------------------


def test_joining_opens_a_dedicated_account_with_the_tournament_rules(alice, market):
    tournament = make_tournament(
        instruments=[market],
        max_leverage=Decimal("3"),
        allow_short=False,
        commission_rate=Decimal("0.001"),
        min_commission=Decimal("1.00"),
        max_position_share=Decimal("0.5"),
        bots_allowed=False,
        starting_balance=Decimal("25000.00"),
    )

    participant = tournament_join(tournament=tournament, user=alice)

    account = participant.account
    rules = account.rules
    assert account.owner == alice
    assert not account.is_default
    assert account.cash_account.balance == Decimal("25000.00")
    assert account.max_leverage == Decimal("3")
    assert (rules.source, rules.source_id) == ("tournament", tournament.pk)
    assert list(rules.allowed_instruments.all()) == [market]
    assert rules.max_leverage == Decimal("3")
    assert rules.allow_short is False
    assert rules.commission_rate == Decimal("0.001")
    assert rules.min_commission == Decimal("1.00")
    assert rules.max_position_share == Decimal("0.5")
    assert rules.trading_starts_at == tournament.starts_at
    assert rules.trading_ends_at == tournament.ends_at
    assert rules.allow_api_orders is False
    assert rules.allow_reset is False
    assert rules.allow_deposits is False


def test_joining_twice_is_refused(alice):
    tournament = make_tournament()
    tournament_join(tournament=tournament, user=alice)
    with pytest.raises(TournamentConflict) as exc:
        tournament_join(tournament=tournament, user=alice)
    assert exc.value.code == "already_joined"
    assert Participant.objects.count() == 1


def test_a_full_tournament_refuses_the_next_entrant(alice, bob):
    tournament = make_tournament(max_participants=1)
    tournament_join(tournament=tournament, user=alice)
    with pytest.raises(TournamentConflict) as exc:
        tournament_join(tournament=tournament, user=bob)
    assert exc.value.code == "tournament_full"
    assert exc.value.status == 409


@pytest.mark.parametrize(
    ("status", "opens", "closes"),
    [
        (TournamentStatus.DRAFT, None, None),
        (TournamentStatus.FINISHED, None, None),
        (TournamentStatus.CANCELED, None, None),
        (TournamentStatus.UPCOMING, timedelta(minutes=1), None),
        (TournamentStatus.RUNNING, None, timedelta(minutes=-1)),
    ],
)
def test_joining_outside_registration_is_refused(alice, status, opens, closes):
    now = timezone.now()
    tournament = make_tournament(
        status=status,
        registration_opens_at=now + opens if opens else None,
        registration_closes_at=now + closes if closes else None,
    )
    with pytest.raises(TournamentConflict) as exc:
        tournament_join(tournament=tournament, user=alice, now=now)
    assert exc.value.code == "registration_closed"


def test_registration_closes_exactly_at_its_close(alice, bob):
    closes = timezone.now() + timedelta(minutes=1)
    tournament = make_tournament(registration_closes_at=closes)
    tournament_join(tournament=tournament, user=alice, now=closes - TICK)
    with pytest.raises(TournamentConflict):
        tournament_join(tournament=tournament, user=bob, now=closes)


def test_a_private_tournament_needs_its_code(alice, bob):
    tournament = make_tournament(join_code="s3cret")
    with pytest.raises(TournamentForbidden) as exc:
        tournament_join(tournament=tournament, user=alice, join_code="guess")
    assert (exc.value.code, exc.value.status) == ("wrong_join_code", 403)
    with pytest.raises(TournamentForbidden):
        tournament_join(tournament=tournament, user=alice)
    assert tournament_join(tournament=tournament, user=bob, join_code="s3cret")


def test_bots_cannot_enter_where_bots_are_not_allowed(alice):
    tournament = make_tournament(bots_allowed=False)
    with pytest.raises(TournamentConflict) as exc:
        tournament_join(tournament=tournament, user=alice, is_bot=True)
    assert exc.value.code == "bots_not_allowed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_joins_at_capacity_never_exceed_it():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writers; row locks need PostgreSQL")
    capacity, entrants = 3, 8
    tournament = make_tournament(max_participants=capacity)
    users = [UserFactory() for _ in range(entrants)]
    barrier = threading.Barrier(entrants)
    outcomes: list[str] = []

    def join(user):
        try:
            barrier.wait(timeout=10)
            tournament_join(tournament=Tournament.objects.get(pk=tournament.pk), user=user)
            outcomes.append("joined")
        except TournamentConflict as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=join, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Participant.objects.filter(tournament=tournament).count() == capacity
    assert sorted(outcomes) == ["joined"] * capacity + ["tournament_full"] * (entrants - capacity)


# --- disqualification -----------------------------------------------------------------------------


def test_a_disqualified_participant_is_recorded_stops_trading_and_ranks_last(alice, bob, market):
    operator = UserFactory(is_staff=True)
    tournament = make_tournament(instruments=[market])
    first = tournament_join(tournament=tournament, user=alice)
    tournament_join(tournament=tournament, user=bob)

    participant_disqualify(participant=first, reason="Collusion", operator=operator)

    first.refresh_from_db()
    assert first.disqualified_by == operator
    assert first.disqualification_reason == "Collusion"
    standing = Standing.objects.get(participant=first)
    assert standing.rank is None
    assert standing.position == 2
    with pytest.raises(TradingError) as exc:
        order_place(
            account=first.account,
            request=OrderRequest(symbol="TEST-USD", side="buy", type="market", quantity=Decimal(1)),
            source=OrderSource.WEB,
        )
    assert exc.value.code == "trading_ended"


def test_disqualification_needs_a_reason(alice):
    participant = tournament_join(tournament=make_tournament(), user=alice)
    with pytest.raises(TournamentError) as exc:
        participant_disqualify(participant=participant, reason="  ", operator=None)
    assert exc.value.code == "reason_required"


# --- prizes ---------------------------------------------------------------------------------------


def _prize_journals():
    return Journal.objects.filter(kind=JournalKind.PRIZE)


def test_prizes_are_paid_to_the_winners_personal_accounts(alice, bob, carol, market):
    tournament = make_tournament(prizes=[(1, 1, "1000.00"), (2, 3, "250.00")])
    entries = {u: tournament_join(tournament=tournament, user=u) for u in (alice, bob, carol)}
    # alice ahead: +300 of realised profit booked to her tournament account.
    journal_post(
        kind=JournalKind.TRADE_PNL,
        lines=[
            (entries[alice].account.cash_account, Decimal("300.00")),
            (house_account(HOUSE_TRADING_PNL), Decimal("-300.00")),
        ],
    )

    tournament_finish(tournament=tournament)

    awards = {a.participant.user: (a.rank, a.amount) for a in PrizeAward.objects.all()}
    # bob and carol tie at rank 2: each gets the 2-3 prize.
    assert awards == {
        alice: (1, Decimal("1000.00")),
        bob: (2, Decimal("250.00")),
        carol: (2, Decimal("250.00")),
    }
    assert account_default_for(alice).cash_account.balance == Decimal("101000.00")
    assert account_default_for(bob).cash_account.balance == Decimal("100250.00")
    prizes_paid = Posting.objects.filter(account=house_account(HOUSE_PRIZES))
    assert sum(p.amount for p in prizes_paid) == Decimal("-1500.00")
    award = PrizeAward.objects.get(participant=entries[alice])
    assert _prize_journals().get(pk=award.journal_id).reference_id == str(tournament.pk)


def test_a_second_finish_pays_nothing_twice(alice):
    tournament = make_tournament(prizes=[(1, 1, "1000.00")])
    tournament_join(tournament=tournament, user=alice)
    tournament_finish(tournament=tournament)
    # Force the state back, as a bug or a replayed job might: the constraint still holds.
    Tournament.objects.filter(pk=tournament.pk).update(status=TournamentStatus.RUNNING)
    Standing.objects.filter(tournament=tournament).update(is_final=False)

    tournament_finish(tournament=tournament)

    assert PrizeAward.objects.count() == 1
    assert _prize_journals().count() == 1
    assert account_default_for(alice).cash_account.balance == Decimal("101000.00")


@pytest.mark.django_db(transaction=True)
def test_two_finishes_at_once_pay_once():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises all writers; row locks need PostgreSQL")
    tournament = make_tournament(prizes=[(1, 2, "500.00")])
    for _ in range(3):
        tournament_join(tournament=tournament, user=UserFactory())
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def finish():
        try:
            barrier.wait(timeout=10)
            tournament_finish(tournament=Tournament.objects.get(pk=tournament.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=finish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    # All three tie at rank 1 (no trading): each wins the 1-2 prize exactly once.
    assert PrizeAward.objects.count() == 3
    assert _prize_journals().count() == 3


@pytest.fixture
def own_layer():
    """A channel layer of this test's own: receiving binds a layer to an event loop."""
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


def test_finished_participants_are_told(alice, own_layer, django_capture_on_commit_callbacks):
    layer = own_layer
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(alice.pk), channel)
    tournament = make_tournament(prizes=[(1, 1, "10.00")])
    tournament_join(tournament=tournament, user=alice)

    with django_capture_on_commit_callbacks(execute=True):
        tournament_finish(tournament=tournament)

    async def receive():
        return await asyncio.wait_for(layer.receive(channel), timeout=5)

    message = async_to_sync(receive)()
    assert message["payload"] == {
        "type": "tournament_finished",
        "tournament": tournament.pk,
        "slug": tournament.slug,
        "name": tournament.name,
        "rank": 1,
        "prize": "10.00",
    }
