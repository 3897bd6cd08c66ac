import pytest

from communities import services
from communities.models import FunnelRole, Penalty, Role, RuleKind
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def community_with_rules(org):
    community = CommunityFactory(
        organization=org,
        name="读书会",
        slug="reading",
        announcement_language="en",
        funnel_role=FunnelRole.CAMP,
        capacity=10,
        value_statement="Read 20 pages a day.",
        vision="Readers for life.",
    )
    services.rule_create(
        by=None, community=community, kind=RuleKind.ENCOURAGED, title="Notes", points=10
    )
    services.rule_create(
        by=None, community=community, kind=RuleKind.FORBIDDEN, title="Ads", penalty=Penalty.REMOVAL
    )
    MembershipFactory.create_batch(3, community=community)
    return community


def test_copy_the_announcement_and_see_the_pyramid(browser, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.MANAGER)
    community_with_rules(org_a)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type in {"error", "warning"} and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))

    log_in(page, live_server, staff.user.username)
    page.goto(f"{live_server.url}/communities/reading/")
    page.wait_for_selector("[data-testid=pyramid-panel] .chart svg.main-svg")
    bars = page.evaluate("document.querySelector('[data-testid=pyramid-panel] .chart').data[0].x")
    assert bars == [0, 0, 0, 3]

    page.click("button[data-copy-target=announcement-text]")
    page.wait_for_selector("#announcement-status:has-text('Copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("[What you gain here]\nRead 20 pages a day.")
    assert copied.rstrip().endswith("Readers for life.")
    assert problems == []
    context.close()


def test_community_pages_fit_a_phone(browser, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    community = community_with_rules(org_a)
    programme = services.programme_create(organization=org_a, name="矩阵")
    community.programme = programme
    community.save()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    log_in(page, live_server, staff.user.username)
    for path in (
        "/communities/reading/",
        "/communities/reading/rules/",
        "/communities/reading/edit/",
        f"/communities/programmes/{programme.pk}/",
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_selector("h1")
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= 390, f"{path} overflows the phone's width"
    context.close()


def test_operator_adds_behaviours_in_place_and_saves_them_at_once(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    community = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    log_in(page, live_server, staff.user.username)
    page.goto(f"{live_server.url}/communities/reading/rules/")
    page.evaluate("window.__marker = 'same page'")
    titles = ["每天打卡", "分享读书笔记", "带新人共读"]
    for index, title in enumerate(titles):
        if index >= 2:  # two empty rows come with the page; the third is added in place
            page.click("button[value=encouraged]")
            page.wait_for_selector(f"input[name='encouraged-{index}-title']")
        page.fill(f"input[name='encouraged-{index}-title']", title)
        page.fill(f"input[name='encouraged-{index}-points']", str(5 * (index + 1)))
    assert page.evaluate("window.__marker") == "same page"  # no reload, nothing saved yet
    assert not community.rules.exists()
    page.click(".rules-form .form-actions button[type=submit]")
    page.wait_for_url(f"{live_server.url}/communities/reading/#rules")
    saved = community.rules.filter(kind=RuleKind.ENCOURAGED).order_by("position")
    assert [rule.title for rule in saved] == titles
    assert [rule.points for rule in saved] == [5, 10, 15]
    assert page.console_problems == []
