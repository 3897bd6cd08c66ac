"""Helpers of the automation rules' tests."""

from __future__ import annotations

from datetime import datetime

from activities.models import ActivityEvent, EventSource
from automations.models import AutomationRule
from automations.services.rules import rule_create


def rule_for(
    organization,
    *,
    trigger,
    actions,
    config=None,
    communities=(),
    conditions=None,
    enabled=True,
    name="规则",
    since: datetime | None = None,
) -> AutomationRule:
    rule = rule_create(
        organization=organization,
        data={
            "name": name,
            "trigger": trigger,
            "config": config or {},
            "community_ids": [c.pk for c in communities],
            "conditions": conditions or {},
            "actions": actions,
            "enabled": enabled,
        },
    )
    if since is not None:
        AutomationRule.objects.filter(pk=rule.pk).update(updated_at=since)
        rule.refresh_from_db()
    return rule


def log_event(community, member, *, kind="message", at, text="", n=[0]) -> ActivityEvent:  # noqa: B006
    n[0] += 1
    return ActivityEvent.objects.create(
        community=community,
        member=member,
        kind=kind,
        occurred_at=at,
        source=EventSource.IMPORT,
        external_id=f"t{n[0]}",
        text=text,
    )
