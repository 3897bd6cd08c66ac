"""The broadcasts' planner (automations/services/plan.py): each occurrence's action made once
(repeated runs, two planners at once), placed in each community's zone, and a 09:00
Europe/Berlin daily broadcast sent once a day at 09:00 local across both DST changes, on a
driven clock through the planner, the dispatcher and the deliveries."""

import contextlib
import threading
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from automations.models import ActionKind, Broadcast, Delivery, DeliveryState, ScheduledAction
from automations.services import dispatch
from automations.services.deliver import deliver
from automations.services.plan import plan_broadcasts
from automations.tasks import plan_broadcasts_task
from config.beat import beat_schedule
from tests.automations.scheduling import allow_the_standin, install_queue, outlet_for
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")


def broadcast_for(org, communities, *, start=date(2026, 3, 20), at=time(9), rrule="FREQ=DAILY"):
    broadcast = Broadcast.objects.create(
        organization=org,
        name="Guten Morgen",
        text="Guten Morgen, {community}!",
        start_date=start,
        at_time=at,
        rrule=rrule,
        no_repeat=False,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    broadcast.communities.set(communities)
    return broadcast


def keys() -> list[tuple]:
    return sorted(
        ScheduledAction.objects.values_list("source_key", "due_at", "kind", "title", "text")
    )


def test_planning_twice_makes_each_action_once(org_a, community_a):
    broadcast_for(org_a, [community_a])
    now = datetime(2026, 5, 1, 20, tzinfo=UTC)
    made = plan_broadcasts(now=now)
    first = keys()
    assert made == len(first) == 2  # 36 hours ahead: the 2nd and 3rd at 09:00 Shanghai
    assert plan_broadcasts(now=now) == 0
    assert plan_broadcasts(now=now + timedelta(minutes=1)) == 0
    assert keys() == first
    assert {row[2:] for row in first} == {
        (ActionKind.BROADCAST, "Guten Morgen", "Guten Morgen, {community}!")
    }


def test_the_beat_entry_and_the_task(org_a, community_a):
    entry = beat_schedule(60)["plan-broadcasts"]
    assert (entry["task"], entry["schedule"], entry["options"]["expires"]) == (
        "automations.plan_broadcasts",
        60.0,
        60,
    )
    broadcast_for(org_a, [community_a], start=date(2020, 1, 1))
    assert plan_broadcasts_task.run() >= 1


def test_a_shanghai_and_berlin_broadcast_makes_one_action_per_zone(org_a, community_a):
    berlin = CommunityFactory(organization=org_a, slug="berlin", time_zone="Europe/Berlin")
    munich = CommunityFactory(organization=org_a, slug="munich", time_zone="Europe/Berlin")
    broadcast = broadcast_for(org_a, [community_a, berlin, munich], start=date(2026, 5, 2))
    plan_broadcasts(now=datetime(2026, 5, 1, 22, tzinfo=UTC), horizon=timedelta(hours=12))
    actions = ScheduledAction.objects.filter(broadcast=broadcast).order_by("due_at")
    assert [(a.source_key, a.due_at) for a in actions] == [
        (
            f"broadcast:{broadcast.pk}:20260502T0900:Asia/Shanghai",
            datetime(2026, 5, 2, 1, tzinfo=UTC),
        ),
        (
            f"broadcast:{broadcast.pk}:20260502T0900:Europe/Berlin",
            datetime(2026, 5, 2, 7, tzinfo=UTC),
        ),
    ]
    assert [sorted(c.slug for c in a.communities.all()) for a in actions] == [
        ["reading"],
        ["berlin", "munich"],
    ]


def test_a_paused_broadcast_and_an_archived_community_are_not_planned(org_a, community_a):
    archived = CommunityFactory(organization=org_a, slug="old", archived=True)
    broadcast_for(org_a, [archived])
    paused = broadcast_for(org_a, [community_a])
    paused.paused_at = datetime(2026, 1, 2, tzinfo=UTC)
    paused.save()
    assert plan_broadcasts(now=datetime(2026, 5, 1, tzinfo=UTC)) == 0


def test_a_one_off_broadcast_is_planned_once(org_a, community_a):
    broadcast_for(org_a, [community_a], start=date(2026, 5, 2), rrule="")
    for hours in range(0, 72, 6):
        plan_broadcasts(now=datetime(2026, 5, 1, tzinfo=UTC) + timedelta(hours=hours))
    assert [row[1] for row in keys()] == [datetime(2026, 5, 2, 1, tzinfo=UTC)]


def test_a_nonexistent_local_time_is_placed_once(org_a):
    # 02:30 does not exist in Berlin on 29 March 2026: fold=0 places it at 01:30 UTC.
    berlin = CommunityFactory(organization=org_a, slug="berlin", time_zone="Europe/Berlin")
    broadcast_for(org_a, [berlin], at=time(2, 30))
    plan_broadcasts(now=datetime(2026, 3, 28, 12, tzinfo=UTC), horizon=timedelta(hours=48))
    assert [row[1] for row in keys()] == [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
    ]


def test_a_doubled_local_time_is_placed_once(org_a):
    # 02:30 happens twice in Berlin on 25 October 2026: the first (fold=0), 00:30 UTC.
    berlin = CommunityFactory(organization=org_a, slug="berlin", time_zone="Europe/Berlin")
    broadcast_for(org_a, [berlin], at=time(2, 30))
    plan_broadcasts(now=datetime(2026, 10, 24, 12, tzinfo=UTC), horizon=timedelta(hours=24))
    assert [row[1] for row in keys()] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]


