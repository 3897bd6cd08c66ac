"""iCalendar feeds: what calendar apps read matches what the calendar pages show.

The feed is parsed with ``icalendar`` and expanded with ``recurring_ical_events`` (an
independent RFC 5545 implementation) and compared with the calendar's own expansion
(``selectors.calendar_slots``) for the same range: a moved and a cancelled occurrence,
a one-off in another zone, and both daylight-saving changes of Europe/Berlin.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities.calendar import feeds, ics, services
from activities.calendar.models import CalendarEntry, CalendarFeed, Occurrence
from communities.models import Role
from tests.factories import CommunityFactory, StaffFactory

try:  # the month view's selector (cal-core); the expansion it is built on until it lands
    from activities.calendar.selectors import calendar_slots
except ImportError:  # pragma: no cover
    calendar_slots = None

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# The feeds keep 180 days of history: the tests' dates are seen from mid-2026.
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def make_entry(community, **data):
    values = {
        "kind": "topic",
        "title": "Weekly topic",
        "start_date": date(2026, 3, 1),
        "start_time": time(21, 0),
        "duration_minutes": 60,
    }
    values.update(data)
    return services.entry_create(
        organization=community.organization, communities=[community], data=values
    )


def at(day: date, hour: int, minute: int = 0, zone=BERLIN) -> datetime:
    """A wall-clock time in ``zone``, aware UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def move(entry, original: datetime, to: datetime, minutes: int = 60):
    row = services.occurrence_for(entry=entry, original_start=original)
    row.starts_at, row.ends_at = to, to + timedelta(minutes=minutes)
    row.sequence += 1
    row.save()
    return row


def cancel(entry, original: datetime):
    row = services.occurrence_for(entry=entry, original_start=original)
    row.cancelled = True
    row.sequence += 1
    row.save()
    return row


def new_feed(staff, community=None) -> tuple[CalendarFeed, str]:
    feed, key = feeds.feed_create(staff=staff, community=community)
    return feed, reverse("activities:calendar-feed", kwargs={"key": key})


def fetch(url: str, **headers):
    return Client().get(url, headers=headers)  # no session: calendar apps do not sign in


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.status_code
    return icalendar.Calendar.from_ical(response.content)


def feed_occurrences(calendar, start, end) -> list[tuple]:
    found = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        found.append(
            (
                event.decoded("dtstart").astimezone(UTC),
                event.decoded("dtend").astimezone(UTC),
                str(event["uid"]),
                str(event["summary"]),
            )
        )
    return sorted(found)


def page_occurrences(staff, community, start, end) -> list[tuple]:
    """What the calendar pages show for the range (the selector, or its expansion)."""
    if calendar_slots is not None:
        slots = calendar_slots(staff, start, end, communities=[community])
        return sorted((s.starts_at, s.ends_at, s.entry.uid, s.title) for s in slots)
    from activities.calendar import recurrence  # pragma: no cover

    entries = {e.pk: e for e in CalendarEntry.objects.filter(communities=community)}
    rows = [
        recurrence.Exception_(r.pk, r.entry_id, r.original_start, r.starts_at, r.ends_at,
                              r.cancelled)
        for r in Occurrence.objects.filter(entry__in=list(entries))
    ]  # fmt: skip
    slots = recurrence.expand([services.shape(e) for e in entries.values()], start, end, rows)
    return sorted(
        (s.starts_at, s.ends_at, entries[s.entry_id].uid, entries[s.entry_id].title) for s in slots
    )


@pytest.fixture
def berlin(org_a):
    return CommunityFactory(organization=org_a, time_zone="Europe/Berlin", name="Berlin Lesekreis")


