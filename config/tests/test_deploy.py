import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_the_deploy_check():
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-0123456789-abcdefgh",
        "ALLOWED_HOSTS": "papertrade.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://papertrade.example.com",
        "STATIC_MANIFEST": "false",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DEBUG"] = "false"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_the_compose_file_describes_the_production_topology():
    compose_file = ROOT / "docker-compose.yml"
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        result = subprocess.run(
            [docker, "compose", "-f", str(compose_file), "config", "--quiet"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, "SECRET_KEY": "x" * 60, "POSTGRES_PASSWORD": "pw"},
        )
        assert result.returncode == 0, result.stderr
    # Without a compose-capable docker client, check the structure ourselves.
    spec = yaml.safe_load(compose_file.read_text())
    services = spec["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "nginx"} <= set(services)
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://")
        assert environment["JOBS_RUNNER"] == "celery"
        assert "${SECRET_KEY" in environment["SECRET_KEY"]
    assert "daphne" in " ".join(services["web"]["command"])
    assert "beat" in " ".join(services["beat"]["command"])
    assert "-Q" in services["worker"]["command"]
    nginx_conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "proxy_set_header Upgrade $http_upgrade" in nginx_conf
    assert "location /static/" in nginx_conf
    assert (ROOT / "Dockerfile").exists()


@pytest.mark.parametrize("path", ["requirements.txt", "requirements-dev.txt"])
def test_requirements_are_pinned(path):
    lines = [
        line.strip()
        for line in (ROOT / path).read_text().splitlines()
        if line.strip() and not line.startswith(("#", "-r"))
    ]
    assert lines
    assert all("==" in line for line in lines), lines
