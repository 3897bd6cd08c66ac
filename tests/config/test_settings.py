"""Production mode: safe by construction, and refusing to start when it would not be."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

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
        ({"REDIS_URL": ""}, "without REDIS_URL"),
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


# A load balancer's probe: plain HTTP, the machine's IP address as Host, often HEAD. Run
# in production mode (TLS redirect on, ALLOWED_HOSTS a name) through the whole middleware
# stack; the database and Redis URLs point at closed ports.
PROBE_SCRIPT = """
import json
from django.test import Client
client = Client(HTTP_HOST="10.0.0.5", raise_request_exception=False)
out = {}
for name, call in [("get", client.get), ("head", client.head)]:
    for path in ("/healthz", "/readyz"):
        response = call(path)
        out[f"{name} {path}"] = [response.status_code, response.content.decode()]
named = Client(HTTP_HOST="ops.example.com", raise_request_exception=False)
response = named.get("/healthz")
out["named get /healthz"] = [response.status_code, response.content.decode()]
print("PROBES " + json.dumps(out))
"""

CLOSED_DATABASE = "postgres://communityops@127.0.0.1:1/communityops"
CLOSED_REDIS = "redis://127.0.0.1:1/0"


def probe(**env: str) -> dict:
    result = manage("shell", "-c", PROBE_SCRIPT, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("PROBES "))
    return json.loads(line.removeprefix("PROBES "))


def test_probes_over_plain_http_by_ip_in_production():
    out = probe(**production_env(DATABASE_URL=CLOSED_DATABASE, REDIS_URL=CLOSED_REDIS))
    # Liveness: answers, neither redirected (301) nor refused for the IP Host (400).
    assert out["get /healthz"] == [200, '{"status": "ok"}']
    assert out["head /healthz"] == [200, ""]
    # An allowed name over plain HTTP: not redirected to HTTPS either.
    assert out["named get /healthz"] == [200, '{"status": "ok"}']
    # Readiness: 503 naming both services, nothing more (no traceback, no URL).
    status, body = out["get /readyz"]
    assert status == 503
    assert json.loads(body) == {"status": "unavailable", "failed": ["database", "redis"]}
    assert out["head /readyz"][0] == 503


def test_readyz_names_the_database_when_it_cannot_connect(tmp_path):
    # Development mode with the file cache (which works): only the database fails.
    out = probe(
        DJANGO_ENV="development",
        DATABASE_URL=CLOSED_DATABASE,
        REDIS_URL="",
        VAR_DIR=str(tmp_path),
    )
    status, body = out["get /readyz"]
    assert status == 503
    assert json.loads(body) == {"status": "unavailable", "failed": ["database"]}


def test_readyz_gives_up_on_a_redis_that_accepts_but_never_answers(tmp_path):
    # A stalled Redis (the port is open, nothing ever replies): without the cache's socket
    # timeouts the probe would hang until manage()'s 120 s timeout fails this test.
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        port = silent.getsockname()[1]
        out = probe(
            DJANGO_ENV="development",
            DATABASE_URL="",
            REDIS_URL=f"redis://127.0.0.1:{port}/0",
            REDIS_TIMEOUT="0.5",
            VAR_DIR=str(tmp_path),
        )
    finally:
        silent.close()
    status, body = out["get /readyz"]
    assert status == 503
    assert json.loads(body) == {"status": "unavailable", "failed": ["redis"]}


@pytest.mark.django_db
def test_readyz_names_redis_when_it_does_not_answer(client):
    closed = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_REDIS,
        }
    }
    with override_settings(CACHES=closed):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["redis"]}


@pytest.mark.django_db
def test_readyz_ok_when_database_and_cache_answer(client):
    # On the PostgreSQL + Redis pass this is a real SELECT 1 and a Redis round trip.
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_accept_only_get_and_head(client, path):
    assert client.head(path).status_code == 200
    assert client.post(path).status_code == 405
