from django.urls import path

from market import views

app_name = "market"

urlpatterns = [
    path("markets/", views.instrument_list, name="list"),
    path("markets/search", views.symbol_search, name="symbol_search"),
    path("markets/<str:symbol>/watch", views.watch, name="watch"),
    path("markets/<str:symbol>/unwatch", views.unwatch, name="unwatch"),
    path("trade/", views.trade_default, name="trade_default"),
    path("trade/<str:symbol>/", views.instrument, name="instrument"),
]
