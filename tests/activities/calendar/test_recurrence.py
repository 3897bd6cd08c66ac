"""Recurrence in local time, and edits/cancellations of one, following or all occurrences."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from activities.calendar import services
from activities.calendar.models import CalendarEntry, Occurrence, Participation
from activities.calendar.selectors import describe_rule, slots_for
from activities.calendar.services import Scope
from tests.factories import CommunityFactory, MembershipFactory

BERLIN = ZoneInfo("Europe/Berlin")


def weekly(community, *, rrule="FREQ=WEEKLY;BYDAY=TU", start=date(2026, 1, 6), **data):
    return services.entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": "topic",
            "title": "Weekly talk",
            "start_date": start,
            "start_time": time(21, 0),
            "duration_minutes": 30,
            "rrule": rrule,
            **data,
        },
    )


def slots(entry, start, end):
    entry = CalendarEntry.objects.get(pk=entry.pk)
    rows = list(Occurrence.objects.filter(entry__in=[entry]))
    return slots_for([entry], rows, start, end)


def all_slots(entries, start, end):
    entries = list(CalendarEntry.objects.filter(pk__in=[e.pk for e in entries]))
    rows = list(Occurrence.objects.filter(entry__in=entries))
    return slots_for(entries, rows, start, end)


def local(slot):
    return slot.starts_at.astimezone(BERLIN)


def wall(*args):
    """A naive local wall-clock time (what describe_rule counts in)."""
    return datetime(*args)  # noqa: DTZ001


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.django_db
def test_weekly_21_berlin_stays_21_local_across_both_dst_changes():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = weekly(community)
    found = slots(entry, utc(2026, 1, 1), utc(2027, 1, 1))
    assert len(found) == 52
    assert {local(s).time() for s in found} == {time(21, 0)}
    assert {local(s).weekday() for s in found} == {1}
    # Before 29 March (CET, UTC+1) 20:00 UTC; after it (CEST, UTC+2) 19:00 UTC; after
    # 25 October 20:00 UTC again.
    by_day = {local(s).date(): s.starts_at for s in found}
    assert by_day[date(2026, 3, 24)] == utc(2026, 3, 24, 20)
    assert by_day[date(2026, 3, 31)] == utc(2026, 3, 31, 19)
    assert by_day[date(2026, 10, 20)] == utc(2026, 10, 20, 19)
    assert by_day[date(2026, 10, 27)] == utc(2026, 10, 27, 20)


@pytest.mark.django_db
def test_second_tuesday_monthly():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = weekly(community, rrule="FREQ=MONTHLY;BYDAY=2TU", start=date(2026, 1, 13))
    found = slots(entry, utc(2026, 1, 1), utc(2026, 7, 1))
    assert [local(s).date() for s in found] == [
        date(2026, 1, 13),
        date(2026, 2, 10),
        date(2026, 3, 10),
        date(2026, 4, 14),
        date(2026, 5, 12),
        date(2026, 6, 9),
    ]
    words = describe_rule(entry, after=wall(2026, 2, 1), language="en")
    assert words == "monthly on the second Tuesday 21:00, next: 02-10, 03-10, 04-14"
    chinese = describe_rule(entry, after=wall(2026, 2, 1), language="zh-hans")
    assert chinese == "每月第二个星期二 21:00，接下来：02-10、03-10、04-14"


@pytest.mark.django_db
def test_daily_and_weekdays():
    community = CommunityFactory(time_zone="Asia/Shanghai")
    daily = weekly(community, rrule="FREQ=DAILY", start=date(2026, 12, 1))
    weekdays = weekly(community, rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", start=date(2026, 12, 1))
    window = (utc(2026, 11, 29, 16), utc(2026, 12, 6, 16))  # Mon 30 Nov … Sun 6 Dec, Shanghai
    assert len(slots(daily, *window)) == 6  # from Tuesday 1 December
    shanghai = ZoneInfo("Asia/Shanghai")
    days = [s.starts_at.astimezone(shanghai).date() for s in slots(weekdays, *window)]
    assert days == [date(2026, 12, d) for d in (1, 2, 3, 4)]
    assert describe_rule(daily, after=wall(2026, 12, 8), language="en") == (
        "every day 21:00, next: 12-08, 12-09, 12-10"
    )
    assert describe_rule(weekdays, after=wall(2026, 12, 5), language="zh-hans").startswith(
        "每个工作日（周一至周五） 21:00，接下来：12-07、12-08"
    )


@pytest.mark.django_db
def test_weekly_rule_in_words_in_both_languages():
    assert describe_rule(
        "FREQ=WEEKLY;BYDAY=TU", wall(2026, 12, 1, 21), "en", after=wall(2026, 12, 2)
    ) == ("every Tuesday 21:00, next: 12-08, 12-15, 12-22")
    assert describe_rule(
        "FREQ=WEEKLY;BYDAY=TU", wall(2026, 12, 1, 21), "zh-hans", after=wall(2026, 12, 2)
    ) == ("每星期二 21:00，接下来：12-08、12-15、12-22")
    custom = describe_rule("FREQ=WEEKLY;INTERVAL=2", wall(2026, 12, 1, 21), "en")
    assert custom.startswith("custom rule FREQ=WEEKLY;INTERVAL=2, next: 12-01, 12-15, 12-29")


@pytest.mark.django_db
def test_this_occurrence_moved_and_cancelled_are_exceptions():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = weekly(community, start=date(2026, 12, 1))
    found = slots(entry, utc(2026, 12, 1), utc(2027, 1, 1))
    second, third = found[1], found[2]
    services.entry_update(
        entry=entry,
        scope=Scope.THIS,
        original_start=second.original_start,
        data={
            "start_date": date(2026, 12, 9),
            "start_time": time(20, 0),
            "end_time": time(21, 15),
            "note": "Moved for the holiday",
        },
    )
    services.entry_cancel(entry=entry, scope=Scope.THIS, original_start=third.original_start)
    after = slots(entry, utc(2026, 12, 1), utc(2027, 1, 1))
    assert [local(s).date() for s in after] == [
        date(2026, 12, 1),
        date(2026, 12, 9),
        date(2026, 12, 22),
        date(2026, 12, 29),
    ]
    moved = after[1]
    assert moved.moved and moved.note == "Moved for the holiday"
    assert local(moved).time() == time(20, 0)
    assert moved.ends_at - moved.starts_at == timedelta(minutes=75)
    entry.refresh_from_db()
    assert entry.sequence == 2
    assert Occurrence.objects.get(entry=entry, original_start=second.original_start).sequence == 1


@pytest.mark.django_db
def test_this_and_following_split_keeps_earlier_and_moves_later_exceptions():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = weekly(community, start=date(2026, 12, 1))
    found = slots(entry, utc(2026, 12, 1), utc(2027, 2, 1))
    first, split_at, later = found[0], found[2], found[4]
    # An earlier exception (moved) and a later one (cancelled) with a participation.
    services.entry_update(
        entry=entry,
        scope=Scope.THIS,
        original_start=first.original_start,
        data={"start_time": time(20, 0), "note": "earlier"},
    )
    services.entry_cancel(entry=entry, scope=Scope.THIS, original_start=later.original_start)
    later_row = Occurrence.objects.get(entry=entry, original_start=later.original_start)
    going = Participation.objects.create(
        occurrence=later_row, membership=MembershipFactory(community=community), response="going"
    )

    rest = services.entry_update(
        entry=entry,
        scope=Scope.FOLLOWING,
        original_start=split_at.original_start,
        data={"title": "New talk", "start_date": date(2026, 12, 15), "start_time": time(19, 0)},
    )

    entry.refresh_from_db()
    assert rest.pk != entry.pk and rest.split_from_id == entry.pk
    assert "UNTIL=" in entry.rrule and entry.sequence >= 1
    # The old series keeps its first two occurrences, its earlier exception included.
    old = slots(entry, utc(2026, 12, 1), utc(2027, 2, 1))
    assert [local(s).date() for s in old] == [date(2026, 12, 1), date(2026, 12, 8)]
    assert local(old[0]).time() == time(20, 0)
    # The new one carries on at 19:00 with the new title; the later cancellation came along.
    new = slots(rest, utc(2026, 12, 1), utc(2027, 2, 1))
    assert local(new[0]).date() == date(2026, 12, 15)
    assert {local(s).time() for s in new} == {time(19, 0)}
    assert date(2026, 12, 29) not in [local(s).date() for s in new]
    assert rest.title == "New talk"
    moved_row = Occurrence.objects.get(pk=later_row.pk)
    assert moved_row.entry_id == rest.pk and moved_row.cancelled
    assert moved_row.original_start.astimezone(BERLIN).time() == time(19, 0)
    assert Participation.objects.get(pk=going.pk).occurrence.entry_id == rest.pk
    assert Occurrence.objects.filter(entry=entry).count() == 1  # the earlier exception stayed


@pytest.mark.django_db
def test_count_split_keeps_the_total():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = weekly(community, rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=6", start=date(2026, 12, 1))
    found = slots(entry, utc(2026, 12, 1), utc(2027, 3, 1))
    assert len(found) == 6
    rest = services.entry_update(
        entry=entry,
        scope=Scope.FOLLOWING,
        original_start=found[2].original_start,
        data={"start_date": date(2026, 12, 15), "start_time": time(20, 0)},
    )
    assert "COUNT=4" in rest.rrule
    both = all_slots([entry, rest], utc(2026, 12, 1), utc(2027, 3, 1))
    assert len(both) == 6
    assert [local(s).time() for s in both] == [time(21, 0)] * 2 + [time(20, 0)] * 4


@pytest.mark.django_db
def test_whole_series_edit_keeps_a_moved_and_a_cancelled_occurrence():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = weekly(community, start=date(2026, 12, 1))
    found = slots(entry, utc(2026, 12, 1), utc(2027, 1, 1))
    services.entry_update(
        entry=entry,
        scope=Scope.THIS,
        original_start=found[1].original_start,
        data={"start_date": date(2026, 12, 10), "start_time": time(18, 0)},
    )
    services.entry_cancel(entry=entry, scope=Scope.THIS, original_start=found[2].original_start)
    # The series moves to Wednesdays 20:00.
    services.entry_update(
        entry=entry,
        scope=Scope.ALL,
        data={
            "rrule": "FREQ=WEEKLY;BYDAY=WE",
            "start_date": date(2026, 12, 2),
            "start_time": time(20, 0),
        },
    )
    after = slots(entry, utc(2026, 12, 1), utc(2027, 1, 1))
    dates = [(local(s).date(), local(s).time()) for s in after]
    assert dates == [
        (date(2026, 12, 2), time(20, 0)),
        (date(2026, 12, 10), time(18, 0)),  # the moved one stayed where it was moved to
        # 16 December (the cancelled one's new place) stays cancelled
        (date(2026, 12, 23), time(20, 0)),
        (date(2026, 12, 30), time(20, 0)),
    ]
    entry.refresh_from_db()
    assert entry.sequence == 3


@pytest.mark.django_db
def test_cancel_following_and_all():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = weekly(community, start=date(2026, 12, 1))
    found = slots(entry, utc(2026, 12, 1), utc(2027, 1, 1))
    services.entry_cancel(
        entry=entry, scope=Scope.FOLLOWING, original_start=found[2].original_start
    )
    assert len(slots(entry, utc(2026, 12, 1), utc(2027, 2, 1))) == 2
    services.entry_cancel(entry=entry, scope=Scope.ALL)
    assert slots(entry, utc(2026, 12, 1), utc(2027, 2, 1)) == []
    entry.refresh_from_db()
    assert entry.cancelled_at is not None and entry.sequence == 2


@pytest.mark.django_db
def test_occurrence_the_rule_does_not_produce_is_refused():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = weekly(community, start=date(2026, 12, 1))
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.entry_cancel(entry=entry, scope=Scope.THIS, original_start=utc(2026, 12, 2, 20))
    assert not Occurrence.objects.filter(entry=entry).exists()
