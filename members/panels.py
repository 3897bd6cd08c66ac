"""The members' panels on the community page, member counts for the matrix, and the
default tier ladder every new community gets.

Communities cannot import members (docs/architecture.md §1), so members registers these with
``communities.panels`` when the app is ready (MembersConfig.ready imports this module).
Each panel costs one or two queries whatever the number of members.
"""

from django.db.models import Count, Q
from django.http import HttpRequest

from communities.models import Community
from communities.panels import (
    Panel,
    SetupStep,
    link_for,
    register_member_count_provider,
    register_panel,
    register_setup_step,
)
from communities.permissions import Capability, has_capability
from members.figures import pyramid_figure
from members.forms_squads import SquadForm
from members.models import PRESENT_STATUSES, Squad, Violation
from members.selectors import community_member_counts, tier_pyramid
from members.services import tiers_create_default

RECENT_VIOLATIONS = 10
# A place for the apps above members (communities.panels): their forms among each
# membership's forms on a member's profile; the panel's object is the membership.
MEMBERSHIP_FORMS = "members.membership"


def squads_with_counts(*, community: Community) -> list[Squad]:
    """The community's squads with their leader and ``present`` members, in one query."""
    return list(
        community.squads.select_related("leader")
        .annotate(present=Count("memberships", filter=Q(memberships__status__in=PRESENT_STATUSES)))
        .order_by("name")
    )


def recent_violations(*, community: Community, limit: int = RECENT_VIOLATIONS) -> list[Violation]:
    return list(
        Violation.objects.filter(membership__community=community)
        .select_related("membership__member", "rule")
        .order_by("-created_at", "-id")[:limit]
    )


def pyramid_panel(request: HttpRequest, community: Community) -> dict:
    levels = tier_pyramid(community=community)
    total = sum(level.members for level in levels)
    return {
        "community": community,
        "levels": levels,
        "total": total,
        "chart": pyramid_figure(levels=levels) if levels and total else None,
        # A new community's empty pyramid says where its members come from.
        "import_link": None if total else link_for(request, community, "activities.imports"),
        "can_add": not total and has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
    }


def squads_panel(request: HttpRequest, community: Community) -> dict:
    can_manage = has_capability(request.staff, Capability.MANAGE_COMMUNITIES)
    return {
        "community": community,
        "squads": squads_with_counts(community=community),
        "form": SquadForm(community=community) if can_manage else None,
    }


def violations_panel(request: HttpRequest, community: Community) -> dict:
    return {
        "community": community,
        "violations": recent_violations(community=community),
        "limit": RECENT_VIOLATIONS,
    }


def member_counts(community_ids: list[int]) -> dict[int, int]:
    return community_member_counts(community_ids=community_ids)


register_panel(
    Panel(
        key="members.pyramid",
        template="members/panels/pyramid.html",
        context=pyramid_panel,
        order=10,
        scripts=("vendor/plotly/plotly.min.js",),
    )
)
register_panel(
    Panel(
        key="members.squads", template="members/panels/squads.html", context=squads_panel, order=20
    )
)
register_panel(
    Panel(
        key="members.violations",
        template="members/panels/violations.html",
        context=violations_panel,
        order=30,
    )
)
register_member_count_provider(member_counts)


def give_the_default_ladder(community: Community) -> None:
    # Every community has a pyramid from day one: the default four-level ladder.
    tiers_create_default(community=community)


register_setup_step(SetupStep(key="members.ladder", run=give_the_default_ladder, order=10))
