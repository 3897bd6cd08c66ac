"""Month, week and agenda views: the right occurrences, constant queries, htmx partials."""

from datetime import UTC, date, datetime, time
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import translation

from activities.calendar import services
from activities.calendar.services import Scope
from communities.models import Role
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db

# "Now" for these tests: Tuesday 1 December 2026, noon in Shanghai.
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_now():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def entry(community, title="Weekly talk", *, rrule="FREQ=WEEKLY;BYDAY=TU", **data):
    values = {
        "kind": "topic",
        "title": title,
        "start_date": date(2026, 12, 1),
        "start_time": time(21, 0),
        "duration_minutes": 30,
        "rrule": rrule,
    }
    values.update(data)
    return services.entry_create(
        organization=community.organization, communities=[community], data=values
    )


def keys(response):
    return response.content.decode().count('data-testid="slot"')


def test_month_shows_the_occurrences_of_its_six_weeks(client_for, operator_a, community_a):
    entry(community_a)  # Tuesdays of the grid (30 Nov … 10 Jan): 1, 8, 15, 22, 29 Dec, 5 Jan
    entry(community_a, "Picnic", rrule="", start_date=date(2026, 12, 19), kind="meetup")
    response = client_for(operator_a).get(reverse("activities:calendar"), {"date": "2026-12-10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert keys(response) == 6 + 1
    assert html.count("Weekly talk") >= 5 and "Picnic" in html
    assert 'data-day="2026-11-30"' in html and 'data-day="2027-01-10"' in html  # Monday first
    assert "December 2026" in html


def test_week_and_agenda_show_their_ranges(client_for, operator_a, community_a):
    talk = entry(community_a)
    daily = entry(community_a, "Morning post", rrule="FREQ=DAILY", start_time=time(7, 0))
    client = client_for(operator_a)
    week = client.get(reverse("activities:calendar-week"), {"date": "2026-12-09"})
    html = week.content.decode()
    assert keys(week) == 7 + 1  # Monday 7 … Sunday 13: seven mornings, one Tuesday
    assert "21:00–21:30" in html and "07:00–07:30" in html
    services.entry_cancel(entry=daily, scope=Scope.ALL)
    agenda = client.get(reverse("activities:calendar-agenda"), {"date": "2026-12-01"})
    # 60 days from 1 December: Tuesdays 1 Dec … 26 Jan = 9.
    assert keys(agenda) == 9
    assert f"{talk.pk}-20261201T130000Z" in agenda.content.decode()


def test_filters_by_community_and_kind(client_for, operator_a, community_a, org_a):
    other = CommunityFactory(organization=org_a, name="写作营", slug="writing")
    entry(community_a, "Reading talk")
    entry(other, "Writing meetup", kind="meetup")
    client = client_for(operator_a)
    url = reverse("activities:calendar-agenda")
    by_community = client.get(url, {"date": "2026-12-01", "community": "writing"}).content
    assert b"Writing meetup" in by_community and b"Reading talk" not in by_community
    by_kind = client.get(url, {"date": "2026-12-01", "kind": "topic"}).content
    assert b"Reading talk" in by_kind and b"Writing meetup" not in by_kind


def test_moderator_sees_only_assigned_communities(client_for, org_a, community_a):
    other = CommunityFactory(organization=org_a, name="写作营", slug="writing")
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    other.assigned_staff.add(moderator)
    entry(community_a, "Reading talk")
    entry(other, "Writing talk")
    html = client_for(moderator).get(reverse("activities:calendar"), {"date": "2026-12-01"})
    assert b"Writing talk" in html.content and b"Reading talk" not in html.content


def test_other_organisations_entries_are_not_shown(client_for, operator_a, community_b):
    entry(community_b, "B secret")
    html = client_for(operator_a).get(reverse("activities:calendar"), {"date": "2026-12-01"})
    assert b"B secret" not in html.content


def test_htmx_navigation_answers_the_grid_partial(client_for, operator_a, community_a):
    entry(community_a)
    client = client_for(operator_a)
    full = client.get(reverse("activities:calendar"), {"date": "2027-01-05"})
    partial = client.get(
        reverse("activities:calendar"), {"date": "2027-01-05"}, headers={"HX-Request": "true"}
    )
    assert b"<html" in full.content and b'id="calendar"' in full.content
    assert b"<html" not in partial.content and b"<dialog" not in partial.content
    assert partial.content.decode().lstrip().startswith('<section id="calendar"')
    assert keys(partial) == keys(full) == 6  # January 2027's grid (28 Dec … 7 Feb): 29 Dec … 2 Feb
    assert "2027-02-05" in partial.content.decode()  # the next link
    assert partial["Vary"] and "HX-Request" in partial["Vary"]
    week = client.get(
        reverse("activities:calendar-week"), {"date": "2027-01-05"}, headers={"HX-Request": "true"}
    )
    assert b'data-view="week"' in week.content and b"<html" not in week.content


def test_chinese_weekday_names_and_month(client_for, operator_a, community_a):
    client = client_for(operator_a)
    with translation.override("zh-hans"):
        client.cookies["django_language"] = "zh-hans"
        html = client.get(
            reverse("activities:calendar"), {"date": "2026-12-01"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    assert "星期一" in html and "星期日" in html
    assert html.index("星期一") < html.index("星期二") < html.index("星期日")  # Monday first
    assert "2026年12月" in html


def test_script_titles_are_escaped(client_for, operator_a, community_a):
    entry(community_a, "<script>alert(1)</script>")
    client = client_for(operator_a)
    for name in ("activities:calendar", "activities:calendar-week", "activities:calendar-agenda"):
        html = client.get(reverse(name), {"date": "2026-12-01"}).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _many(community, n, offset=0):
    for i in range(n):
        entry(community, f"Series {offset + i}", rrule="FREQ=DAILY", start_time=time(8 + i % 12))
        entry(community, f"One-off {offset + i}", rrule="", start_date=date(2026, 12, 3 + i))


@pytest.mark.parametrize(
    ("name", "queries"),
    [
        ("activities:calendar", 7),
        ("activities:calendar-week", 7),
        ("activities:calendar-agenda", 7),
    ],
)
def test_query_counts_are_constant(
    name, queries, client_for, operator_a, community_a, django_assert_num_queries
):
    client = client_for(operator_a)
    _many(community_a, 3)
    client.get(reverse(name), {"date": "2026-12-01"})  # warm the session and caches
    with django_assert_num_queries(queries):
        first = client.get(reverse(name), {"date": "2026-12-01"})
    # Twice the entries (and twice the occurrences, exceptions included).
    _many(community_a, 3, offset=3)
    later = services.entry_create(
        organization=community_a.organization,
        communities=[community_a],
        data={
            "kind": "topic",
            "title": "Moved",
            "start_date": date(2026, 12, 1),
            "start_time": time(21),
            "duration_minutes": 30,
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
        },
    )
    services.entry_cancel(
        entry=later, scope=Scope.THIS, original_start=datetime(2026, 12, 8, 13, tzinfo=UTC)
    )
    with django_assert_num_queries(queries):
        second = client.get(reverse(name), {"date": "2026-12-01"})
    assert keys(second) > keys(first) > 0


def test_community_page_shows_its_next_five_occurrences(
    client_for, operator_a, community_a, org_a, django_assert_num_queries
):
    other = CommunityFactory(organization=org_a, name="写作营", slug="writing")
    entry(community_a, "Reading talk")
    entry(community_a, "Morning post", rrule="FREQ=DAILY", start_time=time(7, 0))
    entry(other, "Writing talk")
    html = client_for(operator_a).get(reverse("communities:detail", args=[community_a.slug]))
    panel = html.content.decode().split('data-testid="next-occurrences"')[1].split("</article>")[0]
    assert panel.count("<li>") == 5 and "Writing talk" not in panel
    # 1 December 12:00 Shanghai: tonight's talk, then the mornings from 2 December.
    assert panel.index("Reading talk") < panel.index("Morning post")
    assert "12-01" in panel and "12-05" in panel and "12-06" not in panel


def test_preview_says_the_rule_in_words_in_the_viewers_language(client_for, operator_a):
    client = client_for(operator_a)
    url = reverse("activities:calendar-preview")
    query = {
        "start_date": "2026-12-01",
        "start_time": "21:00",
        "repeat": "weekly",
        "weekdays": ["TU"],
    }
    english = client.get(url, query).content.decode().strip()
    assert english == "every Tuesday 21:00, next: 12-01, 12-08, 12-15"
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(url, {**query, "repeat": "monthly_nth"}).content.decode().strip()
    assert chinese == "每月第一个星期二 21:00，接下来：12-01、01-05、02-02"
    too_often = client.get(url, {**query, "repeat": "custom", "rrule": "FREQ=MINUTELY"})
    assert "每小时" in too_often.content.decode()
    assert client.get(url, {"start_date": "99999-1-1"}).status_code == 200


def test_htmx_edit_goes_back_to_the_occurrence_page(client_for, operator_a, community_a):
    talk = entry(community_a)
    key = f"{talk.pk}-20261208T130000Z"
    response = client_for(operator_a).post(
        reverse("activities:occurrence-edit", args=[key]),
        {
            "kind": "topic",
            "title": "Weekly talk",
            "communities": [community_a.pk],
            "start_date": "2026-12-08",
            "start_time": "20:00",
            "end_time": "20:30",
            "repeat": "weekly",
            "weekdays": ["TU"],
            "invite_scope": "members",
            "scope": "this",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("activities:occurrence", args=[key])
    talk.refresh_from_db()
    assert talk.sequence == 1 and talk.start_time == time(21, 0)  # only the occurrence moved


def _cell(html: str, day: str) -> str:
    return html.split(f'data-day="{day}"')[1].split("</td>")[0]


def test_a_busy_day_lists_four_and_links_the_rest_to_its_week(client_for, operator_a, community_a):
    for i in range(7):
        entry(
            community_a,
            f"Talk {i}",
            rrule="",
            start_date=date(2026, 12, 10),
            start_time=time(9 + i),
        )
    entry(community_a, "Quiet day", rrule="", start_date=date(2026, 12, 11))
    client = client_for(operator_a)
    query = {"date": "2026-12-01", "community": community_a.slug}
    html = client.get(reverse("activities:calendar"), query).content.decode()
    busy, quiet = _cell(html, "2026-12-10"), _cell(html, "2026-12-11")
    assert busy.count('data-testid="slot"') == 4 and "+3 more" in busy
    assert "Talk 3" in busy and "Talk 4" not in busy  # the first four, by start
    week = reverse("activities:calendar-week")
    more = f"{week}?date=2026-12-10&amp;community={community_a.slug}"
    assert f'href="{more}"' in busy and f'hx-get="{more}"' in busy
    assert quiet.count('data-testid="slot"') == 1 and "slot-more" not in quiet
    # The week the link opens lists the whole day.
    whole = client.get(week, {"date": "2026-12-10", "community": community_a.slug})
    assert all(f"Talk {i}" in whole.content.decode() for i in range(7))
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("activities:calendar"), query).content.decode()
    assert "另有 3 项" in _cell(chinese, "2026-12-10")


def test_a_busy_organisations_month_stays_small(client_for, operator_a, community_a):
    for i in range(12):
        entry(
            community_a,
            f"Daily {i}",
            rrule="FREQ=DAILY",
            start_date=date(2026, 11, 1),
            start_time=time(6 + i),
        )
    html = client_for(operator_a).get(reverse("activities:calendar"), {"date": "2026-12-01"})
    # 42 days × 12 series, of which each cell lists four.
    assert keys(html) == 42 * 4
    assert html.content.decode().count('data-testid="slot-more"') == 42


def test_month_cells_say_another_zone_in_their_text(client_for, operator_a, community_a):
    assert operator_a.organization.time_zone == "Asia/Shanghai"
    entry(
        community_a,
        "London call",
        rrule="",
        start_date=date(2026, 12, 9),
        time_zone="Europe/London",
    )
    entry(community_a, "Home talk", rrule="", start_date=date(2026, 12, 10))
    html = client_for(operator_a).get(reverse("activities:calendar"), {"date": "2026-12-01"})
    london, home = (
        _cell(html.content.decode(), "2026-12-09"),
        _cell(html.content.decode(), "2026-12-10"),
    )
    assert '<span class="slot-zone" data-testid="slot-zone">London</span>' in london
    assert "21:00" in london and "slot-zone" not in home


def test_a_challenges_occurrences_lead_to_the_challenge(client_for, operator_a, community_a):
    from activities.calendar import challenges

    challenge = challenges.challenge_create(
        community=community_a,
        data={
            "title": "21天共读打卡",
            "start_date": date(2026, 12, 7),
            "days": 21,
            "deadline": time(22, 0),
            "max_missed_days": 2,
            "deposit": "",
            "keyword": "#打卡",
            "reward_rule": None,
        },
    )
    page = reverse("activities:challenge", args=[challenge.pk])
    client = client_for(operator_a)
    for name in ("activities:calendar", "activities:calendar-week", "activities:calendar-agenda"):
        html = client.get(reverse(name), {"date": "2026-12-07"}).content.decode()
        assert html.count(f'href="{page}"') >= 1, name
        assert (
            reverse("activities:occurrence", args=[f"{challenge.entry_id}-20261207T140000Z"])
            not in html
        )
    panel = client.get(reverse("communities:detail", args=[community_a.slug])).content.decode()
    assert f'href="{page}"' in panel.split('data-testid="next-occurrences"')[1]
    occurrence = client.get(
        reverse("activities:occurrence", args=[f"{challenge.entry_id}-20261207T140000Z"])
    ).content.decode()
    assert f'href="{page}" data-testid="occurrence-challenge"' in occurrence
    talk = entry(community_a)
    plain = client.get(reverse("activities:occurrence", args=[f"{talk.pk}-20261208T130000Z"]))
    assert 'data-testid="occurrence-challenge"' not in plain.content.decode()


def test_rows_of_answers_only_are_not_read_as_exceptions(client_for, operator_a, community_a):
    """The selector reads only real exceptions (as the feeds do): an occurrence whose row
    holds only answers is the rule's, and still has its page by its key."""
    from activities.calendar import selectors

    talk = entry(community_a)
    answered = datetime(2026, 12, 8, 13, tzinfo=UTC)
    services.occurrence_for(entry=talk, original_start=answered)  # what an RSVP leaves
    moved = datetime(2026, 12, 15, 13, tzinfo=UTC)
    services.entry_update(
        entry=talk,
        scope=Scope.THIS,
        original_start=moved,
        data={"start_time": time(20, 0), "end_time": time(20, 30), "note": "一小时提前"},
    )
    start, end = datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    slots = {s.original_start: s for s in selectors.calendar_slots(operator_a, start, end)}
    assert slots[answered].slot.occurrence_id is None and not slots[answered].moved
    assert slots[moved].slot.occurrence_id is not None and slots[moved].note == "一小时提前"
    assert slots[moved].starts_at == datetime(2026, 12, 15, 12, tzinfo=UTC)
    key = f"{talk.pk}-20261208T130000Z"
    client = client_for(operator_a)
    month = client.get(reverse("activities:calendar"), {"date": "2026-12-01"}).content.decode()
    assert f'href="{reverse("activities:occurrence", args=[key])}"' in month
    assert client.get(reverse("activities:occurrence", args=[key])).status_code == 200
