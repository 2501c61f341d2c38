from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User


def user_for_access_token(raw: str) -> User | None:
    """The active user an access token names, or None for any invalid, expired or foreign token."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    return User.objects.filter(pk=token.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
