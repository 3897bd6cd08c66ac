"""The broadcasts pages through their URLs: who may see and change them, another
organisation's broadcast is a 404, names are escaped, the form saves through the service
(errors on the fields, nothing written), the preview per community (an over-limit WeCom
text), pause / resume / delete, and the list's query count."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from automations.demo.broadcasts import seed
from automations.models import (
    ActionStatus,
    Broadcast,
    Delivery,
    DeliveryState,
    Outlet,
    ScheduledAction,
)
from communities.models import Role
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db

WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key"
LIST_QUERIES = 6


def make(org, communities, name="每日早安", **fields) -> Broadcast:
    defaults = {
        "text": "{community} 早安",
        "start_date": date(2026, 1, 1),
        "at_time": time(8, 30),
        "rrule": "FREQ=DAILY",
    }
    defaults.update(fields)
    broadcast = Broadcast.objects.create(organization=org, name=name, **defaults)
    broadcast.communities.set(communities)
    return broadcast


def form_data(community, **overrides) -> dict:
    tomorrow = timezone.localdate() + timedelta(days=1)
    data = {
        "name": "周报",
        "communities": [community.pk],
        "start_date": tomorrow.isoformat(),
        "at_time": "09:00",
        "repeat": "weekly",
        "weekdays": ["MO"],
        "rrule": "",
        "text": "{community} 本周回顾",
        "no_repeat": "on",
    }
    data.update(overrides)
    return data


def test_the_list_shows_broadcasts_with_their_schedule(client_for, operator_a, community_a):
    make(operator_a.organization, [community_a])
    html = client_for(operator_a).get(reverse("automations:broadcasts")).content.decode()
    assert "每日早安" in html and "读书会" in html
    assert "every day 08:30" in html
    assert reverse("automations:broadcast-new") in html


def test_a_manager_reads_the_list_but_cannot_change(client_for, manager_a, community_a):
    broadcast = make(manager_a.organization, [community_a])
    client = client_for(manager_a)
    html = client.get(reverse("automations:broadcasts")).content.decode()
    assert "每日早安" in html and reverse("automations:broadcast-new") not in html
    assert client.get(reverse("automations:broadcast-new")).status_code == 403
    edit = reverse("automations:broadcast-edit", args=[broadcast.pk])
    assert client.get(edit).status_code == 403
    pause = reverse("automations:broadcast-pause", args=[broadcast.pk])
    assert client.post(pause).status_code == 403
    broadcast.refresh_from_db()
    assert broadcast.paused_at is None


def test_a_moderator_sees_only_broadcasts_to_their_groups(client_for, org_a, community_a):
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    community_a.assigned_staff.add(moderator)
    other = CommunityFactory(organization=org_a, slug="other", name="别的群")
    make(org_a, [community_a], name="mine")
    make(org_a, [community_a, other], name="not-all-mine")
    html = client_for(moderator).get(reverse("automations:broadcasts")).content.decode()
    assert "mine" in html and "not-all-mine" not in html


@pytest.mark.parametrize("view", ["broadcast-edit", "broadcast-pause", "broadcast-delete"])
def test_another_organisations_broadcast_is_a_404(client_for, owner_a, community_b, view):
    broadcast = make(community_b.organization, [community_b])
    client = client_for(owner_a)
    url = reverse(f"automations:{view}", args=[broadcast.pk])
    response = client.get(url) if view == "broadcast-edit" else client.post(url)
    assert response.status_code == 404
    assert Broadcast.objects.filter(pk=broadcast.pk, paused_at__isnull=True).exists()


def test_names_are_escaped(client_for, operator_a, org_a):
    group = CommunityFactory(organization=org_a, slug="x", name="<script>alert(1)</script>")
    broadcast = make(org_a, [group], name="<script>bad()</script>", text="<b>{community}</b>")
    client = client_for(operator_a)
    pages = [
        client.get(reverse("automations:broadcasts")),
        client.get(reverse("automations:broadcast-edit", args=[broadcast.pk])),
    ]
    for response in pages:
        html = response.content.decode()
        assert "<script>bad()" not in html and "<script>alert(1)" not in html
        assert "&lt;script&gt;" in html


def test_creating_through_the_form_plans_and_redirects(client_for, operator_a, community_a):
    client = client_for(operator_a)
    response = client.post(reverse("automations:broadcast-new"), form_data(community_a))
    assert response.status_code == 302
    broadcast = Broadcast.objects.get()
    assert broadcast.rrule == "FREQ=WEEKLY;BYDAY=MO"
    assert broadcast.created_by == operator_a.user
    assert broadcast.no_repeat and not broadcast.skip_if_quiet


def test_a_bad_rule_is_shown_on_the_field_and_nothing_written(client_for, operator_a, community_a):
    client = client_for(operator_a)
    data = form_data(community_a, repeat="custom", rrule="FREQ=MINUTELY")
    response = client.post(reverse("automations:broadcast-new"), data)
    assert response.status_code == 200
    assert "A broadcast repeats at most once an hour." in response.content.decode()
    assert not Broadcast.objects.exists()


def test_another_organisations_community_cannot_be_chosen(
    client_for, operator_a, community_a, community_b
):
    data = form_data(community_a, communities=[community_a.pk, community_b.pk])
    response = client_for(operator_a).post(reverse("automations:broadcast-new"), data)
    assert response.status_code == 200
    assert not Broadcast.objects.exists()


def test_editing_through_the_form_keeps_its_values(client_for, operator_a, community_a):
    broadcast = make(operator_a.organization, [community_a], rrule="FREQ=WEEKLY;BYDAY=MO,WE")
    client = client_for(operator_a)
    url = reverse("automations:broadcast-edit", args=[broadcast.pk])
    html = client.get(url).content.decode()
    assert 'value="MO" checked' in html.replace(' id="id_weekdays_0"', "")
    response = client.post(url, form_data(community_a, name="改名", repeat="daily"))
    assert response.status_code == 302
    broadcast.refresh_from_db()
    assert (broadcast.name, broadcast.rrule) == ("改名", "FREQ=DAILY")


def test_the_preview_shows_each_communitys_text_and_an_over_limit_wecom_error(
    client_for, operator_a, community_a, org_a
):
    other = CommunityFactory(
        organization=org_a, slug="berlin", name="Berlin", time_zone="Europe/Berlin"
    )
    Outlet.objects.create(community=community_a, name="群机器人", platform="wecom", url=WECOM_URL)
    text = "{community}" + "书" * 700  # 2,109 bytes in 读书会
    data = form_data(community_a, communities=[community_a.pk, other.pk], text=text)
    response = client_for(operator_a).post(
        reverse("automations:broadcast-preview"), data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the partial only
    assert "2,109 of 2,048 bytes" in html
    assert "WeCom accepts at most 2,048 bytes of text; this message has 2,109." in html
    assert "读书会" + "书" * 5 in html and "Berlin" + "书" * 5 in html
    assert "No enabled outlet" in html  # Berlin has none
    assert html.count("09:00") >= 6  # three next sends in each zone, local time


def test_the_preview_needs_the_csrf_token(operator_a, community_a):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_a.user)
    response = client.post(reverse("automations:broadcast-preview"), form_data(community_a))
    assert response.status_code == 403


def test_pause_resume_and_delete(client_for, operator_a, community_a):
    broadcast = make(operator_a.organization, [community_a], start_date=timezone.localdate())
    client = client_for(operator_a)
    client.post(reverse("automations:broadcast-pause", args=[broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.paused_at is not None
    assert "paused" in client.get(reverse("automations:broadcasts")).content.decode()
    client.post(reverse("automations:broadcast-resume", args=[broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.paused_at is None
    assert ScheduledAction.objects.filter(broadcast=broadcast).exists()
    client.post(reverse("automations:broadcast-delete", args=[broadcast.pk]))
    assert not Broadcast.objects.exists()


def test_the_lists_query_count_is_pinned(client_for, operator_a, org_a, django_assert_num_queries):
    client = client_for(operator_a)
    url = reverse("automations:broadcasts")

    def add(n):
        for i in range(n):
            group = CommunityFactory(organization=org_a, slug=f"g{n}-{i}", name=f"群{n}-{i}")
            broadcast = make(org_a, [group], name=f"b{n}-{i}")
            action = ScheduledAction.objects.create(
                organization=org_a,
                kind="broadcast",
                text="x",
                due_at=datetime(2026, 1, 1, tzinfo=UTC),
                status=ActionStatus.DISPATCHED,
                broadcast=broadcast,
            )
            action.communities.set([group])
            Delivery.objects.create(action=action, community=group, state=DeliveryState.SENT)

    add(1)
    client.get(url)
    with django_assert_num_queries(LIST_QUERIES):
        html = client.get(url).content.decode()
    assert "Sent 1" in html
    add(5)
    with django_assert_num_queries(LIST_QUERIES):
        client.get(url)


def test_the_demo_seed_makes_recurring_broadcasts(org_a, owner_a):
    for slug, name, zone in [
        ("reading-50", "读书会", "Asia/Shanghai"),
        ("early-risers-camp", "早起打卡营", "Asia/Shanghai"),
        ("sg-founders", "SG Founders", "Asia/Singapore"),
    ]:
        CommunityFactory(organization=org_a, slug=slug, name=name, time_zone=zone)
    made = seed(org_a, owner_a.user)
    assert len(made["broadcasts"]) >= 2
    assert all(b.rrule for b in made["broadcasts"])
    assert all(b.communities.exists() for b in made["broadcasts"])
    assert seed(org_a, owner_a.user)["broadcasts"] == made["broadcasts"]  # a second run: same
