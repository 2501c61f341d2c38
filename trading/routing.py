from django.urls import path

from trading.consumers import AccountConsumer

# A str converter (not int): a malformed id still gets the 4404 close, not a failed handshake.
websocket_urlpatterns = [
    path("ws/accounts/<str:account_id>/", AccountConsumer.as_asgi()),
]
