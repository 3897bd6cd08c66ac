"""The tier pyramid's past: snapshots reconstructed from join dates and tier changes
(``analytics.rollups.tier_days_backfill``), and the demo that carries that past."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from analytics.models import TierDay
from analytics.rollups import rollups_refresh, tier_days_backfill
from members import services
from members.models import MembershipStatus
from tests.analytics.scenarios import TODAY, ago, make_community
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def join(community, name, joined, status=MembershipStatus.ACTIVE):
    member = MemberFactory(organization=community.organization, display_name=name)
    return services.membership_create(
        community=community, member=member, joined_on=joined, status=status
    )


def promote(membership, tier, ladder, at):
    services.membership_promote(
        membership=membership,
        points=tier.min_points,
        active_days_30=tier.min_active_days_30,
        tenure_days=tier.min_tenure_days,
        ladder=[t for t in ladder if t.rank <= tier.rank],
        today=at.date(),
        at=at,
    )


def pyramid_by_day(community) -> dict:
    table: dict = {}
    for day, rank, members in TierDay.objects.filter(community=community).values_list(
        "day", "rank", "members"
    ):
        table.setdefault(day, {})[rank] = members
    return {day: tuple(ranks[r] for r in sorted(ranks)) for day, ranks in table.items()}


@pytest.fixture
def history(org_a, frozen_today):
    """ann joins 10 days ago, climbs to tier 2 late on day −5 and to tier 3 just after
    midnight of day −2 (local time: still day −3 in UTC); bob is there from −8 and leaves
    on −3; cat joins yesterday; an applicant never counts."""
    community = make_community(org_a, created=ago(30), time_zone="Asia/Shanghai")
    tz = ZoneInfo(community.time_zone)
    ladder = list(community.tiers.order_by("rank"))
    ann = join(community, "Ann", ago(10))
    bob = join(community, "Bob", ago(8))
    join(community, "Cat", ago(1))
    join(community, "Applicant", ago(9), status=MembershipStatus.APPLICANT)
    promote(ann, ladder[1], ladder, datetime.combine(ago(5), time(23, 30), tz))
    promote(ann, ladder[2], ladder, datetime.combine(ago(2), time(0, 10), tz))
    services.membership_set_status(membership=bob, status=MembershipStatus.LEFT, on=ago(3))
    return community


def test_past_days_are_counted_from_joins_leaves_and_tier_changes(history):
    written = tier_days_backfill(community=history)

    assert pyramid_by_day(history) == {
        ago(10): (1, 0, 0, 0),
        ago(9): (1, 0, 0, 0),  # the applicant is no member
        ago(8): (2, 0, 0, 0),
        ago(7): (2, 0, 0, 0),
        ago(6): (2, 0, 0, 0),
        ago(5): (1, 1, 0, 0),  # ann's promotion counts from the end of its (local) day
        ago(4): (1, 1, 0, 0),
        ago(3): (0, 1, 0, 0),  # bob left that day
        ago(2): (0, 0, 1, 0),  # 00:10 in Shanghai is still the day before in UTC
        ago(1): (1, 0, 1, 0),
    }  # and nothing for today: that is the live snapshot's
    assert written == 10 * 4
    names = dict(history.tiers.values_list("rank", "name"))
    assert set(TierDay.objects.values_list("rank", "name")) == set(names.items())


def test_days_already_snapshotted_are_left_as_taken(history):
    rollups_refresh(community=history, days=[TODAY])  # today's live snapshot
    TierDay.objects.filter(community=history, day=TODAY).update(members=99)
    tier_days_backfill(community=history)
    assert min(pyramid_by_day(history)) == ago(10)
    assert set(TierDay.objects.filter(day=TODAY).values_list("members", flat=True)) == {99}
    # Run again: everything before the first snapshot is already there.
    assert tier_days_backfill(community=history) == 0


def test_a_community_without_members_gets_no_rows(org_a, frozen_today):
    community = make_community(org_a, created=ago(30))
    assert tier_days_backfill(community=community) == 0
    assert not TierDay.objects.exists()
