"""The execution contract with real processes: two `celery worker -B` processes (so two
beats) on Redis and PostgreSQL deliver each due action's messages to the stand-in once."""

import time

import pytest
from django.utils import timezone

from automations.models import Delivery, DeliveryState
from tests.automations.processes import (
    require_postgres_and_redis_broker,
    start_worker,
    stop,
    wait_until,
)
from tests.automations.scheduling import action_for, outlet_for
from tests.factories import CommunityFactory


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_beats_and_two_workers_deliver_each_message_once(org_a, standin, redis_url, tmp_path):
    import redis

    redis.Redis.from_url(require_postgres_and_redis_broker()).flushdb()

    groups = [CommunityFactory(organization=org_a, slug=f"w{i}") for i in range(3)]
    for group in groups:
        outlet_for(group, standin)
    now = timezone.now()
    for i in range(5):
        action_for(org_a, groups, due_at=now, text=f"broadcast {i}")

    workers = [start_worker(tmp_path, "one"), start_worker(tmp_path, "two")]
    try:
        wait_until(
            lambda: Delivery.objects.filter(state=DeliveryState.SENT).count() == 15,
            seconds=90,
            workers=workers,
        )
        time.sleep(6)  # another tick of both beats: nothing more is sent
    finally:
        stop(workers)
    assert Delivery.objects.filter(state=DeliveryState.SENT).count() == 15
    keys = [request.headers["idempotency-key"] for request in standin.requests]
    assert len(keys) == 15
    assert sorted(keys) == sorted(Delivery.objects.values_list("idempotency_key", flat=True))


# A worker killed mid-request: test_actions_acceptance.py, with a broadcast to 50 groups.
