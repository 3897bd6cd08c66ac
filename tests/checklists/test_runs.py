"""Checklist runs: daily generation, weekdays, due times across DST, versioning, activity
runs following their occurrences, ticking with its audit trail."""

import contextlib
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone

from activities.calendar import services as calendar
from checklists.models import ChecklistRun, DueAnchor, InputKind, ItemTick, Phase, RunItem
from checklists.services import runs, templates
from communities.models import Role
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db


def daily_template(org, **data):
    template = templates.template_create(
        organization=org, data={"name": "Daily", "phase": Phase.DAILY, **data}
    )
    templates.item_save(
        template=template,
        data={"title": "Morning post", "anchor": DueAnchor.CLOCK, "due_time": time(9, 0)},
    )
    templates.item_save(
        template=template,
        data={
            "title": "Workday news",
            "anchor": DueAnchor.CLOCK,
            "due_time": time(12, 0),
            "weekdays": "12345",
        },
    )
    templates.item_save(
        template=template,
        data={
            "title": "Questions answered",
            "anchor": DueAnchor.CLOCK,
            "due_time": time(22, 0),
            "input_kind": InputKind.NUMBER,
        },
    )
    return template


@pytest.fixture
def moderator(org_a, community_a):
    staff = StaffFactory(organization=org_a, role=Role.MODERATOR)
    staff.communities.add(community_a)
    return staff


def test_daily_runs_open_once_per_local_day_in_each_communitys_zone(org_a, moderator):
    shanghai = CommunityFactory(organization=org_a, slug="sh", time_zone="Asia/Shanghai")
    berlin = CommunityFactory(organization=org_a, slug="be", time_zone="Europe/Berlin")
    template = daily_template(org_a)
    for community in (shanghai, berlin):
        templates.template_use_set(template=template, community=community)
    # 2026-12-02 (Wednesday) 05:30 UTC: 13:30 in Shanghai, 06:30 in Berlin.
    early = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Berlin 04:00: not morning yet
    assert runs.daily_runs_open(now=early) == 1
    assert list(ChecklistRun.objects.values_list("community__slug", "day")) == [
        ("sh", date(2026, 12, 2))
    ]
    later = datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
    assert runs.daily_runs_open(now=later) == 1
    assert runs.daily_runs_open(now=later) == 0  # beat twice in a minute
    assert runs.daily_runs_open(now=later + timedelta(seconds=40)) == 0
    assert ChecklistRun.objects.count() == 2
    berlin_run = ChecklistRun.objects.get(community=berlin)
    assert berlin_run.day == date(2026, 12, 2)
    morning = berlin_run.items.get(title="Morning post")
    assert morning.due_at == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # 09:00 CET


def test_weekday_items_only_on_their_days(org_a, community_a):
    template = daily_template(org_a)
    templates.template_use_set(template=template, community=community_a)
    saturday = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    monday = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    runs.daily_runs_open(now=saturday)
    runs.daily_runs_open(now=monday)
    titles = {
        run.day.isoweekday(): [item.title for item in run.items.all()]
        for run in ChecklistRun.objects.all()
    }
    assert titles[6] == ["Morning post", "Questions answered"]
    assert titles[1] == ["Morning post", "Workday news", "Questions answered"]


def test_due_times_keep_the_local_clock_across_dst(org_a):
    berlin = CommunityFactory(organization=org_a, slug="be", time_zone="Europe/Berlin")
    template = daily_template(org_a)
    templates.template_use_set(template=template, community=berlin)
    # The Saturdays before and after the change of 2026-10-25 (CEST → CET).
    for now in (datetime(2026, 10, 24, 6, 0, tzinfo=UTC), datetime(2026, 10, 26, 6, 0, tzinfo=UTC)):
        runs.daily_runs_open(now=now)
    before, after = (
        ChecklistRun.objects.get(day=day).items.get(title="Morning post").due_at
        for day in (date(2026, 10, 24), date(2026, 10, 26))
    )
    assert before == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert after == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET


