"""The overview: every community as a row with its stage, trend and alerts."""

import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import EventSource
from analytics.rollups import rollups_refresh
from communities.models import FunnelRole, Platform
from communities.services import programme_create
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


# --- Building data through ingestion and rollups -------------------------------------------


def aged(organization, days: int, **kwargs):
    """A community created ``days`` days ago (in its own zone)."""
    community = CommunityFactory(organization=organization, **kwargs)
    community.created_on = community.local_today() - timedelta(days=days)
    community.save(update_fields=["created_on"])
    return community


def activity(
    community,
    *,
    days_ago: Iterable[int],
    members: int,
    per_day: int = 1,
    prefix: str = "m",
) -> None:
    """``members`` people (keys ``prefix0``…) each post ``per_day`` messages on each of
    the days ``days_ago`` before the community's today; then the rollups of those days."""
    tz = ZoneInfo(community.time_zone)
    today = community.local_today()
    latest = timezone.now() - timedelta(minutes=1)  # today's "noon" may be in the future
    days = sorted({today - timedelta(days=n) for n in days_ago})
    events = [
        IncomingEvent(
            external_id=f"{prefix}-{day.isoformat()}-{member}-{k}",
            kind="message",
            occurred_at=min(datetime.combine(day, time(12), tzinfo=tz), latest),
            member_key=f"{prefix}{member}",
            member_name=f"成员 {prefix}{member}",
        )
        for day in days
        for member in range(members)
        for k in range(per_day)
    ]
    ingest_events(community=community, source=EventSource.WEBHOOK, events=events)
    rollups_refresh(community=community, days=days)


def scenario(org):
    """One community per stage (and a silent but still active one), named after it."""
    active = aged(org, 120, name="Active one", slug="active-one", platform=Platform.WECHAT)
    activity(active, days_ago=range(56), members=5)
    decline = aged(org, 120, name="Decline one", slug="decline-one", platform=Platform.QQ)
    activity(decline, days_ago=range(28, 56), members=5, per_day=4)
    activity(decline, days_ago=range(28), members=5)
    dormant = aged(org, 120, name="Dormant one", slug="dormant-one", platform=Platform.QQ)
    activity(dormant, days_ago=range(10, 41), members=3)
    budding = aged(org, 10, name="Budding one", slug="budding-one", platform=Platform.DISCORD)
    activity(budding, days_ago=range(6), members=3)
    growth = aged(org, 120, name="Growth one", slug="growth-one", platform=Platform.WECHAT)
    activity(growth, days_ago=range(56), members=5)
    activity(growth, days_ago=range(11), members=3, prefix="new")
    quiet = aged(org, 120, name="Quiet one", slug="quiet-one", platform=Platform.WECHAT)
    activity(quiet, days_ago=range(2, 56), members=5)
    return {
        "active": active,
        "decline": decline,
        "dormant": dormant,
        "budding": budding,
        "growth": growth,
        "quiet": quiet,
    }


# --- Reading the page --------------------------------------------------------------------


def table_of(html: str) -> str:
    start = html.index('id="overview-table"')
    return html[start : html.index("</table>", start)]


def row_slugs(html: str) -> list[str]:
    return re.findall(r'<tr data-community="([^"]+)"', table_of(html))


def stages(html: str) -> dict[str, str]:
    rows = re.findall(
        r'<tr data-community="([^"]+)">.*?data-stage="([a-z]+)"', table_of(html), re.S
    )
    return dict(rows)


def alert_slugs(html: str, kind: str) -> list[str]:
    match = re.search(rf'data-testid="alert-{kind}">(.*?)</ul>', html, re.S)
    if not match:
        return []
    return re.findall(r'href="/analytics/([^/]+)/"', match.group(1))


@pytest.fixture
def built(org_a):
    return scenario(org_a)


def test_stage_badges_follow_the_hand_built_scenarios(built, client_for, manager_a):
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    assert stages(html) == {
        "active-one": "active",
        "budding-one": "budding",
        "decline-one": "decline",
        "dormant-one": "dormant",
        "growth-one": "growth",
        "quiet-one": "active",
    }
    assert 'class="badge stage stage-dormant"' in html
    assert "Dormant (沉寂)" in html and "Budding (萌芽)" in html
    assert 'data-testid="active-communities">6<' in html


