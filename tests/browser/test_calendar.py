"""The calendar in a real browser: create a weekly series in the dialog, move a month on
without a reload, and find its occurrences there."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.calendar.models import CalendarEntry
from communities.models import Role
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_creates_a_weekly_discussion_for_two_groups_and_pages_to_next_month(
    page, live_server, org_a
):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    reading = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    writing = CommunityFactory(organization=org_a, name="写作营", slug="writing")
    log_in(page, live_server, staff.user.username)

    page.goto(f"{live_server.url}{reverse('activities:calendar')}")
    # A marker on the window: it survives only if the page is never reloaded.
    page.evaluate("window.calendarMarker = 'still here'")
    heading = page.get_by_test_id("calendar-heading").inner_text()

    page.get_by_test_id("new-entry").click()
    dialog = page.get_by_test_id("entry-dialog")
    dialog.wait_for(state="visible")
    form = page.locator("#entry-form")
    form.locator("[name=title]").fill("Topic: how we read")
    form.locator(f"input[name=communities][value='{reading.pk}']").check()
    form.locator(f"input[name=communities][value='{writing.pk}']").check()
    start = timezone.localdate()
    form.locator("[name=start_date]").fill(start.isoformat())
    form.locator("[name=start_time]").fill("21:00")
    form.locator("[name=end_time]").fill("21:30")
    form.locator("[name=repeat]").select_option("weekly")
    weekday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][start.weekday()]
    form.locator(f"input[name=weekdays][value='{weekday}']").check()
    # The live preview says the rule in words with the next dates.
    preview = page.get_by_test_id("entry-preview")
    next_week = start + timedelta(days=7)
    page.wait_for_function(
        "(text) => document.getElementById('entry-preview').innerText.includes(text)",
        arg=f"{next_week:%m-%d}",
    )
    assert preview.inner_text().startswith("every ")
    page.get_by_test_id("entry-save").click()

    dialog.wait_for(state="hidden")
    entry = CalendarEntry.objects.get()
    assert set(entry.communities.values_list("slug", flat=True)) == {"reading", "writing"}
    assert entry.rrule == f"FREQ=WEEKLY;BYDAY={weekday}"
    page.locator("[data-testid=slot]").first.wait_for()

    page.get_by_test_id("calendar-next").click()
    page.wait_for_function(
        "(old) => document.querySelector('[data-testid=calendar-heading]').innerText !== old",
        arg=heading,
    )
    assert page.evaluate("window.calendarMarker") == "still here"  # no navigation happened
    following = start.replace(day=1) + timedelta(days=32)
    assert re.search(rf"date={following:%Y-%m}-01", page.url)  # the address follows (pushed)
    slots = page.locator("[data-testid=slot]")
    # Every week of the six-week grid from the first occurrence on has the weekday once.
    assert 4 <= slots.count() <= 6
    assert all("Topic: how we read" in text for text in slots.all_inner_texts())
    in_month = page.locator(f"td[data-day^='{following:%Y-%m}'] [data-testid=slot]")
    assert in_month.count() >= 4
    assert page.console_problems == []
