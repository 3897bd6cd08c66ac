"""A task sends a few deliveries one after another, and the dispatcher prepares a due
second ahead of time (automations/services/dispatch.py, deliver.py): the deliveries of a
10,000-group 09:00 are written before 09:00 and leave at 09:00, a few dozen to a task."""

from datetime import timedelta

import pytest
from django.utils import timezone

from automations.models import ActionStatus, Delivery, DeliveryAttempt, DeliveryState, Outlet
from automations.selectors.actions import can_cancel
from automations.services import deliver as deliver_module
from automations.services import dispatch, rows
from automations.services.actions import action_cancel
from automations.services.deliver import deliver_many
from tests.automations.scheduling import (
    NOW,
    action_for,
    allow_the_standin,
    groups,
    run_dispatch,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _standin_allowed(settings):
    allow_the_standin(settings)


def test_deliveries_are_enqueued_a_few_to_a_task_grouped_by_their_time(queue):
    at = NOW + timedelta(seconds=3)
    pairs = [(pk, at) for pk in range(1, 61)]
    pairs += [(pk, at + timedelta(seconds=2)) for pk in range(61, 66)]  # a second later
    assert dispatch.enqueue_many(pairs, now=NOW) == 65
    assert [len(task) for task in queue.tasks] == [25, 25, 10, 5]
    assert queue.tasks[0] == list(range(1, 26))
    # Each task's countdown is the time of its first delivery.
    assert sorted(set(queue.countdowns)) == [3.0, 5.0]
    # Enqueued once: the markers hold them until their task has run.
    assert dispatch.enqueue_many(pairs, now=NOW) == 0
    dispatch.tasks_done(list(range(1, 26)))
    assert dispatch.enqueue_many(pairs, now=NOW) == 25


def test_an_action_is_prepared_ahead_and_its_deliveries_enqueued_when_nearly_due(
    org_a, standin, queue, django_capture_on_commit_callbacks
):
    communities = groups(org_a, "g", 3, standin)
    due = NOW + timedelta(seconds=20)
    action = action_for(org_a, communities, due_at=due)

    counts = run_dispatch(django_capture_on_commit_callbacks, now=NOW)
    assert (counts["dispatched"], counts["deliveries"], counts["enqueued"]) == (1, 3, 0)
    action.refresh_from_db()
    assert action.status == ActionStatus.DISPATCHED
    deliveries = Delivery.objects.filter(action=action)
    assert {(d.state, d.next_attempt_at) for d in deliveries} == {(DeliveryState.PENDING, due)}
    assert queue.sent == []  # no ETA of 20 s

    # The tick 16 s later: due in 4 s, enqueued with that countdown, in one task.
    counts = run_dispatch(django_capture_on_commit_callbacks, now=NOW + timedelta(seconds=16))
    assert counts["enqueued"] == 3
    assert queue.tasks == [sorted(d.pk for d in deliveries)]
    assert queue.countdowns == [4.0] * 3
    # A worker that runs the task early sends nothing before the time (a driven clock).
    deliver_many(delivery_ids=queue.tasks[0], now=NOW + timedelta(seconds=16))
    assert standin.requests == []
    deliver_many(delivery_ids=queue.tasks[0], now=due)
    assert len(standin.requests) == 3
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}


def test_an_action_prepared_ahead_can_be_cancelled_until_its_time(
    org_a, owner_a, standin, queue, django_capture_on_commit_callbacks
):
    communities = groups(org_a, "g", 2, standin)
    now = timezone.now()  # staff cancel on the real clock
    due = now + timedelta(seconds=20)
    action = action_for(org_a, communities, due_at=due)
    run_dispatch(django_capture_on_commit_callbacks, now=now)
    action.refresh_from_db()
    assert action.status == ActionStatus.DISPATCHED
    assert can_cancel(action, now=now)
    assert not can_cancel(action, now=due)  # its time came: it is going out
    ids = list(Delivery.objects.filter(action=action).values_list("pk", flat=True))

    action_cancel(action=action, by=owner_a.user)
    assert action.status == ActionStatus.CANCELLED
    assert set(Delivery.objects.filter(action=action).values_list("state", "detail")) == {
        (DeliveryState.SKIPPED, "Cancelled before its time.")
    }
    # The task that was already queued finds nothing to send.
    deliver_many(delivery_ids=ids, now=due)
    assert standin.requests == []


