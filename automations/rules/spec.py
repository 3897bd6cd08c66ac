"""A rule as the engine reads it, and what a trigger yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from automations.models import AutomationRule, RuleTrigger
from communities.models import Community, Organization
from members.models import Member

# Triggers that react only to events arriving live through the webhook.
LIVE_TRIGGERS = frozenset({RuleTrigger.MEMBER_JOINED, RuleTrigger.KEYWORD})
# Triggers about one member (tier and tag conditions apply to them).
MEMBER_TRIGGERS = frozenset(
    {
        RuleTrigger.MEMBER_JOINED,
        RuleTrigger.KEYWORD,
        RuleTrigger.INACTIVE,
        RuleTrigger.CHECK_IN_MISSED,
        RuleTrigger.TIER_CHANGED,
        RuleTrigger.VIOLATION,
    }
)


@dataclass
class RuleSpec:
    """What a rule says, saved or not (the form's dry-run reads an unsaved one)."""

    organization: Organization
    name: str
    trigger: str
    config: dict
    community_ids: list[int]  # empty: every community of the organisation
    conditions: dict
    actions: list[dict]
    pk: int | None = None
    # Since when the periodic scan looks (the rule's switching on), if saved.
    since: datetime | None = None
    # Beat's scan: leave out, in the queries, what the rule already fired for.
    fresh_only: bool = False

    @classmethod
    def of(cls, rule: AutomationRule) -> RuleSpec:
        return cls(
            organization=rule.organization,
            name=rule.name,
            trigger=rule.trigger,
            config=dict(rule.trigger_config or {}),
            community_ids=sorted(c.pk for c in rule.communities.all()),
            conditions=dict(rule.conditions or {}),
            actions=list(rule.actions or []),
            pk=rule.pk,
            since=rule.updated_at,
        )

    def communities(self):
        queryset = Community.objects.filter(organization=self.organization, archived=False)
        if self.community_ids:
            queryset = queryset.filter(pk__in=self.community_ids)
        return queryset.select_related("organization").order_by("pk")


@dataclass
class Candidate:
    """One thing that would make a rule fire: ``key`` names it (once per rule and key)."""

    key: str
    community: Community
    member: Member | None
    at: datetime
    evidence: str = ""
    extra: dict = field(default_factory=dict)