def test_alerts_list_the_communities_that_need_attention(built, client_for, manager_a):
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    assert alert_slugs(html, "dormant") == ["dormant-one"]
    # Dormant implies silent: listed once, under dormant.
    assert alert_slugs(html, "silent") == ["quiet-one"]
    assert alert_slugs(html, "decline") == ["decline-one"]
    # The only community whose first month the log covers, with 3 of 10 members activated.
    assert alert_slugs(html, "activation") == ["budding-one"]
    assert 'data-testid="attention-count">4<' in html
    # Each alert links to what would answer it.
    activation = html.split('data-testid="alert-activation"')[1].split("</div>")[0]
    assert 'href="/calendar/challenges/of/budding-one/"' in activation
    decline = html.split('data-testid="alert-decline"')[1].split("</div>")[0]
    assert 'href="/members/?community=decline-one&amp;inactive=14"' in decline
    row = table_of(html).split('data-community="budding-one"')[1].split("</tr>")[0]
    assert 'data-activation="at-risk"' in row
    row = table_of(html).split('data-community="active-one"')[1].split("</tr>")[0]
    assert 'data-activation="unknown"' in row and 'data-alert="silent"' not in row
    row = table_of(html).split('data-community="quiet-one"')[1].split("</tr>")[0]
    assert 'data-alert="silent"' in row


def test_no_alerts_says_so(org_a, client_for, manager_a):
    community = aged(org_a, 120, name="Fine", slug="fine")
    activity(community, days_ago=range(56), members=5)
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    assert 'data-testid="no-alerts"' in html
    assert 'data-testid="alert-' not in html


def test_sparkline_is_an_inline_svg_with_its_values(built, client_for, manager_a):
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    row = table_of(html).split('data-community="active-one"')[1].split("</tr>")[0]
    svg = re.search(r"<svg class=\"sparkline\"[^>]*>\s*<polyline points=\"([^\"]+)\"", row, re.S)
    assert svg is not None
    assert len(svg.group(1).split()) == 13
    label = re.search(
        r'role="img"\s+aria-label="Weekly active members, last 13 weeks: ([^"]+)"', row
    )
    assert label is not None
    values = [int(v) for v in label.group(1).split(", ")]
    assert len(values) == 13 and values[-1] == 5


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (
            "name",
            ["active-one", "budding-one", "decline-one", "dormant-one", "growth-one", "quiet-one"],
        ),
        (
            "-name",
            ["quiet-one", "growth-one", "dormant-one", "decline-one", "budding-one", "active-one"],
        ),
        # Ties keep name order.
        (
            "stage",
            ["budding-one", "growth-one", "active-one", "quiet-one", "decline-one", "dormant-one"],
        ),
        (
            "-members",
            ["growth-one", "active-one", "decline-one", "quiet-one", "budding-one", "dormant-one"],
        ),
        (
            "wau",
            ["dormant-one", "budding-one", "active-one", "decline-one", "quiet-one", "growth-one"],
        ),
    ],
)
def test_sorting(built, client_for, manager_a, sort, expected):
    client = client_for(manager_a)
    html = client.get(reverse("overview"), {"sort": sort}).content.decode()
    assert row_slugs(html) == expected
    partial = client.get(reverse("overview"), {"sort": sort}, headers=HX).content.decode()
    assert row_slugs(partial) == expected


def test_sort_links_toggle_and_keep_the_filters(built, client_for, manager_a):
    client = client_for(manager_a)
    html = client.get(reverse("overview"), {"platform": "qq", "sort": "name"}).content.decode()
    header = table_of(html).split("</thead>")[0]
    name_link = re.search(r'<a href="([^"]+)"\s+hx-get="([^"]+)"[^>]*data-sort="name"', header)
    assert name_link is not None and name_link.group(1) == name_link.group(2)
    assert "sort=-name" in name_link.group(1) and "platform=qq" in name_link.group(1)
    assert 'aria-sort="ascending"' in header
    # Numbers sort largest first on their first click.
    assert re.search(r'href="[^"]*sort=-members[^"]*"', header)
    # The sort travels with the filter form.
    assert '<input type="hidden" name="sort" value="name" form="overview-filters">' in html
    # Unknown sort: the default.
    html = client.get(reverse("overview"), {"sort": "evil"}).content.decode()
    assert row_slugs(html)[0] == "active-one"


def test_filters_by_platform_stage_and_role(built, client_for, manager_a):
    client = client_for(manager_a)
    html = client.get(reverse("overview"), {"platform": "qq"}).content.decode()
    assert row_slugs(html) == ["decline-one", "dormant-one"]
    # Filters never hide an alarm: the alerts still cover every community.
    assert alert_slugs(html, "activation") == ["budding-one"]
    html = client.get(reverse("overview"), {"stage": "active"}).content.decode()
    assert row_slugs(html) == ["active-one", "quiet-one"]
    html = client.get(reverse("overview"), {"stage": "nonsense"}).content.decode()
    assert len(row_slugs(html)) == 6