@pytest.fixture
def rhythm(berlin):
    """Sundays 21:00 Berlin (both DST changes are Sundays), a moved and a cancelled one,
    a daily column with a COUNT, a one-off in Shanghai time."""
    weekly = make_entry(berlin, title="Sunday topic", rrule="FREQ=WEEKLY;BYDAY=SU")
    services.occurrence_for(entry=weekly, original_start=at(date(2026, 3, 8), 21))  # RSVPs only
    cancel(weekly, at(date(2026, 3, 15), 21))
    move(weekly, at(date(2026, 3, 22), 21), at(date(2026, 3, 23), 20, 30), minutes=90)
    cancel(weekly, at(date(2026, 10, 18), 21))
    move(weekly, at(date(2026, 10, 11), 21), at(date(2026, 10, 10), 9))
    daily = make_entry(
        berlin,
        kind="column",
        title="Morning report",
        start_date=date(2026, 3, 26),
        start_time=time(8, 0),
        duration_minutes=15,
        rrule="FREQ=DAILY;COUNT=10",
    )
    until = make_entry(
        berlin,
        title="Autumn clinic",
        kind="clinic",
        start_date=date(2026, 10, 1),
        start_time=time(19, 0),
        duration_minutes=45,
        rrule="FREQ=WEEKLY;BYDAY=TH;UNTIL=20261029T190000",
    )
    meetup = make_entry(
        berlin,
        kind="meetup",
        title="Picnic",
        start_date=date(2026, 3, 28),
        start_time=time(15, 0),
        duration_minutes=120,
        time_zone="Asia/Shanghai",
    )
    return {"weekly": weekly, "daily": daily, "until": until, "meetup": meetup}


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 3, 1), date(2026, 4, 1)),  # spring forward on 03-29
        (date(2026, 10, 1), date(2026, 11, 1)),  # fall back on 10-25
        (date(2026, 3, 23), date(2026, 3, 30)),  # a week: the moved one, the DST day
    ],
)
def test_the_feed_yields_exactly_what_the_calendar_shows(start, end, rhythm, berlin, owner_a):
    _feed, url = new_feed(owner_a, berlin)
    calendar = parse(fetch(url))
    window = (at(start, 0), at(end, 0))
    from_feed = feed_occurrences(calendar, *window)
    from_pages = page_occurrences(owner_a, berlin, *window)
    assert from_feed == from_pages
    assert len(from_feed) >= 4


def test_21_00_stays_21_00_across_both_dst_changes_and_exceptions_apply(rhythm, berlin, owner_a):
    _feed, url = new_feed(owner_a, berlin)
    calendar = parse(fetch(url))
    weekly = rhythm["weekly"].uid
    starts = [
        event.decoded("dtstart")
        for event in recurring_ical_events.of(calendar).between(
            datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
        )
        if str(event["uid"]) == weekly
    ]
    local = {s.astimezone(BERLIN).date(): s.astimezone(BERLIN).time() for s in starts}
    assert local[date(2026, 3, 29)] == time(21, 0)  # the spring-forward day
    assert local[date(2026, 10, 25)] == time(21, 0)  # the fall-back day
    assert local[date(2026, 3, 29)] == local[date(2026, 3, 8)] == local[date(2026, 11, 1)]
    # UTC differs: that is what the zone is for.
    utc = {s.astimezone(BERLIN).date(): s.astimezone(UTC).hour for s in starts}
    assert (utc[date(2026, 3, 8)], utc[date(2026, 3, 29)]) == (20, 19)
    assert date(2026, 3, 15) not in local  # cancelled
    assert date(2026, 10, 18) not in local
    assert date(2026, 3, 22) not in local and local[date(2026, 3, 23)] == time(20, 30)
    assert local[date(2026, 10, 10)] == time(9, 0)  # moved a day earlier, in the morning


