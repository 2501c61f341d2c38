"""Mounted under /api/ (no trailing slashes); "mine" comes before "<id>"."""

from django.urls import path

from tournaments.api import views

urlpatterns = [
    path("tournaments", views.TournamentList.as_view(), name="api-tournaments"),
    path("tournaments/mine", views.MyTournaments.as_view(), name="api-tournaments-mine"),
    path("tournaments/<int:pk>", views.tournament_detail, name="api-tournament"),
    path("tournaments/<int:pk>/join", views.tournament_join, name="api-tournament-join"),
    path(
        "tournaments/<int:pk>/leaderboard",
        views.Leaderboard.as_view(),
        name="api-tournament-leaderboard",
    ),
    path("tournaments/<int:pk>/me", views.my_standing, name="api-tournament-me"),
]
