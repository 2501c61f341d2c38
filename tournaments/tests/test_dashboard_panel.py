"""The dashboard's tournaments panel: my running tournaments with my rank, else an invitation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tournaments.models import TournamentStatus
from tournaments.services import standings_recompute, tournament_join
from tournaments.tests.factories import make_tournament

pytestmark = pytest.mark.django_db


def _panel(client) -> str:
    html = client.get("/").content.decode()
    start = html.index('id="my-tournaments"')
    return html[start : html.index("</section>", start)]


def test_my_running_tournaments_show_my_rank_of_the_field(client, alice, bob, carol, market):
    cup = make_tournament(name="Spring Cup")
    for user in (alice, bob, carol):
        tournament_join(tournament=cup, user=user)
    standings_recompute(tournament=cup)
    later = make_tournament(name="Later Cup", status=TournamentStatus.UPCOMING)
    tournament_join(tournament=later, user=alice)
    client.force_login(alice)

    panel = _panel(client)

    assert "Spring Cup" in panel
    # Three equal entries share rank 1 (ties share a rank).
    assert '1 <small class="muted">of 3</small>' in panel
    assert "Later Cup" not in panel  # not running yet
    entry_account = cup.participants.get(user=alice).account_id
    assert f"/trade/?account={entry_account}" in panel


def test_a_trader_in_no_tournament_is_invited_to_the_open_ones(client, alice, bob):
    make_tournament(name="Open Cup")
    make_tournament(name="Private Cup", join_code="s3cret")
    make_tournament(name="Closed Cup", registration_closes_at=timezone.now() - timedelta(minutes=1))
    make_tournament(name="Old Cup", status=TournamentStatus.FINISHED)
    full = make_tournament(name="Bob's Cup")
    tournament_join(tournament=full, user=bob)
    client.force_login(alice)

    panel = _panel(client)

    assert "You are not in a running tournament" in panel
    assert "Open Cup" in panel and "Bob&#x27;s Cup" in panel
    for hidden in ("Private Cup", "Closed Cup", "Old Cup"):
        assert hidden not in panel


def test_with_nothing_to_join_the_panel_says_where_to_look(client, alice):
    client.force_login(alice)
    assert "No tournament is open for entry right now" in _panel(client)


def test_the_panel_costs_a_bounded_number_of_queries(
    client, alice, market, django_assert_max_num_queries
):
    for _ in range(5):
        tournament_join(tournament=make_tournament(), user=alice)
    client.force_login(alice)
    client.get("/")  # opens the default trading account
    with django_assert_max_num_queries(30):
        assert client.get("/").status_code == 200
