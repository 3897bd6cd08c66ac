"""Analytics' part of merging two members (``members.merge``), registered with
``communities.panels``' member-data registry at start-up.

In the merge's transaction the merged member's ``MemberDay`` rows go (they are rebuilt
from the events, which activities moved to the kept member and whose days it marked);
once the merge has committed, the marked days of each community it touched are refreshed,
so the dashboards count the two records as one person right away (beat's next refresh
would otherwise do it within a minute).
"""

from analytics.models import MemberDay
from analytics.rollups import rollups_refresh_touched
from communities.models import Community
from communities.panels import MemberData, MemberMerge, register_member_data


def member_days_merge(merge: MemberMerge) -> None:
    MemberDay.objects.filter(member=merge.source).delete()


def rollups_after_merge(merge: MemberMerge) -> None:
    for community in Community.objects.filter(pk__in=list(merge.days)):
        rollups_refresh_touched(community=community)


register_member_data(
    MemberData(
        key="analytics.rollups",
        merge=member_days_merge,
        after_merge=rollups_after_merge,
        order=60,
    )
)
