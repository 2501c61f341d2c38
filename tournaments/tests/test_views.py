"""Tournament pages: the list, a tournament, joining by plain POST and by htmx."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tournaments.models import Participant, TournamentStatus
from tournaments.services import standings_recompute, tournament_finish, tournament_join
from tournaments.tests.factories import make_tournament

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_list_shows_upcoming_with_countdowns_running_and_finished(client):
    make_tournament(name="Live Cup")
    soon = make_tournament(
        name="Soon Cup",
        status=TournamentStatus.UPCOMING,
        starts_at=timezone.now() + timedelta(hours=3),
    )
    make_tournament(name="Old Cup", status=TournamentStatus.FINISHED)
    make_tournament(name="Secret Draft", status=TournamentStatus.DRAFT)

    response = client.get(reverse("tournaments:list"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Live Cup" in html and "Soon Cup" in html and "Old Cup" in html
    assert "Secret Draft" not in html
    assert f'datetime="{soon.starts_at.isoformat()}" data-countdown' in html


def test_the_list_has_bounded_queries(client, alice, django_assert_max_num_queries):
    for _ in range(6):
        tournament_join(tournament=make_tournament(), user=alice)
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        client.get(reverse("tournaments:list"))


def test_the_detail_shows_rules_prizes_and_a_join_button(client, alice, market):
    tournament = make_tournament(instruments=[market], prizes=[(1, 1, "250.00")])
    client.force_login(alice)

    html = client.get(reverse("tournaments:detail", args=[tournament.slug])).content.decode()

    assert "TEST-USD" in html
    assert "250.00" in html
    assert "Join the tournament" in html
    assert 'name="join_code"' not in html  # public
    assert f'data-standings-socket="/ws/tournaments/{tournament.pk}/"' in html


def test_a_private_tournament_asks_for_the_code(client, alice):
    tournament = make_tournament(join_code="abc")
    client.force_login(alice)
    html = client.get(reverse("tournaments:detail", args=[tournament.slug])).content.decode()
    assert 'name="join_code"' in html


def test_joining_by_plain_post_redirects_to_the_tournament(client, alice, market):
    tournament = make_tournament(instruments=[market])
    client.force_login(alice)

    response = client.post(reverse("tournaments:join", args=[tournament.slug]))

    assert response.status_code == 302
    assert response["Location"] == reverse("tournaments:detail", args=[tournament.slug])
    participant = Participant.objects.get(user=alice, tournament=tournament)
    page = client.get(response["Location"]).content.decode()
    assert f"/trade/TEST-USD/?account={participant.account_id}" in page
    assert f"/portfolio/?account={participant.account_id}" in page


def test_joining_with_htmx_swaps_the_entry_panel(client, alice):
    tournament = make_tournament()
    client.force_login(alice)

    response = client.post(reverse("tournaments:join", args=[tournament.slug]), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="entry"')
    assert "You are in" in html
    assert "pt-toast" in response["HX-Trigger"]
    assert Participant.objects.filter(user=alice).count() == 1


def test_a_wrong_code_is_shown_by_the_field(client, alice):
    tournament = make_tournament(join_code="abc")
    client.force_login(alice)

    plain = client.post(reverse("tournaments:join", args=[tournament.slug]), {"join_code": "x"})
    htmx = client.post(
        reverse("tournaments:join", args=[tournament.slug]), {"join_code": "x"}, **HTMX
    )

    assert plain.status_code == 403
    assert "That join code is not right." in plain.content.decode()
    assert htmx.status_code == 403
    assert "That join code is not right." in htmx.content.decode()
    assert not Participant.objects.exists()


def test_joining_needs_a_login(client):
    tournament = make_tournament()
    response = client.post(reverse("tournaments:join", args=[tournament.slug]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_leaderboard_highlights_my_row(client, alice, bob):
    tournament = make_tournament()
    tournament_join(tournament=tournament, user=bob)
    tournament_join(tournament=tournament, user=alice)
    standings_recompute(tournament=tournament)
    client.force_login(alice)

    fragment = client.get(reverse("tournaments:leaderboard", args=[tournament.slug]), **HTMX)

    html = fragment.content.decode()
    assert html.lstrip().startswith('<div id="leaderboard"')
    assert '<tr class="me" aria-current="true">' in html
    assert html.index("bob") < html.index('class="me"')


def test_the_detail_has_bounded_queries(client, alice, django_assert_max_num_queries):
    tournament = make_tournament(prizes=[(1, 1, "10.00")])
    from accounts.tests.factories import UserFactory

    for _ in range(30):
        tournament_join(tournament=tournament, user=UserFactory())
    tournament_join(tournament=tournament, user=alice)
    standings_recompute(tournament=tournament)
    client.force_login(alice)
    with django_assert_max_num_queries(14):
        client.get(reverse("tournaments:detail", args=[tournament.slug]))


def test_final_results_show_the_winners_and_my_prize(client, alice, bob):
    tournament = make_tournament(prizes=[(1, 2, "75.00")])
    tournament_join(tournament=tournament, user=alice)
    tournament_join(tournament=tournament, user=bob)
    tournament_finish(tournament=tournament)
    client.force_login(alice)

    html = client.get(reverse("tournaments:detail", args=[tournament.slug])).content.decode()

    assert "Final standings" in html
    assert "You finished <strong>#1</strong>" in html
    assert "You won <strong>75.00</strong>" in html
    assert "data-standings-socket" not in html
