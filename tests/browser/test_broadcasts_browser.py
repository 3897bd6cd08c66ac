"""The broadcast form in a real browser: the preview per community follows the form (htmx
POST on a change, with the CSRF token), shows an over-limit WeCom text as an error, and a
saved broadcast is listed with its schedule and next send."""

import pytest
from playwright.sync_api import expect

from automations.models import Broadcast, Outlet, ScheduledAction
from communities.models import Role
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_preview_follows_the_form_and_the_broadcast_is_saved(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    reading = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    berlin = CommunityFactory(
        organization=org_a, name="Berlin Readers", slug="berlin", time_zone="Europe/Berlin"
    )
    Outlet.objects.create(
        community=reading,
        name="企业微信群机器人",
        platform="wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
    )
    log_in(page, live_server, staff.user.username)
    page.goto(f"{live_server.url}/automations/broadcasts/")
    page.get_by_test_id("broadcast-new").click()

    page.fill("#id_name", "每日早安")
    page.get_by_label("读书会").check()
    page.get_by_label("Berlin Readers").check()
    preview = page.get_by_test_id("broadcast-preview")
    expect(preview.get_by_test_id("preview-row")).to_have_count(2)
    page.fill("#id_text", "{community}" + "书" * 700)
    expect(preview.get_by_test_id("preview-error")).to_contain_text("2,048")
    page.fill("#id_text", "{community}，早上好！")
    expect(preview).to_contain_text("读书会，早上好！")
    expect(preview).to_contain_text("Berlin Readers，早上好！")
    expect(preview.get_by_test_id("preview-error")).to_have_count(0)

    page.get_by_test_id("broadcast-save").click()
    expect(page.get_by_test_id("broadcast")).to_contain_text("每日早安")
    expect(page.get_by_test_id("broadcast")).to_contain_text("every day 09:00")
    broadcast = Broadcast.objects.get()
    assert broadcast.rrule == "FREQ=DAILY"
    assert ScheduledAction.objects.filter(broadcast=broadcast).exists()  # planned at once
    assert {c.pk for c in broadcast.communities.all()} == {reading.pk, berlin.pk}
    assert page.console_problems == []
