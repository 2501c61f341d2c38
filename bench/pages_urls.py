"""URLs of bench/pages.py's ceiling server: each benchmarked path answers with the bytes the
real server rendered for it, captured by bench/pages.py.

BENCH_PAGES_CAPTURED names a JSON file {path: {"file": ..., "content_type": ...}}.
"""

import json
import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path


def _captured() -> dict[str, tuple[bytes, str]]:
    manifest = json.loads(Path(os.environ["BENCH_PAGES_CAPTURED"]).read_text())
    return {
        url: (Path(entry["file"]).read_bytes(), entry["content_type"])
        for url, entry in manifest.items()
    }


CAPTURED = _captured()


def prerendered(request: HttpRequest) -> HttpResponse:
    body, content_type = CAPTURED[request.path]
    return HttpResponse(body, content_type=content_type)


urlpatterns = [path(url.removeprefix("/"), prerendered) for url in CAPTURED]
