from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle

from accounts import services
from accounts.api.serializers import (
    LoginInput,
    ProfileInput,
    RefreshInput,
    SignupInput,
    SignupOutput,
    TokenPairOutput,
    UserOutput,
)
from accounts.lockout import LOCKOUT_MESSAGE
from config.api import ErrorSerializer, validated


class AuthThrottle(SimpleRateThrottle):
    """Signup, login and refresh share one per-IP budget (on top of the login lockout)."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


@extend_schema(
    request=SignupInput,
    responses={201: SignupOutput, 400: ErrorSerializer},
    auth=[],
    summary="Create an account and get tokens",
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AuthThrottle])
def signup(request: Request) -> Response:
    data = validated(SignupInput, request.data)
    user = services.user_signup(
        email=data["email"], password=data["password"], display_name=data.get("display_name")
    )
    body = {"user": UserOutput(user).data, **services.tokens_issue(user=user)}
    return Response(body, status=status.HTTP_201_CREATED)


@extend_schema(
    request=LoginInput,
    responses={200: TokenPairOutput, 401: ErrorSerializer, 429: ErrorSerializer},
    auth=[],
    summary="Exchange email and password for tokens",
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AuthThrottle])
def login(request: Request) -> Response:
    data = validated(LoginInput, request.data)
    user = authenticate(request._request, username=data["email"], password=data["password"])
    if getattr(request._request, "axes_locked_out", False):
        raise Throttled(detail=LOCKOUT_MESSAGE, code="locked_out")
    if user is None or not user.is_active:
        # Unknown email and wrong password answer alike.
        raise AuthenticationFailed("Invalid email or password.", code="invalid_credentials")
    return Response(services.tokens_issue(user=user))


@extend_schema(
    request=RefreshInput,
    responses={200: TokenPairOutput, 401: ErrorSerializer},
    auth=[],
    summary="Rotate a refresh token (the old one stops working)",
)
@api_view(["POST"])
@permission_classes([AllowAny])
@throttle_classes([AuthThrottle])
def refresh(request: Request) -> Response:
    data = validated(RefreshInput, request.data)
    try:
        tokens = services.tokens_refresh(refresh=data["refresh"])
    except services.TokenRefused as exc:
        raise AuthenticationFailed(exc.message, code=exc.code) from exc
    return Response(tokens)


@extend_schema(
    request=RefreshInput,
    responses={205: OpenApiResponse(description="Logged out"), 401: ErrorSerializer},
    summary="Revoke a refresh token",
)
@api_view(["POST"])
def logout(request: Request) -> Response:
    data = validated(RefreshInput, request.data)
    try:
        services.tokens_revoke(refresh=data["refresh"], user=request.user)
    except services.TokenRefused as exc:
        raise AuthenticationFailed(exc.message, code=exc.code) from exc
    return Response(status=status.HTTP_205_RESET_CONTENT)


@extend_schema(
    methods=["GET"], responses={200: UserOutput, 401: ErrorSerializer}, summary="Who am I"
)
@extend_schema(
    methods=["PATCH"],
    request=ProfileInput,
    responses={200: UserOutput, 400: ErrorSerializer},
    summary="Change my display name",
)
@api_view(["GET", "PATCH"])
def me(request: Request) -> Response:
    if request.method == "PATCH":
        data = validated(ProfileInput, request.data)
        services.profile_update(user=request.user, display_name=data["display_name"])
    return Response(UserOutput(request.user).data)
