import pytest
from playwright.sync_api import expect

from communities.models import Platform, Role
from tests.factories import CommunityFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_log_in_switch_to_chinese_and_see_chinese_navigation(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.OWNER)
    CommunityFactory(organization=org_a, name="Shanghai Runners", platform=Platform.TELEGRAM)
    CommunityFactory(organization=org_a, name="读书会", platform=Platform.WECHAT)

    log_in(page, live_server, staff.user.username)
    nav = page.locator("nav.sidebar")
    assert nav.inner_text().split() == [
        "Overview", "Communities", "Members", "Calendar", "Checklists",
        "Actions", "Analytics", "Imports", "Settings",
    ]  # fmt: skip
    # plotly.js loaded from static/ and drew the chart from json_script data.
    page.wait_for_selector("[data-chart] svg.main-svg")

    # The language switcher submits itself on change (no button with JavaScript on).
    assert not page.locator("#language-switch + button").is_visible()
    page.select_option("#language-switch", "zh-hans")
    page.wait_for_selector("html[lang=zh-hans]")
    assert nav.inner_text().split() == [
        "总览", "社群", "成员", "日历", "检查清单", "自动化", "数据分析", "导入", "设置",
    ]  # fmt: skip
    assert page.locator("h1").inner_text() == "总览"

    page.click("nav.sidebar >> text=社群")
    page.wait_for_selector("h1:has-text('社群')")
    assert "读书会" in page.locator("#community-table").inner_text()

    page.click("text=新建社群")
    page.fill("input[name=name]", "周末读书会")
    page.select_option("select[name=platform]", "wechat")
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('周末读书会')")
    # No CSP violation, no script error, on any of these pages.
    assert page.console_problems == []


def test_htmx_filter_updates_the_table_without_a_reload(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    CommunityFactory(organization=org_a, name="Telegram runners", platform=Platform.TELEGRAM)
    CommunityFactory(organization=org_a, name="WeChat readers", platform=Platform.WECHAT)
    log_in(page, live_server, staff.user.username)
    page.goto(f"{live_server.url}/communities/")
    page.evaluate("window.__marker = 'same page'")

    page.select_option("select[name=platform]", "telegram")
    expect(page.locator("#community-table")).not_to_contain_text("WeChat readers")
    assert "Telegram runners" in page.locator("#community-table").inner_text()
    assert page.evaluate("window.__marker") == "same page"  # no full reload
    assert "platform=telegram" in page.url  # the filter is in the address, shareable
    assert page.console_problems == []


def test_phone_layout_keeps_navigation_reachable(browser, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.MODERATOR)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server, staff.user.username)
    nav = page.locator("nav.sidebar")
    box = nav.bounding_box()
    assert box["width"] <= 390
    # A moderator's navigation has no operator-only pages.
    assert "Imports" not in nav.inner_text()
    page.click("nav.sidebar >> text=Checklists")
    page.wait_for_selector("h1:has-text('Checklists')")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, "the page overflows the phone's width"
    context.close()
