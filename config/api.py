"""API plumbing shared by every app: errors, pagination, and refusals from services."""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ErrorSerializer(serializers.Serializer):
    """Every error body: a human `detail`, a stable `code`, and field `errors` for 400s."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(required=False)


class DomainError(Exception):
    """A well-formed request refused by a business rule (HTTP 409 or 422 with a stable code).

    Services raise subclasses; the page shows `message`, the API answers `status`.
    """

    status = status.HTTP_422_UNPROCESSABLE_ENTITY

    def __init__(self, code: str, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class ConflictError(DomainError):
    status = status.HTTP_409_CONFLICT


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


def validated(serializer_class, data) -> dict:
    """DATA checked by SERIALIZER_CLASS; bad input raises (400 with field errors)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _first_code(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return getattr(detail, "code", None) or "invalid"


def _field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _field_errors_list(value) for key, value in detail.items()}
    return {"non_field_errors": _field_errors_list(detail)}


def _field_errors_list(value):
    if isinstance(value, dict):
        return {key: _field_errors_list(sub) for key, sub in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return [_field_errors_list(item) for item in value]
        return [str(item) for item in value]
    return [str(value)]


def _error_details(errors: list[DjangoValidationError]) -> list[exceptions.ErrorDetail]:
    # Iterating a ValidationError yields its messages with their params filled in.
    return [exceptions.ErrorDetail(str(msg), code=err.code) for err in errors for msg in err]


def _django_validation_to_drf(exc: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(exc, "error_dict"):
        detail = {field: _error_details(errs) for field, errs in exc.error_dict.items()}
    else:
        detail = {"non_field_errors": _error_details(exc.error_list)}
    return exceptions.ValidationError(detail)


def exception_handler(exc, context):
    """Give every error `detail` and `code`; turn domain refusals into 409/422."""
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["errors"] = {exc.field: [exc.message]}
        return Response(body, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = _django_validation_to_drf(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": "Invalid input.",
            "code": _first_code(exc.detail),
            "errors": _field_errors(exc.detail),
        }
        return response
    detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
    code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
    body = {"detail": str(detail), "code": code}
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        body["retry_after"] = int(exc.wait)
    response.data = body
    return response


def json_error(request, detail: str, code: str, status_code: int) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status_code)


def api_not_found(request, exception=None):
    return json_error(request, "Not found.", "not_found", 404)


def api_server_error(request):
    return json_error(request, "Internal server error.", "server_error", 500)