def test_series_are_zoned_local_times_with_exdate_and_recurrence_id(rhythm, berlin, owner_a):
    _feed, url = new_feed(owner_a, berlin)
    text = fetch(url).content.decode()
    unfolded = text.replace("\r\n ", "")
    assert "DTSTART;TZID=Europe/Berlin:20260301T210000" in unfolded
    assert "RRULE:FREQ=WEEKLY;BYDAY=SU" in unfolded
    assert "EXDATE;TZID=Europe/Berlin:20260315T210000,20261018T210000" in unfolded
    assert "RECURRENCE-ID;TZID=Europe/Berlin:20260322T210000" in unfolded
    assert "DTSTART;TZID=Europe/Berlin:20260323T203000" in unfolded
    assert "DTSTART;TZID=Asia/Shanghai:20260328T150000" in unfolded
    # UNTIL in UTC, as RFC 5545 requires with a zoned DTSTART (19:00 CET = 18:00Z).
    assert "UNTIL=20261029T180000Z" in unfolded
    # Never floating or UTC: every DTSTART and RECURRENCE-ID names its zone.
    events_text = unfolded[unfolded.index("BEGIN:VEVENT") :]  # VTIMEZONEs come first
    for line in events_text.split("\r\n"):
        if line.startswith(("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE")):
            assert ";TZID=" in line, line
    assert "METHOD" not in unfolded  # a subscription, not a scheduling message
    calendar = icalendar.Calendar.from_ical(text)
    events = calendar.walk("VEVENT")
    by_uid = {}
    for event in events:
        by_uid.setdefault(str(event["uid"]), []).append(event)
    assert len(by_uid[rhythm["weekly"].uid]) == 3  # the series and its two moved ones
    assert all("SEQUENCE" in e and "DTSTAMP" in e for e in events)
    assert str(calendar["X-WR-CALNAME"]) == berlin.name


def test_a_vtimezone_for_every_tzid(rhythm, berlin, owner_a):
    _feed, url = new_feed(owner_a, berlin)
    calendar = parse(fetch(url))
    used = {
        prop.params["TZID"]
        for event in calendar.walk("VEVENT")
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE")
        for prop in (event.get(name) if isinstance(event.get(name), list) else [event.get(name)])
        if prop is not None and "TZID" in prop.params
    }
    zones = {tz.tz_name: tz for tz in calendar.timezones}
    assert used == {"Europe/Berlin", "Asia/Shanghai"}
    assert set(zones) == used
    assert calendar.get_missing_tzids() == set()
    berlin_zone = zones["Europe/Berlin"]
    assert berlin_zone.walk("DAYLIGHT") and berlin_zone.walk("STANDARD")
    # The definition covers the series' first start and the DST changes around it.
    text = berlin_zone.to_ical().decode().replace("\r\n ", "")
    assert "20260329T030000" in text and "20261025T030000" in text
    assert min(c.decoded("dtstart") for c in berlin_zone.walk("STANDARD")).year <= 2026


def test_lines_are_folded_at_75_octets_with_crlf(berlin, owner_a):
    long_title = (
        "读书会每周主题讨论：《人类简史》第十二章到第十五章——帝国、宗教与现代科学的兴起" * 3
    )
    make_entry(
        berlin,
        title=long_title[:200],
        description="链接与资料：" + "请提前阅读每一章节并准备问题，" * 20,
        place="柏林市中心图书馆三楼多功能厅（靠近亚历山大广场地铁站）",
        link="https://example.com/" + "a" * 300,
        rrule="FREQ=WEEKLY;BYDAY=TU",
    )
    _feed, url = new_feed(owner_a, berlin)
    body = fetch(url).content
    assert b"\n" not in body.replace(b"\r\n", b"")  # CRLF only
    assert body.endswith(b"\r\n")
    lines = body.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75
    for line in lines:
        line.decode("utf-8")  # folded on character boundaries: every line is valid UTF-8
    calendar = icalendar.Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    assert str(event["summary"]) == long_title[:200]
    assert any(len(line) > 70 for line in lines)  # it really had to fold


def test_script_in_a_title_is_text_with_icalendar_escaping(berlin, owner_a):
    title = '<script>alert("x")</script>; a, b\\c'
    make_entry(berlin, title=title, description="<b>bold</b>\nnext line", place="A; B, C")
    _feed, url = new_feed(owner_a, berlin)
    body = fetch(url).content.decode()
    assert "&lt;" not in body and "&gt;" not in body  # not HTML
    assert 'SUMMARY:<script>alert("x")</script>\\; a\\, b\\\\c' in body
    assert "LOCATION:A\\; B\\, C" in body
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["summary"]) == title
    assert str(event["description"]).startswith("<b>bold</b>\nnext line")


