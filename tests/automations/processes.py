"""Real Celery processes for the execution contract's integration tests: `celery worker -B`
(a worker with its own beat) started on the test's PostgreSQL database and on Redis, waited
for by polling the database, signalled by process group (beat is a child process)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def require_postgres_and_redis_broker() -> str:
    """The broker URL; the test fails (never skips) without PostgreSQL and a Redis broker."""
    if connection.vendor != "postgresql":
        pytest.fail("real workers need PostgreSQL (make test-postgres)")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        pytest.fail("CELERY_BROKER_URL must point at Redis for this test (make test-postgres)")
    return broker


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(tmp_path, name: str, *, redis: str | None = None) -> subprocess.Popen:
    """A `celery worker -B` on the actions queue (solo pool). ``redis`` (a server's URL
    without a database number) puts its broker and result backend in that server's db 0
    and its cache in db 1, instead of the test run's Redis."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CONNECTOR_ALLOW_PRIVATE_URLS": "1",
        "VAR_DIR": str(tmp_path / name),
    }
    if redis is not None:
        env |= {
            "REDIS_URL": f"{redis}/1",
            "CELERY_BROKER_URL": f"{redis}/0",
            "CELERY_RESULT_BACKEND": f"{redis}/0",
        }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool", "solo",
         "--queues", "default,actions", "--loglevel", "INFO",
         "--hostname", f"{name}-{os.getpid()}@%h",
         "--schedule", str(tmp_path / f"{name}-celerybeat-schedule")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # Its own process group: `-B` runs beat in a child process, signalled with it.
        start_new_session=True,
    )  # fmt: skip


def wait_until(condition, *, seconds: float, workers=(), every: float = 0.5) -> bool:
    """Poll ``condition`` until it holds (True) or ``seconds`` pass (False); a worker that
    dies meanwhile fails the test."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for worker in workers:
            assert worker.poll() is None, "a worker died"
        if condition():
            return True
        time.sleep(every)
    return False


def signal_group(worker: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signum)


def stop(workers) -> None:
    """SIGTERM to each worker's process group (beat included), SIGKILL after 20 s; prints
    their output (shown when the test fails)."""
    for worker in workers:
        signal_group(worker, signal.SIGTERM)
    for worker in workers:
        try:
            output = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            signal_group(worker, signal.SIGKILL)
            output = worker.communicate(timeout=20)[0]
        print(output)
