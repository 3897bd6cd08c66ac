"""Broadcasts' services (automations/services/broadcasts.py): every refusal writes nothing,
an edit plans again, pause/resume/delete; and at dispatch time the text filled per
community, "skip a quiet group" and "never the same text twice" (automations/services/
dispatch.py)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError

from activities.models import ActivityEvent, ActivityKind, EventSource
from automations.models import (
    ActionStatus,
    Broadcast,
    Delivery,
    DeliveryState,
    Outlet,
    ScheduledAction,
)
from automations.services import dispatch
from automations.services.broadcasts import (
    broadcast_create,
    broadcast_delete,
    broadcast_pause,
    broadcast_resume,
    broadcast_update,
)
from automations.services.deliver import deliver
from automations.services.plan import plan_broadcasts
from tests.automations.scheduling import allow_the_standin, install_queue, outlet_for
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=robot-key"


def wecom(community, name="企业微信群") -> Outlet:
    return Outlet.objects.create(community=community, name=name, platform="wecom", url=WECOM_URL)


def create(org, by=None, **overrides):
    fields = {
        "organization": org,
        "by": by,
        "name": "每日早安",
        "text": "{community} 早安！今天是{date}",
        "markdown": False,
        "communities": [],
        "start_date": date(2026, 11, 3),
        "at_time": time(8, 30),
        "rrule": "FREQ=DAILY",
        "skip_if_quiet": False,
        "no_repeat": False,
        "now": NOW,
    }
    fields.update(overrides)
    return broadcast_create(**fields)


def refused(org, **overrides) -> dict:
    with pytest.raises(ValidationError) as caught:
        create(org, **overrides)
    assert Broadcast.objects.count() == 0
    assert ScheduledAction.objects.count() == 0
    return caught.value.message_dict


def test_a_broadcast_is_created_and_planned_at_once(org_a, community_a):
    broadcast = create(org_a, communities=[community_a])
    assert broadcast.rrule == "FREQ=DAILY"
    actions = list(ScheduledAction.objects.filter(broadcast=broadcast).order_by("due_at"))
    # 08:30 Shanghai on the 3rd (00:30 UTC) is within 36 hours; the 4th is not.
    assert [a.due_at for a in actions] == [datetime(2026, 11, 3, 0, 30, tzinfo=UTC)]
    assert actions[0].source_key == f"broadcast:{broadcast.pk}:20261103T0830:Asia/Shanghai"
    assert actions[0].title == "每日早安"
    assert list(actions[0].communities.all()) == [community_a]


def test_an_empty_text_is_refused(org_a, community_a):
    assert "text" in refused(org_a, communities=[community_a], text="  \n")


def test_a_text_too_long_for_wecom_is_refused_naming_the_community_and_the_limit(
    org_a, community_a
):
    wecom(community_a)
    errors = refused(org_a, communities=[community_a], text="{community}" + "书" * 700)
    [message] = errors["text"]
    assert "读书会" in message and "WeCom" in message
    assert "2,048" in message and "2,109" in message  # 读书会 is 9 bytes, 700 × 3 = 2,100


def test_the_limit_is_checked_on_the_text_filled_for_each_community(org_a, community_a):
    long_name = CommunityFactory(organization=org_a, slug="long", name="长" * 30)
    wecom(community_a)
    wecom(long_name)
    text = "{community}" + "a" * 2000  # 2,009 bytes in 读书会, 2,090 in the long one
    errors = refused(org_a, communities=[community_a, long_name], text=text)
    [message] = errors["text"]
    assert message.startswith("长" * 30)


def test_a_disabled_outlet_is_not_checked(org_a, community_a):
    outlet = wecom(community_a)
    outlet.disabled_at = NOW
    outlet.save()
    create(org_a, communities=[community_a], text="书" * 700)
    assert Broadcast.objects.count() == 1


@pytest.mark.parametrize(
    "rule", ["FREQ=MINUTELY", "FREQ=HOURLY;BYMINUTE=0,30", "FREQ=SOMETIMES", "BYDAY=MO"]
)
def test_a_bad_or_too_frequent_rule_is_refused(org_a, community_a, rule):
    assert "rrule" in refused(org_a, communities=[community_a], rrule=rule)


def test_the_too_often_message_speaks_of_a_broadcast(org_a, community_a):
    errors = refused(org_a, communities=[community_a], rrule="FREQ=MINUTELY")
    assert errors["rrule"] == ["A broadcast repeats at most once an hour."]


def test_another_organisations_community_is_refused(org_a, community_a, community_b):
    assert "communities" in refused(org_a, communities=[community_a, community_b])


def test_no_community_is_refused(org_a):
    assert "communities" in refused(org_a, communities=[])


def test_a_one_off_time_in_the_past_is_refused(org_a, community_a):
    errors = refused(
        org_a, communities=[community_a], rrule="", start_date=date(2026, 11, 2), at_time=time(8)
    )
    assert "读书会" in errors["at_time"][0]


def test_a_one_off_time_past_in_one_zone_only_is_refused(org_a, community_a):
    # 10:00 on 2 November: past in Shanghai (09:00 now), ahead in Berlin (02:00 now).
    berlin = CommunityFactory(organization=org_a, slug="berlin", time_zone="Europe/Berlin")
    errors = refused(
        org_a,
        communities=[community_a, berlin],
        rrule="",
        start_date=date(2026, 11, 2),
        at_time=time(8, 59),
    )
    assert "读书会" in errors["at_time"][0] and berlin.name not in errors["at_time"][0]


def test_editing_removes_the_upcoming_actions_and_plans_again(org_a, community_a):
    broadcast = create(org_a, communities=[community_a])
    [old] = ScheduledAction.objects.filter(broadcast=broadcast)
    broadcast_update(
        broadcast=broadcast,
        name="早安",
        text="早上好",
        communities=[community_a],
        start_date=date(2026, 11, 3),
        at_time=time(7, 45),
        rrule="FREQ=DAILY",
        now=NOW + timedelta(minutes=1),
    )
    actions = list(ScheduledAction.objects.filter(broadcast=broadcast))
    assert old.pk not in [a.pk for a in actions]
    assert [(a.due_at, a.text, a.title) for a in actions] == [
        (datetime(2026, 11, 2, 23, 45, tzinfo=UTC), "早上好", "早安")
    ]


def test_a_refused_edit_changes_nothing(org_a, community_a):
    broadcast = create(org_a, communities=[community_a])
    before = list(ScheduledAction.objects.values_list("pk", flat=True))
    with pytest.raises(ValidationError):
        broadcast_update(
            broadcast=broadcast,
            name="x",
            text="",
            communities=[community_a],
            start_date=date(2026, 11, 3),
            at_time=time(7),
            rrule="FREQ=DAILY",
            now=NOW,
        )
    broadcast.refresh_from_db()
    assert broadcast.name == "每日早安"
    assert list(ScheduledAction.objects.values_list("pk", flat=True)) == before


def test_an_edit_never_sends_an_earlier_time_late(org_a, community_a):
    # Sent at 09:00; edited at 09:01 to 08:50 (within the grace): not sent again today.
    broadcast = create(org_a, communities=[community_a], at_time=time(9), start_date=NOW.date())
    ScheduledAction.objects.filter(broadcast=broadcast).update(status=ActionStatus.DISPATCHED)
    broadcast_update(
        broadcast=broadcast,
        name="早安",
        text="早上好",
        communities=[community_a],
        start_date=NOW.date(),
        at_time=time(8, 50),
        rrule="FREQ=DAILY",
        now=NOW + timedelta(minutes=1),
    )
    upcoming = ScheduledAction.objects.filter(broadcast=broadcast, status=ActionStatus.SCHEDULED)
    assert [a.due_at for a in upcoming] == [datetime(2026, 11, 3, 0, 50, tzinfo=UTC)]


def test_pause_removes_upcoming_actions_and_resume_plans_from_now(org_a, community_a):
    broadcast = create(org_a, communities=[community_a])
    broadcast_pause(broadcast=broadcast, now=NOW)
    assert not ScheduledAction.objects.filter(broadcast=broadcast).exists()
    assert plan_broadcasts(now=NOW) == 0
    broadcast_resume(broadcast=broadcast, now=NOW + timedelta(hours=30))  # 15:00 on the 3rd
    dues = sorted(a.due_at for a in ScheduledAction.objects.filter(broadcast=broadcast))
    assert dues == [datetime(2026, 11, 4, 0, 30, tzinfo=UTC)]  # not the 3rd's, long gone


def test_delete_removes_the_broadcast_and_its_upcoming_actions_but_keeps_what_it_sent(
    org_a, community_a
):
    broadcast = create(org_a, communities=[community_a])
    upcoming = ScheduledAction.objects.filter(broadcast=broadcast)
    assert upcoming.exists()
    sent = upcoming.first()
    ScheduledAction.objects.filter(pk=sent.pk).update(status=ActionStatus.DISPATCHED)
    broadcast_delete(broadcast=broadcast)
    assert not Broadcast.objects.exists()
    kept = ScheduledAction.objects.get()
    assert kept.pk == sent.pk and kept.broadcast is None and kept.title == sent.title


# --- At dispatch time ---------------------------------------------------------------------


@pytest.fixture
def queue(monkeypatch, settings, org_a):
    allow_the_standin(settings)
    org_a.language = "en"  # the skipped deliveries' reasons are in the organisation's language
    org_a.save()
    return install_queue(monkeypatch)


def dispatch_and_send(when, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        plan_broadcasts(now=when)
        dispatch.dispatch_due(now=when)
    while queue.sent:
        deliver(delivery_id=queue.sent.pop(0), now=when)


def first_send(broadcast) -> datetime:
    return ScheduledAction.objects.filter(broadcast=broadcast).order_by("due_at")[0].due_at


def test_placeholders_are_filled_per_community(
    org_a, community_a, standin, queue, django_capture_on_commit_callbacks
):
    other = CommunityFactory(organization=org_a, slug="second", name="二群")
    MembershipFactory(community=other)
    MembershipFactory(community=other)
    outlet_for(community_a, standin)
    outlet_for(other, standin)
    broadcast = create(
        org_a, communities=[community_a, other], text="{community}：{weekday}，{members} 人"
    )
    dispatch_and_send(first_send(broadcast), queue, django_capture_on_commit_callbacks)
    texts = dict(Delivery.objects.values_list("community__name", "text"))
    assert texts == {"读书会": "读书会：Tuesday，0 人", "二群": "二群：Tuesday，2 人"}
    assert {r.json["text"] for r in standin.requests} == set(texts.values())


def test_skip_if_quiet_skips_a_group_with_no_activity_since_the_last_broadcast(
    org_a, community_a, standin, queue, django_capture_on_commit_callbacks
):
    lively = CommunityFactory(organization=org_a, slug="lively", name="热闹群")
    outlet_for(community_a, standin)
    outlet_for(lively, standin)
    broadcast = create(
        org_a, communities=[community_a, lively], text="{date} 早安", skip_if_quiet=True
    )
    day_one = first_send(broadcast)
    dispatch_and_send(day_one, queue, django_capture_on_commit_callbacks)
    assert Delivery.objects.filter(state=DeliveryState.SENT).count() == 2  # the first: sent
    member = MembershipFactory(community=lively).member
    ActivityEvent.objects.create(
        community=lively,
        member=member,
        kind=ActivityKind.MESSAGE,
        occurred_at=day_one + timedelta(hours=3),
        source=EventSource.WEBHOOK,
        external_id="m1",
    )
    ActivityEvent.objects.create(  # a join is not activity
        community=community_a,
        member=MembershipFactory(community=community_a).member,
        kind=ActivityKind.JOIN,
        occurred_at=day_one + timedelta(hours=3),
        source=EventSource.WEBHOOK,
        external_id="j1",
    )
    dispatch_and_send(day_one + timedelta(days=1), queue, django_capture_on_commit_callbacks)
    second = {
        d.community.name: d
        for d in Delivery.objects.filter(action__due_at=day_one + timedelta(days=1))
    }
    assert second["热闹群"].state == DeliveryState.SENT
    assert second["读书会"].state == DeliveryState.SKIPPED
    assert second["读书会"].detail.startswith("No activity since the last broadcast on ")
    assert "empty room" in second["读书会"].detail
    assert len(standin.requests) == 3


def test_no_repeat_skips_the_same_text_as_the_last_message_sent_there(
    org_a, community_a, standin, queue, django_capture_on_commit_callbacks
):
    outlet_for(community_a, standin)
    broadcast = create(org_a, communities=[community_a], text="打卡提醒", no_repeat=True)
    day_one = first_send(broadcast)
    dispatch_and_send(day_one, queue, django_capture_on_commit_callbacks)
    dispatch_and_send(day_one + timedelta(days=1), queue, django_capture_on_commit_callbacks)
    states = list(Delivery.objects.order_by("action__due_at").values_list("state", "detail"))
    assert states[0] == (DeliveryState.SENT, "")
    assert states[1][0] == DeliveryState.SKIPPED
    assert states[1][1].startswith("Same text as the last message sent here on ")
    assert len(standin.requests) == 1


def test_no_repeat_sends_a_text_that_changes_with_the_date(
    org_a, community_a, standin, queue, django_capture_on_commit_callbacks
):
    outlet_for(community_a, standin)
    broadcast = create(org_a, communities=[community_a], text="{date} 打卡", no_repeat=True)
    day_one = first_send(broadcast)
    dispatch_and_send(day_one, queue, django_capture_on_commit_callbacks)
    dispatch_and_send(day_one + timedelta(days=1), queue, django_capture_on_commit_callbacks)
    assert list(Delivery.objects.values_list("state", flat=True)) == [DeliveryState.SENT] * 2


def test_fill_many_fills_as_fill_does_in_a_few_queries(
    org_a, community_a, django_assert_max_num_queries
):
    from activities.calendar import services as calendar_services
    from automations.placeholders import fill, fill_many

    others = [CommunityFactory(organization=org_a, slug=f"o{i}", name=f"群{i}") for i in range(4)]
    groups = [community_a, *others]
    MembershipFactory(community=others[0])
    for index, group in enumerate(groups[:3]):
        calendar_services.entry_create(
            organization=org_a,
            communities=[group, community_a] if index else [group],
            data={
                "kind": "topic",
                "title": f"{group.name} 话题",
                "start_date": date(2026, 11, 3 + index),
                "start_time": time(21, 0),
                "duration_minutes": 30,
                "rrule": "FREQ=WEEKLY",
            },
        )
    text = "{community}：{members} 人，下一场 {next_topic}"
    with django_assert_max_num_queries(4):
        many = fill_many(text, communities=groups, at=NOW)
    assert many == {g.pk: fill(text, community=g, at=NOW) for g in groups}
    assert "读书会 话题" in many[community_a.pk] and "（暂无安排）" in many[others[3].pk]


def test_the_dispatchers_queries_do_not_grow_with_the_communities(
    org_a, standin, queue, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    def queries_for(count: int, prefix: str) -> int:
        groups = [
            CommunityFactory(organization=org_a, slug=f"{prefix}{i}", name=f"{prefix}{i}")
            for i in range(count)
        ]
        for group in groups:
            outlet_for(group, standin)
        broadcast = create(
            org_a,
            name=prefix,
            communities=groups,
            text="{community} 周报：{members} 人，{next_topic}",
            skip_if_quiet=True,
            no_repeat=True,
        )
        when = first_send(broadcast)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks(execute=False),
        ):
            dispatch.dispatch_due(now=when)
        ScheduledAction.objects.filter(broadcast=broadcast).delete()
        return len(captured)

    assert queries_for(2, "a") == queries_for(12, "b")
