"""The operators' desk: what an operator can do in the admin, and what nobody else can."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.services import operator_create
from accounts.tests.factories import UserFactory
from tournaments.models import Participant, PrizeAward, Standing, Tournament, TournamentStatus
from tournaments.services import tournament_join
from tournaments.tests.factories import make_tournament

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:tournaments_tournament_changelist"


@pytest.fixture
def operator():
    user, _ = operator_create(email="op@example.com", password="operator-pass-2026")
    return user


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


def _action(client, action: str, objects, url=CHANGELIST, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **extra}
    return client.post(reverse(url), data)


def _dt(value) -> dict:
    return {"0": value.strftime("%Y-%m-%d"), "1": value.strftime("%H:%M:%S")}


def test_the_operator_group_holds_only_what_operators_need():
    group = Group.objects.get(name=settings.OPERATORS_GROUP)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
    assert granted >= {
        "tournaments.add_tournament",
        "tournaments.change_tournament",
        "tournaments.view_tournament",
        "tournaments.view_participant",
        "tournaments.change_participant",
        "tournaments.view_prizeaward",
        "trading.view_order",
        "trading.view_fill",
        "trading.view_position",
        "trading.view_tradingaccount",
        "ledger.view_ledgeraccount",
        "ledger.view_journal",
        "ledger.post_adjustment",
    }
    apps = {name.split(".")[0] for name in granted}
    assert apps <= {"tournaments", "trading", "ledger"}
    assert not any(name.startswith("tournaments.delete_tournament") for name in granted)
    assert "tournaments.delete_prizeaward" not in granted
    assert "tournaments.change_prizeaward" not in granted


def test_an_operator_creates_a_tournament_with_prizes(operator_client, operator, market):
    starts = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    ends = starts + timedelta(days=7)
    data = {
        "name": "Spring Sprint",
        "slug": "spring-sprint",
        "description": "Fast and furious.",
        "starts_at_0": _dt(starts)["0"],
        "starts_at_1": _dt(starts)["1"],
        "ends_at_0": _dt(ends)["0"],
        "ends_at_1": _dt(ends)["1"],
        "starting_balance": "5000.00",
        "allowed_instruments": [market.pk],
        "max_leverage": "3",
        "allow_short": "on",
        "commission_rate": "0.0005",
        "min_commission": "0.10",
        "max_participants": "100",
        "join_code": "",
        "bots_allowed": "on",
        "prizes-TOTAL_FORMS": "2",
        "prizes-INITIAL_FORMS": "0",
        "prizes-MIN_NUM_FORMS": "0",
        "prizes-MAX_NUM_FORMS": "1000",
        "prizes-0-rank_from": "1",
        "prizes-0-rank_to": "1",
        "prizes-0-amount": "500.00",
        "prizes-0-description": "Winner",
        "prizes-1-rank_from": "2",
        "prizes-1-rank_to": "3",
        "prizes-1-amount": "100.00",
        "prizes-1-description": "",
    }

    response = operator_client.post(reverse("admin:tournaments_tournament_add"), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    tournament = Tournament.objects.get(slug="spring-sprint")
    assert tournament.status == TournamentStatus.DRAFT
    assert tournament.created_by == operator
    assert tournament.starting_balance == Decimal("5000.00")
    assert list(tournament.allowed_instruments.all()) == [market]
    assert [(p.rank_from, p.rank_to, p.amount) for p in tournament.prizes.all()] == [
        (1, 1, Decimal("500.00")),
        (2, 3, Decimal("100.00")),
    ]


def test_an_operator_runs_the_lifecycle_actions(operator_client, alice):
    tournament = make_tournament(status=TournamentStatus.DRAFT, prizes=[(1, 1, "50.00")])

    _action(operator_client, "publish", [tournament])
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.UPCOMING

    tournament_join(tournament=tournament, user=alice)
    _action(operator_client, "start_now", [tournament])
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.RUNNING

    _action(operator_client, "recompute_standings", [tournament])
    assert Standing.objects.filter(tournament=tournament).count() == 1

    _action(operator_client, "end_now", [tournament])
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.FINISHED
    assert PrizeAward.objects.filter(tournament=tournament).count() == 1


def test_the_cancel_action_and_refusals_show_as_messages(operator_client):
    tournament = make_tournament()
    _action(operator_client, "cancel", [tournament])
    tournament.refresh_from_db()
    assert tournament.status == TournamentStatus.CANCELED

    response = _action(operator_client, "start_now", [tournament])
    follow = operator_client.get(response["Location"])
    assert "The tournament is canceled." in follow.content.decode()


def test_standings_export_as_csv(operator_client, alice, bob):
    tournament = make_tournament()
    tournament_join(tournament=tournament, user=alice)
    tournament_join(tournament=tournament, user=bob)
    _action(operator_client, "recompute_standings", [tournament])

    response = _action(operator_client, "export_standings", [tournament])

    assert response["Content-Type"] == "text/csv"
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("tournament,position,rank,display_name")
    assert len(lines) == 3
    assert lines[1].startswith(f"{tournament.slug},1,1,alice,")


def test_disqualify_asks_for_a_reason_then_records_it(operator_client, operator, alice):
    tournament = make_tournament()
    participant = tournament_join(tournament=tournament, user=alice)
    url = "admin:tournaments_participant_changelist"

    first = _action(operator_client, "disqualify", [participant], url=url)
    assert first.status_code == 200
    assert b'name="reason"' in first.content
    participant.refresh_from_db()
    assert participant.disqualified_at is None

    _action(
        operator_client, "disqualify", [participant], url=url, apply="1", reason="Multi-accounting"
    )
    participant.refresh_from_db()
    assert participant.disqualification_reason == "Multi-accounting"
    assert participant.disqualified_by == operator


def test_operators_search_participants_and_read_orders(operator_client, alice):
    tournament_join(tournament=make_tournament(), user=alice)
    response = operator_client.get(
        reverse("admin:tournaments_participant_changelist"), {"q": "alice"}
    )
    assert response.status_code == 200
    assert "alice@example.com" in response.content.decode()
    assert operator_client.get(reverse("admin:trading_order_changelist")).status_code == 200
    assert operator_client.get(reverse("admin:trading_fill_changelist")).status_code == 200
    assert operator_client.get(reverse("admin:ledger_journal_changelist")).status_code == 200


def test_prize_awards_are_read_only(operator_client, alice):
    tournament = make_tournament(prizes=[(1, 1, "10.00")])
    tournament_join(tournament=tournament, user=alice)
    _action(operator_client, "end_now", [tournament])
    award = PrizeAward.objects.get()
    change = operator_client.post(
        reverse("admin:tournaments_prizeaward_change", args=[award.pk]), {"amount": "99999"}
    )
    assert change.status_code == 403
    delete = operator_client.post(
        reverse("admin:tournaments_prizeaward_delete", args=[award.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert PrizeAward.objects.get().amount == Decimal("10.00")
    assert Participant.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/",
        "/admin/auth/group/",
        "/admin/token_blacklist/outstandingtoken/",
        "/admin/market/instrument/add/",
    ],
)
def test_an_operator_cannot_reach_the_rest_of_the_admin(operator_client, url):
    assert operator_client.get(url).status_code == 403


def test_a_trader_cannot_open_the_admin_at_all(client):
    client.force_login(UserFactory())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert client.get(reverse(CHANGELIST)).status_code == 302
