"""The community analytics page: indicators, charts, range switching, drill-down, CSV.

Data goes in through the real ingestion path and the rollups, with dates relative to the
community's local day; every week used is already over, so the figures never depend on
the hour the tests run.
"""

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import EventSource
from analytics.rollups import monday, rollups_refresh
from communities.models import Role
from members.models import Membership, Tag, TagKind
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db

XSS_NAME = "<script>alert(1)</script>"


def ingest(community, activity: dict[str, tuple[str, list[date]]]) -> None:
    """``{key: (name, [days])}``: one message at noon (local) on each day, then rollups."""
    tz = ZoneInfo(community.time_zone)
    events = [
        IncomingEvent(
            external_id=f"{key}-{day.isoformat()}",
            kind="message",
            occurred_at=datetime.combine(day, time(12), tz),
            member_key=key,
            member_name=name,
        )
        for key, (name, days) in activity.items()
        for day in days
    ]
    ingest_events(community=community, source=EventSource.IMPORT, events=events)
    days = {day for _name, days in activity.values() for day in days}
    rollups_refresh(community=community, days=sorted(days | {community.local_today()}))


def weeks_ago(community, n: int) -> date:
    return monday(community.local_today()) - timedelta(weeks=n)


@pytest.fixture
def scenario(community_a):
    """Four people over four finished weeks W0…W3 (W3 = last week), one message on each
    Tuesday listed:

    ann: W0, W1, W3   bob: W0   cat: W1, W2   <script>: W2

    Cohort W0 = {ann, bob}; active at offset 1: {ann}.
    W1: new {cat}, returning {ann}, dormant {bob}.
    W2: new {<script>}, returning {cat}, dormant {ann}.
    W3: resurrecting {ann}, dormant {cat, <script>}.
    """
    w = [weeks_ago(community_a, 4 - n) for n in range(4)]

    def tuesdays(*indexes):
        return [w[i] + timedelta(days=1) for i in indexes]

    ingest(
        community_a,
        {
            "ann": ("Ann 安", tuesdays(0, 1, 3)),
            "bob": ("Bob 波", tuesdays(0)),
            "cat": ("Cat 猫", tuesdays(1, 2)),
            "xss": (XSS_NAME, tuesdays(2)),
        },
    )
    return community_a, w


