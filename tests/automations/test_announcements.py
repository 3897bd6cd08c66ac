"""Event announcements: made from the calendar's occurrences per community (the day before
at the community's time, and N minutes before), moved and cancelled with their
occurrence through the calendar's own services, each made once (idempotent; on
PostgreSQL two concurrent syncs make each once)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from activities.calendar import services as calendar
from automations.models import (
    ActionKind,
    ActionStatus,
    CommunityAutomation,
    Outlet,
    ScheduledAction,
)
from automations.services import dispatch
from automations.services.announcements import (
    announcements_sync,
    announcements_sync_all,
    announcements_sync_community,
)
from automations.tasks import sync_announcements_task
from communities.models import AnnouncementLanguage
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo"


@pytest.fixture
def hooks_run(monkeypatch, django_capture_on_commit_callbacks):
    """Each calendar write runs its after-commit hooks (the announcements' sync) when it
    returns, as it does outside a test's transaction."""

    def committed(write):
        def run(*args, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return write(*args, **kwargs)

        return run

    for name in ("entry_create", "entry_update", "entry_cancel"):
        monkeypatch.setattr(calendar, name, committed(getattr(calendar, name)))


def with_outlet(community):
    """Announcements go to groups that have an enabled outlet (nothing is sent here)."""
    if not community.outlets.exists():
        Outlet.objects.create(community=community, name="群机器人", platform="wecom", url=WECOM_URL)
    return community


def talk(community, start_date, *, rrule="", start_time=time(21, 0), communities=None, title=None):
    for each in communities or [community]:
        with_outlet(each)
    return calendar.entry_create(
        organization=community.organization,
        communities=communities or [community],
        data={
            "kind": "topic",
            "title": title or "读书分享：《三体》",
            "time_zone": community.time_zone,
            "start_date": start_date,
            "start_time": start_time,
            "duration_minutes": 60,
            "rrule": rrule,
        },
    )


def announcements(entry=None, **filters):
    rows = ScheduledAction.objects.filter(kind=ActionKind.ANNOUNCEMENT, **filters)
    if entry is not None:
        rows = rows.filter(entry=entry)
    return rows.order_by("due_at", "pk")


def local(day, hour, minute=0, zone=SHANGHAI):
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def test_a_talk_gets_its_two_announcements_with_the_calendar_text(hooks_run, community_a):
    community_a.announcement_language = AnnouncementLanguage.CHINESE
    community_a.save()
    day = datetime.now(SHANGHAI).date() + timedelta(days=3)
    entry = talk(community_a, day)
    day_before, minutes_before = announcements(entry)
    assert day_before.due_at == local(day - timedelta(days=1), 20)
    assert minutes_before.due_at == local(day, 20, 30)
    assert day_before.source_key.endswith(f":{community_a.pk}:day-before")
    assert minutes_before.source_key.endswith(f":{community_a.pk}:minutes-before")
    assert day_before.source_key.startswith(f"announce:{entry.pk}-")
    assert "明晚 21:00–22:00 我们讨论「读书分享：《三体》」" in day_before.text
    assert "今晚 21:00–22:00" in minutes_before.text
    assert day_before.title == "读书分享：《三体》"
    assert list(day_before.communities.all()) == [community_a]
    assert {a.status for a in (day_before, minutes_before)} == {ActionStatus.SCHEDULED}
    # Running the sync again makes nothing new.
    assert announcements_sync(entry=entry) == {"created": 0, "moved": 0, "cancelled": 0}
    assert announcements(entry).count() == 2


def test_each_community_gets_its_own_settings_and_zone(hooks_run, org_a, community_a):
    berlin = CommunityFactory(
        organization=org_a, name="Berlin readers", slug="berlin", time_zone="Europe/Berlin"
    )
    CommunityAutomation.objects.create(
        community=berlin,
        announce_day_before_at=time(18, 30),
        announce_minutes_before=None,
    )
    CommunityAutomation.objects.create(community=community_a, announce_day_before=False)
    day = datetime.now(SHANGHAI).date() + timedelta(days=4)
    entry = talk(community_a, day, communities=[community_a, berlin])
    rows = list(announcements(entry))
    by_community = {(a.communities.get().slug, a.source_key.rsplit(":", 1)[1]): a for a in rows}
    assert set(by_community) == {("reading", "minutes-before"), ("berlin", "day-before")}
    start = local(day, 21)  # the entry's zone is Shanghai
    berlin_day = start.astimezone(BERLIN).date()
    assert by_community["berlin", "day-before"].due_at == local(
        berlin_day - timedelta(days=1), 18, 30, BERLIN
    )
    assert by_community["reading", "minutes-before"].due_at == start - timedelta(minutes=30)


def test_a_time_already_past_is_not_planned(hooks_run, community_a):
    now = datetime.now(UTC)
    soon = (now + timedelta(hours=2)).astimezone(SHANGHAI).replace(second=0, microsecond=0)
    entry = talk(community_a, soon.date(), start_time=soon.time())
    # The day before is over: only the half-hour-before announcement.
    (only,) = announcements(entry)
    assert only.source_key.endswith(":minutes-before")
    assert only.due_at > now


def test_moved_and_cancelled_occurrences_move_and_cancel_their_announcements(
    hooks_run, community_a
):
    first_day = datetime.now(SHANGHAI).date() + timedelta(days=2)
    entry = talk(community_a, first_day, rrule="FREQ=WEEKLY;COUNT=4")
    rows = list(announcements(entry))
    assert len(rows) == 2 * 2  # two occurrences within 15 days, two announcements each
    first_start = local(first_day, 21)
    # Move the first occurrence an hour later: its announcements follow, same keys.
    keys = {a.pk: a.source_key for a in rows}
    calendar.entry_update(
        entry=entry,
        scope=calendar.Scope.THIS,
        original_start=first_start,
        data={"start_date": first_day, "start_time": time(22, 0)},
    )
    moved = announcements(entry, source_key__contains=f"{first_start:%Y%m%dT%H%M%SZ}")
    assert {a.pk: a.source_key for a in moved} == {
        pk: key for pk, key in keys.items() if f"{first_start:%Y%m%dT%H%M%SZ}" in key
    }
    minutes_before = moved.get(source_key__endswith="minutes-before")
    assert minutes_before.due_at == local(first_day, 21, 30)
    assert "22:00–23:00" in minutes_before.text
    # Cancel the second occurrence: its two are cancelled, the first's stay.
    second_start = first_start + timedelta(days=7)
    calendar.entry_cancel(entry=entry, scope=calendar.Scope.THIS, original_start=second_start)
    assert announcements(entry, status=ActionStatus.CANCELLED).count() == 2
    assert announcements(entry, status=ActionStatus.SCHEDULED).count() == 2
    # Cancel the whole entry: nothing upcoming is left.
    calendar.entry_cancel(entry=entry)
    assert not announcements(entry, status=ActionStatus.SCHEDULED).exists()


def test_a_series_split_or_cut_moves_its_announcements_to_the_new_entry(hooks_run, community_a):
    first_day = datetime.now(SHANGHAI).date() + timedelta(days=1)
    entry = talk(community_a, first_day, rrule="FREQ=DAILY;COUNT=6")
    assert announcements(entry, status=ActionStatus.SCHEDULED).count() == 12
    third = local(first_day + timedelta(days=2), 21)
    rest = calendar.entry_update(
        entry=entry,
        scope=calendar.Scope.FOLLOWING,
        original_start=third,
        data={"start_time": time(20, 0), "title": "新的时间"},
    )
    assert rest.pk != entry.pk
    assert announcements(entry, status=ActionStatus.SCHEDULED).count() == 4  # two days left
    assert announcements(entry, status=ActionStatus.CANCELLED).count() == 8
    moved = announcements(rest, status=ActionStatus.SCHEDULED)
    assert moved.count() == 8 and {a.title for a in moved} == {"新的时间"}
    # Cut the new series after its first day: the rest of its announcements go.
    calendar.entry_cancel(
        entry=rest,
        scope=calendar.Scope.FOLLOWING,
        original_start=local(first_day + timedelta(days=3), 20),
    )
    assert announcements(rest, status=ActionStatus.SCHEDULED).count() == 2


def test_dispatched_announcements_are_never_touched(hooks_run, community_a):
    day = datetime.now(SHANGHAI).date() + timedelta(days=3)
    entry = talk(community_a, day)
    day_before = announcements(entry).first()
    dispatch.dispatch_due(now=day_before.due_at + timedelta(seconds=1))
    day_before.refresh_from_db()
    assert day_before.status == ActionStatus.DISPATCHED
    calendar.entry_cancel(entry=entry)
    day_before.refresh_from_db()
    assert day_before.status == ActionStatus.DISPATCHED
    assert announcements(entry, status=ActionStatus.CANCELLED).count() == 1


def test_a_community_taken_off_the_entry_loses_its_announcements_and_gets_them_back(
    hooks_run, org_a, community_a
):
    other = CommunityFactory(organization=org_a, name="<script>alert(1)</script>", slug="other")
    day = datetime.now(SHANGHAI).date() + timedelta(days=3)
    entry = talk(community_a, day, communities=[community_a, other])
    assert announcements(entry, communities=other).count() == 2
    calendar.entry_update(entry=entry, communities=[community_a], data={})
    assert announcements(entry, communities=other, status=ActionStatus.SCHEDULED).count() == 0
    assert announcements(entry, communities=other, status=ActionStatus.CANCELLED).count() == 2
    assert announcements(entry, communities=community_a, status=ActionStatus.SCHEDULED).count() == 2
    # Added back: made again (the cancelled ones freed their keys).
    calendar.entry_update(entry=entry, communities=[community_a, other], data={})
    assert announcements(entry, communities=other, status=ActionStatus.SCHEDULED).count() == 2


def test_a_series_moved_as_a_whole_moves_its_announcements(hooks_run, community_a):
    first_day = datetime.now(SHANGHAI).date() + timedelta(days=2)
    entry = talk(community_a, first_day, rrule="FREQ=WEEKLY;COUNT=2")
    calendar.entry_update(entry=entry, data={"start_time": time(19, 0)})
    upcoming = list(announcements(entry, status=ActionStatus.SCHEDULED))
    assert len(upcoming) == 4
    assert {a.due_at for a in upcoming if a.source_key.endswith("minutes-before")} == {
        local(first_day, 18, 30),
        local(first_day + timedelta(days=7), 18, 30),
    }


def test_changed_settings_resync_the_community(hooks_run, community_a):
    day = datetime.now(SHANGHAI).date() + timedelta(days=3)
    entry = talk(community_a, day)
    CommunityAutomation.objects.create(
        community=community_a, announce_day_before_at=time(9, 0), announce_minutes_before=15
    )
    counts = announcements_sync_community(community=community_a)
    assert counts == {"created": 0, "moved": 2, "cancelled": 0}
    assert [a.due_at for a in announcements(entry)] == [
        local(day - timedelta(days=1), 9),
        local(day, 20, 45),
    ]


def test_the_hourly_task_keeps_a_series_covered(community_a):
    start = datetime.now(SHANGHAI).date() + timedelta(days=1)
    entry = talk(community_a, start, rrule="FREQ=DAILY")  # no hooks: the task does it all
    assert not announcements(entry).exists()
    made = sync_announcements_task()
    assert made == announcements(entry).count() > 2 * 13
    assert sync_announcements_task() == 0
    later = datetime.now(UTC) + timedelta(days=5)
    assert announcements_sync_all(now=later) >= 2 * 4  # the horizon moved on


def test_only_groups_with_an_enabled_outlet_are_announced_to(hooks_run, org_a, community_a):
    silent = CommunityFactory(organization=org_a, name="没有机器人的群", slug="no-outlet")
    day = datetime.now(SHANGHAI).date() + timedelta(days=3)
    entry = talk(community_a, day)
    calendar.entry_update(entry=entry, communities=[community_a, silent], data={})
    assert announcements(entry, communities=silent).count() == 0
    assert announcements(entry, communities=community_a).count() == 2
    # The group's outlet switched off: its upcoming announcements are withdrawn.
    Outlet.objects.filter(community=community_a).update(disabled_at=timezone.now())
    assert announcements_sync(entry=entry)["cancelled"] == 2
    # Given an outlet, the next sync (the hourly task) announces again.
    with_outlet(silent)
    assert announcements_sync(entry=entry)["created"] == 2


def test_a_sync_costs_the_same_queries_whatever_it_makes(org_a, community_a):
    from django.test.utils import CaptureQueriesContext

    def queries(groups: int) -> tuple[int, int]:
        communities = [
            with_outlet(CommunityFactory(organization=org_a, slug=f"g{groups}-{n}"))
            for n in range(groups)
        ]
        entry = talk(
            community_a,
            datetime.now(SHANGHAI).date() + timedelta(days=1),
            rrule="FREQ=DAILY",
            communities=communities,
        )
        with CaptureQueriesContext(connection) as captured:
            made = announcements_sync(entry=entry)["created"]
        return made, len(captured)

    # (SQLite's bulk inserts split past 999 parameters: two groups' 60 rows stay within.)
    one, many = queries(1), queries(2)
    assert many[0] == 2 * one[0] > 20
    assert many[1] == one[1]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_syncs_make_each_announcement_once(community_a):
    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL (DATABASE_URL=postgres://…)")
    day = datetime.now(SHANGHAI).date() + timedelta(days=3)
    entry = talk(community_a, day, rrule="FREQ=DAILY;COUNT=10")
    ScheduledAction.objects.all().delete()
    barrier = threading.Barrier(2)
    errors = []

    def run():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            announcements_sync(entry=entry)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    keys = list(announcements(entry).values_list("source_key", flat=True))
    assert len(keys) == len(set(keys)) == 20
