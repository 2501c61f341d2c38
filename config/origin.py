"""WebSocket Origin check at the handshake."""

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    """Refuse handshakes whose Origin is not one of our hosts.

    Browsers always send Origin, so a cross-site page can never ride a user's session cookie
    into a socket. Scripts (e.g. Python `websockets`) send none; they are let through because
    they must authenticate with a JWT as their first message anyway.
    """

    def __init__(self, application):
        super().__init__(application, allowed_origins=None)

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        allowed = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG:
            allowed += [".localhost", "127.0.0.1", "[::1]"]
        self.allowed_origins = allowed
        return self.validate_origin(parsed_origin)