def page_url(community, **params):
    url = reverse("analytics:community", args=[community.slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def members_url(community, **params):
    url = reverse("analytics:members", args=[community.slug])
    return url + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def names_in(response) -> list[str]:
    """The names listed in a drill-down (a partial has no test-client context to read)."""
    html = response.content.decode()
    listed = re.search(r'<ul class="drilldown-members">(.*?)</ul>', html, re.S)
    return (
        [unescape(name) for name in re.findall(r"<li><a [^>]*>(.*?)</a>", listed[1])]
        if listed
        else []
    )


def platform_ids_in(response) -> list[str]:
    return re.findall(r"<span [^>]*data-platform-ids>(.*?)</span>", response.content.decode())


def count_in(response) -> int:
    return int(re.search(r'data-count="(\d+)"', response.content.decode())[1])


# --- The page -----------------------------------------------------------------------------


def test_page_shows_indicators_stage_and_every_chart(client_for, manager_a, scenario):
    community, weeks = scenario
    response = client_for(manager_a).get(page_url(community))
    assert response.status_code == 200
    html = response.content.decode()
    for chart in (
        "activity-chart",
        "retention-chart",
        "retention-curve-chart",
        "lifecycle-chart",
        "pyramid-over-time-chart",
        "action-chart",
    ):
        assert f'data-chart="{chart}"' in html
        assert f'<script id="{chart}" type="application/json">' in html
    # One table per chart, and action power's calls behind its index.
    assert html.count('<details class="table-view">') == 5
    assert html.count('<details class="table-view calls-view">') == 1
    rows = {row.key: row for row in response.context["indicators"]}
    assert rows["members"].value == 4
    joined = [weeks[0], weeks[0], weeks[1], weeks[2]]  # first messages, on Tuesdays
    before = community.local_today() - timedelta(days=30)
    assert rows["members"].previous == sum(day + timedelta(days=1) <= before for day in joined)
    assert response.context["stage"].stage in {"budding", "dormant"}  # young group
    assert 'data-testid="stage"' in html
    # The drill-down script is ours, deferred, from static files (no inline script).
    assert 'src="/static/js/drilldown.js" defer' in html
    assert "<script>" not in html.replace(f"{XSS_NAME}", "")


def test_range_defaults_to_the_last_90_days_by_week(client_for, manager_a, scenario):
    community, _weeks = scenario
    response = client_for(manager_a).get(page_url(community))
    today = community.local_today()
    assert response.context["start"] == today - timedelta(days=89)
    assert response.context["end"] == today
    assert response.context["interval"] == "week"
    html = response.content.decode()
    assert f'value="{(today - timedelta(days=89)).isoformat()}"' in html


def test_an_old_history_opens_on_the_range_that_ends_at_its_last_activity(
    client_for, manager_a, community_a
):
    today = community_a.local_today()
    last = today - timedelta(days=200)
    ingest(community_a, {"ann": ("Ann", [last - timedelta(days=d) for d in (0, 7, 14, 30)])})
    client = client_for(manager_a)
    response = client.get(page_url(community_a))
    assert response.context["end"] == last
    assert response.context["start"] == last - timedelta(days=89)
    assert sum(e for _l, e, _a in response.context["activity_rows"]) == 4
    html = response.content.decode()
    assert f"No activity since {last.isoformat()}; showing the 90 days before it." in html
    assert f'href="?to={today.isoformat()}"' in html
    # The link back (or any chosen range) shows that range, without the note.
    back = client.get(page_url(community_a, to=today.isoformat()))
    assert back.context["end"] == today
    assert 'data-testid="quiet-since"' not in back.content.decode()


def test_recent_activity_keeps_the_default_range(client_for, manager_a, community_a):
    today = community_a.local_today()
    ingest(community_a, {"ann": ("Ann", [today - timedelta(days=80)])})
    response = client_for(manager_a).get(page_url(community_a))
    assert response.context["end"] == today
    assert 'data-testid="quiet-since"' not in response.content.decode()


def test_cohort_rows_start_with_the_first_members_week(client_for, manager_a, community_a):
    today = community_a.local_today()
    first = weeks_ago(community_a, 3) + timedelta(days=1)
    ingest(community_a, {"ann": ("Ann", [first]), "bob": ("Bob", [first + timedelta(weeks=1)])})
    rows = client_for(manager_a).get(page_url(community_a)).context["retention_rows"]
    assert rows[0]["week"] == monday(first).isoformat()
    assert rows[0]["size"] == 1
    assert rows[-1]["week"] == monday(today).isoformat()


def test_htmx_request_returns_only_the_partial(client_for, manager_a, scenario):
    community, _weeks = scenario
    response = client_for(manager_a).get(page_url(community), headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="analytics-body"')
    assert 'hx-push-url="true"' in html
    assert '<script id="activity-chart" type="application/json">' in html
    assert "HX-Request" in response["Vary"]


def test_interval_changes_the_activity_tables_periods(client_for, manager_a, scenario):
    community, _weeks = scenario
    client = client_for(manager_a)
    today = community.local_today()
    start = today - timedelta(days=89)
    by_week = client.get(page_url(community, interval="week"))
    by_month = client.get(page_url(community, interval="month"))
    week_periods = [label for label, _events, _active in by_week.context["activity_rows"]]
    month_periods = [label for label, _events, _active in by_month.context["activity_rows"]]
    assert week_periods[0] == monday(start).isoformat()
    assert month_periods[0] == start.strftime("%Y-%m")
    assert len(month_periods) < len(week_periods)
    assert f'data-period="{month_periods[-1]}"' in by_month.content.decode()
    assert sum(e for _label, e, _a in by_week.context["activity_rows"]) == 7
    assert sum(e for _label, e, _a in by_month.context["activity_rows"]) == 7


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"from": "2026-03-10", "to": "2026-03-01"},
        {"from": "2023-01-01", "to": "2026-01-01"},
        {"interval": "year"},
    ],
)
def test_bad_range_is_a_400_with_the_reason(client_for, manager_a, community_a, params):
    response = client_for(manager_a).get(page_url(community_a, **params))
    assert response.status_code == 400
    assert response.context["form"].errors
    assert 'role="alert"' in response.content.decode()


