"""A rule's conditions, applied to its candidates in bulk (a few queries per batch).

``conditions``: ``{"tier_ids": [...], "tier_at_least": false, "tag_ids": [...]}``.

- tier: the member's tier in the candidate's community is one of ``tier_ids`` — or, with
  ``tier_at_least``, of a rank at least the lowest chosen one (ladders are per community,
  so "at least Active" means the rank, in every community);
- tags: the member has any of ``tag_ids`` (the analytics drill-down's "tag these members"
  is how a retention cell or a lifecycle bar becomes a re-engagement rule's audience).

Tier and tag conditions are about a member; triggers without one (silence, an overdue
item) cannot have them (the form refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from automations.rules.spec import Candidate, RuleSpec
from members.models import Member, Membership, Tier


@dataclass
class Context:
    """The memberships and tags the conditions and effects of a batch need."""

    memberships: dict[tuple[int, int], Membership] = field(default_factory=dict)
    tags: dict[int, set[int]] = field(default_factory=dict)  # member id → tag ids
    min_rank: int | None = None

    @classmethod
    def load(cls, spec: RuleSpec, found: list[Candidate]) -> Context:
        pairs = {(c.community.pk, c.member.pk) for c in found if c.member is not None}
        context = cls()
        if not pairs:
            return context
        member_ids = {member for _, member in pairs}
        rows = Membership.objects.filter(
            member_id__in=member_ids, community_id__in={c for c, _ in pairs}
        ).select_related("tier", "squad__leader", "member")
        context.memberships = {(m.community_id, m.member_id): m for m in rows}
        through = Member.tags.through
        for member_id, tag_id in through.objects.filter(member_id__in=member_ids).values_list(
            "member_id", "tag_id"
        ):
            context.tags.setdefault(member_id, set()).add(tag_id)
        tier_ids = spec.conditions.get("tier_ids") or []
        if tier_ids and spec.conditions.get("tier_at_least"):
            ranks = Tier.objects.filter(
                pk__in=tier_ids, community__organization=spec.organization
            ).values_list("rank", flat=True)
            context.min_rank = min(ranks, default=None)
        return context

    def membership(self, candidate: Candidate) -> Membership | None:
        if candidate.member is None:
            return None
        return self.memberships.get((candidate.community.pk, candidate.member.pk))


def passes(spec: RuleSpec, candidate: Candidate, context: Context) -> bool:
    tier_ids = [int(t) for t in spec.conditions.get("tier_ids") or []]
    tag_ids = {int(t) for t in spec.conditions.get("tag_ids") or []}
    if not tier_ids and not tag_ids:
        return True
    if candidate.member is None:
        return False
    if tier_ids:
        membership = context.membership(candidate)
        if membership is None or membership.tier is None:
            return False
        if spec.conditions.get("tier_at_least"):
            if context.min_rank is None or membership.tier.rank < context.min_rank:
                return False
        elif membership.tier_id not in tier_ids:
            return False
    return not tag_ids or bool(tag_ids & context.tags.get(candidate.member.pk, set()))
