import re

import pytest
from django.core import mail

from communities.models import Role, Staff
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_owner_invites_a_moderator_who_accepts_and_sees_only_their_group(
    browser, live_server, org_a
):
    owner = StaffFactory(organization=org_a, role=Role.OWNER)
    CommunityFactory(organization=org_a, name="读书会", slug="reading")
    CommunityFactory(organization=org_a, name="跑步群", slug="running")
    owner_page = browser.new_context(locale="en-GB").new_page()
    log_in(owner_page, live_server, owner.user.username)

    owner_page.goto(f"{live_server.url}/settings/")
    owner_page.click("[data-testid=manage-staff]")
    form = owner_page.locator("[data-testid=invite-form]")
    form.locator("input[name=email]").fill("xiaoyu@example.com")
    form.locator("select[name=role]").select_option(Role.MODERATOR)
    form.get_by_label("读书会").check()
    form.locator("button[type=submit]").click()
    shown = owner_page.locator("[data-testid=link]").inner_text()
    (message,) = mail.outbox
    link = re.search(r"http://\S+/accounts/invitation/\S+/", message.body).group(0)
    assert link == shown

    moderator_page = browser.new_context(locale="en-GB").new_page()
    moderator_page.goto(link)
    assert moderator_page.locator("[data-testid=invitation-email]").inner_text() == (
        "xiaoyu@example.com"
    )
    moderator_page.fill("input[name=username]", "xiaoyu")
    moderator_page.fill("input[name=password1]", "a long and unusual passphrase 42")
    moderator_page.fill("input[name=password2]", "a long and unusual passphrase 42")
    moderator_page.click("main button[type=submit]")
    moderator_page.wait_for_url(f"{live_server.url}/")
    moderator_page.goto(f"{live_server.url}/communities/")
    listing = moderator_page.locator("main").inner_text()
    assert "读书会" in listing and "跑步群" not in listing
    assert Staff.objects.get(user__username="xiaoyu").role == Role.MODERATOR


def test_a_fresh_installation_from_first_run_to_a_moderator_who_sees_only_their_group(
    browser, live_server
):
    # No organisation at all, as after `DEMO=0 make run` or a production install.
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.wait_for_url(f"{live_server.url}/setup/")
    page.fill("input[name=name]", "晨读社")
    page.fill("input[name=username]", "lan")
    page.fill("input[name=email]", "lan@example.com")
    page.fill("input[name=password1]", "a long and unusual passphrase 42")
    page.fill("input[name=password2]", "a long and unusual passphrase 42")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    for name, slug in [("读书会", "reading"), ("跑步群", "running")]:
        page.goto(f"{live_server.url}/communities/new/")
        page.fill("input[name=name]", name)
        page.fill("input[name=slug]", slug)
        page.select_option("select[name=platform]", "wechat")
        page.fill("input[name=created_on]", "2026-11-01")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{live_server.url}/communities/{slug}/")

    page.goto(f"{live_server.url}/settings/staff/")
    form = page.locator("[data-testid=invite-form]")
    form.locator("input[name=email]").fill("xiaoyu@example.com")
    form.locator("select[name=role]").select_option(Role.MODERATOR)
    form.get_by_label("读书会").check()
    form.locator("button[type=submit]").click()
    page.locator("[data-testid=link]").wait_for()
    (message,) = mail.outbox
    link = re.search(r"http://\S+/accounts/invitation/\S+/", message.body).group(0)

    moderator_page = browser.new_context(locale="en-GB").new_page()
    moderator_page.goto(link)
    moderator_page.fill("input[name=username]", "xiaoyu")
    moderator_page.fill("input[name=password1]", "another long passphrase 77")
    moderator_page.fill("input[name=password2]", "another long passphrase 77")
    moderator_page.click("main button[type=submit]")
    moderator_page.wait_for_url(f"{live_server.url}/")
    moderator_page.goto(f"{live_server.url}/communities/")
    listing = moderator_page.locator("main").inner_text()
    assert "读书会" in listing and "跑步群" not in listing
    # The first-run page is gone for good.
    assert page.goto(f"{live_server.url}/setup/").status == 404