def test_filter_by_programme_and_funnel_role(org_a, client_for, manager_a):
    programme = programme_create(organization=org_a, name="Spring 春")
    inside = CommunityFactory(
        organization=org_a, slug="inside", programme=programme, funnel_role=FunnelRole.FAN
    )
    CommunityFactory(organization=org_a, slug="outside", funnel_role=FunnelRole.TRAFFIC)
    client = client_for(manager_a)
    html = client.get(reverse("overview"), {"programme": programme.pk}).content.decode()
    assert row_slugs(html) == [inside.slug]
    assert "Spring 春" in table_of(html)
    html = client.get(reverse("overview"), {"funnel_role": "traffic"}).content.decode()
    assert row_slugs(html) == ["outside"]


def test_htmx_filter_returns_only_the_table(built, client_for, manager_a):
    response = client_for(manager_a).get(
        reverse("overview"), {"stage": "dormant", "sort": "name"}, headers=HX
    )
    html = response.content.decode()
    assert "<html" not in html and 'data-testid="alerts"' not in html
    assert html.lstrip().startswith('<div id="overview-table"')
    assert row_slugs(html) == ["dormant-one"]
    assert "HX-Request" in response["Vary"]


def test_page_works_without_javascript(built, client_for, manager_a):
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    form = re.search(r'<form method="get" action="/"[^>]*id="overview-filters"[^>]*>', html)
    assert (
        form is not None and 'hx-get="/"' in form.group(0) and 'hx-push-url="true"' in form.group(0)
    )
    assert "<noscript><button" in html
    for hx_get in re.findall(r"<a [^>]*hx-get=[^>]*>", html):
        assert " href=" in hx_get


def test_names_are_escaped(org_a, client_for, manager_a):
    community = CommunityFactory(
        organization=org_a, name="<script>alert(1)</script>", slug="hostile"
    )
    activity(community, days_ago=[9], members=1)  # dormant and in the alerts too
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    assert "<script>alert(1)" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2


def test_moderator_sees_only_assigned_communities(built, client_for, moderator_a):
    moderator_a.communities.add(built["budding"])
    html = client_for(moderator_a).get(reverse("overview")).content.decode()
    assert row_slugs(html) == ["budding-one"]
    assert alert_slugs(html, "dormant") == []
    assert "Dormant one" not in html


def test_another_organisations_community_never_appears(built, community_b, client_for, owner_a):
    activity(community_b, days_ago=[20], members=2)
    html = client_for(owner_a).get(reverse("overview")).content.decode()
    assert community_b.slug not in html and community_b.name not in html


def test_archived_communities_are_left_out(org_a, client_for, manager_a):
    CommunityFactory(organization=org_a, slug="old", archived=True)
    CommunityFactory(organization=org_a, slug="current")
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    assert row_slugs(html) == ["current"]


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_is_constant(count, org_a, client_for, operator_a, django_assert_num_queries):
    programme = programme_create(organization=org_a, name="P")
    communities = [
        CommunityFactory(organization=org_a, programme=programme if i % 2 else None)
        for i in range(count)
    ]
    activity(communities[0], days_ago=[1, 3], members=2)
    client = client_for(operator_a)
    # session, user, staff + organisation, programmes (filter choices), communities,
    # their day rollups, their pulses; + 2 for action power (closed occurrences' invited,
    # challenges with their check-ins: metrics.action_power); + 2 for SOP completion (the
    # checklist items of the 30 days for the column, the daily runs' of 7 days for the alert:
    # metrics.sop_completion, one grouped query each)
    with django_assert_num_queries(11):
        response = client.get(reverse("overview"), {"sort": "-wau"})
    assert len(row_slugs(response.content.decode())) == count
    with django_assert_num_queries(11):
        response = client.get(reverse("overview"), {"stage": "dormant"}, headers=HX)
    assert response.status_code == 200


def test_overview_csv_has_every_row_with_its_stage(client_for, owner_a, operator_a, org_a):
    import csv
    import io

    from tests.factories import CommunityFactory

    CommunityFactory(organization=org_a, name="=HYPERLINK(1)", slug="formula")
    CommunityFactory(organization=org_a, name="读书会", slug="reading")
    page = client_for(owner_a).get(reverse("overview")).content.decode()
    assert 'data-testid="overview-csv"' in page
    response = client_for(owner_a).get(reverse("overview-csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["community", "slug", "programme", "platform", "stage"]
    by_slug = {row[1]: row for row in rows[1:]}
    assert set(by_slug) == {"formula", "reading"}
    assert by_slug["formula"][0] == "'=HYPERLINK(1)"  # a formula stays text in Excel
    assert by_slug["reading"][4] == "dormant"  # no activity at all
    # Operators compare but do not export (the export rule of the members CSV).
    assert client_for(operator_a).get(reverse("overview-csv")).status_code == 403
