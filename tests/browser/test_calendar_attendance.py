"""The moderator half of the calendar's browser test (issue 10): a moderator opens an
occurrence of a community assigned to them, ticks attendance, and the attendee's points
change on the page without a reload."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from activities.calendar import services
from activities.calendar.models import CalendarRules, Participation
from communities.models import Role, Rule, RuleKind
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_moderator_ticks_attendance_and_the_points_change(page, live_server, org_a):
    running = CommunityFactory(organization=org_a, name="跑步群", slug="running")
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    moderator.communities.add(running)
    rule = Rule.objects.create(
        community=running, kind=RuleKind.ENCOURAGED, title="参加线下活动", points=10
    )
    CalendarRules.objects.create(community=running, attendance_rule=rule)
    came = MembershipFactory(community=running, member__display_name="王芳")
    MembershipFactory(community=running, member__display_name="李雷")
    # A meetup that started half an hour ago (attendance is ticked once it has started).
    start = (timezone.now() - timedelta(minutes=30)).astimezone(ZoneInfo(running.time_zone))
    entry = services.entry_create(
        organization=org_a,
        communities=[running],
        data={"kind": "meetup", "title": "周六晨跑", "start_date": start.date(),
              "start_time": start.time().replace(second=0, microsecond=0),
              "duration_minutes": 90},
    )  # fmt: skip
    key = f"{entry.pk}-{services.first_start(entry).astimezone(UTC):%Y%m%dT%H%M%SZ}"

    log_in(page, live_server, moderator.user.username)
    page.goto(f"{live_server.url}/calendar/o/{key}/")
    page.wait_for_selector("#participation")
    page.evaluate("window.__marker = 'same page'")
    points = page.locator(f"[data-testid=points-{came.pk}]")
    expect(points).to_have_text("0")

    page.locator(f"[data-testid=attended-{came.pk}]").check()
    expect(points).to_have_text("10")
    expect(page.locator(f"[data-testid=attended-{came.pk}]")).to_be_checked()
    assert Participation.objects.get(membership=came).attended
    # A mis-tick put right takes the points back; ticked again, they are there once.
    page.locator(f"[data-testid=attended-{came.pk}]").uncheck()
    expect(page.locator(f"[data-testid=attended-{came.pk}]")).not_to_be_checked()
    expect(points).to_have_text("0")
    page.locator(f"[data-testid=attended-{came.pk}]").check()
    expect(page.locator(f"[data-testid=attended-{came.pk}]")).to_be_checked()
    expect(points).to_have_text("10")
    came.refresh_from_db()
    assert came.points_balance == 10
    assert page.evaluate("window.__marker") == "same page"  # no reload
    assert page.console_problems == []