def test_uid_stable_across_fetches_and_sequence_up_after_an_edit(rhythm, berlin, owner_a):
    _feed, url = new_feed(owner_a, berlin)
    first, second = fetch(url), fetch(url)
    assert first.content == second.content  # nothing changed, nothing differs
    assert first["ETag"] == second["ETag"]
    uids = {str(e["uid"]) for e in parse(first).walk("VEVENT")}
    assert rhythm["weekly"].uid in uids
    assert fetch(url, if_none_match=first["ETag"]).status_code == 304

    services.entry_update(
        entry=rhythm["weekly"], data={"title": "Sunday topic (new room)", "place": "Room 2"}
    )
    third = fetch(url)
    series = [
        e
        for e in parse(third).walk("VEVENT")
        if str(e["uid"]) == rhythm["weekly"].uid and "RECURRENCE-ID" not in e
    ]
    assert len(series) == 1
    assert series[0]["SEQUENCE"] > 0
    assert int(series[0]["SEQUENCE"]) == CalendarEntry.objects.get(pk=rhythm["weekly"].pk).sequence
    assert str(series[0]["summary"]) == "Sunday topic (new room)"
    assert {str(e["uid"]) for e in parse(third).walk("VEVENT")} == uids
    assert third["ETag"] != first["ETag"]


def test_moved_occurrences_carry_their_own_sequence(berlin, owner_a):
    entry = make_entry(berlin, rrule="FREQ=WEEKLY;BYDAY=SU")
    row = move(entry, at(date(2026, 3, 8), 21), at(date(2026, 3, 9), 21))
    Occurrence.objects.filter(pk=row.pk).update(sequence=7)
    _feed, url = new_feed(owner_a, berlin)
    events = parse(fetch(url)).walk("VEVENT")
    (moved,) = [e for e in events if "RECURRENCE-ID" in e]
    (series,) = [e for e in events if "RECURRENCE-ID" not in e]
    assert (int(moved["SEQUENCE"]), int(series["SEQUENCE"])) == (7, 0)


def test_cancelled_series_left_out_split_series_are_two_events(berlin, owner_a):
    gone = make_entry(berlin, title="Gone", rrule="FREQ=WEEKLY;BYDAY=MO")
    services.entry_cancel(entry=gone)
    kept = make_entry(berlin, title="Kept", rrule="FREQ=WEEKLY;BYDAY=WE")
    rest = services.entry_update(
        entry=kept,
        scope="following",
        original_start=at(date(2026, 3, 18), 21),
        data={"start_time": time(20, 0)},
    )
    assert rest.split_from_id == kept.pk
    _feed, url = new_feed(owner_a, berlin)
    calendar = parse(fetch(url))
    events = calendar.walk("VEVENT")
    assert "Gone" not in {str(e["summary"]) for e in events}
    assert {str(e["uid"]) for e in events} == {kept.uid, rest.uid}
    window = (at(date(2026, 3, 1), 0), at(date(2026, 4, 1), 0))
    assert feed_occurrences(calendar, *window) == page_occurrences(owner_a, berlin, *window)


def test_the_feed_keeps_180_days_of_history_and_all_the_future(berlin, owner_a):
    now = timezone.now()
    today = now.astimezone(BERLIN).date()
    make_entry(berlin, title="Long ago", start_date=today - timedelta(days=200))
    make_entry(berlin, title="Last quarter", start_date=today - timedelta(days=90))
    make_entry(berlin, title="Next year", start_date=today + timedelta(days=400))
    ended = today - timedelta(days=300)
    make_entry(
        berlin,
        title="Ended series",
        start_date=ended,
        rrule=f"FREQ=WEEKLY;UNTIL={ended + timedelta(days=60):%Y%m%d}T235959",
    )
    make_entry(
        berlin, title="Running series", start_date=today - timedelta(days=700), rrule="FREQ=WEEKLY"
    )
    _feed, url = new_feed(owner_a, berlin)
    titles = {str(e["summary"]) for e in parse(fetch(url)).walk("VEVENT")}
    assert titles == {"Last quarter", "Next year", "Running series"}


def test_a_revoked_unknown_or_malformed_key_is_a_404(berlin, owner_a):
    make_entry(berlin)
    feed, url = new_feed(owner_a, berlin)
    assert fetch(url).status_code == 200
    feeds.feed_revoke(feed=feed)
    assert fetch(url).status_code == 404
    for key in ["cal_nope", "x", "cal_" + "a" * 500, "cal_%00", "中文", "cal_" + url[-20:]]:
        response = Client().get(f"/calendar/feeds/{key}.ics")
        assert response.status_code == 404, key


