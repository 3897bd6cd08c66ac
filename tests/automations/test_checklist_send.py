"""Checklist messages sent to the group from My checklists: the button where the viewer may
send and the community has an enabled outlet, once per item (a second click sends nothing),
the sending and sent states of that action's delivery, who may send."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from automations.models import ActionKind, Delivery, ScheduledAction
from automations.services.checklist_messages import checklist_message_send
from automations.services.deliver import deliver
from communities.models import Role
from tests.automations.scheduling import allow_the_standin, install_queue, outlet_for, run_dispatch
from tests.checklists.test_mine import open_today
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _daytime(daytime_in_shanghai):
    return daytime_in_shanghai


@pytest.fixture
def community(org_a):
    from tests.checklists.test_mine import noon_zone
    from tests.factories import CommunityFactory

    return CommunityFactory(
        organization=org_a, name="读书会", slug="reading", time_zone=noon_zone()
    )


@pytest.fixture
def moderator(org_a, community):
    staff = StaffFactory(organization=org_a, role=Role.MODERATOR, user__username="mod")
    staff.communities.add(community)
    return staff


@pytest.fixture
def run(org_a, community, moderator):
    return open_today(
        org_a, community, message="早安，{community}！今天是 {date}。<script>x</script>"
    )


def message_item(run):
    return run.items.get(title="Morning post")


def send_url(item):
    return reverse("automations:checklist-send", args=[item.pk])


def test_the_message_is_sent_once_and_its_state_shown(
    client_for, run, community, moderator, standin, settings, monkeypatch,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    allow_the_standin(settings)
    queue = install_queue(monkeypatch)
    outlet_for(community, standin, platform="wecom")
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    item = message_item(run)
    client = client_for(moderator)
    html = client.get(reverse("checklists:mine")).content.decode()
    assert "Send to the group" in html and send_url(item) in html
    response = client.post(send_url(item), {"page": "mine"}, **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert f'id="item-{item.pk}"' in fragment and "Sending to the group" in fragment
    assert "<script>x</script>" not in fragment
    client.post(send_url(item), {"page": "mine"}, **HTMX)  # a double click
    action = ScheduledAction.objects.get()
    assert action.kind == ActionKind.CHECKLIST and action.source_key == f"checklist:{item.pk}"
    assert action.text.startswith("早安，读书会！今天是 ") and "{date}" not in action.text
    assert list(action.communities.all()) == [community]
    assert action.created_by == moderator.user
    run_dispatch(django_capture_on_commit_callbacks)
    for delivery_id in queue.sent:
        deliver(delivery_id=delivery_id)
    assert Delivery.objects.get().state == "sent"
    assert len(standin.requests) == 1
    state = client.get(send_url(item)).content.decode()
    assert "Sent to the group" in state
    assert "Sent to the group" in client.get(reverse("checklists:mine")).content.decode()


def test_no_button_without_an_enabled_outlet(client_for, run, community, moderator, standin):
    outlet = outlet_for(community, standin)
    outlet.disabled_at = outlet.created_at
    outlet.save()
    client = client_for(moderator)
    html = client.get(reverse("checklists:mine")).content.decode()
    assert "Send to the group" not in html and "Copy" in html
    response = client.post(send_url(message_item(run)), {"page": "mine"}, **HTMX)
    assert "no enabled outlet" in response.content.decode()
    assert not ScheduledAction.objects.exists()


def test_only_the_assignee_or_an_operator_may_send(
    client_for, org_a, run, community, moderator, operator_a, standin
):
    outlet_for(community, standin)
    other = StaffFactory(organization=org_a, role=Role.MODERATOR)
    other.communities.add(community)
    item = message_item(run)
    assert run.assignee == moderator
    response = client_for(other).post(send_url(item), {"page": "mine"})
    assert response.status_code == 302
    assert not ScheduledAction.objects.exists()
    with pytest.raises(ValidationError, match="assignee or an operator"):
        checklist_message_send(run_item=item, by=other)
    assert checklist_message_send(run_item=item, by=operator_a).kind == ActionKind.CHECKLIST


def test_another_organisations_item_is_a_404(client_for, org_b, run):
    stranger = StaffFactory(organization=org_b, role=Role.OPERATOR)
    response = client_for(stranger).post(send_url(message_item(run)))
    assert response.status_code == 404


def test_an_item_without_a_message_cannot_be_sent(run, moderator, community, standin):
    outlet_for(community, standin)
    plain = run.items.exclude(title="Morning post").first()
    with pytest.raises(ValidationError, match="no message"):
        checklist_message_send(run_item=plain, by=moderator)


@pytest.mark.parametrize("count", [1, 4])
def test_my_checklists_with_outlets_costs_a_constant_number_of_queries(
    client_for, org_a, count, standin, django_assert_num_queries
):
    from checklists.models import ChecklistRun
    from tests.checklists.test_mine import make_runs

    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    make_runs(org_a, count, 3, moderator)
    for run in ChecklistRun.objects.select_related("community"):
        outlet_for(run.community, standin)
        checklist_message_send(run_item=run.items.get(title="Morning post"), by=moderator)
    client = client_for(moderator)
    client.get(reverse("checklists:mine"))  # the session
    # My checklists' ten (tests/checklists/test_mine.py), and the items' sent actions.
    with django_assert_num_queries(11):
        html = client.get(reverse("checklists:mine")).content.decode()
    assert html.count('data-state="sending"') == count


def test_a_closed_days_message_is_not_offered_nor_sent(
    client_for, org_a, community, moderator, standin
):
    from datetime import timedelta

    from django.utils import timezone

    from checklists.models import ChecklistRun
    from checklists.services import runs, templates
    from tests.checklists.test_mine import daily_template

    outlet_for(community, standin)
    template = daily_template(org_a, message="早安，{community}！")
    templates.template_use_set(template=template, community=community)
    runs.daily_runs_open(now=timezone.now() - timedelta(days=1))
    yesterday = ChecklistRun.objects.get()
    assert yesterday.closes_at < timezone.now()
    html = client_for(moderator).get(reverse("checklists:mine")).content.decode()
    assert "早安，读书会！" in html  # listed as overdue, with its message to copy
    assert "Send to the group" not in html
    with pytest.raises(ValidationError, match="closed"):
        checklist_message_send(run_item=message_item(yesterday), by=moderator)
