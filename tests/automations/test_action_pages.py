"""The Actions pages through their URLs: every tab's bucketing by the deliveries' states,
the filters, live polling only while something is in flight, the buttons (cancel, send now,
mark as sent, send again) and their refusals when the state moved meanwhile, who may see
and press what, another organisation's action and delivery as 404s, escaping, and the
pages' query counts."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.calendar import services as calendar_services
from automations.models import (
    ActionKind,
    ActionStatus,
    AutomationRule,
    Broadcast,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Outlet,
    ScheduledAction,
)
from communities.models import Role
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db

LIST = reverse("automations:actions")
# The session, the user, the staff (with its organisation), the filter's communities, the
# tab counts, the page's count, its actions, their communities.
LIST_QUERIES = 8
# The session, the user, the staff, the action, its communities, its deliveries, their
# attempts.
ACTION_QUERIES = 7


@pytest.fixture(autouse=True)
def _no_queue(monkeypatch):
    """Buttons that put a delivery back to pending enqueue it after commit: not here."""
    monkeypatch.setattr("automations.services.dispatch.enqueue", lambda *a, **k: True)
    monkeypatch.setattr("automations.services.dispatch.enqueue_many", lambda *a, **k: None)


def outlet_for(community) -> Outlet:
    return Outlet.objects.get_or_create(
        community=community,
        name="企业微信群机器人",
        defaults={
            "platform": "wecom",
            "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
        },
    )[0]


def make_action(
    org,
    communities,
    *,
    status=ActionStatus.DISPATCHED,
    states=(),
    title="早安",
    due=None,
    kind=ActionKind.BROADCAST,
    text="大家早上好",
):
    """An action to ``communities`` with one delivery per state given (in order)."""
    action = ScheduledAction.objects.create(
        organization=org,
        kind=kind,
        title=title,
        text=text,
        status=status,
        due_at=due or timezone.now() - timedelta(hours=1),
    )
    action.communities.set(communities)
    for community, state in zip(communities, states, strict=False):
        Delivery.objects.create(
            action=action,
            community=community,
            outlet=outlet_for(community),
            state=state,
            attempts=1 if state != DeliveryState.PENDING else 0,
        )
    return action


def action_url(action) -> str:
    return reverse("automations:action", kwargs={"action_id": action.pk})


def shown(client, **params) -> set[str]:
    html = client.get(LIST, params).content.decode()
    return {
        title
        for title in (
            "upcoming",
            "sending",
            "sent",
            "sent-skip",
            "failed",
            "rejected",
            "unknown",
            "missed",
            "cancelled",
        )
        if f">{title}<" in html
    }


@pytest.fixture
def two(org_a):
    return [
        CommunityFactory(organization=org_a, name="读书会", slug="reading"),
        CommunityFactory(organization=org_a, name="跑步群", slug="running"),
    ]


@pytest.fixture
def every_state(org_a, two):
    S = DeliveryState
    return {
        "upcoming": make_action(
            org_a,
            two,
            status=ActionStatus.SCHEDULED,
            title="upcoming",
            due=timezone.now() + timedelta(hours=3),
        ),
        "sending": make_action(org_a, two, states=(S.SENT, S.SENDING), title="sending"),
        "sent": make_action(org_a, two, states=(S.SENT, S.SENT), title="sent"),
        "sent-skip": make_action(org_a, two, states=(S.SENT, S.SKIPPED), title="sent-skip"),
        "failed": make_action(org_a, two, states=(S.SENT, S.FAILED), title="failed"),
        "rejected": make_action(org_a, two, states=(S.REJECTED, S.SENT), title="rejected"),
        "unknown": make_action(org_a, two, states=(S.UNKNOWN, S.SENT), title="unknown"),
        "missed": make_action(org_a, two, status=ActionStatus.MISSED, title="missed"),
        "cancelled": make_action(org_a, two, status=ActionStatus.CANCELLED, title="cancelled"),
    }


@pytest.mark.parametrize(
    ("tab", "expected"),
    [
        ("upcoming", {"upcoming"}),
        ("sending", {"sending"}),
        ("sent", {"sent", "sent-skip"}),
        ("failed", {"failed", "rejected"}),
        ("unknown", {"unknown"}),
        ("missed", {"missed"}),
        ("cancelled", {"cancelled"}),
        (
            "all",
            {
                "upcoming",
                "sending",
                "sent",
                "sent-skip",
                "failed",
                "rejected",
                "unknown",
                "missed",
                "cancelled",
            },
        ),
    ],
)
def test_each_tab_holds_the_actions_of_its_state(
    client_for, operator_a, every_state, tab, expected
):
    client = client_for(operator_a)
    assert shown(client, tab=tab) == expected
    html = client.get(LIST, {"tab": tab}).content.decode()
    assert f'data-testid="tab-count-{tab}">{len(expected)}<' in html


def test_a_pending_delivery_counts_as_sending_and_a_failed_one_also_as_failed(
    client_for, operator_a, org_a, two
):
    make_action(org_a, two, states=(DeliveryState.PENDING, DeliveryState.FAILED), title="sending")
    client = client_for(operator_a)
    assert shown(client, tab="sending") == {"sending"}
    assert shown(client, tab="failed") == {"sending"}
    assert shown(client, tab="sent") == set()


def test_the_state_summary_counts_each_state(client_for, operator_a, org_a, two):
    third = CommunityFactory(organization=org_a, name="第三群", slug="third")
    S = DeliveryState
    make_action(org_a, [*two, third], states=(S.SENT, S.SENT, S.UNKNOWN), title="mix")
    html = client_for(operator_a).get(LIST).content.decode()
    assert 'data-state="sent">Sent 2<' in html
    assert 'data-state="unknown">Unknown 1<' in html
    assert "3 communities" in html


def test_filters_by_community_kind_text_and_due_date(client_for, operator_a, org_a, two):
    reading, running = two
    day = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    make_action(org_a, [reading], title="sent", due=day)
    make_action(
        org_a,
        [running],
        title="failed",
        kind=ActionKind.ANNOUNCEMENT,
        due=day + timedelta(days=3),
        text="周末读书分享会",
    )
    client = client_for(operator_a)
    assert shown(client, community="reading") == {"sent"}
    assert shown(client, community="running") == {"failed"}
    assert shown(client, kind="announcement") == {"failed"}
    assert shown(client, q="分享") == {"failed"}  # the text, not only the title
    assert shown(client, q="SENT") == {"sent"}
    assert shown(client, due_from="2026-11-21") == {"failed"}
    assert shown(client, due_to="2026-11-20") == {"sent"}
    assert shown(client, due_from="2026-11-20", due_to="2026-11-20") == {"sent"}
    # Odd values are left out, never an error page.
    response = client.get(LIST, {"due_from": "2026-13-45", "kind": "nope", "tab": "x"})
    assert response.status_code == 200


def test_the_filters_keep_the_tab_and_the_tabs_keep_the_filters(client_for, operator_a, org_a, two):
    make_action(org_a, two[:1], title="sent")
    html = client_for(operator_a).get(LIST, {"community": "reading", "tab": "sent"}).content
    html = html.decode()
    assert 'name="tab" value="sent" form="action-filters"' in html
    assert 'href="?community=reading&amp;tab=failed"' in html


def test_htmx_gets_the_results_only(client_for, operator_a, every_state):
    html = client_for(operator_a).get(LIST, {"tab": "sent"}, HTTP_HX_REQUEST="true")
    html = html.content.decode()
    assert html.lstrip().startswith('<div id="action-results"')
    assert '<nav class="sidebar"' not in html


def test_the_list_polls_only_while_something_is_in_flight(client_for, operator_a, org_a, two):
    client = client_for(operator_a)
    sent = make_action(org_a, two, states=(DeliveryState.SENT, DeliveryState.SENT), title="sent")
    later = make_action(
        org_a,
        two,
        status=ActionStatus.SCHEDULED,
        title="later",
        due=timezone.now() + timedelta(hours=1),
    )
    assert 'hx-trigger="every 5s"' not in client.get(LIST).content.decode()

    soon = make_action(
        org_a,
        two,
        status=ActionStatus.SCHEDULED,
        title="soon",
        due=timezone.now() + timedelta(seconds=30),
    )
    html = client.get(LIST).content.decode()
    assert 'hx-trigger="every 5s"' in html and 'data-live="true"' in html
    # Only what the page shows counts: the sent tab is quiet.
    assert 'hx-trigger="every 5s"' not in client.get(LIST, {"tab": "sent"}).content.decode()

    soon.delete()
    sent.deliveries.filter(community=two[0]).update(state=DeliveryState.SENDING)
    assert 'hx-trigger="every 5s"' in client.get(LIST).content.decode()
    sent.deliveries.update(state=DeliveryState.SENT)
    assert later.pk and 'hx-trigger="every 5s"' not in client.get(LIST).content.decode()


def test_the_action_page_polls_only_while_in_flight(client_for, operator_a, org_a, two):
    client = client_for(operator_a)
    action = make_action(org_a, two, states=(DeliveryState.SENT, DeliveryState.PENDING))
    assert 'hx-trigger="every 5s"' in client.get(action_url(action)).content.decode()
    action.deliveries.update(state=DeliveryState.SENT)
    assert 'hx-trigger="every 5s"' not in client.get(action_url(action)).content.decode()
    html = client.get(action_url(action), HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<div id="action-body"')


def test_the_action_page_shows_deliveries_answers_and_attempts(client_for, operator_a, org_a, two):
    action = make_action(org_a, two, states=(DeliveryState.FAILED, DeliveryState.UNKNOWN))
    action.created_by = operator_a.user
    action.save()
    failed = action.deliveries.get(state=DeliveryState.FAILED)
    for code in (500, 502, 503):
        DeliveryAttempt.objects.create(
            delivery=failed, outcome="retry", status_code=code, detail=f"HTTP {code}"
        )
    Delivery.objects.filter(pk=failed.pk).update(attempts=3, status_code=503, detail="HTTP 503")
    html = client_for(operator_a).get(action_url(action)).content.decode()
    assert "大家早上好" in html and operator_a.user.username in html
    assert html.count('data-testid="attempt"') == 3
    assert "HTTP 502" in html and ">503<" in html
    assert "Not sent, try again later" in html  # the attempt's outcome in words
    assert "企业微信群机器人" in html and "WeCom group robot" in html
    assert "The platform did not answer after the message was sent. Check the group" in html
    assert html.count('data-testid="send-again"') == 2
    assert html.count('data-testid="mark-sent"') == 1


def test_the_source_links_to_the_calendar_occurrence(client_for, operator_a, org_a, two):
    entry = calendar_services.entry_create(
        organization=org_a,
        communities=two[:1],
        data={
            "kind": "topic",
            "title": "读书分享会",
            "start_date": date(2026, 12, 5),
            "start_time": time(20, 0),
            "duration_minutes": 60,
        },
    )
    start = calendar_services.first_start(entry)
    key = f"{entry.pk}-{start:%Y%m%dT%H%M%SZ}"
    action = make_action(
        org_a,
        two[:1],
        status=ActionStatus.SCHEDULED,
        kind=ActionKind.ANNOUNCEMENT,
        due=timezone.now() + timedelta(days=1),
    )
    ScheduledAction.objects.filter(pk=action.pk).update(
        entry=entry, source_key=f"announce:{key}:day-before"
    )
    html = client_for(operator_a).get(action_url(action)).content.decode()
    occurrence = reverse("activities:occurrence", kwargs={"occurrence_key": key})
    assert f'href="{occurrence}">读书分享会</a>' in html


# --- Buttons --------------------------------------------------------------------------------


def post(client, name, obj, htmx=False):
    kwarg = "delivery_id" if isinstance(obj, Delivery) else "action_id"
    url = reverse(f"automations:{name}", kwargs={kwarg: obj.pk})
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url, **headers)


def test_mark_as_sent_on_an_unknown_delivery(client_for, operator_a, org_a, two):
    action = make_action(org_a, two[:1], states=(DeliveryState.UNKNOWN,))
    delivery = action.deliveries.get()
    client = client_for(operator_a)
    response = post(client, "delivery-mark-sent", delivery)
    assert response.status_code == 302 and response.url == action_url(action)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.resolved_by) == (DeliveryState.SENT, operator_a.user)
    assert delivery.sent_at is not None
    # Again: it moved meanwhile, so it is refused with the service's words, nothing written.
    response = post(client, "delivery-mark-sent", delivery, htmx=True)
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="action-body"')
    assert "Only a delivery whose outcome is unknown can be marked as sent." in html
    assert Delivery.objects.get(pk=delivery.pk).sent_at == delivery.sent_at


@pytest.mark.parametrize("state", [DeliveryState.UNKNOWN, DeliveryState.FAILED])
def test_send_again_puts_an_unknown_or_failed_delivery_back(
    client_for, operator_a, org_a, two, state
):
    action = make_action(org_a, two[:1], states=(state,))
    delivery = action.deliveries.get()
    response = post(client_for(operator_a), "delivery-send-again", delivery, htmx=True)
    html = response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 0)
    assert "Sending again to 读书会." in html
    assert 'hx-trigger="every 5s"' in html  # the refreshed page watches it go out


@pytest.mark.parametrize(
    "state",
    [DeliveryState.SENT, DeliveryState.PENDING, DeliveryState.REJECTED, DeliveryState.SKIPPED],
)
def test_send_again_is_refused_in_other_states(client_for, operator_a, org_a, two, state):
    action = make_action(org_a, two[:1], states=(state,))
    delivery = action.deliveries.get()
    client = client_for(operator_a)
    response = post(client, "delivery-send-again", delivery)
    assert response.status_code == 302
    assert Delivery.objects.get(pk=delivery.pk).state == state
    html = client.get(response.url).content.decode()
    assert "Only a delivery that failed or whose outcome is unknown can be sent again." in html


def test_cancel_an_upcoming_action_and_not_twice(client_for, operator_a, org_a, two):
    action = make_action(
        org_a, two, status=ActionStatus.SCHEDULED, due=timezone.now() + timedelta(hours=2)
    )
    client = client_for(operator_a)
    html = client.get(action_url(action)).content.decode()
    assert 'data-testid="cancel"' in html and 'data-testid="send-now"' not in html
    response = post(client, "action-cancel", action, htmx=True)
    assert "The action was cancelled" in response.content.decode()
    action.refresh_from_db()
    assert action.status == ActionStatus.CANCELLED
    response = post(client, "action-cancel", action, htmx=True)
    assert "Only an upcoming action can be cancelled." in response.content.decode()
    assert ScheduledAction.objects.get(pk=action.pk).status == ActionStatus.CANCELLED


@pytest.mark.parametrize("status", [ActionStatus.DISPATCHED, ActionStatus.MISSED])
def test_cancel_is_refused_once_it_left_upcoming(client_for, operator_a, org_a, two, status):
    action = make_action(org_a, two, status=status)
    response = post(client_for(operator_a), "action-cancel", action, htmx=True)
    assert "Only an upcoming action can be cancelled." in response.content.decode()
    assert ScheduledAction.objects.get(pk=action.pk).status == status


def test_send_now_on_a_missed_action_writes_its_deliveries(client_for, operator_a, org_a, two):
    for community in two:
        outlet_for(community)
    action = make_action(org_a, two, status=ActionStatus.MISSED)
    client = client_for(operator_a)
    assert 'data-testid="send-now"' in client.get(action_url(action)).content.decode()
    response = post(client, "action-send-now", action)
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == ActionStatus.DISPATCHED
    assert set(action.deliveries.values_list("state", flat=True)) == {DeliveryState.PENDING}
    response = post(client, "action-send-now", action, htmx=True)
    assert "Only a missed action can be sent now." in response.content.decode()
    assert action.deliveries.count() == 2


# --- Who may see and press what -------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.OPERATOR, Role.MANAGER, Role.MODERATOR])
def test_every_role_reads_and_only_managers_of_communities_press(org_a, two, client, role):
    staff = StaffFactory(organization=org_a, role=role)
    staff.communities.set(two)
    action = make_action(org_a, two[:1], states=(DeliveryState.UNKNOWN,))
    client.force_login(staff.user)
    assert client.get(LIST).status_code == 200
    html = client.get(action_url(action)).content.decode()
    can_press = role in (Role.OWNER, Role.OPERATOR)
    assert ('data-testid="mark-sent"' in html) is can_press
    response = post(client, "delivery-mark-sent", action.deliveries.get())
    assert response.status_code == (302 if can_press else 403)
    expected = DeliveryState.SENT if can_press else DeliveryState.UNKNOWN
    assert action.deliveries.get().state == expected


def test_a_moderator_sees_only_the_actions_and_deliveries_of_their_groups(client, org_a, two):
    reading, running = two
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    moderator.communities.set([reading])
    both = make_action(org_a, two, states=(DeliveryState.SENT, DeliveryState.FAILED), title="sent")
    theirs_not = make_action(org_a, [running], states=(DeliveryState.FAILED,), title="failed")
    client.force_login(moderator.user)
    # Their group's delivery was sent: for them the action is sent, not failed.
    assert shown(client, tab="all") == {"sent"}
    assert shown(client, tab="failed") == set()
    html = client.get(action_url(both)).content.decode()
    assert "读书会" in html and "跑步群" not in html
    assert client.get(action_url(theirs_not)).status_code == 404
    hidden = theirs_not.deliveries.get()
    assert post(client, "delivery-send-again", hidden).status_code == 404


def test_another_organisations_action_and_delivery_are_404(
    client_for, operator_a, org_b, community_b
):
    action = make_action(org_b, [community_b], states=(DeliveryState.UNKNOWN,), title="failed")
    client = client_for(operator_a)
    assert client.get(action_url(action)).status_code == 404
    assert post(client, "action-cancel", action).status_code == 404
    assert post(client, "action-send-now", action).status_code == 404
    delivery = action.deliveries.get()
    assert post(client, "delivery-mark-sent", delivery).status_code == 404
    assert post(client, "delivery-send-again", delivery).status_code == 404
    assert Delivery.objects.get(pk=delivery.pk).state == DeliveryState.UNKNOWN
    assert shown(client) == set()


def test_the_nav_opens_the_actions_page(client_for, moderator_a):
    html = client_for(moderator_a).get(LIST).content.decode()
    assert f'href="{LIST}" aria-current="page"' in html


def test_script_in_titles_texts_and_answers_is_escaped(client_for, operator_a, org_a, two):
    bad = "<script>alert(1)</script>"
    two[0].name = bad
    two[0].save()
    action = make_action(org_a, two[:1], states=(DeliveryState.UNKNOWN,), title=bad, text=bad)
    action.deliveries.update(detail=bad)
    DeliveryAttempt.objects.create(delivery=action.deliveries.get(), outcome="unknown", detail=bad)
    client = client_for(operator_a)
    for url in (LIST, action_url(action)):
        html = client.get(url).content.decode()
        assert bad not in html and "&lt;script&gt;" in html


# --- Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_costs_the_same_queries_for_3_or_30_actions(
    client_for, operator_a, org_a, two, django_assert_num_queries, count
):
    S = DeliveryState
    for n in range(count):
        make_action(
            org_a, two, states=(S.SENT, (S.FAILED, S.UNKNOWN, S.SENT)[n % 3]), title=f"a{n}"
        )
    client = client_for(operator_a)
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(LIST)
    assert response.content.decode().count('data-testid="action"') == count


@pytest.mark.parametrize("count", [3, 30])
def test_the_action_page_costs_the_same_queries_for_3_or_30_deliveries(
    client_for, operator_a, org_a, django_assert_num_queries, count
):
    communities = [
        CommunityFactory(organization=org_a, name=f"群{n}", slug=f"g{n}") for n in range(count)
    ]
    action = make_action(org_a, communities, states=[DeliveryState.FAILED] * count)
    for delivery in action.deliveries.all():
        DeliveryAttempt.objects.create(delivery=delivery, outcome="retry", status_code=500)
    client = client_for(operator_a)
    with django_assert_num_queries(ACTION_QUERIES):
        response = client.get(action_url(action))
    assert response.content.decode().count('data-testid="delivery"') == count


def test_all_shows_what_happened_newest_first_then_what_is_coming(
    client_for, operator_a, org_a, two
):
    now = timezone.now()
    for title, hours, status in [
        ("old", -48, ActionStatus.DISPATCHED),
        ("recent", -1, ActionStatus.DISPATCHED),
        ("missed", -5, ActionStatus.MISSED),
        ("far", 240, ActionStatus.SCHEDULED),
        ("soon", 2, ActionStatus.SCHEDULED),
    ]:
        make_action(org_a, two, status=status, title=title, due=now + timedelta(hours=hours))
    html = client_for(operator_a).get(LIST).content.decode()
    positions = [html.index(f">{t}<") for t in ("recent", "missed", "old", "soon", "far")]
    assert positions == sorted(positions)
    html = client_for(operator_a).get(LIST, {"tab": "upcoming"}).content.decode()
    assert html.index(">soon<") < html.index(">far<")


def test_the_source_links_to_its_broadcast_and_rule(
    client_for, operator_a, moderator_a, org_a, two
):
    broadcast = Broadcast.objects.create(
        organization=org_a, name="每日早安分享", text="早", start_date=date(2026, 11, 1),
        at_time=time(8, 30),
    )  # fmt: skip
    rule = AutomationRule.objects.create(
        organization=org_a, name="新人欢迎", trigger="member_joined"
    )
    action = make_action(org_a, two, states=(DeliveryState.SENT, DeliveryState.SENT))
    ScheduledAction.objects.filter(pk=action.pk).update(broadcast=broadcast, rule=rule)
    html = client_for(operator_a).get(action_url(action)).content.decode()
    edit = reverse("automations:broadcast-edit", kwargs={"broadcast_id": broadcast.pk})
    assert f'href="{edit}">每日早安分享</a>' in html
    assert f'href="{reverse("automations:rule", kwargs={"rule_id": rule.pk})}">新人欢迎</a>' in html
    moderator_a.communities.set(two)
    html = client_for(moderator_a).get(action_url(action)).content.decode()
    assert "每日早安分享" in html and edit not in html  # the edit page is not theirs
