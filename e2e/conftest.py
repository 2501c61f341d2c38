"""End-to-end fixtures: the real processes (daphne, a Celery worker, Celery beat) against the
real PostgreSQL and Redis, talked to over HTTP and WebSocket.

The stack gets its own database (pt_e2e) and Redis database (15), rebuilt for each session;
E2E_DATABASE and E2E_REDIS_URL choose others.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Overridable so two people (or agents) on one machine can run the suite at once.
E2E_DB = os.environ.get("E2E_DATABASE", "pt_e2e")
E2E_REDIS = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379/15")
ARTIFACTS = ROOT / "test-artifacts"


def _services_available() -> bool:
    database = os.environ.get("DATABASE_URL", "")
    return database.startswith("postgres") and bool(os.environ.get("REDIS_URL"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveStack:
    base_url: str
    ws_url: str
    env: dict
    processes: dict = field(default_factory=dict)

    def manage(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )

    def logs(self) -> str:
        parts = []
        for name in self.processes:
            path = ARTIFACTS / f"e2e-{E2E_DB}-{name}.log"
            if path.exists():
                parts.append(f"--- {name} ---\n" + path.read_text()[-4000:])
        return "\n".join(parts)


def _wait_for_health(url: str, deadline: float, processes: dict) -> None:
    last_error = None
    while time.monotonic() < deadline:
        for name, proc in processes.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except Exception as exc:
            last_error = exc
        time.sleep(0.2)
    raise RuntimeError(f"stack not healthy in time: {last_error}")


@pytest.fixture(scope="session")
def live_stack():
    if not _services_available():
        pytest.skip("end-to-end tests need PostgreSQL and Redis (DATABASE_URL and REDIS_URL)")
    import psycopg
    import redis

    base_db = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    with psycopg.connect(f"{base_db}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{E2E_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{E2E_DB}"')
    redis.Redis.from_url(E2E_REDIS).flushdb()

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"{base_db}/{E2E_DB}",
        "REDIS_URL": E2E_REDIS,
        "CACHE_URL": E2E_REDIS,
        "JOBS_RUNNER": "celery",
        "CHANNEL_LAYER": "redis",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CHANNEL_PREFIX": f"pt-e2e-{os.getpid()}",
        "DEBUG": "true",
        "DB_POOL": "true",  # the production connection setup
        "SEED_HISTORY_DAYS": "1",
    }
    stack = LiveStack(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", env)
    stack.manage("migrate", "--noinput")
    stack.manage("seed")

    ARTIFACTS.mkdir(exist_ok=True)
    commands = {
        "daphne": [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                   "config.asgi:application"],
        "worker": [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default,ticks",
                   "--pool", "threads", "--concurrency", "4", "--loglevel", "WARNING"],
        "beat": [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING",
                 "--schedule", str(ARTIFACTS / f"e2e-celerybeat-schedule-{E2E_DB}")],
    }  # fmt: skip
    try:
        for name, command in commands.items():
            log = open(ARTIFACTS / f"e2e-{E2E_DB}-{name}.log", "w")  # noqa: SIM115
            stack.processes[name] = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        _wait_for_health(f"{stack.base_url}/health", time.monotonic() + 60, stack.processes)
        yield stack
    finally:
        for proc in stack.processes.values():
            proc.terminate()
        for proc in stack.processes.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep the call's report on the item so fixtures can tell a failure (for screenshots)."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test whose body passed but whose pages logged JavaScript errors
    (test_browser.py's `page` fixture collects them as `browser_errors`)."""
    result = yield
    collect = getattr(item, "browser_errors", None)
    errors = collect() if collect is not None else []
    if errors:
        pytest.fail("JavaScript errors in the browser:\n" + "\n".join(errors), pytrace=False)
    return result
