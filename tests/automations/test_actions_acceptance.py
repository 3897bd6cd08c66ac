"""Issue 12's acceptance, with real processes: `celery worker -B` on PostgreSQL and Redis,
the stand-in answering as the platforms do. A worker killed -9 mid-broadcast, Redis
restarted or flushed, two beats for two minutes, one WeCom robot's 20 a minute: each
message arrives once, or its delivery says that it is unknown — never twice.

(500 twice then 200, 429 with retry_after, 400 and a timeout after sending are
tests/automations/test_deliver.py's, through the task; the worker changes nothing there.)
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from automations.models import ActionStatus, Delivery, DeliveryState, Outlet, ScheduledAction
from tests.automations.conftest import Reply
from tests.automations.processes import (
    require_postgres_and_redis_broker,
    signal_group,
    start_worker,
    stop,
    wait_until,
)
from tests.automations.scheduling import SECRET, action_for, groups
from tests.factories import CommunityFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SETTLED = (DeliveryState.PENDING, DeliveryState.SENDING)
PRIVATE_REDIS_PORT = 6390


@pytest.fixture
def broker(redis_url) -> str:
    import redis

    url = require_postgres_and_redis_broker()
    redis.Redis.from_url(url).flushdb()
    return url


def all_settled(count: int):
    def settled() -> bool:
        states = list(Delivery.objects.values_list("state", flat=True))
        return len(states) == count and not set(states) & set(SETTLED)

    return settled


def keys_received(standin) -> Counter:
    return Counter(request.headers.get("idempotency-key") for request in standin.requests)


def test_a_worker_killed_mid_broadcast_leaves_each_group_sent_once_or_unknown(
    org_a, standin, broker, tmp_path
):
    # Slack: no idempotency key, so a request whose answer never came is unknown.
    communities = groups(org_a, "s", 50, standin, platform="slack")
    standin.reply(200, body=b"ok", delay=0.3)
    killed = []
    worker = None

    def kill_on_the_tenth(received) -> Reply | None:
        if len(standin.requests) == 10:
            killed.append(received.path)
            signal_group(worker, signal.SIGKILL)  # kill -9 while this request is in flight
        return None

    standin.answer = kill_on_the_tenth
    worker = start_worker(tmp_path, "killed")
    action_for(org_a, communities, due_at=timezone.now())
    try:
        assert wait_until(lambda: bool(killed), seconds=120)  # (it dies by our hand)
        worker.communicate(timeout=20)
    finally:
        stop([worker])
    assert Delivery.objects.filter(state=DeliveryState.SENT).count() < 50
    standin.answer = None

    restarted = start_worker(tmp_path, "restarted")
    try:
        # The killed request's row stays `sending` until it is stale (tasks.py's time limit
        # and a margin, about 90 s): then it becomes unknown, never sent again.
        assert wait_until(all_settled(50), seconds=300, workers=[restarted])
    finally:
        stop([restarted])

    per_group = Counter(request.path for request in standin.requests)
    assert max(per_group.values()) == 1, "a group received the broadcast twice"
    deliveries = Delivery.objects.select_related("community")
    unknown = [d.community.slug for d in deliveries if d.state == DeliveryState.UNKNOWN]
    sent = [d.community.slug for d in deliveries if d.state == DeliveryState.SENT]
    assert [f"/hook/{slug}" for slug in unknown] == killed
    assert len(sent) == 49
    assert all(per_group[f"/hook/{slug}"] == 1 for slug in sent)


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of this test's own (never the shared one), without persistence: a
    restart loses everything, as a flush does."""
    folder = tmp_path / "redis"
    folder.mkdir()
    command = ["redis-server", "--port", str(PRIVATE_REDIS_PORT), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--dir", str(folder)]  # fmt: skip
    server = RedisServer(command)
    server.start()
    yield server
    server.stop()


class RedisServer:
    def __init__(self, command: list[str]):
        self.command = command
        self.url = f"redis://127.0.0.1:{PRIVATE_REDIS_PORT}"
        self.process: subprocess.Popen | None = None

    def client(self):
        import redis

        return redis.Redis.from_url(f"{self.url}/0")

    def start(self) -> None:
        import redis

        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )

        def answers() -> bool:
            try:
                return bool(self.client().ping())
            except redis.ConnectionError:
                return False

        assert wait_until(answers, seconds=20, every=0.1), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


