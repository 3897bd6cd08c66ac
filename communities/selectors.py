"""Reads shared by views, tasks and commands."""

__all__ = [
    "community_list",
    "community_platform_counts",
    "organization_staff",
    "staff_list_for_user",
]

from django.db.models import Count, QuerySet

from communities.models import Community, Role, Staff
from communities.permissions import communities_for, staff_list_for_user


def community_list(
    *,
    staff: Staff,
    archived: bool = False,
    platform: str = "",
    search: str = "",
) -> QuerySet[Community]:
    queryset = communities_for(staff).filter(archived=archived)
    if platform:
        queryset = queryset.filter(platform=platform)
    if search:
        queryset = queryset.filter(name__icontains=search)
    return queryset.order_by("name")


def community_platform_counts(*, staff: Staff) -> dict[str, int]:
    """Active (not archived) communities per platform code, for the overview chart."""
    rows = (
        communities_for(staff)
        .filter(archived=False)
        .values("platform")
        .annotate(n=Count("id"))
        .order_by("platform")
    )
    return {row["platform"]: row["n"] for row in rows}


def organization_staff(*, staff: Staff) -> list[Staff]:
    """The organisation's staff, owners first, then operators, managers, moderators."""
    rank = {role: position for position, role in enumerate(Role.values)}
    members = (
        Staff.objects.filter(organization_id=staff.organization_id)
        .select_related("user")
        .prefetch_related("communities")
        .order_by("user__username")
    )
    return sorted(members, key=lambda member: rank[member.role])
