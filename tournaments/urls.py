from django.urls import path

from tournaments import views

app_name = "tournaments"

urlpatterns = [
    path("", views.tournament_list, name="list"),
    path("<slug:slug>/", views.tournament_detail, name="detail"),
    path("<slug:slug>/join", views.tournament_join, name="join"),
    path("<slug:slug>/leaderboard", views.tournament_leaderboard, name="leaderboard"),
]
