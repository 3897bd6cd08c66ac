"""Acceptance: a welcome and a keyword auto-reply fire from events posted to the real
webhook (signed), once each — the same payload posted twice still once — and never from an
import of the same events; the messages reach the stand-in after dispatch and delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import EventSource
from automations.models import (
    ActionKind,
    Delivery,
    DeliveryState,
    RuleFiring,
    RuleTrigger,
    ScheduledAction,
)
from automations.services.deliver import deliver
from automations.services.dispatch import dispatch_due
from communities.models import Platform
from communities.services import connector_create
from tests.activities.test_webhook import send
from tests.automations.rules_helpers import rule_for
from tests.automations.scheduling import allow_the_standin, install_queue, outlet_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _standin_allowed(settings):
    allow_the_standin(settings)


def payload(prefix: str) -> list[dict]:
    at = (timezone.now() - timedelta(minutes=1)).replace(microsecond=0).isoformat()
    return [
        {
            "external_id": f"{prefix}-join",
            "kind": "join",
            "occurred_at": at,
            "member": {"id": "wxid_xiaoming", "name": "小明"},
        },
        {
            "external_id": f"{prefix}-msg",
            "kind": "message",
            "occurred_at": at,
            "member": {"id": "wxid_xiaoming", "name": "小明"},
            "text": "请问＃打卡规则是什么？",
        },
    ]


@pytest.fixture
def setup(org_a, community_a, operator_a, standin, monkeypatch):
    issued = connector_create(
        community=community_a, name="机器人", platform=Platform.WECOM, by=operator_a.user
    )
    outlet_for(community_a, standin)
    text = "欢迎 {member} 加入{community}！"
    welcome = rule_for(
        org_a, trigger=RuleTrigger.MEMBER_JOINED, actions=[{"type": "send", "text": text}]
    )
    reply = rule_for(
        org_a,
        trigger=RuleTrigger.KEYWORD,
        config={"keyword": "#打卡规则", "cooldown_minutes": 10},
        actions=[{"type": "send", "text": "每天 22:00 前发「#打卡」"}],
    )
    install_queue(monkeypatch)
    return issued, welcome, reply


def test_welcome_and_auto_reply_fire_once_from_the_webhook_and_are_delivered(setup, standin):
    issued, welcome, reply = setup
    body = {"events": payload("live")}
    assert send(issued.connector, issued.secret, body).status_code == 202
    assert send(issued.connector, issued.secret, body).status_code == 202  # posted twice
    assert RuleFiring.objects.filter(rule=welcome).count() == 1
    assert RuleFiring.objects.filter(rule=reply).count() == 1
    kinds = sorted(ScheduledAction.objects.values_list("kind", flat=True))
    assert kinds == sorted([ActionKind.WELCOME, ActionKind.AUTO_REPLY])
    dispatch_due()
    for delivery in Delivery.objects.all():
        deliver(delivery_id=delivery.pk)
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SENT}
    texts = sorted(r.json["text"] for r in standin.requests)
    assert texts == sorted(["欢迎 小明 加入读书会！", "每天 22:00 前发「#打卡」"])


def test_an_import_of_the_same_events_fires_nothing(setup, community_a):
    events = [
        IncomingEvent(
            external_id=e["external_id"],
            kind=e["kind"],
            occurred_at=timezone.now() - timedelta(minutes=1),
            member_key=e["member"]["id"],
            member_name=e["member"]["name"],
            text=e.get("text", ""),
        )
        for e in payload("imported")
    ]
    ingest_events(community=community_a, source=EventSource.IMPORT, events=events)
    assert RuleFiring.objects.count() == 0
    assert ScheduledAction.objects.count() == 0
