"""The portfolio: communities compared on week-4 retention, stickiness, mainstream share."""

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from analytics import metrics, selectors
from communities.services import programme_create
from tests.analytics.test_overview import HX, activity, aged
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


def two_cohorts(community):
    """Four members who joined six weeks ago and stayed active every day, and two who
    joined five weeks ago and were active on their first day only: week-4 retention 4/6."""
    activity(community, days_ago=range(42), members=4, prefix="stay")
    activity(community, days_ago=[35], members=2, prefix="gone")


def table_rows(html: str) -> dict[str, list[str]]:
    body = html[html.index('class="portfolio-table"') :]
    body = body[: body.index("</table>")]
    rows = {}
    for slug, cells in re.findall(r'<tr data-community="([^"]+)">(.*?)</tr>', body, re.S):
        rows[slug] = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", cells, re.S)
        ]
    return rows


def test_figures_match_the_per_community_metrics(org_a, manager_a):
    first = aged(org_a, 120, slug="first")
    two_cohorts(first)
    second = aged(org_a, 120, slug="second")
    activity(second, days_ago=range(0, 60, 3), members=6)
    activity(second, days_ago=range(20), members=2, prefix="late")
    rows = {row.community.slug: row for row in selectors.portfolio(staff=manager_a)}
    assert rows["first"].retention_week_4 == pytest.approx(4 / 6)
    for community in (first, second):
        today = community.local_today()
        row = rows[community.slug]
        curve = metrics.retention(communities=[community], end=today).curve
        indicators = metrics.indicators(communities=[community], day=today)
        assert row.retention_week_4 == curve[4]
        assert row.stickiness == pytest.approx(indicators.stickiness)
        assert row.mainstream_share == indicators.mainstream_share
        assert row.members == indicators.members
    assert rows["second"].members == 8


def test_page_shows_chart_and_table(org_a, client_for, manager_a):
    community = aged(org_a, 120, name="读书会", slug="reading")
    two_cohorts(community)
    CommunityFactory(organization=org_a, name="Empty", slug="empty")
    response = client_for(manager_a).get(reverse("analytics:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page">Analytics<' in html
    figure = json.loads(
        re.search(
            r'<script id="portfolio-chart" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    # Week-4 retention, stickiness, mainstream share, action index, SOP completion.
    assert [trace["type"] for trace in figure["data"]] == ["bar"] * 5
    assert figure["layout"]["barmode"] == "group"
    retention = figure["data"][0]
    assert retention["x"] == ["Empty", "读书会"]
    assert retention["y"] == [None, pytest.approx(66.7)]
    rows = table_rows(html)
    assert rows["reading"][3] == "66.7%"
    # Nothing measured: a dash in every column (action power too: no calls, never 0).
    assert rows["empty"][3:] == ["—"] * 7
    assert '<details class="table-view" open>' in html  # the links to each community show


def test_programme_filter_plain_and_htmx(org_a, client_for, manager_a):
    programme = programme_create(organization=org_a, name="Spring")
    CommunityFactory(organization=org_a, slug="inside", programme=programme)
    CommunityFactory(organization=org_a, slug="outside")
    client = client_for(manager_a)
    html = client.get(reverse("analytics:home"), {"programme": programme.pk}).content.decode()
    assert list(table_rows(html)) == ["inside"]
    assert f'href="/analytics/portfolio.csv?programme={programme.pk}"' in html
    response = client.get(reverse("analytics:home"), {"programme": programme.pk}, headers=HX)
    partial = response.content.decode()
    assert "<html" not in partial and partial.lstrip().startswith('<div id="portfolio-results"')
    assert list(table_rows(partial)) == ["inside"]
    # An unknown programme: no filter.
    html = client.get(reverse("analytics:home"), {"programme": "999999"}).content.decode()
    assert list(table_rows(html)) == ["inside", "outside"]


def test_csv_download(org_a, client_for, manager_a):
    community = aged(org_a, 120, name='=HYPERLINK("http://x")', slug="formula")
    two_cohorts(community)
    programme = programme_create(organization=org_a, name="@programme")
    CommunityFactory(organization=org_a, name="读书会", slug="reading", programme=programme)
    response = client_for(manager_a).get(reverse("analytics:portfolio-csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="portfolio-')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == [
        "community",
        "slug",
        "programme",
        "platform",
        "day",
        "members",
        "retention_week_4_percent",
        "stickiness_percent",
        "mainstream_share_percent",
        "sop_completion",
        "action_index",
        "community_value",
        "check_in_completion",
    ]
    by_slug = {row[1]: row for row in rows[1:]}
    assert by_slug["formula"][0] == '\'=HYPERLINK("http://x")'
    assert by_slug["formula"][4] == community.local_today().isoformat()
    assert by_slug["formula"][5] == "6"
    assert by_slug["formula"][6] == "66.7"
    assert by_slug["reading"][:3] == ["读书会", "reading", "'@programme"]
    assert by_slug["reading"][6:] == ["", "", "", "", "", "", ""]


def test_permissions(
    org_a, community_a, community_b, client_for, manager_a, moderator_a, operator_a
):
    activity(community_b, days_ago=[3], members=2)
    html = client_for(manager_a).get(reverse("analytics:home")).content.decode()
    assert community_a.slug in html and community_b.slug not in html
    text = client_for(manager_a).get(reverse("analytics:portfolio-csv")).content.decode()
    assert community_a.slug in text and community_b.slug not in text
    assert client_for(moderator_a).get(reverse("analytics:home")).status_code == 403
    # Operators compare but do not export (members CSV rule: Capability.EXPORT_DATA).
    page = client_for(operator_a).get(reverse("analytics:home"))
    assert page.status_code == 200 and "portfolio.csv" not in page.content.decode()
    assert client_for(operator_a).get(reverse("analytics:portfolio-csv")).status_code == 403


def test_names_are_escaped(org_a, client_for, manager_a):
    CommunityFactory(organization=org_a, name="<script>alert(1)</script>", slug="hostile")
    html = client_for(manager_a).get(reverse("analytics:home")).content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("count", [3, 30])
def test_query_count_is_constant(count, org_a, client_for, manager_a, django_assert_num_queries):
    programme = programme_create(organization=org_a, name="P")
    communities = [
        CommunityFactory(organization=org_a, programme=programme if i % 2 else None)
        for i in range(count)
    ]
    two_cohorts(communities[0])
    client = client_for(manager_a)
    # session, user, staff + organisation, programmes (filter choices), communities,
    # their cohorts, their days; + 2 for action power (closed occurrences' invited,
    # challenges with their check-ins: metrics.action_power); + 1 for SOP completion (the
    # checklist items of the 30 days, one grouped query: metrics.sop_completion)
    with django_assert_num_queries(10):
        html = client.get(reverse("analytics:home")).content.decode()
    assert len(table_rows(html)) == count
    with django_assert_num_queries(10):
        response = client.get(reverse("analytics:portfolio-csv"))
    assert len(response.content.decode().splitlines()) == count + 1