def drive(start: datetime, end: datetime, queue, capture) -> None:
    """Step a clock from ``start`` to ``end``: every 5 minutes beat's planner and dispatcher
    run, and the worker sends what was enqueued (to the stand-in) at that time."""
    now = start
    while now <= end:
        with capture(execute=True):
            plan_broadcasts(now=now)
            dispatch.dispatch_due(now=now)
        while queue.sent:
            deliver(delivery_id=queue.sent.pop(0), now=now)
        now += timedelta(minutes=5)


@pytest.mark.parametrize(
    ("first_day", "last_day", "summer_from"),
    [
        (date(2026, 3, 25), date(2026, 4, 2), date(2026, 3, 29)),  # spring forward
        (date(2026, 10, 21), date(2026, 10, 29), None),  # fall back on the 25th
    ],
)
def test_a_0900_berlin_daily_broadcast_fires_once_a_day_at_0900_across_dst(
    org_a, standin, monkeypatch, settings, django_capture_on_commit_callbacks,
    first_day, last_day, summer_from,
):  # fmt: skip
    allow_the_standin(settings)
    queue = install_queue(monkeypatch)
    berlin = CommunityFactory(
        organization=org_a, slug="berlin", name="Berlin", time_zone="Europe/Berlin"
    )
    outlet_for(berlin, standin)
    broadcast_for(org_a, [berlin], start=date(2026, 3, 1))
    start = datetime.combine(first_day, time(0), BERLIN).astimezone(UTC)
    end = datetime.combine(last_day, time(23, 55), BERLIN).astimezone(UTC)
    drive(start, end, queue, django_capture_on_commit_callbacks)

    sent = list(
        Delivery.objects.filter(state=DeliveryState.SENT)
        .select_related("action")
        .order_by("sent_at")
    )
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    local_days = Counter(d.action.due_at.astimezone(BERLIN).date() for d in sent)
    assert local_days == dict.fromkeys(days, 1)  # none missed, none doubled
    assert len(standin.requests) == len(days)
    for delivery in sent:
        local = delivery.action.due_at.astimezone(BERLIN)
        assert (local.hour, local.minute) == (9, 0)
        summer = local.date() >= summer_from if summer_from else local.date() < date(2026, 10, 25)
        assert delivery.action.due_at.astimezone(UTC).hour == (7 if summer else 8)
        # Sent at the first tick at or after its time.
        assert timedelta(0) <= delivery.sent_at - delivery.action.due_at < timedelta(minutes=5)


# PostgreSQL only, like the concurrent dispatchers (tests/automations/test_dispatch.py).
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_planners_at_once_make_each_action_once(org_a, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("concurrent planners need PostgreSQL (make test-postgres)")
    from automations.services import plan

    groups = [
        CommunityFactory(organization=org_a, slug=f"g{i}", time_zone=zone)
        for i, zone in enumerate(["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
    ]
    for n in range(4):
        broadcast_for(org_a, groups, at=time(8 + n))
    both_read = threading.Barrier(2, timeout=5)
    real_write = plan._write

    def write_together(wanted):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return real_write(wanted)

    monkeypatch.setattr(plan, "_write", write_together)
    results, errors = [], []

    def planner():
        try:
            results.append(plan_broadcasts(now=datetime(2026, 5, 1, tzinfo=UTC)))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=planner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    total = ScheduledAction.objects.count()
    assert sum(results) == total > 0
    assert len(set(ScheduledAction.objects.values_list("source_key", flat=True))) == total
    through = ScheduledAction.communities.through.objects
    assert through.count() == total  # one community per zone, linked once