def test_template_edits_leave_existing_runs_untouched(org_a, community_a):
    template = daily_template(org_a)
    templates.template_use_set(template=template, community=community_a)
    runs.daily_runs_open(now=datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    run = ChecklistRun.objects.get()
    template.refresh_from_db()
    version = template.version
    first = template.items.order_by("position").first()
    templates.item_save(template=template, item=first, data={"title": "Greeting (new wording)"})
    templates.item_delete(item=template.items.get(title="Questions answered"))
    templates.template_update(template=template, data={"name": "Daily v2"})
    template.refresh_from_db()
    assert template.version == version + 3
    run.refresh_from_db()
    assert (run.name, run.template_version) == ("Daily", version)
    assert [item.title for item in run.items.all()] == [
        "Morning post",
        "Workday news",
        "Questions answered",
    ]
    templates.template_delete(template=template)
    run.refresh_from_db()
    assert run.template is None and run.items.count() == 3


def test_an_item_due_outside_its_run_is_refused(org_a):
    template = daily_template(org_a)
    before = template.items.count()
    with pytest.raises(ValidationError, match="lasts one day"):
        templates.item_save(
            template=template,
            data={"title": "Tomorrow", "anchor": DueAnchor.RUN_START, "offset_minutes": 2000},
        )
    with pytest.raises(ValidationError, match="relative to an activity"):
        templates.item_save(
            template=template,
            data={"title": "x", "anchor": DueAnchor.OCCURRENCE_START, "offset_minutes": -60},
        )
    setup = templates.template_create(
        organization=org_a, data={"name": "Setup", "phase": Phase.SETUP, "duration_days": 7}
    )
    with pytest.raises(ValidationError, match="lasts 7 days"):
        templates.item_save(
            template=setup,
            data={
                "title": "Late",
                "anchor": DueAnchor.CLOCK,
                "due_time": time(9),
                "offset_days": 7,
            },
        )
    assert template.items.count() == before and setup.items.count() == 0


def activity_template(org, community):
    template = templates.template_create(
        organization=org,
        data={"name": "Talk", "phase": Phase.ACTIVITY, "entry_kinds": "topic,guest"},
    )
    templates.item_save(
        template=template,
        data={"title": "Announce", "anchor": DueAnchor.OCCURRENCE_START, "offset_minutes": -1440},
    )
    templates.item_save(
        template=template,
        data={"title": "Summary", "anchor": DueAnchor.OCCURRENCE_END, "offset_minutes": 30},
    )
    templates.template_use_set(template=template, community=community)
    return template


def weekly_talk(community, start_date):
    return calendar.entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": "topic",
            "title": "Weekly talk",
            "time_zone": community.time_zone,
            "start_date": start_date,
            "start_time": time(21, 0),
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY;COUNT=3",
        },
    )


@pytest.mark.django_db(transaction=True)
def test_activity_runs_follow_their_occurrences(org_a, community_a):
    activity_template(org_a, community_a)
    start = timezone.localdate() + timedelta(days=2)
    entry = weekly_talk(community_a, start)  # on commit: the hook makes the runs
    made = ChecklistRun.objects.filter(entry=entry).order_by("original_start")
    assert made.count() == 2  # the third starts beyond the 15-day horizon
    first = made.first()
    announce = first.items.get(title="Announce")
    assert announce.due_at == first.occurrence_starts_at - timedelta(days=1)
    # Move the first occurrence an hour later: its run and due times follow.
    calendar.entry_update(
        entry=entry,
        scope=calendar.Scope.THIS,
        original_start=first.original_start,
        data={"start_date": start, "start_time": time(22, 0)},
    )
    first.refresh_from_db()
    assert first.occurrence_starts_at == first.original_start + timedelta(hours=1)
    summary = first.items.get(title="Summary")
    assert summary.due_at == first.occurrence_ends_at + timedelta(minutes=30)
    # Cancel the second: its run is cancelled, the first stays.
    second = made.last()
    calendar.entry_cancel(
        entry=entry, scope=calendar.Scope.THIS, original_start=second.original_start
    )
    second.refresh_from_db()
    first.refresh_from_db()
    assert second.cancelled_at is not None and first.cancelled_at is None
    calendar.entry_cancel(entry=entry)
    assert not ChecklistRun.objects.filter(entry=entry, cancelled_at__isnull=True).exists()


def test_ticks_and_unticks_are_recorded_and_required_input_is_checked(
    org_a, community_a, moderator
):
    template = daily_template(org_a)
    templates.template_use_set(template=template, community=community_a)
    now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    runs.daily_runs_open(now=now)
    run = ChecklistRun.objects.get()
    assert run.assignee == moderator
    number = run.items.get(title="Questions answered")
    with pytest.raises(ValidationError, match="Enter the number"):
        runs.item_tick(item=number, staff=moderator, value="", now=now)
    with pytest.raises(ValidationError, match="whole number"):
        runs.item_tick(item=number, staff=moderator, value="twelve", now=now)
    assert not ItemTick.objects.exists()
    runs.item_tick(item=number, staff=moderator, value="12", now=now)
    runs.item_tick(item=number, staff=moderator, value="12", now=now)  # a double click
    runs.item_untick(item=number, staff=moderator, now=now + timedelta(minutes=1))
    runs.item_tick(item=number, staff=moderator, value="14", now=now + timedelta(minutes=2))
    trail = list(ItemTick.objects.values_list("action", "by", "value"))
    assert trail == [
        ("tick", moderator.user_id, "12"),
        ("untick", moderator.user_id, ""),
        ("tick", moderator.user_id, "14"),
    ]
    number.refresh_from_db()
    assert number.value == "14" and number.on_time


