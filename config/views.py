from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: what Papertrade is and how to start."""
    return TemplateResponse(request, "home.html")


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if request.path.startswith("/api/"):
        from config.api import api_not_found

        return api_not_found(request, exception)
    return TemplateResponse(request, "404.html", status=404).render()


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        from config.api import api_server_error

        return api_server_error(request)
    return TemplateResponse(request, "500.html", status=500).render()
