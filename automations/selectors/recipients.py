"""Who hears about a community's automatic events (spam found, a silence)."""

from __future__ import annotations

from django.db.models import Q

from communities.models import Community, Role, Staff


def moderators_and_operators(community: Community) -> list[Staff]:
    """The community's assigned moderators and the organisation's operators (active staff
    only), as checklists' overdue notices reach the operators and the assignee."""
    return list(
        Staff.objects.filter(organization_id=community.organization_id, deactivated_at__isnull=True)
        .filter(Q(role=Role.MODERATOR, communities=community) | Q(role=Role.OPERATOR))
        .select_related("user", "organization")
        .distinct()
    )
