from django.urls import path

from accounts.api import views

urlpatterns = [
    path("signup", views.signup, name="api-auth-signup"),
    path("login", views.login, name="api-auth-login"),
    path("refresh", views.refresh, name="api-auth-refresh"),
    path("logout", views.logout, name="api-auth-logout"),
    path("me", views.me, name="api-auth-me"),
]
