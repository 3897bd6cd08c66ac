"""The Celery app's configuration, and a real worker process running the health task."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from communities.heartbeat import HEARTBEAT_CACHE_KEY, worker_status
from config.celery import app
from config.health import heartbeat_task

ROOT = Path(__file__).resolve().parents[2]


def test_json_only_with_time_limits_and_four_queues():
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert set(conf.task_queues) == {"default", "analytics", "actions", "imports"}


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("config.heartbeat", "default"),
        ("analytics.refresh_rollups", "analytics"),
        # The tick never waits behind a backlog of sends.
        ("automations.dispatch_due_actions", "default"),
        ("automations.plan_broadcasts", "default"),
        ("automations.deliver", "actions"),
    ],
)
def test_routing(task_name, queue):
    route = app.amqp.router.route({}, task_name)
    assert route["queue"].name == queue


def test_every_periodic_task_expires_and_exists():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule
    for name, entry in app.conf.beat_schedule.items():
        assert entry["task"] in app.tasks, name
        assert entry["options"]["expires"] > 0, name


def test_heartbeat_task_records_itself():
    assert worker_status().last_seen is None
    heartbeat_task.apply()
    status = worker_status()
    assert status.healthy
    assert status.age_seconds < 5


@pytest.fixture
def celery_worker_process(redis_url, tmp_path):
    """A real `celery worker -B` process on the Redis broker, beating every second."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis"):
        pytest.fail("CELERY_BROKER_URL must point at Redis for this test (make test-postgres)")
    import redis

    redis.Redis.from_url(broker).flushdb()
    env = {**os.environ, "HEARTBEAT_INTERVAL_SECONDS": "1", "VAR_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool", "solo",
         "--queues", "default,analytics,actions,imports", "--loglevel", "INFO",
         "--hostname", f"test-{os.getpid()}@%h",
         "--schedule", str(tmp_path / "celerybeat-schedule")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield process
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output)


@pytest.mark.integration
def test_real_worker_runs_the_heartbeat_from_beat_and_on_demand(celery_worker_process):
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    deadline = time.monotonic() + 60
    while worker_status().last_seen is None and time.monotonic() < deadline:
        assert celery_worker_process.poll() is None, "the worker died"
        time.sleep(0.5)
    first = worker_status()
    assert first.last_seen is not None, "beat + worker never recorded a heartbeat"
    assert first.healthy

    # On demand, through the broker, with the result coming back from the worker process.
    result = heartbeat_task.apply_async(queue="default").get(timeout=30)
    assert result["hostname"]
    assert worker_status().last_seen >= first.last_seen
    assert HEARTBEAT_CACHE_KEY


def test_embedded_broker_keeps_its_files_under_var(tmp_path):
    # kombu's filesystem transport writes its exchange tables to ./control unless told
    # otherwise: started from the repository root, that littered the tree.
    var_dir = tmp_path / "var"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}
    }
    env.update(VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-c", "from config.celery import app; app.send_task('config.heartbeat')"],
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=60,
    )
    assert not (tmp_path / "control").exists()
    assert list((var_dir / "celery" / "control").glob("*.exchange"))
    assert list((var_dir / "celery" / "queue").iterdir())
