"""The tournaments panel of the trading dashboard (settings.DASHBOARD_PANELS): the running
tournaments I am in with my rank, or, when there are none, the ones I can still join."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from tournaments import selectors


def dashboard_panel(request: HttpRequest) -> tuple[str, dict] | None:
    if not request.user.is_authenticated:
        return None
    entries = selectors.running_entries_for(request.user)
    joinable = [] if entries else selectors.joinable_for(request.user, timezone.now())
    return "tournaments/_dashboard_panel.html", {"entries": entries, "joinable": joinable}