def test_a_finished_day_is_corrected_only_by_operators(org_a, community_a, moderator, operator_a):
    template = daily_template(org_a)
    templates.template_use_set(template=template, community=community_a)
    runs.daily_runs_open(now=datetime(2026, 12, 2, 2, 0, tzinfo=UTC))
    item = RunItem.objects.get(title="Morning post")
    next_day = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    with pytest.raises(ValidationError, match="day is over"):
        runs.item_tick(item=item, staff=moderator, now=next_day)
    item.refresh_from_db()
    assert item.done_at is None and not ItemTick.objects.exists()
    runs.item_tick(item=item, staff=operator_a, now=next_day)
    item.refresh_from_db()
    assert item.done_at == next_day and not item.on_time


def test_overdue_items_are_announced_once(
    org_a, community_a, moderator, operator_a, mailoutbox, django_capture_on_commit_callbacks
):
    template = daily_template(org_a)
    templates.template_use_set(template=template, community=community_a)
    runs.daily_runs_open(now=datetime(2026, 12, 2, 0, 0, tzinfo=UTC))
    late = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 09:30 Shanghai: the morning post is late
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.overdue_notify(now=late) == 1
        assert runs.overdue_notify(now=late) == 0
    for staff in (moderator, operator_a):
        staff.refresh_from_db()
        assert staff.unread_notifications == 1
        assert "Morning post" in staff.notifications.get().text
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(
        [moderator.user.email, operator_a.user.email]
    )


# PostgreSQL only: the SQLite test database is in memory with a shared cache, whose table
# locks fail at once instead of waiting (tests/activities/calendar/test_participation.py).
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_make_one_daily_run(org_a, community_a):
    if connection.vendor != "postgresql":
        pytest.fail("concurrent workers need PostgreSQL (make test-postgres)")
    template = daily_template(org_a)
    templates.template_use_set(template=template, community=community_a)
    now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    # Both workers pass the "already made?" check before either inserts.
    both_checked = threading.Barrier(2, timeout=5)
    real_make = runs._make_run
    results, errors = [], []

    def racing_make(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()
        return real_make(**kwargs)

    def worker():
        try:
            results.append(runs.daily_runs_open(now=now))
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runs, "_make_run", racing_make)
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert ChecklistRun.objects.count() == 1
    assert RunItem.objects.count() == 3


def test_a_task_retried_after_a_crash_makes_only_the_missing_runs(org_a, monkeypatch):
    from checklists.tasks import open_daily_runs

    first = CommunityFactory(organization=org_a, slug="first")
    second = CommunityFactory(organization=org_a, slug="second")
    template = daily_template(org_a)
    for community in (first, second):
        templates.template_use_set(template=template, community=community)
    real_make = runs._make_run
    # 10:00 in Shanghai, whenever the suite runs (the task reads the clock itself).
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 2, 2, 0, tzinfo=UTC))

    def crash_on_second(**kwargs):
        if kwargs["community"].pk == second.pk:
            raise ConnectionError("worker lost its database mid-task")
        return real_make(**kwargs)

    monkeypatch.setattr(runs, "_make_run", crash_on_second)
    with pytest.raises(ConnectionError):
        open_daily_runs.apply(throw=True)
    assert list(ChecklistRun.objects.values_list("community__slug", flat=True)) == ["first"]
    monkeypatch.setattr(runs, "_make_run", real_make)
    assert open_daily_runs.apply(throw=True).get() == 1  # the retry
    assert open_daily_runs.apply(throw=True).get() == 0  # and beat's next tick
    assert sorted(ChecklistRun.objects.values_list("community__slug", flat=True)) == [
        "first",
        "second",
    ]
    assert (
        RunItem.objects.filter(run__community=first).count()
        == RunItem.objects.filter(run__community=second).count()
    )


def test_an_item_ticked_ahead_of_time_counts_at_once(org_a, community_a, moderator):
    from checklists.selectors.completion import completion

    template = daily_template(org_a)
    templates.template_use_set(template=template, community=community_a)
    morning = datetime(2026, 12, 2, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai: nothing due yet
    runs.daily_runs_open(now=morning)
    day = date(2026, 12, 2)
    assert completion(start=day, end=day, now=morning) == {}
    runs.item_tick(item=RunItem.objects.get(title="Morning post"), staff=moderator, now=morning)
    figure = completion(start=day, end=day, now=morning)[community_a.pk]
    assert (figure.due, figure.on_time, figure.percent) == (1, 1, 100)
    evening = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 23:00: all three are due
    figure = completion(start=day, end=day, now=evening)[community_a.pk]
    assert (figure.due, figure.on_time, figure.done, figure.percent) == (3, 1, 1, 33)
