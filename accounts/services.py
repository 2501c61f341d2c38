"""Account operations shared by the pages, the API and the management commands."""

import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User, normalize_email_address


class TokenRefused(Exception):
    """A refresh token that is invalid, expired, already used or revoked."""

    code = "token_not_valid"

    def __init__(self, message: str = "Token is invalid, expired or already used.") -> None:
        super().__init__(message)
        self.message = message


def _email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists()


def _display_name_taken(name: str, *, exclude_pk: int | None = None) -> bool:
    return User.objects.filter(display_name__iexact=name).exclude(pk=exclude_pk).exists()


def display_name_suggest(email: str) -> str:
    """A free display name derived from the email's local part."""
    base = "".join(ch for ch in email.split("@")[0] if ch.isalnum() or ch in "-_.")[:30]
    if len(base) < 3:
        base = f"trader-{base}".rstrip("-")
    candidate = base
    while _display_name_taken(candidate):
        candidate = f"{base}-{secrets.randbelow(9000) + 1000}"
    return candidate


def display_name_validate(name: str, *, user: User | None = None) -> str:
    name = (name or "").strip()
    if len(name) < 3:
        raise ValidationError(
            {"display_name": ValidationError("Use at least 3 characters.", code="too_short")}
        )
    if len(name) > 40:
        raise ValidationError(
            {"display_name": ValidationError("Use at most 40 characters.", code="too_long")}
        )
    if _display_name_taken(name, exclude_pk=user.pk if user else None):
        raise ValidationError(
            {"display_name": ValidationError("That display name is taken.", code="taken")}
        )
    return name


@transaction.atomic
def user_signup(*, email: str, password: str, display_name: str | None = None) -> User:
    """Create a trader. Raises ValidationError (field -> message, with codes) and writes nothing
    when the email is taken, the display name is taken or the password is too weak."""
    email = normalize_email_address(email)
    errors: dict[str, list[ValidationError]] = {}
    if _email_taken(email):
        errors["email"] = [
            ValidationError("An account with this email already exists.", code="email_taken")
        ]
    if display_name:
        try:
            display_name = display_name_validate(display_name)
        except ValidationError as exc:
            errors.update(exc.error_dict)
    else:
        display_name = display_name_suggest(email)
    try:
        validate_password(password, User(email=email, display_name=display_name))
    except ValidationError as exc:
        errors["password"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email=email, password=password, display_name=display_name
            )
    except IntegrityError as exc:  # a concurrent signup took the email or name first
        raise ValidationError(
            {
                "email": ValidationError(
                    "An account with this email already exists.", code="email_taken"
                )
            }
        ) from exc


@transaction.atomic
def profile_update(*, user: User, display_name: str) -> User:
    user.display_name = display_name_validate(display_name, user=user)
    user.save(update_fields=["display_name"])
    return user


@transaction.atomic
def operator_create(*, email: str, password: str | None = None) -> tuple[User, bool]:
    """Make EMAIL a staff member of the operators group (never a superuser).

    Creates the user when missing (with PASSWORD, or an unusable one). Returns (user, created).
    """
    email = normalize_email_address(email)
    user = User.objects.filter(email=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(
            email=email, password=password, display_name=display_name_suggest(email)
        )
        if password is None:
            user.set_unusable_password()
    elif password:
        user.set_password(password)
    user.is_staff = True
    user.save()
    group, _ = Group.objects.get_or_create(name=settings.OPERATORS_GROUP)
    user.groups.add(group)
    return user, created


def tokens_issue(*, user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def _refresh_token_parse(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw, verify=True)
    except TokenError as exc:
        raise TokenRefused() from exc


def _blacklist_once(token: RefreshToken) -> OutstandingToken:
    """Blacklist a refresh token, or refuse it when it already is.

    The outstanding-token row is locked, and the blacklist row is unique, so of many concurrent
    uses of one token exactly one gets through.
    """
    jti = token[jwt_settings.JTI_CLAIM]
    outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).first()
    if outstanding is None:
        raise TokenRefused()
    if BlacklistedToken.objects.filter(token=outstanding).exists():
        raise TokenRefused()
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
    except IntegrityError as exc:
        raise TokenRefused() from exc
    return outstanding


@transaction.atomic
def tokens_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate a refresh token: the old one is blacklisted, a new pair is issued."""
    token = _refresh_token_parse(refresh)
    outstanding = _blacklist_once(token)
    user = outstanding.user
    if user is None or not user.is_active:
        raise TokenRefused("No active account found for the given token.")
    return tokens_issue(user=user)


@transaction.atomic
def tokens_revoke(*, refresh: str, user: User) -> None:
    """Log out a refresh token of USER (it no longer refreshes)."""
    token = _refresh_token_parse(refresh)
    if str(token.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise TokenRefused()
    _blacklist_once(token)
