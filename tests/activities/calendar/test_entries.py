"""Bad input gets a clear error and writes nothing; another organisation's entry is a 404."""

from datetime import UTC, date, datetime, time
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities.calendar import services
from activities.calendar.models import CalendarEntry, Occurrence, Participation
from activities.calendar.services import Scope
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_now():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def form_data(community, **overrides):
    data = {
        "kind": "topic",
        "title": "Weekly talk",
        "communities": [community.pk],
        "start_date": "2026-12-08",
        "start_time": "21:00",
        "end_time": "21:30",
        "repeat": "weekly",
        "weekdays": ["TU"],
        "invite_scope": "members",
        "scope": "all",
    }
    data.update(overrides)
    return data


def counts():
    return (
        CalendarEntry.objects.count(),
        Occurrence.objects.count(),
        Participation.objects.count(),
    )


def weekly(community, **data):
    return services.entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": "topic",
            "title": "Weekly talk",
            "start_date": date(2026, 12, 1),
            "start_time": time(21, 0),
            "duration_minutes": 30,
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
            **data,
        },
    )


def test_the_form_creates_a_weekly_entry(client_for, operator_a, community_a):
    response = client_for(operator_a).post(
        reverse("activities:calendar-entry-create"), form_data(community_a)
    )
    assert response.status_code == 302
    entry = CalendarEntry.objects.get()
    assert entry.rrule == "FREQ=WEEKLY;BYDAY=TU"
    assert entry.duration_minutes == 30 and entry.time_zone == community_a.time_zone


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_time": "20:00"}, "end_time", "The end is before the start."),
        ({"repeat": "custom", "rrule": "FREQ=SOMETIMES"}, "rrule", "could not be read"),
        ({"repeat": "custom", "rrule": "FREQ=MINUTELY;INTERVAL=30"}, "rrule", "once an hour"),
        ({"repeat": "custom", "rrule": "FREQ=HOURLY;BYMINUTE=0,30"}, "rrule", "once an hour"),
        ({"start_date": "99999-01-01"}, "start_date", "date"),
        ({"start_date": "2026-02-30"}, "start_date", "date"),
    ],
)
def test_bad_input_writes_nothing(client_for, operator_a, community_a, overrides, field, message):
    before = counts()
    response = client_for(operator_a).post(
        reverse("activities:calendar-entry-create"), form_data(community_a, **overrides)
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors and message.lower() in " ".join(errors[field]).lower()
    assert counts() == before


def test_htmx_errors_come_back_in_the_dialog(client_for, operator_a, community_a):
    response = client_for(operator_a).post(
        reverse("activities:calendar-entry-create"),
        form_data(community_a, end_time="20:00"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="entry-form"') and "The end is before" in html
    assert CalendarEntry.objects.count() == 0


def test_service_refuses_end_before_start_and_bad_rules():
    community = CommunityFactory()
    for data, field in [
        ({"end_date": date(2026, 12, 1), "end_time": time(20, 0)}, "end_time"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule"),
        ({"rrule": "FREQ=MINUTELY;INTERVAL=30"}, "rrule"),
        ({"rrule": "FREQ=DAILY;BYHOUR=9,9"}, None),  # fine: one a day
    ]:
        if field is None:
            weekly(community, **data)
            continue
        with pytest.raises(ValidationError) as raised:
            weekly(community, **data)
        assert field in raised.value.message_dict
    assert CalendarEntry.objects.count() == 1


def test_capacity_below_those_going_is_refused_and_nothing_changes():
    community = CommunityFactory()
    entry = weekly(community, capacity=10)
    original_start = datetime(2026, 12, 8, 13, tzinfo=UTC)  # 21:00 Shanghai
    row = services.occurrence_for(entry=entry, original_start=original_start)
    for _i in range(3):
        Participation.objects.create(
            occurrence=row, membership=MembershipFactory(community=community), response="going"
        )
    with pytest.raises(ValidationError) as raised:
        services.entry_update(entry=entry, scope=Scope.ALL, data={"capacity": 2, "title": "X"})
    assert "capacity" in raised.value.message_dict
    assert "3 members are already going" in raised.value.message_dict["capacity"][0]
    entry.refresh_from_db()
    assert entry.capacity == 10 and entry.title == "Weekly talk" and entry.sequence == 0
    # This and following, from the occurrence with the three: refused as well.
    with pytest.raises(ValidationError):
        services.entry_update(
            entry=entry,
            scope=Scope.FOLLOWING,
            original_start=original_start,
            data={"capacity": 1},
        )
    assert CalendarEntry.objects.count() == 1
    # Three is fine; past occurrences do not count.
    services.entry_update(entry=entry, scope=Scope.ALL, data={"capacity": 3})
    entry.refresh_from_db()
    assert entry.capacity == 3


def test_tier_invitation_needs_one_community_of_its_own():
    community = CommunityFactory()
    other = CommunityFactory(organization=community.organization)
    from members.models import Tier

    tier = Tier.objects.create(community=other, name="核心", rank=5)
    with pytest.raises(ValidationError) as raised:
        services.entry_create(
            organization=community.organization,
            communities=[community, other],
            data={
                "kind": "topic",
                "title": "T",
                "start_date": date(2026, 12, 1),
                "start_time": time(21),
                "duration_minutes": 30,
                "invite_scope": "tier",
                "invite_tier": tier,
            },
        )
    assert "single community" in raised.value.message_dict["invite_scope"][0]
    with pytest.raises(ValidationError) as raised:
        weekly(community, invite_scope="tier", invite_tier=tier)
    assert "invite_tier" in raised.value.message_dict
    assert CalendarEntry.objects.count() == 0


def test_communities_of_another_organisation_are_refused(community_a, community_b):
    with pytest.raises(ValidationError) as raised:
        services.entry_create(
            organization=community_a.organization,
            communities=[community_a, community_b],
            data={
                "kind": "topic",
                "title": "T",
                "start_date": date(2026, 12, 1),
                "start_time": time(21),
                "duration_minutes": 30,
            },
        )
    assert "communities" in raised.value.message_dict
    assert CalendarEntry.objects.count() == 0


def test_other_organisations_occurrences_are_404(client_for, operator_a, community_b):
    entry = weekly(community_b)
    key = f"{entry.pk}-20261208T130000Z"
    client = client_for(operator_a)
    for name in ("activities:occurrence", "activities:occurrence-edit"):
        assert client.get(reverse(name, args=[key])).status_code == 404
    assert client.post(reverse("activities:occurrence-cancel", args=[key])).status_code == 404
    assert CalendarEntry.objects.get().cancelled_at is None


def test_a_start_the_rule_does_not_produce_is_404(client_for, operator_a, community_a):
    entry = weekly(community_a)
    client = client_for(operator_a)
    good = client.get(reverse("activities:occurrence", args=[f"{entry.pk}-20261208T130000Z"]))
    assert good.status_code == 200
    for key in (f"{entry.pk}-20261209T130000Z", f"{entry.pk}-garbage", "x-20261208T130000Z"):
        assert client.get(reverse("activities:occurrence", args=[key])).status_code == 404


def test_occurrence_page_edit_this_one_and_cancel(client_for, operator_a, community_a):
    entry = weekly(community_a)
    key = f"{entry.pk}-20261208T130000Z"
    client = client_for(operator_a)
    page = client.get(reverse("activities:occurrence", args=[key])).content.decode()
    assert "pre-announcement-text" in page and "data-copy-target" in page
    assert "2026-12-08 (Tuesday) 21:00–21:30" in page
    assert "12月8日（星期二） 21:00–21:30 我们讨论「Weekly talk」" in page  # 读书会 writes Chinese
    response = client.post(
        reverse("activities:occurrence-edit", args=[key]),
        form_data(
            community_a,
            scope="this",
            start_date="2026-12-09",
            start_time="20:00",
            end_time="20:45",
            note="Moved",
        ),
    )
    assert response.status_code == 302
    row = Occurrence.objects.get(entry=entry)
    assert row.starts_at == datetime(2026, 12, 9, 12, tzinfo=UTC) and row.note == "Moved"
    client.post(reverse("activities:occurrence-cancel", args=[key]), {"scope": "this"})
    row.refresh_from_db()
    assert row.cancelled


def test_pre_announcement_in_the_communitys_language():
    from activities.calendar.announcement import pre_announcement
    from activities.calendar.selectors import occurrence_slot

    community = CommunityFactory(announcement_language="zh-hans", time_zone="Asia/Shanghai")
    entry = weekly(community, title="读书方法")
    slot = occurrence_slot(entry, datetime(2026, 12, 1, 13, tzinfo=UTC))
    now = datetime(2026, 11, 30, 4, tzinfo=UTC)  # Monday noon in Shanghai
    text = pre_announcement(slot, now=now)
    assert text.startswith("明晚 21:00–21:30 我们讨论「读书方法」")
    community.announcement_language = "en"
    community.save()
    entry = CalendarEntry.objects.get(pk=entry.pk)
    slot = occurrence_slot(entry, datetime(2026, 12, 1, 13, tzinfo=UTC))
    assert pre_announcement(slot, now=now).startswith("Tomorrow 21:00–21:30 we discuss “读书方法”")
    later = pre_announcement(slot, now=datetime(2026, 11, 26, 4, tzinfo=UTC))
    assert later.startswith("Tuesday 1 December 21:00–21:30")
    assert pre_announcement(slot, "zh-hans", now=datetime(2026, 11, 26, 4, tzinfo=UTC)).startswith(
        "12月1日（星期二） 21:00–21:30"
    )


def test_whole_series_edited_from_a_later_occurrence_keeps_the_earlier_ones(
    client_for, operator_a, community_a
):
    entry = weekly(community_a)  # Tuesdays from 1 December, 21:00
    key = f"{entry.pk}-20261215T130000Z"  # the third
    response = client_for(operator_a).post(
        reverse("activities:occurrence-edit", args=[key]),
        form_data(
            community_a,
            scope="all",
            title="Earlier talk",
            start_date="2026-12-15",
            start_time="20:00",
            end_time="21:00",
        ),
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.start_date == date(2026, 12, 1) and entry.start_time == time(20, 0)
    assert entry.duration_minutes == 60 and entry.title == "Earlier talk"
