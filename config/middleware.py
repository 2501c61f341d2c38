from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    """Refuse request bodies over MAX_REQUEST_BODY_BYTES with 413 before anything reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"detail": "Invalid Content-Length header.", "code": "bad_request"}, status=400
            )
        if length > settings.MAX_REQUEST_BODY_BYTES:
            return JsonResponse(
                {
                    "detail": "Request body too large "
                    f"(limit {settings.MAX_REQUEST_BODY_BYTES} bytes).",
                    "code": "request_too_large",
                },
                status=413,
            )
        return self.get_response(request)
