"""Tournament pages: the list, a tournament (rules, prizes, entry, live leaderboard, final
results) and joining. Function views over the same selectors and services as the API."""

import json
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from config.api import DomainError
from tournaments import selectors, services
from tournaments.forms import JoinForm
from tournaments.models import Tournament, TournamentStatus

LEADERBOARD_ROWS = 50
FINISHED_ON_LIST = 12


@require_GET
def tournament_list(request: HttpRequest) -> HttpResponse:
    mine = set()
    if request.user.is_authenticated:
        mine = set(
            selectors.tournaments_for_user(request.user).values_list("tournament_id", flat=True)
        )
    context = {
        "upcoming": list(selectors.tournaments_list(TournamentStatus.UPCOMING)),
        "running": list(selectors.tournaments_list(TournamentStatus.RUNNING)),
        "finished": list(selectors.tournaments_list(TournamentStatus.FINISHED)[:FINISHED_ON_LIST]),
        "mine": mine,
    }
    return TemplateResponse(request, "tournaments/list.html", context)


def _leaderboard_context(request: HttpRequest, tournament: Tournament) -> dict:
    rows = selectors.leaderboard(tournament, LEADERBOARD_ROWS)
    me = selectors.standing_for(tournament, request.user)
    return {
        "rows": rows,
        "my_standing": me,
        "me_outside": me is not None and all(row.pk != me.pk for row in rows),
        "standings_total": selectors.leaderboard_count(tournament),
    }


def _percent(fraction: Decimal | None) -> str | None:
    return None if fraction is None else f"{(fraction * 100).normalize():f}"


def _detail_context(request: HttpRequest, tournament: Tournament, form=None) -> dict:
    participant = selectors.participant_for(tournament, request.user)
    now = timezone.now()
    return {
        "tournament": tournament,
        "participant": participant,
        "form": form or JoinForm(),
        "can_join": participant is None and tournament.registration_open_at(now),
        "awards": selectors.awards_for(tournament)
        if tournament.status == TournamentStatus.FINISHED
        else [],
        "symbols": sorted(i.symbol for i in tournament.allowed_instruments.all()),
        "commission_pct": _percent(tournament.commission_rate),
        "max_share_pct": _percent(tournament.max_position_share),
        **_leaderboard_context(request, tournament),
    }


@require_GET
def tournament_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tournament = selectors.tournament_get(slug=slug)
    return TemplateResponse(
        request, "tournaments/detail.html", _detail_context(request, tournament)
    )


@require_GET
def tournament_leaderboard(request: HttpRequest, slug: str) -> HttpResponse:
    """The leaderboard fragment (what the live page swaps in after each `standings` frame)."""
    tournament = selectors.tournament_get(slug=slug)
    context = {"tournament": tournament, **_leaderboard_context(request, tournament)}
    return TemplateResponse(request, "tournaments/detail.html#leaderboard", context)


@login_required
@require_POST
def tournament_join(request: HttpRequest, slug: str) -> HttpResponse:
    tournament = selectors.tournament_get(slug=slug)
    form = JoinForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            services.tournament_join(
                tournament=tournament,
                user=request.user,
                join_code=form.cleaned_data["join_code"],
            )
        except DomainError as exc:
            form.add_error("join_code" if exc.field == "join_code" else None, exc.message)
            status = exc.status
        else:
            text = f"You joined {tournament.name}. Good luck!"
            if not request.htmx:
                messages.success(request, text)
                return redirect("tournaments:detail", slug=tournament.slug)
            tournament = selectors.tournament_get(slug=slug)
            response = TemplateResponse(
                request,
                "tournaments/detail.html#entry",
                _detail_context(request, tournament),
            )
            response["HX-Trigger"] = json.dumps({"pt-toast": {"text": text, "kind": "success"}})
            return response
    context = _detail_context(request, tournament, form=form)
    template = "tournaments/detail.html#entry" if request.htmx else "tournaments/detail.html"
    return TemplateResponse(request, template, context, status=status)
