"""The demo's outlets and week of sent messages (automations/demo/history.py), on a minimal
organisation: an outlet fitting each group's platform, sent deliveries with the platform's
answers, one failed after its retries, one unknown, one missed action, two upcoming, and a
second run that writes nothing; the Actions pages show them."""

from datetime import time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.calendar import services as calendar_services
from automations.demo import history
from automations.models import (
    ActionStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Outlet,
    ScheduledAction,
)
from communities.models import Platform
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(org_a, owner_a):
    reading = CommunityFactory(
        organization=org_a, name="读书会", slug="reading", platform=Platform.WECHAT
    )
    runners = CommunityFactory(
        organization=org_a,
        name="Runners",
        slug="runners",
        platform=Platform.TELEGRAM,
        announcement_language="en",
    )
    CommunityFactory(organization=org_a, name="桌游", slug="boardgames", platform=Platform.OFFLINE)
    start = timezone.localdate() - timedelta(days=30)
    calendar_services.entry_create(
        organization=org_a,
        communities=[reading, runners],
        data={
            "kind": "topic",
            "title": "每周话题讨论",
            "start_date": start,
            "start_time": time(21, 0),
            "duration_minutes": 60,
            "rrule": "FREQ=DAILY",
        },
    )
    return history.seed(org_a, owner_a.user)


def test_each_chat_group_gets_an_outlet_fitting_its_platform(demo, org_a):
    outlets = {o.community.slug: o for o in Outlet.objects.select_related("community")}
    assert set(outlets) == {"reading", "runners"}  # the offline group has nothing to post to
    assert outlets["reading"].platform == "wecom"
    assert outlets["reading"].url.startswith(
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="
    )
    assert outlets["runners"].platform == "telegram"
    assert outlets["runners"].url == "https://api.telegram.org"
    assert outlets["runners"].token and outlets["runners"].chat_id.startswith("-100")
    assert demo["outlets"] == 2


def test_a_week_of_sent_messages_with_one_failed_and_one_unknown(demo, org_a):
    deliveries = Delivery.objects.filter(action__organization=org_a)
    states = list(deliveries.values_list("state", flat=True))
    assert states.count(DeliveryState.FAILED) == 1
    assert states.count(DeliveryState.UNKNOWN) == 1
    assert states.count(DeliveryState.SENT) >= 14  # two groups' mornings for a week at least
    sent = deliveries.filter(state=DeliveryState.SENT, outlet__platform="wecom").first()
    assert sent.attempt_log.get().detail == '{"errcode":0,"errmsg":"ok"}'
    assert sent.attempt_log.get().status_code == 200
    assert "读书会" in sent.text  # a Chinese group's text, its name filled in
    failed = deliveries.get(state=DeliveryState.FAILED)
    codes = list(failed.attempt_log.values_list("status_code", flat=True))
    assert codes[:3] == [500, 502, 503] and len(codes) == failed.attempts >= 3
    unknown = deliveries.get(state=DeliveryState.UNKNOWN)
    assert unknown.attempt_log.get().outcome == "unknown" and unknown.sent_at is None
    announcements = ScheduledAction.objects.filter(kind="announcement", entry__isnull=False)
    assert announcements.filter(title="每周话题讨论", status=ActionStatus.DISPATCHED).exists()
    assert announcements.first().source_key.startswith("announce:")
    statuses = list(ScheduledAction.objects.values_list("status", flat=True))
    assert statuses.count(ActionStatus.MISSED) == 1
    assert statuses.count(ActionStatus.SCHEDULED) >= 2  # (the announcer may plan more)
    assert demo["attempts"] == DeliveryAttempt.objects.count()


def test_a_second_run_writes_nothing(demo, org_a, owner_a):
    counts = (Outlet.objects.count(), ScheduledAction.objects.count(), Delivery.objects.count())
    assert history.seed(org_a, owner_a.user)["actions"] == 0
    assert counts == (
        Outlet.objects.count(),
        ScheduledAction.objects.count(),
        Delivery.objects.count(),
    )


def test_the_actions_pages_show_the_demo(demo, client_for, operator_a):
    client = client_for(operator_a)
    html = client.get(reverse("automations:actions"), {"tab": "failed"}).content.decode()
    assert 'data-testid="tab-count-failed">1<' in html
    assert 'data-testid="tab-count-unknown">1<' in html
    assert 'data-testid="tab-count-missed">1<' in html
    missed = ScheduledAction.objects.get(status=ActionStatus.MISSED)
    page = client.get(reverse("automations:action", kwargs={"action_id": missed.pk}))
    assert 'data-testid="send-now"' in page.content.decode()


def test_a_group_with_an_outlet_keeps_it(org_a, owner_a):
    community = CommunityFactory(organization=org_a, name="读书会", platform=Platform.WECHAT)
    mine = Outlet.objects.create(
        community=community,
        name="我的机器人",
        platform="wecom",
        url="https://qyapi.weixin.qq.com/x",
    )
    assert history.seed(org_a, owner_a.user)["outlets"] == 0
    assert list(Outlet.objects.all()) == [mine]
    assert set(Delivery.objects.values_list("outlet", flat=True)) == {mine.pk}
