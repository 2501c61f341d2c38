"""What a locked-out client sees (django-axes calls this for pages and API alike)."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

LOCKOUT_MESSAGE = "Too many failed log-in attempts. Try again in 15 minutes."


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": LOCKOUT_MESSAGE, "code": "locked_out"}, status=429)
    from accounts.forms import LoginForm

    form = LoginForm(request, data=request.POST or None)
    form.is_bound = False
    response = TemplateResponse(
        request,
        "accounts/login.html",
        {"form": form, "lockout_message": LOCKOUT_MESSAGE},
        status=429,
    )
    return response.render()
