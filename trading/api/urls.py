from django.urls import path

from trading.api import views

# Included directly under /api/ (the paths start with "accounts"). No trailing slashes: many
# clients do not follow redirects on POST.
ACCOUNT = "accounts/<int:account_id>"

urlpatterns = [
    path("accounts", views.account_list, name="api-accounts"),
    path(ACCOUNT, views.account_detail, name="api-account"),
    path(f"{ACCOUNT}/reset", views.account_reset, name="api-account-reset"),
    path(f"{ACCOUNT}/orders", views.order_list, name="api-account-orders"),
    path(f"{ACCOUNT}/orders/<int:order_id>", views.order_detail, name="api-account-order"),
    path(f"{ACCOUNT}/positions", views.position_list, name="api-account-positions"),
    path(f"{ACCOUNT}/positions/close", views.position_close, name="api-account-positions-close"),
    path(f"{ACCOUNT}/positions/<str:symbol>", views.position_detail, name="api-account-position"),
    path(f"{ACCOUNT}/fills", views.fill_list, name="api-account-fills"),
    path(f"{ACCOUNT}/ledger", views.ledger_list, name="api-account-ledger"),
    path(f"{ACCOUNT}/history", views.account_history, name="api-account-history"),
]