def test_only_a_digest_of_the_key_is_stored(berlin, owner_a):
    feed, url = new_feed(owner_a, berlin)
    key = url.rsplit("/", 1)[1].removesuffix(".ics")
    stored = CalendarFeed.objects.values().get(pk=feed.pk)
    assert key not in str(stored)
    assert stored["prefix"] == key[:8] and len(stored["digest"]) == 64


def test_another_organisations_entries_never_appear(berlin, owner_a, community_b, org_b):
    make_entry(berlin, title="Ours")
    make_entry(community_b, title="Theirs")
    owner_b = StaffFactory(organization=org_b, role=Role.OWNER)
    make_entry(community_b, title="Theirs, hosted")
    CalendarEntry.objects.filter(title="Theirs, hosted").get().host_staff.add(owner_a.user)
    owner_b_feed, _url = new_feed(owner_b, community_b)
    for _feed, url in (new_feed(owner_a, berlin), new_feed(owner_a)):
        titles = {str(e["summary"]) for e in parse(fetch(url)).walk("VEVENT")}
        assert "Theirs" not in titles and "Theirs, hosted" not in titles
    # Nor can A make or revoke B's community feed.
    client = Client()
    client.force_login(owner_a.user)
    client.post(reverse("activities:calendar-feed-create"), {"community": community_b.pk})
    assert not CalendarFeed.objects.filter(community=community_b, created_by=owner_a.user)
    response = client.post(reverse("activities:calendar-feed-revoke"), {"feed": owner_b_feed.pk})
    assert response.status_code == 404
    owner_b_feed.refresh_from_db()
    assert owner_b_feed.revoked_at is None


def test_my_events_hosted_and_assigned_communities_only(org_a, client_for):
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    mine = CommunityFactory(organization=org_a, name="Mine")
    other = CommunityFactory(organization=org_a, name="Other")
    moderator.communities.add(mine)
    make_entry(mine, title="In my group")
    make_entry(other, title="Elsewhere")
    hosted_elsewhere = make_entry(other, title="Hosted elsewhere")
    hosted_elsewhere.host_staff.add(moderator.user)
    client = client_for(moderator)
    response = client.post(reverse("activities:calendar-feed-create"), {"community": ""})
    url = re.search(r'data-testid="feed-url">([^<]+)<', response.content.decode()).group(1)
    titles = {str(e["summary"]) for e in parse(fetch(url)).walk("VEVENT")}
    # Hosting an entry of a group one cannot see does not show it: access comes first.
    assert titles == {"In my group"}
    moderator.communities.add(other)
    titles = {str(e["summary"]) for e in parse(fetch(url)).walk("VEVENT")}
    assert titles == {"In my group", "Elsewhere", "Hosted elsewhere"}
    moderator.deactivated_at = timezone.now()
    moderator.save()
    assert fetch(url).status_code == 404  # a deactivated staff member's feed stops with them


def test_the_response_headers(berlin, owner_a):
    _feed, url = new_feed(owner_a, berlin)
    response = fetch(url)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'inline; filename="{berlin.slug}.ics"'
    assert response["Cache-Control"] == "private, max-age=300"
    assert Client().head(url).status_code == 200
    assert Client().post(url).status_code in {403, 405}


def test_last_fetched_at_is_written_at_most_once_a_minute(berlin, owner_a):
    feed, url = new_feed(owner_a, berlin)
    with CaptureQueriesContext(connection) as first:
        fetch(url)
    feed.refresh_from_db()
    fetched = feed.last_fetched_at
    assert fetched is not None
    with CaptureQueriesContext(connection) as second:
        fetch(url)
    feed.refresh_from_db()
    assert feed.last_fetched_at == fetched
    writes = [q for q in second.captured_queries if q["sql"].startswith("UPDATE")]
    assert writes == [] and len(second) == len(first) - 1
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=fetched - timedelta(minutes=2))
    fetch(url)
    feed.refresh_from_db()
    assert feed.last_fetched_at > fetched - timedelta(minutes=1)


