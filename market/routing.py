from django.urls import path

from market.consumers import InstrumentTicksConsumer, MarketConsumer

websocket_urlpatterns = [
    path("ws/market/", MarketConsumer.as_asgi()),
    path("ws/market/<str:symbol>/", InstrumentTicksConsumer.as_asgi()),
]
