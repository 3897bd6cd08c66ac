"""The dispatcher (automations/services/dispatch.py): due actions claimed once, one
delivery per community written before any request, late ones missed, and the queue rebuilt
from the database when Redis lost it."""

import contextlib
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from automations.models import (
    ActionStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    ScheduledAction,
)
from automations.services import dispatch
from automations.services.deliver import deliver
from automations.tasks import deliver_task, dispatch_due_actions_task
from tests.automations.scheduling import (
    NOW,
    action_for,
    allow_the_standin,
    install_queue,
    outlet_for,
    run_dispatch,
)
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _standin_allowed(settings):
    allow_the_standin(settings)


@pytest.fixture
def two_groups(org_a, standin):
    first = CommunityFactory(organization=org_a, slug="first", name="一群")
    second = CommunityFactory(organization=org_a, slug="second", name="二群")
    outlet_for(first, standin)
    outlet_for(second, standin)
    return first, second


def test_a_due_action_gets_one_delivery_per_community_and_is_sent(
    org_a, two_groups, standin, queue, django_capture_on_commit_callbacks
):
    action = action_for(org_a, two_groups)
    counts = run_dispatch(django_capture_on_commit_callbacks, now=NOW + timedelta(seconds=2))
    assert counts == {"dispatched": 1, "missed": 0, "deliveries": 2, "enqueued": 2}
    action.refresh_from_db()
    assert action.status == ActionStatus.DISPATCHED
    deliveries = list(Delivery.objects.filter(action=action).order_by("community__slug"))
    assert [d.state for d in deliveries] == [DeliveryState.PENDING] * 2
    assert standin.requests == []  # written before any request
    assert sorted(queue.sent) == sorted(d.pk for d in deliveries)

    assert queue.tasks == [sorted(d.pk for d in deliveries)]  # one task for the two
    states = deliver_task.run(queue.tasks[0])  # the worker, through the task itself
    assert states == {d.pk: DeliveryState.SENT for d in deliveries}
    assert len(standin.requests) == 2
    assert {r.path for r in standin.requests} == {"/hook/first", "/hook/second"}
    assert {r.headers["idempotency-key"] for r in standin.requests} == {
        d.idempotency_key for d in deliveries
    }
    assert DeliveryAttempt.objects.filter(delivery__action=action, outcome="sent").count() == 2
    assert all(d.sent_at for d in Delivery.objects.filter(action=action))


def test_dispatching_twice_makes_no_duplicate(
    org_a, two_groups, standin, queue, django_capture_on_commit_callbacks
):
    action = action_for(org_a, two_groups)
    run_dispatch(django_capture_on_commit_callbacks, now=NOW)
    again = run_dispatch(django_capture_on_commit_callbacks, now=NOW + timedelta(seconds=5))
    assert again == {"dispatched": 0, "missed": 0, "deliveries": 0, "enqueued": 0}
    assert Delivery.objects.filter(action=action).count() == 2
    assert len(queue.sent) == 2  # still queued: the markers stop a second enqueue
    for delivery_id in [*queue.sent, *queue.sent]:  # each task delivered twice by the broker
        deliver(delivery_id=delivery_id, now=NOW + timedelta(seconds=6))
    assert len(standin.requests) == 2


def test_a_second_dispatcher_that_read_the_same_due_rows_claims_nothing(
    org_a, two_groups, queue, monkeypatch, django_capture_on_commit_callbacks
):
    action = action_for(org_a, two_groups)

    # The rival claims every action between this dispatcher's query and its claim.
    def rival_claims_first():
        ScheduledAction.objects.filter(pk=action.pk).update(status=ActionStatus.DISPATCHED)

    monkeypatch.setattr(dispatch, "_after_due_query", rival_claims_first)
    counts = run_dispatch(django_capture_on_commit_callbacks, now=NOW)
    assert counts["dispatched"] == 0
    assert Delivery.objects.count() == 0


def test_an_action_twenty_minutes_late_is_missed_and_send_now_sends_it(
    org_a, two_groups, standin, queue, owner_a, django_capture_on_commit_callbacks
):
    action = action_for(org_a, two_groups, due_at=NOW - timedelta(minutes=20))
    on_time = action_for(org_a, two_groups[:1], due_at=NOW - timedelta(minutes=14))
    counts = run_dispatch(django_capture_on_commit_callbacks, now=NOW)
    assert (counts["missed"], counts["dispatched"]) == (1, 1)
    action.refresh_from_db()
    assert action.status == ActionStatus.MISSED
    assert not Delivery.objects.filter(action=action).exists()
    assert Delivery.objects.filter(action=on_time).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        dispatch.action_send_now(action=action, by=owner_a.user)
    action.refresh_from_db()
    assert action.status == ActionStatus.DISPATCHED
    mine = set(Delivery.objects.filter(action=action).values_list("pk", flat=True))
    assert mine <= set(queue.sent)
    for delivery_id in mine:
        deliver(delivery_id=delivery_id)
    assert set(Delivery.objects.filter(action=action).values_list("state", flat=True)) == {
        DeliveryState.SENT
    }
    with pytest.raises(dispatch.ValidationError):
        dispatch.action_send_now(action=action, by=owner_a.user)  # not missed any more