def test_a_task_sends_its_deliveries_in_turn_with_their_slots_reserved_together(
    org_a, standin, queue, monkeypatch
):
    # Three groups behind one WeCom robot (20 a minute) and two webhook groups.
    robot = groups(org_a, "w", 3, standin, platform="wecom")
    Outlet.objects.filter(community__in=robot).update(
        url=f"{standin.url}/cgi-bin/webhook/send?key=one-robot"
    )
    hooks = groups(org_a, "h", 2, standin)
    action = action_for(org_a, [*robot, *hooks], due_at=NOW)
    dispatch.dispatch_due(now=NOW)
    ids = list(Delivery.objects.filter(action=action).values_list("pk", flat=True))
    reservations = []
    together = deliver_module.pacing.wait_for_many

    def spy(paces, *, now=None):
        reservations.append(len(paces))
        return together(paces, now=now)

    monkeypatch.setattr(deliver_module.pacing, "wait_for_many", spy)
    deliver_module.pacing.forget_all()
    states = deliver_many(delivery_ids=ids, now=NOW)

    assert reservations == [5]  # one round trip for the task's five
    assert len(standin.requests) == 3  # one robot send now, both webhooks
    by_state = {}
    for delivery in Delivery.objects.filter(action=action).select_related("community"):
        by_state.setdefault(delivery.state, []).append(delivery)
        assert states[delivery.pk] == delivery.state
    assert len(by_state[DeliveryState.SENT]) == 3
    # The robot's two others wait in the database, each with its own slot, 3.3 s apart.
    waiting = sorted(by_state[DeliveryState.PENDING], key=lambda d: d.slot_at)
    assert [d.slot_at - NOW for d in waiting] == [
        timedelta(seconds=3.3),
        timedelta(seconds=6.6),
    ]
    assert all(d.next_attempt_at == d.slot_at for d in waiting)


def test_a_row_another_worker_retried_meanwhile_is_left_to_it(org_a, standin, queue, monkeypatch):
    [community] = groups(org_a, "g", 1, standin)
    action = action_for(org_a, [community], due_at=NOW)
    dispatch.dispatch_due(now=NOW)
    delivery = Delivery.objects.get(action=action)
    reserve = deliver_module._reserve_ahead

    def another_worker_tried_it_first(deliveries, *, now):
        # Between this task's read and its claim: sent, answered 500, put back for a retry.
        Delivery.objects.filter(pk=delivery.pk).update(attempts=1, next_attempt_at=NOW)
        return reserve(deliveries, now=now)

    monkeypatch.setattr(deliver_module, "_reserve_ahead", another_worker_tried_it_first)
    deliver_many(delivery_ids=[delivery.pk], now=NOW)
    assert standin.requests == []
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)


def test_the_attempt_is_recorded_even_when_the_row_moved_meanwhile(org_a, standin, queue):
    [community] = groups(org_a, "g", 1, standin)
    action = action_for(org_a, [community], due_at=NOW)
    dispatch.dispatch_due(now=NOW)
    delivery = Delivery.objects.get(action=action)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.UNKNOWN)
    attempt = {"delivery": delivery.pk, "at": NOW, "outcome": "sent", "status_code": 200}
    moved = rows.insert_and_update(
        (DeliveryAttempt, {**attempt, "detail": "ok"}),
        Delivery,
        delivery.pk,
        where={"state": DeliveryState.SENDING},
        values={"state": DeliveryState.SENT, "sent_at": NOW},
    )
    assert moved is False
    delivery.refresh_from_db()
    assert (delivery.state, delivery.sent_at) == (DeliveryState.UNKNOWN, None)
    assert DeliveryAttempt.objects.get(delivery=delivery).at == NOW
