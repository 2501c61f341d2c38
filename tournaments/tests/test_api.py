"""The tournaments API of api.md: public lists and leaderboards, joining, my standings."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from tournaments.models import Participant, TournamentStatus
from tournaments.services import standings_recompute, tournament_join
from tournaments.tests.factories import make_tournament

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def alice_api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def test_the_list_is_public_and_filters_by_status(api):
    running = make_tournament(name="Live one")
    make_tournament(status=TournamentStatus.UPCOMING)
    make_tournament(status=TournamentStatus.DRAFT)

    everything = api.get("/api/tournaments")
    only_running = api.get("/api/tournaments", {"status": "running"})

    assert everything.status_code == 200
    assert everything.json()["count"] == 2  # drafts are not public
    rows = only_running.json()["results"]
    assert [row["id"] for row in rows] == [running.pk]
    assert rows[0]["participant_count"] == 0
    assert api.get("/api/tournaments", {"status": "draft"}).status_code == 400


def test_the_detail_shows_rules_window_prizes_and_count(api, market, alice):
    tournament = make_tournament(
        instruments=[market], prizes=[(1, 1, "100.00")], max_leverage=Decimal("4")
    )
    tournament_join(tournament=tournament, user=alice)

    body = api.get(f"/api/tournaments/{tournament.pk}").json()

    assert body["status"] == "running"
    assert body["participant_count"] == 1
    assert body["rules"]["allowed_instruments"] == ["TEST-USD"]
    assert body["rules"]["max_leverage"] == "4.00"
    assert body["prizes"] == [{"rank_from": 1, "rank_to": 1, "amount": "100.00", "description": ""}]
    assert body["starts_at"].endswith("Z")


def test_unknown_and_draft_tournaments_are_404(api, alice_api):
    draft = make_tournament(status=TournamentStatus.DRAFT)
    for path in ("", "/leaderboard"):
        assert api.get(f"/api/tournaments/999999{path}").status_code == 404
        assert api.get(f"/api/tournaments/{draft.pk}{path}").status_code == 404
    response = alice_api.post(f"/api/tournaments/{draft.pk}/join", {}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_joining_answers_201_with_the_account(alice_api, alice):
    tournament = make_tournament()

    response = alice_api.post(f"/api/tournaments/{tournament.pk}/join", {}, format="json")

    assert response.status_code == 201
    participant = Participant.objects.get(user=alice)
    assert response.json()["account_id"] == participant.account_id
    assert response.json()["tournament"] == tournament.pk


def test_join_refusals_have_their_codes(alice_api, bob):
    full = make_tournament(max_participants=1)
    tournament_join(tournament=full, user=bob)
    private = make_tournament(join_code="abc")
    closed = make_tournament(status=TournamentStatus.FINISHED)

    def join(tournament, **body):
        response = alice_api.post(f"/api/tournaments/{tournament.pk}/join", body, format="json")
        return response.status_code, response.json().get("code")

    assert join(full) == (409, "tournament_full")
    assert join(closed) == (409, "registration_closed")
    assert join(private, join_code="nope") == (403, "wrong_join_code")
    assert join(private, join_code="abc")[0] == 201
    assert join(private, join_code="abc") == (409, "already_joined")


def test_joining_needs_authentication(api):
    tournament = make_tournament()
    assert api.post(f"/api/tournaments/{tournament.pk}/join", {}).status_code == 401


def test_the_leaderboard_is_paginated_and_bounded(api, django_assert_max_num_queries):
    tournament = make_tournament()
    for n in range(7):
        tournament_join(tournament=tournament, user=UserFactory(display_name=f"trader-{n}"))
    standings_recompute(tournament=tournament)

    with django_assert_max_num_queries(4):
        page = api.get(f"/api/tournaments/{tournament.pk}/leaderboard", {"limit": 3, "offset": 2})

    body = page.json()
    assert body["count"] == 7
    assert [row["position"] for row in body["results"]] == [3, 4, 5]
    assert set(body["results"][0]) >= {
        "rank", "display_name", "equity", "pnl", "return_pct", "trades", "win_rate",
        "max_drawdown", "is_bot",
    }  # fmt: skip
    assert body["results"][0]["equity"] == "10000.00"
    huge = api.get(f"/api/tournaments/{tournament.pk}/leaderboard", {"limit": 100000})
    assert huge.status_code == 200
    assert len(huge.json()["results"]) == 7
    assert (
        api.get(f"/api/tournaments/{tournament.pk}/leaderboard", {"limit": -1}).status_code == 400
    )


def test_me_shows_my_standing_and_404_when_not_joined(alice_api, alice, bob):
    tournament = make_tournament()
    tournament_join(tournament=tournament, user=bob)
    assert alice_api.get(f"/api/tournaments/{tournament.pk}/me").status_code == 404

    participant = tournament_join(tournament=tournament, user=alice)
    before = alice_api.get(f"/api/tournaments/{tournament.pk}/me").json()
    standings_recompute(tournament=tournament)
    after = alice_api.get(f"/api/tournaments/{tournament.pk}/me").json()

    assert before["standing"] is None
    assert after["participant"]["account_id"] == participant.account_id
    assert after["standing"]["rank"] == 1
    assert after["standing"]["display_name"] == "alice"


def test_mine_lists_my_tournaments_with_bounded_queries(
    alice_api, alice, django_assert_max_num_queries
):
    for _ in range(4):
        tournament = make_tournament()
        tournament_join(tournament=tournament, user=alice)
        standings_recompute(tournament=tournament)
    make_tournament()  # not joined

    with django_assert_max_num_queries(4):
        response = alice_api.get("/api/tournaments/mine")

    rows = response.json()["results"]
    assert len(rows) == 4
    assert rows[0]["standing"]["rank"] == 1
    assert rows[0]["participant"]["display_name"] == "alice"


def test_the_list_has_bounded_queries(api, django_assert_max_num_queries):
    for _ in range(5):
        make_tournament()
    with django_assert_max_num_queries(3):
        assert api.get("/api/tournaments").status_code == 200
