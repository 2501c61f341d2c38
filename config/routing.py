"""All WebSocket routes; each app contributes its own `websocket_urlpatterns`."""

from accounts.routing import websocket_urlpatterns as accounts_ws
from market.routing import websocket_urlpatterns as market_ws
from tournaments.routing import websocket_urlpatterns as tournaments_ws
from trading.routing import websocket_urlpatterns as trading_ws

websocket_urlpatterns = [*accounts_ws, *market_ws, *trading_ws, *tournaments_ws]
