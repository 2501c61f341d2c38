from django.urls import path

from market.api import views

# Under /api/market/ (instruments, quotes, candles, movers).
urlpatterns = [
    path("instruments", views.InstrumentList.as_view(), name="api-market-instruments"),
    path("instruments/<str:symbol>", views.instrument_detail, name="api-market-instrument"),
    path("movers", views.movers, name="api-market-movers"),
    path("<str:symbol>/quote", views.quote, name="api-market-quote"),
    path("<str:symbol>/candles", views.candles, name="api-market-candles"),
]

# Directly under /api/ (the watchlist is not under /api/market/ in the contract).
watchlist_urlpatterns = [
    path("watchlist", views.watchlist, name="api-watchlist"),
    path("watchlist/<str:symbol>", views.watchlist_entry, name="api-watchlist-entry"),
]