@pytest.mark.parametrize("kind", ["community", "mine"])
def test_queries_do_not_grow_with_the_number_of_entries(kind, berlin, owner_a):
    owner_a.communities.add(berlin)
    feed, url = new_feed(owner_a, berlin if kind == "community" else None)
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=timezone.now())

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert fetch(url).status_code == 200
        return len(queries)

    make_entry(berlin, rrule="FREQ=WEEKLY;BYDAY=SU")
    few = count()
    for n in range(8):
        entry = make_entry(berlin, title=f"Series {n}", rrule="FREQ=DAILY")
        cancel(entry, at(date(2026, 3, 3), 21))
        move(entry, at(date(2026, 3, 4), 21), at(date(2026, 3, 4), 22))
        make_entry(berlin, title=f"One-off {n}", start_date=date(2026, 12, 1 + n))
    assert count() == few


def test_feeds_page_shows_the_url_once_then_only_its_prefix(client_for, owner_a, berlin):
    client = client_for(owner_a)
    response = client.post(reverse("activities:calendar-feed-create"), {"community": berlin.pk})
    html = response.content.decode()
    url = re.search(r'data-testid="feed-url">([^<]+)<', html).group(1)
    assert url.startswith("http://testserver/calendar/feeds/cal_") and url.endswith(".ics")
    assert "webcal://testserver/calendar/feeds/cal_" in html
    key = url.rsplit("/", 1)[1].removesuffix(".ics")
    page = client.get(reverse("activities:calendar-feeds")).content.decode()
    assert key not in page and f"{key[:8]}…" in page and berlin.name in page
    feed = CalendarFeed.objects.get(community=berlin)
    response = client.post(reverse("activities:calendar-feed-revoke"), {"feed": feed.pk})
    assert response.status_code == 302
    assert fetch(url).status_code == 404


def test_moderators_make_their_own_feed_not_a_communitys(client_for, moderator_a, org_a):
    group = CommunityFactory(organization=org_a)
    moderator_a.communities.add(group)
    client = client_for(moderator_a)
    owner = StaffFactory(organization=org_a, role=Role.OWNER)
    community_feed, _url = new_feed(owner, group)
    client.post(reverse("activities:calendar-feed-create"), {"community": group.pk})
    assert not CalendarFeed.objects.filter(created_by=moderator_a.user).exists()
    client.post(reverse("activities:calendar-feed-create"), {"community": ""})
    assert CalendarFeed.objects.get(created_by=moderator_a.user).user == moderator_a.user
    page = client.get(reverse("activities:calendar-feeds")).content.decode()
    assert community_feed.prefix not in page
    response = client.post(reverse("activities:calendar-feed-revoke"), {"feed": community_feed.pk})
    assert response.status_code == 404


def test_ics_builder_needs_no_request(berlin):
    """The builder is plain: entries in, bytes out (for scripts and the benchmark)."""
    make_entry(berlin, rrule="FREQ=WEEKLY;BYDAY=SU")
    entries = ics.feed_entries(CalendarEntry.objects.all())
    body = ics.to_ical(ics.calendar_for(entries, name="x", language="zh-hans"))
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")


def test_the_community_page_link_preselects_the_community(client_for, owner_a, moderator_a, berlin):
    url = reverse("activities:calendar-feeds")
    html = client_for(owner_a).get(f"{url}?community={berlin.slug}").content.decode()
    assert f'<option value="{berlin.pk}" selected>' in html
    for value in ["nope", "x" * 5000, "\x00", "中文"]:
        assert client_for(owner_a).get(url, {"community": value}).status_code == 200
    # A moderator makes no community feed: nothing to preselect.
    html = client_for(moderator_a).get(f"{url}?community={berlin.slug}").content.decode()
    assert f'value="{berlin.pk}"' not in html


def test_categories_are_the_kind_in_the_organisations_language(berlin, owner_a):
    make_entry(berlin, kind="meetup")
    _feed, url = new_feed(owner_a, berlin)
    berlin.organization.language = "zh-hans"
    berlin.organization.save()
    assert "CATEGORIES:线下聚会" in fetch(url).content.decode()
    berlin.organization.language = "en"
    berlin.organization.save()
    assert "CATEGORIES:Offline meetup" in fetch(url).content.decode()
