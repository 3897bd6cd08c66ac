"""A manager reads a community's analytics in Chromium: htmx interval switch, drill-down."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from analytics.rollups import rollups_refresh
from communities.models import Community, Role
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _history(community: Community) -> list:
    """Six people over ten weeks: two join early and stay, the others come and go."""
    tz = ZoneInfo(community.time_zone)
    today = community.local_today()
    events = []
    for person in range(6):
        joined = today - timedelta(weeks=9 - person)
        key, name = f"wx_{person}", f"成员{person} <b>"
        events.append(
            IncomingEvent(f"j{person}", "join", datetime.combine(joined, time(9), tz), key, name)
        )
        weeks_active = 10 if person < 2 else 2
        for week in range(weeks_active):
            day = joined + timedelta(weeks=week, days=1)
            if day <= today:
                when = datetime.combine(day, time(20), tz)
                events.append(IncomingEvent(f"m{person}-{week}", "message", when, key, name, "hi"))
    return events


def test_manager_switches_to_months_and_opens_a_retention_cell(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.MANAGER)
    community = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    Community.objects.filter(pk=community.pk).update(
        created_on=community.local_today() - timedelta(weeks=12)
    )
    community.refresh_from_db()
    events = _history(community)
    ingest_events(community=community, source="import", events=events)
    days = sorted({e.occurred_at.astimezone(ZoneInfo(community.time_zone)).date() for e in events})
    rollups_refresh(community=community, days=days)

    log_in(page, live_server, staff.user.username)
    page.goto(f"{live_server.url}/analytics/reading/")
    expect(page.locator("[data-chart=activity-chart] svg.main-svg").first).to_be_visible()
    page.evaluate("window.__marker = 'same page'")
    weeks = page.locator("[data-testid=activity-table] tbody tr").count()

    page.select_option("select[name=interval]", "month")
    page.click(".range-form button[type=submit]")
    expect(page).to_have_url(re.compile(r"interval=month"))
    expect(page.locator("[data-testid=activity-table] tbody tr")).not_to_have_count(weeks)
    assert page.locator("[data-testid=activity-table] tbody tr").count() < weeks
    assert page.evaluate("window.__marker") == "same page"  # htmx swap, no reload

    page.locator("#retention details.table-view summary").click()
    cell = page.locator("[data-testid=retention-table] a[data-offset='1']").first
    cell.click()
    result = page.locator("[data-testid=drilldown]")
    expect(result).to_be_visible()
    expect(result.locator(".drilldown-members li").first).to_contain_text("成员")
    # Names that are markup stay text.
    assert "<b>" in result.locator(".drilldown-members").inner_text()
    assert page.evaluate("window.__marker") == "same page"
    assert page.console_problems == []


def test_the_portfolio_links_to_each_community_can_be_clicked(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.MANAGER)
    CommunityFactory(organization=org_a, name="读书会", slug="reading")
    CommunityFactory(organization=org_a, name="Runners <i>", slug="runners")
    log_in(page, live_server, staff.user.username)
    page.goto(f"{live_server.url}/analytics/")
    link = page.locator(".portfolio-table a", has_text="Runners <i>")
    box = link.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    link.click()
    expect(page).to_have_url(f"{live_server.url}/analytics/runners/")
    assert page.console_problems == []
