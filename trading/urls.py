from django.urls import path

from trading import views

app_name = "trading"

# Included at the site root before market.urls: the trading app owns /trade/<symbol>/ (the
# market app's chart page is extended by trading/trade.html); /trade/ is the market app's.
urlpatterns = [
    path("trade/<str:symbol>/", views.trade, name="trade"),
    path("trade/<str:symbol>/order", views.order_place, name="order_place"),
    path("trade/<str:symbol>/estimate", views.order_estimate, name="order_estimate"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:order_id>/cancel", views.order_cancel, name="order_cancel"),
    path("positions/<str:symbol>/close", views.position_close, name="position_close"),
    path("positions/<str:symbol>/protect", views.position_protect, name="position_protect"),
    path("activity/", views.activity, name="activity"),
    path("trading-accounts/", views.accounts, name="accounts"),
    path("trading-accounts/<int:account_id>/rename", views.account_rename, name="account_rename"),
    path("trading-accounts/<int:account_id>/reset", views.account_reset, name="account_reset"),
    path("trading-accounts/<int:account_id>/delete", views.account_delete, name="account_delete"),
]
