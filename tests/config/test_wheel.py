"""The wheel `python -m build` makes is a complete production install (issue 16).

Built from a copy of the checkout (sdist, then the wheel from the sdist, as ``python -m
build`` does; without build isolation, with the setuptools of .venv), installed with the
lock into a fresh virtual environment, then run from a directory outside the checkout
with the production settings: ``communityops migrate`` on a fresh PostgreSQL database,
``check --deploy``, ``collectstatic``, ``organization_create``, and gunicorn started with
the README's flags, serving /healthz, the login page (in Chinese too: the compiled
translations ship) and a static file of that page. Nothing is reused between runs.
"""

import contextlib
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from tests.config.production_readme import ROOT, VENV_BIN, command_starting
from tests.conftest import service_missing, tcp_reachable

pytestmark = pytest.mark.integration

HOST = "ops.example.com"
SECRET = "wheel-test-" + "s" * 50
# What the build must not see: the environment, caches, local state, other builds.
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv*", "var", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", "*.mo",
    ".pytest_cache", ".hypothesis", ".ruff_cache", "node_modules",
)  # fmt: skip
# Settings of the test run that must not leak into the installed copy.
NOT_INHERITED = {
    "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "VAR_DIR",
    "STATIC_ROOT", "MEDIA_ROOT", "DEBUG", "DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS",
    "PYTHONPATH", "VIRTUAL_ENV", "DJANGO_SETTINGS_MODULE", "PYTHONHOME",
}  # fmt: skip


def run(argv: list[str], *, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{argv}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture
def fresh_database():
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        service_missing("DATABASE_URL is not set to PostgreSQL (make test-postgres sets it)")
    if not tcp_reachable(url, 5432):
        service_missing(f"PostgreSQL is not reachable at {urlparse(url).netloc}")
    import psycopg
    from psycopg import sql

    parsed = urlparse(url)
    name = f"{parsed.path.lstrip('/') or 'communityops'}_wheel_install"
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(statement)
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield urlunparse(parsed._replace(path=f"/{name}"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(statement)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port: int, path: str, method="GET", **headers: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def proxied(**headers: str) -> dict[str, str]:
    """A request as the TLS-terminating proxy sends it (Host, X-Forwarded-Proto)."""
    return {"Host": HOST, "X-Forwarded-Proto": "https", **headers}


def gunicorn_command(venv: Path, port: int) -> list[str]:
    """The README's web command, from the test's virtual environment, on a free port."""
    argv = command_starting(f"{VENV_BIN}gunicorn")
    argv = [str(venv / "bin" / "gunicorn"), *argv[1:]]
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    argv[argv.index("--workers") + 1] = "2"
    return argv


def test_the_wheel_installs_and_serves_from_outside_the_checkout(
    tmp_path, fresh_database, redis_url
):
    started = time.monotonic()
    source, dist, venv, site = (tmp_path / n for n in ("source", "dist", "venv", "site"))
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist)], cwd=source)
    built = time.monotonic() - started
    (wheel,) = dist.glob("communityops-*.whl")
    run([sys.executable, "-m", "venv", str(venv)])
    run(
        # --no-compile: byte-compiling plotly's thousands of modules is half of the install.
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
         "--no-compile", "-c", str(ROOT / "requirements.lock"), str(wheel)],
        timeout=240,
    )  # fmt: skip
    installed = time.monotonic() - started - built

    site.mkdir()  # the current directory: VAR_DIR defaults to its var/
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    broker = os.environ.get("CELERY_BROKER_URL", "")
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        DJANGO_ENV="production",
        SECRET_KEY=SECRET,
        ALLOWED_HOSTS=HOST,
        DATABASE_URL=fresh_database,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=broker if broker.startswith("redis") else redis_url,
        CACHE_KEY_PREFIX=f"wheel-test-{os.getpid()}",
        BEHIND_TLS_PROXY="1",
        COMMUNITYOPS_OWNER_PASSWORD="wheel-test-owner-password",
    )

    def communityops(*args: str) -> str:
        return run([str(venv / "bin" / "communityops"), *args], cwd=site, env=env).stdout

    # The installed code, not the checkout's, with its assets inside the package.
    where = communityops(
        "shell", "--no-imports", "-c",
        "import config, django.conf as c; s = c.settings; "
        "print(config.__file__); print(s.TEMPLATES[0]['DIRS'][0]); print(s.STATIC_ROOT)",
    ).split()  # fmt: skip
    assert Path(where[0]).is_relative_to(venv), where
    assert Path(where[1]) == Path(where[0]).parent / "assets" / "templates"
    assert Path(where[2]) == site / "var" / "staticfiles"  # not inside site-packages

    communityops("migrate", "--noinput")
    communityops("migrate", "--check")
    assert "no issues" in communityops("check", "--deploy", "--fail-level", "WARNING")
    assert "static files copied" in communityops("collectstatic", "--noinput")
    communityops(
        "organization_create", "--name", "Wheel 社群", "--owner-username", "owner",
        "--owner-email", "owner@example.com",
    )  # fmt: skip

    port = free_port()
    server = subprocess.Popen(
        gunicorn_command(venv, port), cwd=site, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        status = None
        while status != 200 and time.monotonic() < deadline:
            assert server.poll() is None, "gunicorn exited"
            with contextlib.suppress(OSError):
                # A load balancer's probe: plain HTTP, by IP address.
                status, _, body = get(port, "/healthz", Host="127.0.0.1")
            time.sleep(0.2)
        assert status == 200, "gunicorn never answered /healthz"
        assert body == b'{"status": "ok"}'
        status, headers, _ = get(port, "/healthz", method="HEAD", Host="10.0.0.5")
        assert status == 200 and headers.get("Content-Length", "0") == "0"

        status, _, body = get(port, "/accounts/login/", **proxied())
        page = body.decode()
        assert status == 200, page[:500]
        assert 'name="username"' in page and 'name="password"' in page
        assert "csrfmiddlewaretoken" in page and "Log in" in page

        status, _, body = get(port, "/accounts/login/", **proxied(**{"Accept-Language": "zh-hans"}))
        chinese = body.decode()
        assert status == 200
        assert 'lang="zh-hans"' in chinese
        # Our catalogue's own sentence ("登录" alone would come from Django's catalogues).
        assert "把你的社群运营好。" in chinese
        assert "Run your chat-group communities well." in page

        # A static file the page links to, by its hashed name (collectstatic's manifest).
        stylesheets = re.findall(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', page)
        assert stylesheets, "the login page links no hashed app.css"
        status, headers, body = get(port, stylesheets[0], **proxied())
        assert status == 200
        assert headers["Content-Type"].startswith("text/css")
        collected = site / "var" / "staticfiles" / stylesheets[0].removeprefix("/static/")
        assert len(body) > 1000 and body == collected.read_bytes()
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
        print(output)
    assert "no-body response" not in output  # gunicorn's warning about a body on HEAD
    whole = time.monotonic() - started
    print(f"wheel built in {built:.1f} s, installed in {installed:.1f} s, all in {whole:.1f} s")