def test_another_organisations_community_is_a_404(client_for, manager_a, community_b):
    client = client_for(manager_a)
    for url in (
        page_url(community_b),
        members_url(community_b, cohort="2026-03-02"),
        reverse("analytics:chart-csv", args=[community_b.slug, "activity"]),
    ):
        assert client.get(url).status_code == 404
    response = client.post(
        reverse("analytics:tag-members", args=[community_b.slug]),
        {"cohort": "2026-03-02", "name": "x"},
    )
    assert response.status_code == 404


def test_moderator_cannot_see_analytics(client_for, org_a, community_a):
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    community_a.assigned_staff.add(moderator)
    assert client_for(moderator).get(page_url(community_a)).status_code == 403


# --- Drill-down -----------------------------------------------------------------------------


def test_retention_cell_lists_exactly_its_members(client_for, manager_a, scenario):
    community, w = scenario
    client = client_for(manager_a)
    cohort = client.get(
        members_url(community, cohort=w[0].isoformat()), headers={"HX-Request": "true"}
    )
    assert names_in(cohort) == ["Ann 安", "Bob 波"]
    kept = client.get(
        members_url(community, cohort=w[0].isoformat(), offset=1), headers={"HX-Request": "true"}
    )
    assert kept.status_code == 200
    assert names_in(kept) == ["Ann 安"]
    assert platform_ids_in(kept) == ["ann"]  # beside the name: namesakes told apart
    assert count_in(kept) == 1
    html = kept.content.decode()
    assert "<html" not in html
    ann = Membership.objects.get(community=community, member__display_name="Ann 安")
    assert reverse("members:profile", args=[ann.member_id]) in html
    # The cell's figure agrees with the list behind it.
    page = client.get(page_url(community))
    row = next(r for r in page.context["retention_rows"] if r["week"] == w[0].isoformat())
    assert (row["size"], row["cells"][1]["retained"], row["cells"][2]["retained"]) == (2, 1, 0)
    assert f'data-cohort="{w[0].isoformat()}" data-offset="1"' in page.content.decode()


