"""Jobs that feed figures to lower apps' rules (analytics passes them in: docs/architecture.md)."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count

from analytics.models import MemberDay
from communities.models import Community
from members.models import PRESENT_STATUSES, Membership
from members.services import membership_promote


@dataclass(frozen=True)
class PromotionRun:
    communities: int
    checked: int
    changed: int


def active_days_30(*, community: Community, today) -> dict[int, int]:
    """Per member, the distinct active days in the 30 days to ``today`` (from MemberDay)."""
    return dict(
        MemberDay.objects.filter(
            community=community, day__gt=today - timedelta(days=30), day__lte=today
        )
        .values_list("member_id")
        .annotate(days=Count("id"))
        .order_by()
    )


def tiers_promote_all() -> PromotionRun:
    """The nightly promotion: every present member of every live community, once."""
    communities = checked = changed = 0
    for community in Community.objects.filter(archived=False).iterator():
        ladder = list(community.tiers.order_by("rank"))
        if not ladder:
            continue
        communities += 1
        today = community.local_today()
        active_days = active_days_30(community=community, today=today)
        memberships = (
            Membership.objects.filter(
                community=community, status__in=PRESENT_STATUSES, tier_set_by_staff=False
            )
            .select_related("tier", "community")
            .iterator(chunk_size=1000)
        )
        for membership in memberships:
            checked += 1
            change = membership_promote(
                membership=membership,
                points=membership.points_balance,
                active_days_30=active_days.get(membership.member_id, 0),
                tenure_days=(today - membership.joined_on).days,
                ladder=ladder,
                today=today,
            )
            changed += change is not None
    return PromotionRun(communities=communities, checked=checked, changed=changed)
