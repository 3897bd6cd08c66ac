"""The first hour of a Chinese operator, in the Chinese interface: a WeChat reading group
from scratch — create it (a readable pinyin address), write three encouraged behaviours
without saving in between, import a WeChat export (its format recognised), read the
analytics of the imported history (the range chosen for it), open an indicator's
definition, share the application link, apply through it as an anonymous visitor, and
approve the application."""

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from activities.models import ImportRun, ImportStatus
from communities.models import Community, Role, RuleKind
from members.models import Application, ApplicationStatus, Membership
from tests.browser.test_imports import import_worker  # noqa: F401 (a fixture)
from tests.browser.test_layout import PASSWORD
from tests.factories import StaffFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "wechat_group.csv"


def old_export(tmp_path) -> Path:
    """The MemoTrace group export, moved back to June 2024: a history imported late."""
    rows = list(csv.reader(io.StringIO(EXPORT.read_text(encoding="utf-8-sig"))))
    header = rows[0]
    when, stamp = header.index("StrTime"), header.index("CreateTime")
    for row in rows[1:]:
        row[when] = (
            row[when].replace("2026-11-20", "2024-06-20").replace("2026-11-21", "2024-06-21")
        )
        row[stamp] = ""  # StrTime alone says when (as the exporter writes for some rows)
    path = tmp_path / "周末读书会.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def chinese_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.console_problems = []
    page.on("pageerror", lambda error: page.console_problems.append(str(error)))
    return context, page


def test_a_chinese_operators_first_hour(browser, live_server, org_a, import_worker, tmp_path):  # noqa: F811
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    context, page = chinese_page(browser)
    page.goto(f"{live_server.url}/")
    page.fill("input[name=username]", staff.user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("nav.sidebar")).to_contain_text("社群")

    # A community with a Chinese name gets a readable address, shown before saving.
    page.goto(f"{live_server.url}/communities/new/")
    page.fill("input[name=name]", "周末读书会")
    expect(page.locator("#id_slug")).to_have_attribute("placeholder", "zhoumo-dushu-hui")
    page.select_option("select[name=platform]", "wechat")
    page.click("form.narrow button[type=submit]")
    page.wait_for_url(f"{live_server.url}/communities/zhoumo-dushu-hui/")
    community = Community.objects.get(slug="zhoumo-dushu-hui")
    expect(page.locator('[data-testid="pyramid-empty"]')).to_contain_text("还没有成员")

    # Three encouraged behaviours, the third row added in place, saved once.
    page.goto(f"{live_server.url}/communities/zhoumo-dushu-hui/rules/")
    for index, title in enumerate(["每日打卡", "分享读书笔记", "带新人共读"]):
        if index >= 2:
            page.click("button[value=encouraged]")
            page.wait_for_selector(f"input[name='encouraged-{index}-title']")
        page.fill(f"input[name='encouraged-{index}-title']", title)
        page.fill(f"input[name='encouraged-{index}-points']", "10")
    page.fill("textarea[name='texts-value_statement']", "每周读完一本书。")
    page.click(".rules-form .form-actions button[type=submit]")
    page.wait_for_url(f"{live_server.url}/communities/zhoumo-dushu-hui/#rules")
    assert community.rules.filter(kind=RuleKind.ENCOURAGED).count() == 3

    # The import: recognising the format is preselected, and the page names the tools.
    page.goto(f"{live_server.url}/imports/?community=zhoumo-dushu-hui")
    assert page.locator("select[name=format]").input_value() == "auto"
    expect(page.locator("[data-testid=import-form]")).to_contain_text("PyWxDump")
    page.set_input_files("input[name=file]", str(old_export(tmp_path)))
    page.click("[data-testid=import-form] button[type=submit]")
    expect(page.locator("[data-testid=import-state]")).to_have_text("成功", timeout=60_000)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED and run.format == "wechat"

    # Analytics open on the imported history, and say why.
    page.goto(f"{live_server.url}/analytics/zhoumo-dushu-hui/")
    expect(page.locator("[data-testid=quiet-since]")).to_contain_text("2024-06-21")
    assert page.locator("input[name=to]").input_value() == "2024-06-21"
    # An indicator's definition, from the keyboard.
    page.focus("button[popovertarget=def-stickiness]")
    page.keyboard.press("Enter")
    expect(page.locator("#def-stickiness")).to_be_visible()
    expect(page.locator("#def-stickiness")).to_contain_text("月活")
    page.keyboard.press("Escape")
    expect(page.locator("#def-stickiness")).to_be_hidden()

    # The application link, shared and used by someone without an account.
    page.goto(f"{live_server.url}/members/applications/zhoumo-dushu-hui/questions/")
    link = page.locator("#application-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/members/apply/[\w-]+/", link)
    visitor_context, visitor = chinese_page(browser)
    visitor.goto(link)
    expect(visitor.locator("h1")).to_have_text("申请加入 周末读书会")
    visitor.fill("input[name=display_name]", "小林")
    visitor.fill("input[name=external_id]", "wxid_xiaolin")
    visitor.click("main button[type=submit]")
    expect(visitor.locator("[data-testid=apply]")).to_contain_text("谢谢")
    visitor_context.close()
    application = Application.objects.get()
    assert application.status == ApplicationStatus.PENDING

    # Approved from the review queue, in place.
    page.goto(f"{live_server.url}/members/applications/?community=zhoumo-dushu-hui")
    page.locator(f"#application-{application.pk} form[action$='/approve/'] button").click()
    expect(page.locator(f"#application-{application.pk}")).to_contain_text("已通过")
    assert Membership.objects.filter(
        community=community, member__handles__external_id="wxid_xiaolin"
    ).exists()
    assert page.console_problems == []
    context.close()
