"""pytest plugin (loaded with `-p config.testenv` before Django is set up).

Uses the real PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set or when they answer at
their default local addresses; falls back to SQLite and the in-memory layer otherwise. The
choice is printed in the test report header.
"""

import os
import socket


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


if "DATABASE_URL" not in os.environ and _reachable("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/papertrade"
if "REDIS_URL" not in os.environ and _reachable("127.0.0.1", 6379):
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/0"

# Unit tests run Celery tasks eagerly and keep throttle counters per process; the end-to-end
# tests start real workers with their own environment.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("CACHE_URL", "locmemcache://")
os.environ.setdefault("CHANNEL_PREFIX", f"pt-test-{os.getpid()}")
os.environ.setdefault("JOBS_RUNNER", "celery")
os.environ.setdefault("DEBUG", "true")
# Connections opened in sync_to_async threads must close, or the test database cannot be dropped.
os.environ.setdefault("CONN_MAX_AGE", "0")
os.environ.setdefault("DB_POOL", "false")
# Unit tests run each async test on its own event loop, which channels-redis's shared receive
# loop does not survive (a cancelled receive can hang the loop's shutdown); they use the
# in-memory layer, and e2e/ runs real daphne and workers on the Redis layer.
os.environ.setdefault("CHANNEL_LAYER", "memory")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Repeat what ran against what at the end: `make test` runs quietly (-q hides the header)."""
    for line in pytest_report_header(config):
        terminalreporter.write_line(line)


def pytest_report_header(config):
    database = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    db_text = "postgresql" if database.startswith("postgres") else "sqlite"
    layer = "in-memory" if os.environ.get("CHANNEL_LAYER") == "memory" or not redis else "redis"
    e2e = "redis (real daphne, worker, beat)" if redis and db_text == "postgresql" else "skipped"
    chromium = "/usr/bin/chromium"
    if e2e == "skipped":
        browser = "skipped (they run on the end-to-end stack)"
    elif os.path.exists(chromium):
        browser = f"Chromium at {chromium}"
    else:
        browser = f"skipped: no {chromium} (apt-get install -y chromium; .ci/run does)"
    return [
        f"papertrade services: database={db_text}, unit-test channel layer={layer}, "
        f"cache/broker={'redis' if redis else 'in-memory'}, end-to-end={e2e}",
        f"browser tests: {browser}",
    ]
