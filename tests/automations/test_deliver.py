"""One delivery's send (automations/services/deliver.py) against the stand-in: retried on
5xx and 429 as the platform asks, refused for good on 400, unknown when the answer never
came, and never sent twice by a worker that finds the row already sending."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from automations.models import Delivery, DeliveryAttempt, DeliveryState, Outlet
from automations.services import deliver as deliver_module
from automations.services.deliver import (
    backoff_seconds,
    deliver,
    delivery_mark_sent,
    delivery_send_again,
)
from automations.services.dispatch import dispatch_due
from automations.tasks import deliver_task
from tests.automations.scheduling import (
    NOW,
    action_for,
    allow_the_standin,
    outlet_for,
)
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _standin_allowed(settings):
    allow_the_standin(settings)


def one_delivery(org_a, community, standin, *, platform="webhook") -> Delivery:
    outlet_for(community, standin, platform=platform)
    action = action_for(org_a, [community])
    dispatch_due(now=NOW)
    return Delivery.objects.get(action=action)


def states(delivery) -> tuple:
    delivery.refresh_from_db()
    return delivery.state, delivery.attempts


def test_500_twice_then_200_is_delivered_once_with_three_attempts(
    org_a, community_a, standin, queue
):
    delivery = one_delivery(org_a, community_a, standin, platform="wecom")
    standin.reply(500, body=b"upstream down")
    standin.reply(502, body=b"bad gateway")
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    clock = NOW
    deliver(delivery_id=delivery.pk, now=clock)
    assert states(delivery) == (DeliveryState.PENDING, 1)
    assert 2 <= (delivery.next_attempt_at - clock).total_seconds() <= 2.5
    # Too early: nothing is sent before the next attempt is due.
    deliver(delivery_id=delivery.pk, now=clock + timedelta(seconds=1))
    assert len(standin.requests) == 1
    clock = delivery.next_attempt_at
    deliver(delivery_id=delivery.pk, now=clock)
    assert states(delivery) == (DeliveryState.PENDING, 2)
    assert 4 <= (delivery.next_attempt_at - clock).total_seconds() <= 5
    deliver(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    assert states(delivery) == (DeliveryState.SENT, 3)
    deliver(delivery_id=delivery.pk, now=delivery.next_attempt_at + timedelta(minutes=1))
    assert len(standin.requests) == 3
    assert list(
        DeliveryAttempt.objects.filter(delivery=delivery).values_list("outcome", "status_code")
    ) == [("retry", 500), ("retry", 502), ("sent", 200)]


def test_429_with_retry_after_waits_as_told_then_delivers(org_a, community_a, standin, queue):
    delivery = one_delivery(org_a, community_a, standin)
    standin.reply(429, body=b"slow down", headers={"Retry-After": "30"})
    standin.reply(200, json_body={"id": "m-1"})
    deliver(delivery_id=delivery.pk, now=NOW)
    assert states(delivery) == (DeliveryState.PENDING, 1)
    assert delivery.next_attempt_at == NOW + timedelta(seconds=30)
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(seconds=29))
    assert len(standin.requests) == 1
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(seconds=30))
    assert states(delivery) == (DeliveryState.SENT, 2)
    assert delivery.message_id == "m-1"


def test_400_is_rejected_and_not_retried(org_a, community_a, standin, queue):
    delivery = one_delivery(org_a, community_a, standin)
    standin.reply(400, body=b"bad payload")
    deliver(delivery_id=delivery.pk, now=NOW)
    assert states(delivery) == (DeliveryState.REJECTED, 1)
    assert (delivery.status_code, delivery.detail) == (400, "bad payload")
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(hours=1))
    assert len(standin.requests) == 1


def test_retries_used_up_fail(org_a, community_a, standin, queue, settings):
    settings.ACTIONS_MAX_ATTEMPTS = 2
    delivery = one_delivery(org_a, community_a, standin)
    standin.reply(503)
    deliver(delivery_id=delivery.pk, now=NOW)
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(minutes=1))
    assert states(delivery) == (DeliveryState.FAILED, 2)


def test_a_timeout_after_sending_is_unknown_and_not_resent(
    org_a, community_a, standin, queue, settings
):
    settings.ACTIONS_SEND_TIMEOUT_SECONDS = 0.3
    delivery = one_delivery(org_a, community_a, standin, platform="wecom")
    standin.reply(200, json_body={"errcode": 0}, delay=1.0)
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    deliver(delivery_id=delivery.pk, now=NOW)
    assert states(delivery) == (DeliveryState.UNKNOWN, 1)
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(hours=1))
    assert len(standin.requests) == 1
    assert DeliveryAttempt.objects.get(delivery=delivery).outcome == "unknown"


def test_staff_resolve_an_unknown_delivery(
    org_a, community_a, standin, queue, owner_a, settings, django_capture_on_commit_callbacks
):
    settings.ACTIONS_SEND_TIMEOUT_SECONDS = 0.3
    delivery = one_delivery(org_a, community_a, standin, platform="wecom")
    standin.reply(200, json_body={"errcode": 0}, delay=1.0)
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    deliver(delivery_id=delivery.pk, now=NOW)
    key = Delivery.objects.get(pk=delivery.pk).idempotency_key
    queue.sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = delivery_send_again(delivery=Delivery.objects.get(pk=delivery.pk), by=owner_a.user)
    assert (again.state, again.idempotency_key, again.resolved_by) == (
        DeliveryState.PENDING,
        key,
        owner_a.user,
    )
    assert queue.sent == [delivery.pk]
    deliver(delivery_id=delivery.pk)
    assert states(delivery)[0] == DeliveryState.SENT
    assert len(standin.requests) == 2
    with pytest.raises(ValidationError):
        delivery_mark_sent(delivery=delivery, by=owner_a.user)  # sent, not unknown

    other = one_delivery(
        org_a,
        CommunityFactory(organization=org_a, name="三群", slug="third"),
        standin,
        platform="wecom",
    )
    Delivery.objects.filter(pk=other.pk).update(state=DeliveryState.UNKNOWN)
    marked = delivery_mark_sent(delivery=Delivery.objects.get(pk=other.pk), by=owner_a.user)
    assert (marked.state, marked.resolved_by) == (DeliveryState.SENT, owner_a.user)
    assert marked.sent_at is not None


def test_a_redelivered_task_that_finds_sending_makes_it_unknown_without_a_request(
    org_a, community_a, standin, queue
):
    delivery = one_delivery(org_a, community_a, standin, platform="wecom")
    # The first worker claimed it and was killed mid-request; the broker hands it back.
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SENDING, last_attempt_at=NOW)
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(seconds=5), redelivered=True)
    assert states(delivery) == (DeliveryState.UNKNOWN, 0)
    assert "stopped while sending" in delivery.detail
    assert standin.requests == []


def test_a_duplicate_task_leaves_a_delivery_another_worker_is_sending(
    org_a, community_a, standin, queue
):
    delivery = one_delivery(org_a, community_a, standin, platform="wecom")
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SENDING, last_attempt_at=NOW)
    # Not a redelivery, and claimed a moment ago: the other worker is still at it.
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(seconds=5))
    assert states(delivery) == (DeliveryState.SENDING, 0)
    assert standin.requests == []


def test_the_task_reads_the_redelivered_flag(org_a, community_a, standin, queue):
    delivery = one_delivery(org_a, community_a, standin, platform="wecom")
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SENDING, last_attempt_at=NOW)
    deliver_task.push_request(delivery_info={"redelivered": True})
    try:
        assert deliver_task.run([delivery.pk]) == {delivery.pk: DeliveryState.UNKNOWN}
    finally:
        deliver_task.pop_request()
    assert standin.requests == []


def test_the_webhooks_unknown_is_retried_with_the_same_idempotency_key(
    org_a, community_a, standin, queue, settings
):
    settings.ACTIONS_SEND_TIMEOUT_SECONDS = 0.3
    delivery = one_delivery(org_a, community_a, standin)
    standin.reply(200, json_body={"id": "late"}, delay=1.0)
    standin.reply(409, json_body={"idempotency_key": delivery.idempotency_key})
    deliver(delivery_id=delivery.pk, now=NOW)
    assert states(delivery) == (DeliveryState.PENDING, 1)  # retried, not unknown
    deliver(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    assert states(delivery) == (DeliveryState.SENT, 2)
    keys = [r.headers["idempotency-key"] for r in standin.requests]
    assert keys == [delivery.idempotency_key] * 2
    assert list(
        DeliveryAttempt.objects.filter(delivery=delivery).values_list("outcome", flat=True)
    ) == ["unknown", "sent"]


def test_a_disabled_outlet_or_a_private_address_is_rejected_before_sending(
    org_a, community_a, standin, queue, settings
):
    delivery = one_delivery(org_a, community_a, standin)
    Outlet.objects.filter(pk=delivery.outlet_id).update(disabled_at=NOW)
    deliver(delivery_id=delivery.pk, now=NOW)
    assert states(delivery) == (DeliveryState.REJECTED, 0)
    assert "disabled" in delivery.detail

    settings.CONNECTOR_ALLOW_PRIVATE_URLS = False
    Outlet.objects.filter(pk=delivery.outlet_id).update(disabled_at=None)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.PENDING)
    deliver(delivery_id=delivery.pk, now=NOW)
    assert states(delivery) == (DeliveryState.REJECTED, 0)
    assert "loopback or private" in delivery.detail
    assert standin.requests == []


def test_a_slot_far_ahead_goes_back_to_the_database_and_is_kept(
    org_a, community_a, standin, queue, monkeypatch
):
    delivery = one_delivery(org_a, community_a, standin, platform="wecom")
    reserved = []

    def paced(key, count, seconds, *, now=None):
        reserved.append(key)
        return 40.0

    monkeypatch.setattr(deliver_module.pacing, "wait_for", paced)
    deliver(delivery_id=delivery.pk, now=NOW)
    assert states(delivery) == (DeliveryState.PENDING, 0)
    assert delivery.slot_at == delivery.next_attempt_at == NOW + timedelta(seconds=40)
    # Its slot comes: sent in it, without a second reservation.
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(seconds=41))
    assert states(delivery) == (DeliveryState.SENT, 1)
    assert len(reserved) == 1
    assert delivery.slot_at is None


def test_backoff_doubles_with_jitter_and_stops_at_ten_minutes():
    assert 2 <= backoff_seconds(1) <= 2.5
    assert 32 <= backoff_seconds(5) <= 40
    assert 600 <= backoff_seconds(20) <= 750


def test_a_slot_missed_by_more_than_its_margin_is_reserved_again_with_the_wider_pace(
    org_a, community_a, standin, queue, monkeypatch
):
    # WeCom's 20 a minute is reserved as 20 in 66 s, and a slot is used at most 3 s late:
    # a send late in its slot must not make 21 in some 60 s with the ones 20 slots on.
    delivery = one_delivery(org_a, community_a, standin, platform="wecom")
    reserved = []

    def paced(key, count, seconds, *, now=None):
        reserved.append((count, seconds))
        return 40.0 if len(reserved) == 1 else 0.0

    monkeypatch.setattr(deliver_module.pacing, "wait_for", paced)
    deliver(delivery_id=delivery.pk, now=NOW)
    assert states(delivery) == (DeliveryState.PENDING, 0)
    deliver(delivery_id=delivery.pk, now=NOW + timedelta(seconds=44))  # 4 s late
    assert states(delivery) == (DeliveryState.SENT, 1)
    assert reserved == [(20, pytest.approx(66.0)), (20, pytest.approx(66.0))]