def test_a_community_without_an_outlet_gets_a_failed_delivery_that_says_so(
    org_a, queue, django_capture_on_commit_callbacks
):
    lonely = CommunityFactory(organization=org_a, slug="lonely")
    action = action_for(org_a, [lonely])
    run_dispatch(django_capture_on_commit_callbacks, now=NOW)
    [delivery] = Delivery.objects.filter(action=action)
    assert delivery.state == DeliveryState.FAILED
    assert "no enabled outlet" in delivery.detail
    assert queue.sent == []


def test_after_a_redis_flush_the_next_dispatch_enqueues_the_lost_delivery(
    org_a, two_groups, queue, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    action = action_for(org_a, two_groups)
    run_dispatch(django_capture_on_commit_callbacks, now=NOW)
    ids = sorted(Delivery.objects.filter(action=action).values_list("pk", flat=True))
    assert sorted(queue.sent) == ids
    cache.clear()  # Redis flushed: the queued tasks and the markers are gone
    queue.sent.clear()
    counts = dispatch_due_actions_task.run()  # beat's next tick (the real clock: overdue)
    assert counts["enqueued"] == 2
    assert sorted(queue.sent) == ids
    # A retry due in a few seconds is enqueued with that countdown, never a long ETA.
    cache.clear()
    queue.sent.clear()
    queue.countdowns.clear()
    Delivery.objects.filter(pk=ids[0]).update(next_attempt_at=NOW + timedelta(seconds=3))
    Delivery.objects.filter(pk=ids[1]).update(next_attempt_at=NOW + timedelta(minutes=5))
    dispatch.requeue_due(now=NOW)
    assert queue.sent == [ids[0]]
    assert queue.countdowns == [3.0]


def test_a_delivery_a_dead_worker_left_sending_is_picked_up_and_becomes_unknown(
    org_a, two_groups, standin, queue, django_capture_on_commit_callbacks
):
    from django.core.cache import cache

    action = action_for(org_a, two_groups[:1])
    run_dispatch(django_capture_on_commit_callbacks, now=NOW)
    [delivery] = Delivery.objects.filter(action=action)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SENDING, last_attempt_at=NOW)
    cache.clear()
    queue.sent.clear()
    assert dispatch.requeue_due(now=NOW + timedelta(seconds=30)) == 0  # may still be sending
    later = NOW + dispatch.STALE_SENDING + timedelta(seconds=1)
    assert dispatch.requeue_due(now=later) == 1
    # The webhook is idempotent: it is sent again, with the same key.
    deliver(delivery_id=delivery.pk, now=later)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SENT
    assert standin.requests[0].headers["idempotency-key"] == delivery.idempotency_key


# PostgreSQL only: the SQLite test database is in memory with a shared cache, whose table
# locks fail at once instead of waiting (tests/checklists/test_runs.py).
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_write_each_delivery_once(org_a, standin, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("concurrent dispatchers need PostgreSQL (make test-postgres)")
    groups = [CommunityFactory(organization=org_a, slug=f"g{i}") for i in range(3)]
    for group in groups:
        outlet_for(group, standin)
    actions = [action_for(org_a, groups, text=f"broadcast {i}") for i in range(5)]
    queue = install_queue(monkeypatch)
    both_queried = threading.Barrier(2, timeout=5)

    def wait_for_the_other():
        with contextlib.suppress(threading.BrokenBarrierError):
            both_queried.wait()

    monkeypatch.setattr(dispatch, "_after_due_query", wait_for_the_other)
    results, errors = [], []

    def dispatcher():
        try:
            results.append(dispatch.dispatch_due(now=NOW))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sum(r["dispatched"] for r in results) == 5
    assert Delivery.objects.count() == 15
    for action in actions:
        assert Delivery.objects.filter(action=action).count() == 3
    assert sorted(queue.sent) == sorted(Delivery.objects.values_list("pk", flat=True))


def test_a_batch_of_plain_actions_is_written_in_the_same_queries_whatever_its_size(
    org_a, two_groups, queue, django_capture_on_commit_callbacks
):
    from django.test.utils import CaptureQueriesContext

    def queries_to_dispatch(actions: int) -> int:
        for i in range(actions):
            action_for(org_a, two_groups, text=f"早安 {i}")
        with CaptureQueriesContext(connection) as captured:
            counts = run_dispatch(django_capture_on_commit_callbacks, now=NOW)
        assert counts["deliveries"] == 2 * actions
        return len(captured)

    # On PostgreSQL one UPDATE … RETURNING claims the batch; elsewhere one claim each.
    claims = 0 if connection.vendor == "postgresql" else 27
    assert queries_to_dispatch(30) - queries_to_dispatch(3) == claims
    assert Delivery.objects.filter(state=DeliveryState.PENDING).count() == 66
    assert len(queue.sent) == 66
