"""The live-events hook: what the webhook hands to automations, and what it never hands
(an import, a payload posted again, history sent through the webhook)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities import hooks
from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityEvent, EventSource
from activities.services import webhook_ingest
from communities.models import Connector, Platform
from communities.services import connector_create


@pytest.fixture
def seen(monkeypatch):
    calls: list[tuple[int, list[hooks.LiveEvent]]] = []
    monkeypatch.setattr(hooks, "_AFTER_LIVE", {})
    hooks.register_after_live_events("test", lambda c, events: calls.append((c.pk, events)))
    return calls


@pytest.fixture
def connector(community_a, operator_a) -> Connector:
    return connector_create(
        community=community_a, name="机器人", platform=Platform.WECOM, by=operator_a.user
    ).connector


def incoming(n: int, *, minutes_ago: float = 1.0, text: str = "hello", kind: str = "message"):
    return IncomingEvent(
        external_id=f"msg-{n}",
        kind=kind,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        member_key="wxid_alice",
        member_name="Alice",
        text=text,
    )


@pytest.mark.django_db(transaction=True)
def test_new_recent_webhook_events_are_handed_on_once_with_their_text(seen, connector):
    community = connector.community
    community.organization.keep_message_text = False
    community.organization.save()
    webhook_ingest(connector=connector, events=[incoming(1, text="加群链接 http://x.cn")])
    assert len(seen) == 1
    ((community_id, events),) = seen
    assert community_id == community.pk
    assert [e.text for e in events] == ["加群链接 http://x.cn"]  # though the log keeps none
    row = ActivityEvent.objects.get(pk=events[0].event_id)
    assert row.text == "" and row.member_id == events[0].member_id
    # The same payload again: stored once, handed on never again.
    webhook_ingest(connector=connector, events=[incoming(1)])
    assert len(seen) == 1


@pytest.mark.django_db(transaction=True)
def test_history_through_the_webhook_is_not_live(seen, connector):
    webhook_ingest(
        connector=connector, events=[incoming(2, minutes_ago=hooks.LIVE_EVENT_MINUTES + 5)]
    )
    assert ActivityEvent.objects.filter(source=EventSource.WEBHOOK).count() == 1
    assert seen == []


@pytest.mark.django_db(transaction=True)
def test_an_import_of_the_same_events_hands_nothing_on(seen, community_a):
    ingest_events(community=community_a, source=EventSource.IMPORT, events=[incoming(3)])
    assert ActivityEvent.objects.count() == 1
    assert seen == []


@pytest.mark.django_db(transaction=True)
def test_a_failing_step_does_not_undo_the_write(seen, connector):
    def broken(community, events):
        raise RuntimeError("boom")

    hooks.register_after_live_events("a-broken", broken)
    webhook_ingest(connector=connector, events=[incoming(4)])
    assert ActivityEvent.objects.count() == 1
    assert len(seen) == 1
