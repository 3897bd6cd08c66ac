"""The Actions pages in a real browser: an action's page follows its delivery going out
(htmx polling every 5 s) and stops asking once nothing is in flight; "Mark as sent" swaps
the refreshed action in place; a tab and a search change the list and the address."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from automations.models import ActionStatus, Delivery, DeliveryState, Outlet, ScheduledAction
from communities.models import Platform, Role
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def action_with(org, community, state, title):
    outlet = Outlet.objects.create(
        community=community,
        name="企业微信群机器人",
        platform="wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
    )
    action = ScheduledAction.objects.create(
        organization=org,
        kind="broadcast",
        title=title,
        text="大家早上好",
        status=ActionStatus.DISPATCHED,
        due_at=timezone.now() - timedelta(seconds=10),
    )
    action.communities.add(community)
    Delivery.objects.create(action=action, community=community, outlet=outlet, state=state)
    return action


def test_the_action_page_follows_a_delivery_and_buttons_swap_in_place(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    community = CommunityFactory(organization=org_a, name="读书会", platform=Platform.WECHAT)
    sending = action_with(org_a, community, DeliveryState.SENDING, "早安")
    log_in(page, live_server, staff.user.username)

    page.goto(f"{live_server.url}/automations/actions/{sending.pk}/")
    body = page.locator("#action-body")
    expect(body).to_have_attribute("data-live", "true")
    expect(page.locator("[data-testid=delivery]")).to_have_attribute("data-state", "sending")
    Delivery.objects.filter(action=sending).update(
        state=DeliveryState.SENT, sent_at=timezone.now(), status_code=200,
        detail='{"errcode":0,"errmsg":"ok"}',
    )  # fmt: skip
    delivery = page.locator("[data-testid=delivery]")
    expect(delivery).to_have_attribute("data-state", "sent", timeout=12_000)
    expect(delivery).to_contain_text('{"errcode":0,"errmsg":"ok"}')
    expect(body).not_to_have_attribute("data-live", "true")  # nothing in flight: no polling

    unknown = ScheduledAction.objects.get(pk=sending.pk)
    Delivery.objects.filter(action=unknown).update(state=DeliveryState.UNKNOWN, sent_at=None)
    page.reload()
    page.click("[data-testid=mark-sent]")
    expect(page.locator("#action-body .message")).to_contain_text("Marked as sent to 读书会.")
    expect(delivery).to_have_attribute("data-state", "sent")
    assert page.url.endswith(f"/automations/actions/{sending.pk}/")

    page.goto(f"{live_server.url}/automations/actions/")
    page.click("[data-tab=sent]")
    expect(page).to_have_url(f"{live_server.url}/automations/actions/?tab=sent")
    expect(page.locator("[data-testid=action]")).to_have_count(1)
    page.fill("input[name=q]", "没有这个")
    expect(page.locator("[data-testid=action]")).to_have_count(0)
    assert "tab=sent" in page.url and "q=" in page.url
    assert page.console_problems == []