@pytest.mark.parametrize(
    ("week", "group", "expected"),
    [
        (1, "new", ["Cat 猫"]),
        (1, "returning", ["Ann 安"]),
        (1, "dormant", ["Bob 波"]),
        (2, "new", [XSS_NAME]),
        (2, "returning", ["Cat 猫"]),
        (2, "dormant", ["Ann 安"]),
        (3, "resurrecting", ["Ann 安"]),
        (3, "dormant", [XSS_NAME, "Cat 猫"]),
        (3, "new", []),
    ],
)
def test_lifecycle_bar_lists_exactly_its_members(
    client_for, manager_a, scenario, week, group, expected
):
    community, w = scenario
    response = client_for(manager_a).get(
        members_url(community, week=w[week].isoformat(), group=group),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert sorted(names_in(response)) == sorted(expected)
    # ... and the lifecycle rollup counted the same.
    page = client_for(manager_a).get(page_url(community))
    row = next(r for r in page.context["lifecycle_rows"] if r["week"] == w[week].isoformat())
    assert {c["group"]: c["count"] for c in row["groups"]}[group] == len(expected)


def test_drilldown_escapes_member_names(client_for, manager_a, scenario):
    community, w = scenario
    response = client_for(manager_a).get(
        members_url(community, week=w[2].isoformat(), group="new"), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert XSS_NAME not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_drilldown_without_htmx_is_the_page_with_the_list_open(client_for, manager_a, scenario):
    community, w = scenario
    response = client_for(manager_a).get(members_url(community, cohort=w[0].isoformat()))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and 'data-testid="drilldown"' in html
    assert names_in(response) == ["Ann 安", "Bob 波"]


@pytest.mark.parametrize(
    "params",
    [
        {"cohort": "not-a-date"},
        {"cohort": "2026-03-02", "offset": "13"},
        {"cohort": "2026-03-02", "offset": "-1"},
        {"cohort": "2026-03-02", "offset": "x"},
        {"week": "2026-03-02", "group": "lurkers"},
        {"week": "2026-03-02"},
        {"offset": "1"},
        {"cohort": "2026-03-02", "week": "2026-03-02", "group": "new"},
    ],
)
def test_bad_drilldown_params_are_a_400(client_for, manager_a, community_a, params):
    response = client_for(manager_a).get(members_url(community_a, **params))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content  # says why


# --- Tagging for re-engagement ------------------------------------------------------------


def test_tag_action_tags_exactly_the_drilled_down_members(client_for, operator_a, scenario):
    community, w = scenario
    client = client_for(operator_a)
    response = client.post(
        reverse("analytics:tag-members", args=[community.slug]),
        {"week": w[3].isoformat(), "group": "dormant", "name": "召回 W3"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert 'data-testid="tag-result"' in response.content.decode()
    tag = Tag.objects.get(organization=community.organization, name="召回 W3")
    assert tag.kind == TagKind.OTHER
    assert sorted(tag.members.values_list("display_name", flat=True)) == sorted(
        ["Cat 猫", XSS_NAME]
    )
    # Tagging again adds nobody twice; the tag is reused.
    client.post(
        reverse("analytics:tag-members", args=[community.slug]),
        {"week": w[3].isoformat(), "group": "dormant", "name": "召回 W3"},
    )
    assert Tag.objects.filter(name="召回 W3").count() == 1
    assert tag.members.count() == 2


def test_tag_form_is_offered_to_managers_of_communities_only(
    client_for, operator_a, manager_a, scenario
):
    community, w = scenario
    url = members_url(community, cohort=w[0].isoformat())
    operator_html = client_for(operator_a).get(url, headers={"HX-Request": "true"}).content
    assert b'name="name"' in operator_html
    manager_html = client_for(manager_a).get(url, headers={"HX-Request": "true"}).content
    assert b'name="name"' not in manager_html


def test_manager_without_manage_capability_gets_403_on_tagging(client_for, manager_a, scenario):
    community, w = scenario
    response = client_for(manager_a).post(
        reverse("analytics:tag-members", args=[community.slug]),
        {"cohort": w[0].isoformat(), "name": "召回"},
    )
    assert response.status_code == 403
    assert not Tag.objects.filter(name="召回").exists()


def test_tag_needs_a_selection_and_a_name(client_for, operator_a, scenario):
    community, w = scenario
    client = client_for(operator_a)
    url = reverse("analytics:tag-members", args=[community.slug])
    assert client.post(url, {"name": "召回"}).status_code == 400
    assert client.post(url, {"cohort": "nope", "name": "召回"}).status_code == 400
    assert client.get(url).status_code == 405
    blank = client.post(
        url, {"cohort": w[0].isoformat(), "name": "  "}, headers={"HX-Request": "true"}
    )
    assert blank.status_code == 200
    assert 'role="alert"' in blank.content.decode()
    assert not Tag.objects.exists()


def test_tag_without_htmx_redirects_back_to_the_list(client_for, operator_a, scenario):
    community, w = scenario
    response = client_for(operator_a).post(
        reverse("analytics:tag-members", args=[community.slug]),
        {"cohort": w[0].isoformat(), "offset": "1", "name": "召回"},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(members_url(community, cohort=w[0].isoformat()))
    assert list(Tag.objects.get(name="召回").members.values_list("display_name", flat=True)) == [
        "Ann 安"
    ]


# --- CSV --------------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def csv_url(community, chart, **params):
    url = reverse("analytics:chart-csv", args=[community.slug, chart])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def test_lifecycle_and_retention_csv(client_for, manager_a, scenario):
    community, w = scenario
    client = client_for(manager_a)
    response = client.get(csv_url(community, "lifecycle"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == ["week", "active", "new", "returning", "resurrecting", "dormant"]
    by_week = {row[0]: row[1:] for row in rows[1:]}
    assert by_week[w[1].isoformat()] == ["2", "1", "1", "0", "1"]
    assert by_week[w[3].isoformat()] == ["1", "0", "0", "1", "2"]

    rows = csv_rows(client.get(csv_url(community, "retention")))
    assert rows[0] == ["cohort_week", "cohort_size", "weeks_after_joining", "retained", "rate"]
    assert [w[0].isoformat(), "2", "1", "1", "0.5"] in rows


def test_activity_csv_follows_the_interval(client_for, manager_a, scenario):
    community, _w = scenario
    client = client_for(manager_a)
    weekly = csv_rows(client.get(csv_url(community, "activity")))
    monthly = csv_rows(client.get(csv_url(community, "activity", interval="month")))
    assert weekly[0] == monthly[0] == ["period_start", "events", "active_members"]
    assert len(monthly) < len(weekly)
    assert sum(int(row[1]) for row in weekly[1:]) == sum(int(row[1]) for row in monthly[1:]) == 7


def test_indicators_and_pyramid_csv(client_for, manager_a, scenario):
    community, _w = scenario
    client = client_for(manager_a)
    rows = csv_rows(client.get(csv_url(community, "indicators")))
    assert rows[0] == ["metric", "day", "value", "previous_day", "previous_value"]
    metrics = {row[0]: row for row in rows[1:]}
    assert metrics["members"][2] == "4"
    assert {"stickiness", "mainstream_share", "stage", "events_last_28_days"} <= set(metrics)
    rows = csv_rows(client.get(csv_url(community, "pyramid")))
    assert rows[0] == ["day", "tier_rank", "tier", "members"]
    today = community.local_today().isoformat()
    assert [today, "1", rows[1][2], "4"] == rows[1]


def test_pyramid_csv_neutralises_formulas_in_tier_names(client_for, manager_a, scenario):
    community, _w = scenario
    tier = community.tiers.get(rank=1)
    tier.name = "=HYPERLINK(1)"
    tier.save()
    rollups_refresh(community=community, days=[community.local_today()])
    rows = csv_rows(client_for(manager_a).get(csv_url(community, "pyramid")))
    assert rows[1][2] == "'=HYPERLINK(1)"


def test_csv_unknown_chart_bad_range_and_capability(client_for, manager_a, operator_a, scenario):
    community, _w = scenario
    client = client_for(manager_a)
    assert client.get(csv_url(community, "secrets")).status_code == 404
    assert client.get(csv_url(community, "activity", interval="year")).status_code == 400
    # Operators may see the charts but not export (EXPORT_DATA).
    assert client_for(operator_a).get(csv_url(community, "activity")).status_code == 403


def test_csv_links_only_for_staff_who_may_export(client_for, manager_a, operator_a, scenario):
    community, _w = scenario
    link = reverse("analytics:chart-csv", args=[community.slug, "activity"])
    assert link in client_for(manager_a).get(page_url(community)).content.decode()
    assert link not in client_for(operator_a).get(page_url(community)).content.decode()


# --- Query counts -----------------------------------------------------------------------------

# Session, user, staff, community; 4 for the indicators (end day and 30 days before), 2 for
# the stage (days, pulse), 1 each for activity, retention, lifecycle and the pyramid; + 2
# for action power (closed occurrences' invited, challenges with their check-ins:
# metrics.action_report, members from the indicators); + 1 for SOP completion (the
# checklist items of the 30 days, one grouped query: metrics.sop_completion). Without a
# range in the query string, one more: the last active day (an old history opens on it).
PAGE_QUERIES = 17
PAGE_QUERIES_WITHOUT_RANGE = PAGE_QUERIES + 1
# Session, user, staff, community, then one query for the members behind the bar and one
# for their platform ids.
DRILLDOWN_QUERIES = 6


def busy_community(org, members: int, days: int):
    community = CommunityFactory(organization=org, slug=f"busy-{members}-{days}")
    today = community.local_today()
    first = today - timedelta(days=days)
    activity = {
        f"m{n}": (f"成员 {n}", [first + timedelta(days=d) for d in range(n % 3, days, 1 + n % 4)])
        for n in range(members)
    }
    ingest(community, activity)
    return community, first


@pytest.mark.parametrize(("members", "days"), [(3, 30), (30, 30), (3, 120), (30, 120)])
def test_page_query_count_is_pinned(
    client_for, manager_a, django_assert_num_queries, members, days
):
    community, first = busy_community(manager_a.organization, members, days)
    client = client_for(manager_a)
    url = page_url(community, **{"from": first.isoformat()})
    client.get(url)  # warm the session
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert sum(e for _l, e, _a in response.context["activity_rows"]) > 0


@pytest.mark.parametrize(("members", "days"), [(3, 30), (30, 120)])
def test_drilldown_query_count_is_pinned(
    client_for, manager_a, django_assert_num_queries, members, days
):
    community, first = busy_community(manager_a.organization, members, days)
    client = client_for(manager_a)
    url = members_url(
        community, week=monday(first + timedelta(weeks=2)).isoformat(), group="returning"
    )
    client.get(url, headers={"HX-Request": "true"})
    with django_assert_num_queries(DRILLDOWN_QUERIES):
        response = client.get(url, headers={"HX-Request": "true"})
    assert count_in(response) > 0
