import pytest

from analytics.tasks import promote_tiers_task
from members import services
from members.models import MembershipStatus
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_nightly_job_promotes_through_the_task(org_a, owner_a):
    community = CommunityFactory(organization=org_a)
    ladder = list(community.tiers.order_by("rank"))
    # Tier 2 needs 4 active days; no activity is ingested yet, so make a ladder that
    # asks only for points to see the job move someone.
    services.tier_update(tier=ladder[1], data={"min_active_days_30": 0, "min_tenure_days": 0})
    rich = MembershipFactory(community=community)
    services.points_add(membership=rich, delta=80, reason="活跃")
    poor = MembershipFactory(community=community)
    pinned = MembershipFactory(community=community)
    services.memberships_set_tier(memberships=[pinned], tier=ladder[0], by=owner_a.user)
    services.points_add(membership=pinned, delta=80, reason="活跃")
    gone = MembershipFactory(community=community, status=MembershipStatus.LEFT)
    services.points_add(membership=gone, delta=80, reason="活跃")

    result = promote_tiers_task.apply().get()

    for membership in (rich, poor, pinned, gone):
        membership.refresh_from_db()
    assert rich.tier == ladder[1]
    assert poor.tier == ladder[0]
    assert pinned.tier == ladder[0]  # staff-set: untouched
    assert gone.tier == ladder[0]  # not present: not checked
    assert result == {"communities": 1, "checked": 2, "changed": 1}
    assert rich.tier_changes.get().reason.count("≥") == 3
