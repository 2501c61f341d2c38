from django.contrib.auth.backends import ModelBackend

from accounts.models import normalize_email_address


class EmailBackend(ModelBackend):
    """Log in with an email address, compared case-insensitively."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return super().authenticate(
            request, username=normalize_email_address(email or username), password=password
        )
