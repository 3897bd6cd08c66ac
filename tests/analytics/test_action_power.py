"""Action power (一致行动力, docs/metrics.md) on hand-checkable data.

The community asks about ``DAY``, yesterday in its time zone, so every challenge day of the
data has had its deadline. Calls to action of the 30 days ending on ``DAY``:

- an occurrence 10 days before: 3 of 4 attended (0.75);
- an occurrence 5 days before: 1 of 2 attended (0.5);
- a two-day challenge with 2 participants, 3 and 2 days before: 2 of 2 (1.0), 1 of 2 (0.5);
- and, outside the window, an occurrence 40 days before: 1 of 1 (1.0).

Action index = mean(0.75, 0.5, 1.0, 0.5) = 0.6875; community value = members × 0.6875.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from activities.calendar.models import (
    Challenge,
    ChallengeParticipant,
    CheckIn,
    CheckInSource,
    EntryKind,
    Occurrence,
    Participation,
)
from activities.calendar.services import entry_create
from analytics import metrics, openapi
from analytics.definitions import DEFINITIONS
from analytics.rollups import rollups_refresh
from communities.tokens import api_token_create
from members.models import MembershipStatus
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

MEMBERS = 8
INDEX = (0.75 + 0.5 + 1.0 + 0.5) / 4  # 0.6875


# --- Building the data with the ORM ---------------------------------------------------------


def day_asked(community):
    return community.local_today() - timedelta(days=1)


def memberships(community, count: int, joined=None):
    joined = joined or community.local_today() - timedelta(days=90)
    return [
        MembershipFactory(community=community, joined_on=joined, status=MembershipStatus.ACTIVE)
        for _ in range(count)
    ]


def closed_occurrence(communities, day, title, attendance):
    """A one-off entry on ``day`` at 20:00 (first community's zone), attendance closed.

    ``attendance``: [(membership, attended)], the frozen invited list."""
    first = communities[0]
    entry = entry_create(
        organization=first.organization,
        communities=communities,
        data={
            "kind": EntryKind.TOPIC,
            "title": title,
            "time_zone": first.time_zone,
            "start_date": day,
            "start_time": time(20, 0),
            "duration_minutes": 30,
        },
    )
    occurrence = Occurrence.objects.get(entry=entry)
    occurrence.attendance_closed_at = occurrence.ends_at
    occurrence.save()
    for membership, attended in attendance:
        Participation.objects.create(
            occurrence=occurrence, membership=membership, response="going", attended=attended
        )
    return occurrence


def challenge(community, first_day, days, people, check_ins, deadline=time(22, 0), title="打卡"):
    """``check_ins``: {day: [participant indices who checked in]}."""
    entry = entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": EntryKind.CHALLENGE,
            "title": title,
            "time_zone": community.time_zone,
            "start_date": first_day,
            "start_time": deadline,
            "duration_minutes": 1,
            "rrule": f"FREQ=DAILY;COUNT={days}",
        },
    )
    made = Challenge.objects.create(
        entry=entry, community=community, start_date=first_day, days=days, deadline=deadline
    )
    participants = [
        ChallengeParticipant.objects.create(challenge=made, membership=m) for m in people
    ]
    for day, who in check_ins.items():
        for index in who:
            CheckIn.objects.create(
                participant=participants[index], day=day, source=CheckInSource.STAFF
            )
    return made


def hand_checkable(community):
    """The data of the module docstring; members on DAY: ``MEMBERS``."""
    people = memberships(community, MEMBERS)
    d = day_asked(community)
    closed_occurrence(
        [community], d - timedelta(days=10), "读书分享",
        [(people[0], True), (people[1], True), (people[2], True), (people[3], False)],
    )  # fmt: skip
    closed_occurrence(
        [community], d - timedelta(days=5), "Topic night", [(people[4], True), (people[5], False)]
    )
    challenge(
        community,
        d - timedelta(days=3),
        2,
        people[:2],
        {d - timedelta(days=3): [0, 1], d - timedelta(days=2): [1]},
    )
    closed_occurrence([community], d - timedelta(days=40), "Long ago", [(people[6], True)])
    rollups_refresh(community=community, days=[d - timedelta(days=45)])
    return people


@pytest.fixture
def reading(org_a):
    community = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    hand_checkable(community)
    return community


# --- The units ----------------------------------------------------------------------------


def test_calls_to_action_behind_the_index(reading):
    d = day_asked(reading)
    calls = metrics.calls_to_action(communities=[reading], start=d - timedelta(days=29), end=d)
    assert [(c.day, c.kind, c.participants, c.invited) for c in calls] == [
        (d - timedelta(days=10), "occurrence", 3, 4),
        (d - timedelta(days=5), "occurrence", 1, 2),
        (d - timedelta(days=3), "challenge_day", 2, 2),
        (d - timedelta(days=2), "challenge_day", 1, 2),
    ]
    assert [c.title for c in calls] == ["读书分享", "Topic night", "打卡", "打卡"]
    assert [c.ratio for c in calls] == [0.75, 0.5, 1.0, 0.5]


def test_action_index_value_and_members(reading):
    d = day_asked(reading)
    assert metrics.action_index(communities=[reading], day=d) == {reading.pk: INDEX}
    power = metrics.action_power(communities=[reading], day=d)[reading.pk]
    assert power.members == MEMBERS == metrics.indicators(communities=[reading], day=d).members
    assert power.calls == 4
    assert power.action_index == 0.6875
    assert power.community_value == MEMBERS * 0.6875 == 5.5
    assert metrics.community_value(communities=[reading], day=d) == {reading.pk: 5.5}


def test_the_window_is_30_local_days_ending_on_the_day(reading):
    d = day_asked(reading)
    # 30 days after the first occurrence it has left the window: 3 calls remain.
    later = d + timedelta(days=20)
    assert metrics.action_power(communities=[reading], day=later)[reading.pk].calls == 3
    # The old occurrence is in the window of its own day.
    old = d - timedelta(days=40)
    assert metrics.action_index(communities=[reading], day=old) == {reading.pk: 1.0}
    # Before anything: no call, no index (None, never 0), no value.
    early = d - timedelta(days=41)
    power = metrics.action_power(communities=[reading], day=early)[reading.pk]
    assert (power.calls, power.action_index, power.community_value) == (0, None, None)


def test_trend_is_the_trailing_mean_of_each_day(reading):
    d = day_asked(reading)
    points = metrics.action_trend(community=reading, start=d - timedelta(days=12), end=d)
    assert len(points) == 13 and points[-1].day == d
    by_day = {p.day: (p.calls, p.action_index) for p in points}
    assert by_day[d - timedelta(days=12)] == (1, 1.0)  # only the old one (40 days before d)
    assert by_day[d - timedelta(days=10)] == (1, 0.75)  # the old one has just left
    assert by_day[d - timedelta(days=5)] == (2, 0.625)
    assert by_day[d - timedelta(days=3)] == (3, 0.75)
    assert by_day[d] == (4, INDEX)
    # Each point is the index of its own day.
    for point in points[::4]:
        assert (
            point.action_index
            == metrics.action_index(communities=[reading], day=point.day)[reading.pk]
        )


def test_no_calls_is_none_not_zero(org_a):
    quiet = CommunityFactory(organization=org_a, slug="quiet")
    memberships(quiet, 3)
    # An open occurrence (attendance not closed) is no call yet; nor is one without anyone
    # invited from this community.
    entry_day = day_asked(quiet) - timedelta(days=2)
    occurrence = closed_occurrence([quiet], entry_day, "Open", [])
    Occurrence.objects.filter(pk=occurrence.pk).update(attendance_closed_at=None)
    power = metrics.action_power(communities=[quiet])[quiet.pk]
    assert (power.calls, power.action_index, power.community_value) == (0, None, None)
    assert power.check_in_completion.rate is None


def test_cancelled_occurrences_do_not_count(reading):
    d = day_asked(reading)
    Occurrence.objects.filter(entry__title="Topic night").update(cancelled=True)
    assert metrics.action_index(communities=[reading], day=d) == {
        reading.pk: (0.75 + 1.0 + 0.5) / 3
    }


def test_a_relayed_occurrence_is_one_call_per_community(org_a):
    a = CommunityFactory(organization=org_a, slug="relay-a")
    b = CommunityFactory(organization=org_a, slug="relay-b", time_zone="Europe/Berlin")
    in_a, in_b = memberships(a, 3), memberships(b, 1)
    d = day_asked(a)
    closed_occurrence(
        [a, b],
        d - timedelta(days=1),
        "Guest talk",
        [(in_a[0], True), (in_a[1], True), (in_a[2], False), (in_b[0], True)],
    )
    calls = metrics.calls_to_action(communities=[a, b], start=d - timedelta(days=5), end=d)
    assert sorted((c.community_id, c.participants, c.invited) for c in calls) == [
        (a.pk, 2, 3),
        (b.pk, 1, 1),
    ]
    index = metrics.action_index(communities=[a, b], day=d)
    assert index == {a.pk: 2 / 3, b.pk: 1.0}


def test_local_day_decides_the_window(org_a):
    # 20:00 in Shanghai on the window's first day is 12:00 UTC: inside. 23:30 the day
    # before is outside, though UTC still calls it the first day.
    community = CommunityFactory(organization=org_a, slug="zoned")
    people = memberships(community, 2)
    d = day_asked(community)
    first = d - timedelta(days=29)
    closed_occurrence([community], first, "In", [(people[0], True)])
    before = closed_occurrence([community], first, "Out", [(people[1], False)])
    starts = datetime.combine(first - timedelta(days=1), time(23, 30), ZoneInfo("Asia/Shanghai"))
    Occurrence.objects.filter(pk=before.pk).update(
        starts_at=starts, ends_at=starts + timedelta(minutes=30)
    )
    assert metrics.action_index(communities=[community], day=d) == {community.pk: 1.0}


def test_a_challenge_day_counts_once_its_deadline_has_passed(org_a):
    community = CommunityFactory(organization=org_a, slug="deadline")
    people = memberships(community, 2)
    today = community.local_today()
    tz = ZoneInfo(community.time_zone)
    made = challenge(community, today - timedelta(days=1), 5, people, {today: [0]})
    before = datetime.combine(today, time(21, 0), tz)
    at_deadline = datetime.combine(today, time(22, 0), tz)
    after = datetime.combine(today, time(22, 1), tz)
    calls = metrics.calls_to_action(communities=[community], start=today, end=today, now=before)
    assert calls == []
    # At the deadline itself members may still check in (as the challenge page counts).
    assert (
        metrics.calls_to_action(communities=[community], start=today, end=today, now=at_deadline)
        == []
    )
    (call,) = metrics.calls_to_action(communities=[community], start=today, end=today, now=after)
    assert (call.challenge_id, call.participants, call.invited) == (made.pk, 1, 2)
    # Yesterday nobody checked in: 0 of 2, a real zero.
    assert metrics.action_index(communities=[community], day=today, now=before) == {
        community.pk: 0.0
    }


def test_check_in_completion_of_running_challenges(org_a):
    community = CommunityFactory(organization=org_a, slug="running")
    people = memberships(community, 3)
    today = community.local_today()
    tz = ZoneInfo(community.time_zone)
    first = today - timedelta(days=3)
    # Running: 3 participants, days first … first + 9; check-ins on its first four days.
    challenge(
        community,
        first,
        10,
        people,
        {first: [0, 1, 2], first + timedelta(days=1): [0, 1], first + timedelta(days=2): [0],
         today: [0, 1]},
    )  # fmt: skip
    # Over before the day: not running, not counted.
    challenge(community, first - timedelta(days=20), 5, people[:1], {}, title="Old")
    before = datetime.combine(today, time(21, 0), tz)
    completion = metrics.check_in_completion(communities=[community], now=before)[community.pk]
    # Three days elapsed (today's deadline is still ahead): 6 check-ins of 3 × 3.
    assert (completion.running_challenges, completion.participants) == (1, 3)
    assert (completion.days_elapsed, completion.check_ins, completion.expected) == (3, 6, 9)
    assert completion.rate == 6 / 9
    after = datetime.combine(today, time(23, 0), tz)
    completion = metrics.check_in_completion(communities=[community], now=after)[community.pk]
    assert (completion.check_ins, completion.expected) == (8, 12)
    power = metrics.action_power(communities=[community], now=after)[community.pk]
    assert power.check_in_completion == completion


def test_units_cost_a_fixed_number_of_queries(org_a):
    communities = []
    for n in range(2):
        community = CommunityFactory(organization=org_a, slug=f"q{n}")
        hand_checkable(community)
        communities.append(community)
    with CaptureQueriesContext(connection) as two:
        result = metrics.action_power(communities=communities)
    for n in range(2, 5):
        community = CommunityFactory(organization=org_a, slug=f"q{n}")
        hand_checkable(community)
        communities.append(community)
    with CaptureQueriesContext(connection) as five:
        result = metrics.action_power(communities=communities)
    # Occurrences' participations, challenges with their check-ins, members.
    assert len(two) == len(five) == 3
    assert {r.action_index for r in result.values()} == {INDEX}
    with CaptureQueriesContext(connection) as calls:
        metrics.calls_to_action(
            communities=communities, start=day_asked(communities[0]) - timedelta(days=60),
            end=day_asked(communities[0]),
        )  # fmt: skip
    with CaptureQueriesContext(connection) as trend:
        metrics.action_trend(
            community=communities[0], start=day_asked(communities[0]) - timedelta(days=90),
            end=day_asked(communities[0]),
        )  # fmt: skip
    with CaptureQueriesContext(connection) as completion:
        metrics.check_in_completion(communities=communities)
    assert (len(calls), len(trend), len(completion)) == (2, 2, 1)


# --- Shown: the community page, the overview, the portfolio --------------------------------


def page(client, community, **params):
    url = reverse("analytics:community", args=[community.slug])
    return client.get(url, params)


def test_community_page_card_trend_and_calls(client_for, manager_a, reading):
    d = day_asked(reading)
    response = page(client_for(manager_a), reading, to=d.isoformat())
    assert response.status_code == 200
    html = response.content.decode()
    card = html[html.index('data-testid="action-power"') :]
    card = card[: card.index("</article>")]
    assert 'data-figure="action_index">68.8%' in card
    assert 'data-figure="community_value">5.5' in card
    assert "(8 members × 68.8%)" in card
    assert "(mean of 4 calls to action)" in card
    assert 'data-chart="action-chart"' in html
    figure = json.loads(
        html.split('<script id="action-chart" type="application/json">')[1].split("</script>")[0]
    )
    index_line = figure["data"][1]
    assert index_line["x"][-1] == d.isoformat() and index_line["y"][-1] == 68.8
    # The calls behind the index, the latest first; titles escaped as user text.
    table = html[html.index('data-testid="calls-table"') :]
    table = table[: table.index("</table>")]
    rows = [
        [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr data-kind=[^>]*>(.*?)</tr>", table, re.S)
    ]
    assert rows == [
        [(d - timedelta(days=2)).isoformat(), "打卡", "Challenge day", "1", "2", "50.0%"],
        [(d - timedelta(days=3)).isoformat(), "打卡", "Challenge day", "2", "2", "100.0%"],
        [(d - timedelta(days=5)).isoformat(), "Topic night", "Event", "1", "2", "50.0%"],
        [(d - timedelta(days=10)).isoformat(), "读书分享", "Event", "3", "4", "75.0%"],
    ]
    assert "Long ago" not in table


def test_no_calls_shows_a_dash_never_zero(client_for, manager_a, org_a):
    quiet = CommunityFactory(organization=org_a, slug="quiet")
    html = page(client_for(manager_a), quiet).content.decode()
    card = html[html.index('data-testid="action-power"') :]
    card = card[: card.index("</article>")]
    assert 'data-figure="action_index">—' in card
    assert 'data-figure="community_value">—' in card
    assert 'data-figure="check_in_completion">—' in card
    assert "No calls to action in these 30 days" in html


def test_titles_are_escaped(client_for, manager_a, org_a):
    community = CommunityFactory(organization=org_a, slug="hostile")
    (person,) = memberships(community, 1)
    closed_occurrence(
        [community], day_asked(community), "<script>alert(1)</script>", [(person, True)]
    )
    html = page(client_for(manager_a), community).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_page_in_chinese(client_for, manager_a, reading):
    client = client_for(manager_a)
    response = client.get(
        reverse("analytics:community", args=[reading.slug]),
        {"to": day_asked(reading).isoformat()},
        headers={"accept-language": "zh-hans"},
    )
    html = response.content.decode()
    assert "一致行动力" in html and "行动力指数" in html and "社群价值" in html
    assert "（8 名成员 × 68.8%）" in html and "（4 次行动号召的平均值）" in html
    assert "打卡日" in html and "Challenge day" not in html


def test_page_query_count_does_not_grow_with_calls(
    client_for, manager_a, reading, org_a, django_assert_num_queries
):
    from tests.analytics.test_community_page import PAGE_QUERIES_WITHOUT_RANGE as PAGE_QUERIES

    client = client_for(manager_a)
    page(client, reading)  # warm the session
    with django_assert_num_queries(PAGE_QUERIES):
        page(client, reading)
    people = memberships(reading, 20)
    for n in range(15):
        closed_occurrence(
            [reading], day_asked(reading) - timedelta(days=n), f"More {n}",
            [(p, n % 2 == 0) for p in people],
        )  # fmt: skip
    with django_assert_num_queries(PAGE_QUERIES):
        response = page(client, reading)
    assert len(response.context["action_calls"]) == 19


def test_overview_column_sorts(client_for, operator_a, org_a, reading):
    CommunityFactory(organization=org_a, slug="quiet", name="Aaa quiet")
    other = CommunityFactory(organization=org_a, slug="other", name="Bbb other")
    (person,) = memberships(other, 1)
    closed_occurrence([other], day_asked(other), "One", [(person, False)])
    client = client_for(operator_a)
    html = client.get(reverse("overview"), {"sort": "-action"}).content.decode()
    order = re.findall(r'<tr data-community="([^"]+)"', html)
    # 68.8 %, then 0 % (a real zero: one call, nobody came), then no index at all.
    assert order == ["reading", "other", "quiet"]
    cells = dict(
        re.findall(
            r'<tr data-community="([^"]+)">.*?data-figure="action_index">([^<]*)<', html, re.S
        )
    )
    assert cells == {"reading": "69%", "other": "0%", "quiet": "—"}
    assert 'data-sort="action"' in html and 'data-sort="value"' in html
    html = client.get(reverse("overview"), {"sort": "action"}).content.decode()
    assert re.findall(r'<tr data-community="([^"]+)"', html) == ["quiet", "other", "reading"]


def test_portfolio_overview_csv_and_api_give_the_same_figures(
    client, client_for, manager_a, reading
):
    from tests.analytics.test_portfolio import table_rows

    today = reading.local_today()
    power = metrics.action_power(communities=[reading])[reading.pk]
    assert power.action_index == INDEX  # nothing of the data is today
    html = client_for(manager_a).get(reverse("analytics:home")).content.decode()
    assert table_rows(html)["reading"][-3:] == ["68.8%", "5.5", "—"]
    text = client_for(manager_a).get(reverse("analytics:portfolio-csv")).content.decode()
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][-3:] == ["action_index", "community_value", "check_in_completion"]
    assert rows[1][-3:] == ["0.6875", "5.5", ""]
    text = client_for(manager_a).get(reverse("overview-csv")).content.decode()
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert dict(zip(rows[0], rows[1], strict=True))["action_index"] == "0.6875"
    key = api_token_create(staff=manager_a, name="t")[1]
    headers = {"authorization": f"Bearer {key}"}
    (row,) = client.get(reverse("api:portfolio"), headers=headers).json()["communities"]
    assert (row["day"], row["action_index"], row["community_value"]) == (
        today.isoformat(), 0.6875, 5.5,
    )  # fmt: skip
    assert row["check_in_completion"] is None
    (row,) = client.get(reverse("api:communities"), headers=headers).json()["communities"]
    assert (row["action_index"], row["community_value"]) == (0.6875, 5.5)


# --- API, CSV, export_metrics, OpenAPI, docs ------------------------------------------------


def test_api_csv_and_export_metrics_agree(client, manager_a, reading):
    d = day_asked(reading)
    params = {"from": (d - timedelta(days=9)).isoformat(), "to": d.isoformat()}
    key = api_token_create(staff=manager_a, name="t")[1]
    headers = {"authorization": f"Bearer {key}"}
    url = reverse("api:metrics", kwargs={"community_slug": "reading"})
    section = client.get(url, params, headers=headers).json()["action_power"]
    assert {k: v for k, v in section.items() if k not in ("action_trend", "calls_to_action")} == {
        "day": d.isoformat(),
        "window_days": 30,
        "members": MEMBERS,
        "calls": 4,
        "action_index": 0.6875,
        "community_value": 5.5,
        "check_in_completion": None,
        "running_challenges": 0,
        "challenge_participants": 0,
        "days_elapsed": 0,
        "check_ins": 0,
        "expected_check_ins": 0,
    }
    assert len(section["action_trend"]) == 10
    assert section["action_trend"][-1] == {"day": d.isoformat(), "calls": 4, "action_index": 0.6875}
    assert [c["ratio"] for c in section["calls_to_action"]] == [0.75, 0.5, 1.0, 0.5]
    assert section["calls_to_action"][0] == {
        "day": (d - timedelta(days=10)).isoformat(),
        "kind": "occurrence",
        "title": "读书分享",
        "participants": 3,
        "invited": 4,
        "ratio": 0.75,
    }

    out = io.StringIO()
    call_command("export_metrics", "--community", "reading", "--from", params["from"],
                 "--to", params["to"], stdout=out)  # fmt: skip
    assert json.loads(out.getvalue())["action_power"] == section

    def api_csv(metric):
        csv_url = reverse("api:metric-csv", kwargs={"community_slug": "reading", "metric": metric})
        response = client.get(csv_url, params, headers=headers)
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    def export_csv(metric):
        out = io.StringIO()
        call_command(
            "export_metrics", "--community", "reading", "--from", params["from"],
            "--to", params["to"], "--format", "csv", "--metric", metric, stdout=out,
        )  # fmt: skip
        return list(csv.reader(io.StringIO(out.getvalue())))

    trend = api_csv("action_power")
    assert trend[0] == ["day", "calls", "action_index"]
    assert trend[-1] == [d.isoformat(), "4", "0.6875"]
    assert trend == export_csv("action_power")
    calls = api_csv("calls_to_action")
    assert calls[0] == ["day", "kind", "title", "participants", "invited", "ratio"]
    assert [row[-1] for row in calls[1:]] == ["0.75", "0.5", "1.0", "0.5"]
    assert calls == export_csv("calls_to_action")


def test_page_csv_downloads(client_for, manager_a, reading):
    d = day_asked(reading)
    client = client_for(manager_a)

    def rows(chart):
        url = reverse("analytics:chart-csv", args=[reading.slug, chart])
        response = client.get(url, {"from": (d - timedelta(days=9)).isoformat(), "to": d})
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    trend = rows("action")
    assert trend[0] == ["day", "calls_last_30_days", "action_index"]
    assert trend[-1] == [d.isoformat(), "4", "0.6875"] and len(trend) == 11
    calls = rows("calls")
    assert calls[0] == ["day", "kind", "title", "community", "participants", "invited", "ratio"]
    assert calls[1] == [(d - timedelta(days=10)).isoformat(), "occurrence", "读书分享", "reading",
                        "3", "4", "0.75"]  # fmt: skip
    assert len(calls) == 5
    indicators = {row[0]: row[2] for row in rows("indicators")[1:]}
    assert (indicators["action_index"], indicators["community_value"]) == ("0.6875", "5.5")
    assert indicators["calls_to_action_last_30_days"] == "4"
    assert indicators["check_in_completion"] == ""


def test_csv_titles_cannot_be_formulas(client, manager_a, org_a):
    community = CommunityFactory(organization=org_a, slug="formula")
    (person,) = memberships(community, 1)
    closed_occurrence([community], day_asked(community), "=HYPERLINK(1)", [(person, True)])
    key = api_token_create(staff=manager_a, name="t")[1]
    url = reverse(
        "api:metric-csv", kwargs={"community_slug": "formula", "metric": "calls_to_action"}
    )
    text = client.get(url, headers={"authorization": f"Bearer {key}"}).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_openapi_describes_action_power():
    schemas = openapi.document()["components"]["schemas"]
    with translation.override("en"):
        line = str(DEFINITIONS["action_power"].text)
    assert schemas["CommunityMetrics"]["properties"]["action_power"] == {
        "$ref": "#/components/schemas/ActionPower",
        "description": line,  # the catalogue's definition (analytics.definitions)
    }
    power = schemas["ActionPower"]["properties"]
    for name in ("action_index", "community_value", "check_in_completion"):
        assert power[name]["description"]
        assert schemas["PortfolioRow"]["properties"][name] == power[name]
        assert schemas["CommunitySummary"]["properties"][name] == power[name]
    assert "30 local days" in power["action_index"]["description"]
    assert schemas["CallToAction"]["properties"]["kind"]["enum"] == ["occurrence", "challenge_day"]
    metric = openapi.document()["components"]["parameters"]["metric"]
    assert {"action_power", "calls_to_action"} <= set(metric["schema"]["enum"])


def test_docs_define_action_power():
    from tests.analytics.test_docs import DOC, documented

    names = documented()
    for name in (
        "action_power", "action_index", "community_value", "check_in_completion",
        "calls_to_action", "action_trend", "ratio", "invited", "participants",
    ):  # fmt: skip
        assert name in names
    text = " ".join(DOC.read_text().split())
    assert "## Action power (一致行动力)" in text
    assert "whose daily deadline" in text and "never 0" in text


def test_calls_link_to_their_occurrence_and_challenge(client_for, manager_a, reading):
    from activities.calendar.recurrence import parse_key

    response = page(client_for(manager_a), reading, to=day_asked(reading).isoformat())
    rows = {row["title"]: row["url"] for row in response.context["action_calls"]}
    made = Challenge.objects.get(community=reading)
    assert rows["打卡"] == reverse("activities:challenge", args=[made.pk])
    occurrence = Occurrence.objects.get(entry__title="读书分享")
    key = rows["读书分享"].rstrip("/").rsplit("/", 1)[1]
    assert rows["读书分享"] == reverse("activities:occurrence", args=[key])
    assert parse_key(key) == (occurrence.entry_id, occurrence.original_start)
    assert f'<a href="{rows["读书分享"]}">读书分享</a>' in response.content.decode()


def test_completion_is_the_challenge_pages_completion(org_a):
    from activities.calendar.challenges import board

    community = CommunityFactory(organization=org_a, slug="same")
    people = memberships(community, 3)
    today = community.local_today()
    first = today - timedelta(days=4)
    made = challenge(
        community, first, 7, people,
        {first: [0, 1, 2], first + timedelta(days=1): [2], first + timedelta(days=3): [0, 1]},
    )  # fmt: skip
    tz = ZoneInfo(community.time_zone)
    for hour in (21, 23):
        now = datetime.combine(today, time(hour, 0), tz)
        ours = metrics.check_in_completion(communities=[community], now=now)[community.pk]
        assert ours.rate == board(made, now=now).completion
    assert ours.rate == 6 / 15  # five days elapsed at 23:00, 6 check-ins of 3 × 5
