from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.module_loading import import_string


def dashboard_panels(request: HttpRequest) -> list[str]:
    """HTML of the extra dashboard panels: each dotted callable in settings.DASHBOARD_PANELS
    takes the request and returns (template name, context) or None (nothing to show). This is
    how apps above trading (e.g. tournaments: "running tournaments I am in, with my rank")
    reach the dashboard without trading importing them."""
    panels = []
    for dotted in getattr(settings, "DASHBOARD_PANELS", []):
        result = import_string(dotted)(request)
        if result is not None:
            template, context = result
            panels.append(render_to_string(template, context, request=request))
    return panels


def home(request: HttpRequest) -> HttpResponse:
    """The landing page for visitors; the trading dashboard for a signed-in user."""
    if request.user.is_authenticated:
        from trading.views import dashboard

        return dashboard(request, panels=lambda: dashboard_panels(request))
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
