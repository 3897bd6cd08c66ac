"""Production mode: safe by construction, and refusing to start when it would not be."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "x" * 20 + "-production-secret-key-for-tests-only-0123456789"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ENV", "CELERY_BROKER_URL"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": GOOD_SECRET,
        "ALLOWED_HOSTS": "ops.example.com",
        "DATABASE_URL": "postgres://communityops@db.invalid:5432/communityops",
        "CELERY_BROKER_URL": "redis://redis.invalid:6379/0",
        "REDIS_URL": "redis://redis.invalid:6379/1",
    }
    env.update(overrides)
    return env


def test_check_deploy_passes_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "1"}, "DEBUG is on"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is empty"),
        ({"DATABASE_URL": ""}, "without DATABASE_URL"),
        ({"CELERY_BROKER_URL": ""}, "filesystem broker"),
    ],
)
def test_production_refuses_unsafe_settings(overrides, message):
    result = manage("check", **production_env(**overrides))
    assert result.returncode != 0
    assert "refuses to start in production" in result.stderr
    assert message in result.stderr


def test_development_check_deploy_would_warn():
    # The same check in development mode finds problems: the production block is what fixes them.
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_ENV="development")
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


@pytest.mark.django_db
def test_security_headers_on_every_page(client, org_a):
    response = client.get("/accounts/login/")
    csp = response.headers["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert script_src.strip() == "script-src 'self'"
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_no_inline_script_in_the_layout(client, org_a):
    page = client.get("/accounts/login/").content.decode()
    for chunk in page.split("<script")[1:]:
        head = chunk.split(">", 1)[0]
        assert "src=" in head or 'type="application/json"' in head, head


@pytest.mark.django_db
def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
