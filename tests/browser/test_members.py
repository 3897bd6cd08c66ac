import pytest
from playwright.sync_api import expect

from communities.models import Role
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_filters_bulk_moves_three_and_sees_the_pyramid_change(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    reading = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    running = CommunityFactory(organization=org_a, name="跑步群", slug="running")
    for n in range(6):
        MembershipFactory(community=reading, member__display_name=f"读者{n}")
    MembershipFactory(community=running, member__display_name="跑者")
    core = reading.tiers.get(rank=3)

    log_in(page, live_server, staff.user.username)
    page.click("nav.sidebar >> text=Members")
    page.wait_for_selector("h1:has-text('Members')")
    assert "跑者" in page.locator(".members-table").inner_text()
    page.evaluate("window.__marker = 'same page'")

    page.select_option("select[name=community]", "reading")
    page.wait_for_selector("[data-testid=pyramid] .chart svg.main-svg")
    assert "跑者" not in page.locator(".members-table").inner_text()
    assert page.locator("td[data-tier='1']").text_content() == "6"
    assert page.locator("td[data-tier='3']").text_content() == "0"

    boxes = page.locator(".members-table input[name=memberships]")
    # The bulk bar shows the chosen action's fields only.
    page.select_option("select[name=action]", "tag")
    expect(page.locator("#bulk-form select[name=tier]")).to_be_hidden()
    expect(page.locator("#bulk-form input[name=tag_name]")).to_be_visible()
    # The header's box ticks (and unticks) every member on the page.
    page.check("input[data-select-all=memberships]")
    assert boxes.evaluate_all("boxes => boxes.every(box => box.checked)")
    page.uncheck("input[data-select-all=memberships]")
    assert boxes.evaluate_all("boxes => boxes.every(box => !box.checked)")
    for index in range(3):
        boxes.nth(index).check()
    page.select_option("select[name=action]", "move_tier")
    expect(page.locator("#bulk-form input[name=tag_name]")).to_be_hidden()
    page.select_option("#bulk-form select[name=tier]", str(core.pk))
    page.click("#bulk-form button[type=submit]")
    page.wait_for_selector("text=3 members updated.")
    expect(page.locator("td[data-tier='3']")).to_have_text("3")

    assert page.locator("td[data-tier='3']").text_content() == "3"
    assert page.locator("td[data-tier='1']").text_content() == "3"
    # The redrawn chart shows the new figures (top tier first); plotly draws it just after
    # the swap, so wait for its data rather than read it at once.
    page.wait_for_function(
        "() => document.querySelector('[data-testid=pyramid] .chart')?.data?.[0] !== undefined"
    )
    bars = page.evaluate("document.querySelector('[data-testid=pyramid] .chart').data[0].x")
    assert bars == [0, 3, 0, 3]
    assert page.evaluate("window.__marker") == "same page"  # no reload
    assert page.console_problems == []


def test_choosing_a_rule_fills_in_its_points_and_reason(page, live_server, org_a):
    from communities.models import RuleKind
    from communities.services import rule_create

    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    reading = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    rule_create(
        community=reading, by=staff.user, kind=RuleKind.ENCOURAGED, title="分享读书笔记", points=15
    )
    membership = MembershipFactory(community=reading, member__display_name="读者")
    log_in(page, live_server, staff.user.username)
    page.goto(f"{live_server.url}/members/{membership.member_id}/")
    prefix = f"#id_p{membership.pk}"
    # The forms are open, not behind a collapsed section.
    expect(page.locator(f"{prefix}-rule")).to_be_visible()
    page.select_option(f"{prefix}-rule", label="分享读书笔记")
    expect(page.locator(f"{prefix}-delta")).to_have_value("15")
    expect(page.locator(f"{prefix}-reason")).to_have_value("分享读书笔记")
    page.fill(f"{prefix}-delta", "20")  # still editable
    page.click(f"form:has({prefix}-rule) button[type=submit]")
    expect(page.locator("body")).to_contain_text("20")
    membership.refresh_from_db()
    assert membership.points_balance == 20
    assert page.console_problems == []
