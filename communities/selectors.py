"""Reads shared by views, tasks and commands."""

__all__ = [
    "community_list",
    "community_platform_counts",
    "community_rules",
    "organization_staff",
    "programme_list",
    "programme_matrix",
]

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Connector, FunnelRole, Programme, Role, Rule, Staff
from communities.panels import member_counts
from communities.permissions import communities_for


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


def community_rules(*, community: Community) -> list[Rule]:
    """The community's behaviours, encouraged first, each kind in its set order."""
    return list(community.rules.order_by("kind", "position", "id"))


def programme_list(*, staff: Staff) -> QuerySet[Programme]:
    """The organisation's programmes, each with the number of its active groups the staff
    member may see (``groups``)."""
    visible = Q(
        communities__archived=False,
        communities__in=communities_for(staff).values("pk"),
    )
    return (
        Programme.objects.filter(organization_id=staff.organization_id)
        .annotate(groups=Count("communities", filter=visible))
        .order_by("name")
    )


# The funnel reads left to right: traffic → conversion → fans, then the other kinds.
MATRIX_ORDER = [
    FunnelRole.TRAFFIC,
    FunnelRole.CONVERSION,
    FunnelRole.FAN,
    *(role for role in FunnelRole if role not in {"traffic", "conversion", "fan"}),
]
MATRIX_ALWAYS_SHOWN = {FunnelRole.TRAFFIC, FunnelRole.CONVERSION, FunnelRole.FAN}


@dataclass(frozen=True)
class MatrixColumn:
    role: str  # a FunnelRole value, or "" for groups without one
    label: str
    communities: list[Community]  # each with ``members``: present members, or None
    members: int | None  # the column's total; None when no app counts members


def programme_matrix(*, staff: Staff, programme: Programme) -> list[MatrixColumn]:
    """A programme's active groups in funnel columns, with member counts (two queries).

    The three funnel stages are always shown, empty or not; the other roles, and groups
    without a role, only when the programme has such groups.
    """
    communities = list(
        communities_for(staff).filter(programme=programme, archived=False).order_by("name")
    )
    counts = member_counts(c.pk for c in communities)
    by_role: dict[str, list[Community]] = {}
    for community in communities:
        community.members = None if counts is None else counts[community.pk]
        by_role.setdefault(community.funnel_role, []).append(community)
    columns = []
    for role, label in [*((r, r.label) for r in MATRIX_ORDER), ("", _("No funnel role"))]:
        groups = by_role.get(role, [])
        if not groups and role not in MATRIX_ALWAYS_SHOWN:
            continue
        total = None if counts is None else sum(c.members for c in groups)
        columns.append(MatrixColumn(role=str(role), label=label, communities=groups, members=total))
    return columns


def connector_list(*, community: Community) -> QuerySet[Connector]:
    return community.connectors.select_related("created_by").order_by("revoked_at", "name", "id")


def mail_language_for_user(*, user) -> str | None:
    """The language of e-mails to ``user``: the default language of the organisation of their
    first active staff record; ``None`` when they have none (the caller then keeps the
    request's language)."""
    staff = (
        Staff.objects.filter(user=user, deactivated_at__isnull=True)
        .select_related("organization")
        .order_by("created_at", "pk")
        .first()
    )
    return staff.organization.language if staff else None
