"""The template page in a real browser: Move down swaps the item list without a reload,
and dragging an item posts its new position (static/js/sortable-items.js), under the CSP."""

import pytest

from checklists.models import SopTemplate
from checklists.services.templates import template_copy_builtin
from communities.models import Role
from tests.browser.test_layout import log_in
from tests.factories import StaffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def order(template: SopTemplate) -> list[int]:
    return list(template.items.order_by("position").values_list("pk", flat=True))


def test_reorder_items_by_button_and_by_drag(page, live_server, org_a):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    template = template_copy_builtin(organization=org_a, key="setup", language="en")
    first, second, third = order(template)[:3]
    log_in(page, live_server, staff.user.username)
    page.goto(f"{live_server.url}/checklists/templates/{template.pk}/")
    page.evaluate("window.notReloaded = true")

    page.click(f"li[data-item='{first}'] [data-testid=move-down]")
    page.wait_for_selector(f"#item-list li:first-child[data-item='{second}']")
    assert order(template)[:3] == [second, first, third]

    # The list reorders itself while dragging; the drop's POST then swaps it from the
    # server: wait for that answer before reading the database.
    with page.expect_response(lambda response: response.request.method == "POST"):
        page.locator(f"li[data-item='{third}']").drag_to(page.locator(f"li[data-item='{second}']"))
    page.wait_for_selector(f"#item-list li:first-child[data-item='{third}']")
    assert order(template)[:3] == [third, second, first]
    assert page.evaluate("window.notReloaded") is True
    template.refresh_from_db()
    assert template.version == 3
    assert page.console_problems == []
