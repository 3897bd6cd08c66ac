"""The execution contract with real processes: two `celery worker -B` processes (so two
beats) on Redis and PostgreSQL deliver each due action's messages to the stand-in once."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from automations.models import Delivery, DeliveryState
from tests.automations.scheduling import action_for, outlet_for
from tests.factories import CommunityFactory

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(tmp_path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CONNECTOR_ALLOW_PRIVATE_URLS": "1",
        "VAR_DIR": str(tmp_path / name),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool", "solo",
         "--queues", "actions", "--loglevel", "INFO", "--hostname", f"{name}-{os.getpid()}@%h",
         "--schedule", str(tmp_path / f"{name}-celerybeat-schedule")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # Its own process group: `-B` runs beat in a child process, signalled with it.
        start_new_session=True,
    )  # fmt: skip


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_beats_and_two_workers_deliver_each_message_once(org_a, standin, redis_url, tmp_path):
    if connection.vendor != "postgresql":
        pytest.fail("real workers need PostgreSQL (make test-postgres)")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        pytest.fail("CELERY_BROKER_URL must point at Redis for this test (make test-postgres)")
    import redis

    redis.Redis.from_url(broker).flushdb()
    from django.utils import timezone

    groups = [CommunityFactory(organization=org_a, slug=f"w{i}") for i in range(3)]
    for group in groups:
        outlet_for(group, standin)
    now = timezone.now()
    for i in range(5):
        action_for(org_a, groups, due_at=now, text=f"broadcast {i}")

    workers = [start_worker(tmp_path, "one"), start_worker(tmp_path, "two")]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            for worker in workers:
                assert worker.poll() is None, "a worker died"
            if Delivery.objects.filter(state=DeliveryState.SENT).count() == 15:
                break
            time.sleep(0.5)
        time.sleep(6)  # another tick of both beats: nothing more is sent
    finally:
        stop(workers)
    assert Delivery.objects.filter(state=DeliveryState.SENT).count() == 15
    keys = [request.headers["idempotency-key"] for request in standin.requests]
    assert len(keys) == 15
    assert sorted(keys) == sorted(Delivery.objects.values_list("idempotency_key", flat=True))


def wait_until(condition, *, seconds: float, workers=()) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for worker in workers:
            assert worker.poll() is None, "a worker died"
        if condition():
            return True
        time.sleep(0.5)
    return False


def signal_group(worker: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signum)


def stop(workers) -> None:
    """SIGTERM to each worker's process group (beat included), SIGKILL after 20 s."""
    for worker in workers:
        signal_group(worker, signal.SIGTERM)
    for worker in workers:
        try:
            output = worker.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            signal_group(worker, signal.SIGKILL)
            output = worker.communicate(timeout=20)[0]
        print(output)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_request_never_sends_twice(org_a, standin, redis_url, tmp_path):
    if connection.vendor != "postgresql":
        pytest.fail("real workers need PostgreSQL (make test-postgres)")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        pytest.fail("CELERY_BROKER_URL must point at Redis for this test (make test-postgres)")
    import redis

    redis.Redis.from_url(broker).flushdb()
    from django.utils import timezone

    groups = [CommunityFactory(organization=org_a, slug=f"k{i}") for i in range(3)]
    for group in groups:
        outlet_for(group, standin, platform="wecom")  # no idempotency key: unknown, not resent
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"}, delay=30)  # the first hangs
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    action_for(org_a, groups, due_at=timezone.now())

    first = start_worker(tmp_path, "killed")
    try:
        assert wait_until(lambda: len(standin.requests) >= 1, seconds=60, workers=[first])
        signal_group(first, signal.SIGKILL)  # kill -9 while the request is in flight
        first.communicate(timeout=20)
    finally:
        stop([first])
    second = start_worker(tmp_path, "restarted")
    try:

        def settled():
            states = list(Delivery.objects.values_list("state", flat=True))
            return (
                len(states) == 3
                and DeliveryState.SENDING not in states
                and (DeliveryState.PENDING not in states)
            )

        assert wait_until(settled, seconds=200, workers=[second])
    finally:
        stop([second])
    states = sorted(Delivery.objects.values_list("state", flat=True))
    assert states == [DeliveryState.SENT, DeliveryState.SENT, DeliveryState.UNKNOWN]
    paths = [request.path for request in standin.requests]
    assert len(paths) == len(set(paths)) == 3  # each robot asked once, never twice