@pytest.mark.parametrize("disruption", ["restart", "flushall"])
def test_redis_restarted_or_flushed_with_actions_due_loses_and_duplicates_nothing(
    org_a, standin, broker, private_redis, tmp_path, disruption
):
    communities = groups(org_a, "r", 24, standin)
    standin.reply(200, json_body={"id": "m"}, delay=0.2)
    now = timezone.now()
    for i in range(4):  # some due before the disruption, some after
        action_for(org_a, communities[i * 6 : i * 6 + 6], due_at=now + timedelta(seconds=6 * i))
    worker = start_worker(tmp_path, "worker", redis=private_redis.url)
    try:
        assert wait_until(lambda: len(standin.requests) >= 3, seconds=120, workers=[worker])
        if disruption == "restart":
            private_redis.stop()
            time.sleep(3)  # down for a while: ticks and sends fail meanwhile
            private_redis.start()
        else:
            private_redis.client().flushall()
        assert wait_until(all_settled(24), seconds=180, workers=[worker])
        time.sleep(7)  # another tick: nothing more goes out
    finally:
        stop([worker])

    assert ScheduledAction.objects.filter(status=ActionStatus.DISPATCHED).count() == 4
    assert Delivery.objects.filter(state=DeliveryState.SENT).count() == 24
    received = keys_received(standin)
    assert set(received) == set(Delivery.objects.values_list("idempotency_key", flat=True))
    assert max(received.values()) == 1, "a message went out twice"


class OneRobot:
    """WeCom's answers for robots behind the stand-in: errcode 0, or 45009 ("api freq out of
    limit") for a request beyond 20 accepted in the last 60 s of its key."""

    LIMIT, WINDOW = 20, 60.0

    def __init__(self):
        self.accepted: dict[str, list[float]] = {}
        self.refused: list[float] = []
        self.lock = threading.Lock()

    def __call__(self, received) -> Reply | None:
        parts = urlsplit(received.path)
        if parts.path != "/cgi-bin/webhook/send":
            return None
        key = parse_qs(parts.query)["key"][0]
        with self.lock:
            times = self.accepted.setdefault(key, [])
            if sum(1 for t in times if t > received.at - self.WINDOW) >= self.LIMIT:
                self.refused.append(received.at)
                answer = {"errcode": 45009, "errmsg": "api freq out of limit"}
            else:
                times.append(received.at)
                answer = {"errcode": 0, "errmsg": "ok"}
        return Reply(200, json_body(answer), {"Content-Type": "application/json"})


def json_body(value) -> bytes:
    import json

    return json.dumps(value).encode()


def test_two_beats_for_two_minutes_deliver_each_action_once_and_one_robot_at_20_a_minute(
    org_a, standin, broker, tmp_path
):
    webhook_groups = groups(org_a, "b", 6, standin)
    robot_groups = [
        CommunityFactory(organization=org_a, slug=f"q{i}", name=f"企微群{i}") for i in range(30)
    ]
    for community in robot_groups:  # thirty groups, one robot: one key, one pace
        Outlet.objects.create(
            community=community,
            name="robot",
            platform="wecom",
            url=f"{standin.url}/cgi-bin/webhook/send?key=one-robot",
            secret=SECRET,
        )
    robot = OneRobot()
    standin.answer = robot
    start = timezone.now() + timedelta(seconds=10)  # the workers are starting meanwhile
    action_for(org_a, robot_groups, due_at=start, text="企微群发")
    webhook_actions = 24  # one every 5 s for two minutes, to three groups each
    for i in range(webhook_actions):
        action_for(
            org_a, webhook_groups[i % 2 * 3 : i % 2 * 3 + 3],
            due_at=start + timedelta(seconds=5 * i), text=f"broadcast {i}",
        )  # fmt: skip
    expected = 30 + webhook_actions * 3

    workers = [start_worker(tmp_path, "one"), start_worker(tmp_path, "two")]
    try:
        assert wait_until(all_settled(expected), seconds=300, workers=workers)
        time.sleep(7)  # another tick of both beats: nothing more is sent
    finally:
        stop(workers)

    assert Delivery.objects.filter(state=DeliveryState.SENT).count() == expected
    webhook_keys = Counter(
        request.headers["idempotency-key"]
        for request in standin.requests
        if request.path.startswith("/hook/")
    )
    assert max(webhook_keys.values()) == 1, "a message went out twice"
    assert sorted(webhook_keys) == sorted(
        Delivery.objects.filter(outlet__platform="webhook").values_list(
            "idempotency_key", flat=True
        )
    )
    # The robot: paced, never refused; at most 20 in any 60 s, the 21st after a minute.
    assert robot.refused == []
    times = sorted(robot.accepted["one-robot"])
    assert len(times) == 30
    assert all(times[i + 20] - times[i] >= 60 for i in range(len(times) - 20))
