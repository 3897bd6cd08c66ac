"""Reads shared by the members pages, exports and tasks."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from communities.models import Community, Staff
from communities.permissions import communities_for
from members.models import (
    PRESENT_STATUSES,
    Application,
    ApplicationStatus,
    DepositEntry,
    Member,
    Membership,
    PlatformHandle,
    PointsEntry,
    Tier,
    TierChange,
    Violation,
)

SORTS = {
    "name": ("member__display_name", "id"),
    "-points": ("-points_balance", "member__display_name"),
    "-joined": ("-joined_on", "member__display_name"),
    "last_active": ("last_active_at", "member__display_name"),
    "-tier": ("-tier__rank", "member__display_name"),
}


# The members list's status filter: "" (the default) lists the community's members —
# active and lurking, the one definition every page, chart, export and API figure uses —
# and this value lists everyone who has a membership, applicants and leavers included.
EVERYONE = "all"


@dataclass
class MemberFilters:
    community: Community | None = None
    tier_id: int | None = None
    role: str = ""
    status: str = ""
    tag_id: int | None = None
    squad_id: int | None = None
    inactive_days: int | None = None
    search: str = ""
    sort: str = "name"


def membership_list(*, staff: Staff, filters: MemberFilters) -> QuerySet[Membership]:
    """Memberships the staff member may see, filtered and sorted, ready to render.

    The related rows a list shows are joined or prefetched, so rendering a page costs the
    same number of queries whatever the number of members.
    """
    queryset = Membership.objects.filter(community__in=communities_for(staff))
    if filters.community is not None:
        queryset = queryset.filter(community=filters.community)
    if filters.tier_id:
        queryset = queryset.filter(tier_id=filters.tier_id)
    if filters.role:
        queryset = queryset.filter(roles__role=filters.role)
    if not filters.status:  # members of the community, as every page counts them
        queryset = queryset.filter(status__in=PRESENT_STATUSES)
    elif filters.status != EVERYONE:
        queryset = queryset.filter(status=filters.status)
    if filters.tag_id:
        queryset = queryset.filter(member__tags__id=filters.tag_id)
    if filters.squad_id:
        queryset = queryset.filter(squad_id=filters.squad_id)
    if filters.inactive_days is not None:
        since = timezone.now() - timedelta(days=filters.inactive_days)
        queryset = queryset.filter(Q(last_active_at__isnull=True) | Q(last_active_at__lt=since))
    if filters.search:
        handle_match = PlatformHandle.objects.filter(
            member_id=OuterRef("member_id"), external_id__icontains=filters.search
        )
        queryset = queryset.filter(
            Q(member__display_name__icontains=filters.search) | Exists(handle_match)
        )
    return (
        queryset.select_related("member", "community", "tier", "squad")
        .prefetch_related("member__tags", "member__handles", "roles")
        .order_by(*SORTS.get(filters.sort, SORTS["name"]))
    )


def memberships_by_ids(*, staff: Staff, ids: list[int]) -> list[Membership]:
    """The memberships with these ids that the staff member may act on (others are ignored)."""
    return list(
        Membership.objects.filter(pk__in=ids, community__in=communities_for(staff)).select_related(
            "community", "tier", "member"
        )
    )


@dataclass(frozen=True)
class PyramidLevel:
    tier: Tier
    members: int


def tier_pyramid(*, community: Community) -> list[PyramidLevel]:
    """Members present in the community per tier, from the bottom of the ladder up."""
    tiers = community.tiers.order_by("rank").annotate(
        present=Count("memberships", filter=Q(memberships__status__in=PRESENT_STATUSES))
    )
    return [PyramidLevel(tier=tier, members=tier.present) for tier in tiers]


def listed_pyramid(*, tiers: list[Tier], memberships: QuerySet[Membership]) -> list[PyramidLevel]:
    """The pyramid of exactly the listed memberships (the members list's filters: a
    squad, a tag, a status …), per tier of ``tiers`` (already loaded), in one query."""
    counts = dict(
        memberships.order_by().values("tier_id").annotate(n=Count("id")).values_list("tier_id", "n")
    )
    return [PyramidLevel(tier=tier, members=counts.get(tier.pk, 0)) for tier in tiers]


def community_member_counts(*, community_ids: list[int]) -> dict[int, int]:
    rows = (
        Membership.objects.filter(community_id__in=community_ids, status__in=PRESENT_STATUSES)
        .values("community_id")
        .annotate(n=Count("id"))
    )
    return {row["community_id"]: row["n"] for row in rows}


def deposit_held(*, membership: Membership) -> Decimal:
    sums = DepositEntry.objects.filter(membership=membership).aggregate(
        held=Sum("amount", filter=Q(kind="held"), default=Decimal(0)),
        out=Sum("amount", filter=~Q(kind="held"), default=Decimal(0)),
    )
    return sums["held"] - sums["out"]


def points_balance_from_ledger(*, membership: Membership) -> int:
    """The balance recomputed from the ledger (the cached one must always equal it)."""
    return membership.points_entries.aggregate(total=Sum("delta", default=0))["total"]


def application_queue(*, staff: Staff, status: str = ApplicationStatus.PENDING):
    return (
        Application.objects.filter(community__in=communities_for(staff), status=status)
        .select_related("community", "reviewed_by")
        .order_by("submitted_at", "id")
    )


def member_history(*, membership_ids: list[int]) -> dict:
    """The profile's history tables for these memberships, newest first, one query each."""
    return {
        "tier_changes": TierChange.objects.filter(membership_id__in=membership_ids).select_related(
            "membership__community", "from_tier", "to_tier", "changed_by"
        ),
        "points_entries": PointsEntry.objects.filter(
            membership_id__in=membership_ids
        ).select_related("membership__community", "rule", "created_by")[:100],
        "violations": Violation.objects.filter(membership_id__in=membership_ids).select_related(
            "membership__community", "rule", "recorded_by"
        ),
        "deposits": DepositEntry.objects.filter(membership_id__in=membership_ids).select_related(
            "membership__community", "created_by"
        ),
        "applications": Application.objects.filter(membership_id__in=membership_ids).select_related(
            "community", "reviewed_by"
        ),
    }


@dataclass(frozen=True)
class DuplicateSuggestion:
    """Members of one community who bear the same display name: perhaps one person."""

    community_id: int
    community_name: str
    name: str
    member_ids: tuple[int, ...]  # oldest record first: the one to keep, by default


def duplicate_suggestions(*, staff: Staff, limit: int = 10) -> list[DuplicateSuggestion]:
    """Possible duplicates in the communities ``staff`` sees: two queries (one when none)."""
    present = Membership.objects.filter(
        community__in=communities_for(staff), member__erased_at__isnull=True
    )
    groups = list(
        present.values_list("community_id", "member__display_name")
        .annotate(n=Count("member_id", distinct=True))
        .filter(n__gt=1)
        .order_by("member__display_name", "community_id")[:limit]
    )
    if not groups:
        return []
    wanted = {(community_id, name) for community_id, name, _n in groups}
    found: dict[tuple[int, str], list[int]] = {}
    names: dict[int, str] = {}
    rows = present.filter(
        community_id__in={c for c, _ in wanted}, member__display_name__in={n for _, n in wanted}
    ).values_list("community_id", "community__name", "member__display_name", "member_id")
    for community_id, community_name, name, member_id in rows.order_by("member_id"):
        if (community_id, name) in wanted:
            found.setdefault((community_id, name), []).append(member_id)
            names[community_id] = community_name
    return [
        DuplicateSuggestion(c, names[c], name, tuple(found[(c, name)]))
        for c, name, _n in groups
        if (c, name) in found
    ]


def member_merge_candidates(*, member: Member, query: str, limit: int = 20) -> list[Member]:
    """Other members of ``member``'s organisation whose name or platform id contains
    ``query``, to pick the one to merge (none without a query)."""
    query = query.strip()
    if not query:
        return []
    handle_match = PlatformHandle.objects.filter(
        member=OuterRef("pk"), external_id__icontains=query
    )
    return list(
        Member.objects.filter(organization_id=member.organization_id, erased_at__isnull=True)
        .exclude(pk=member.pk)
        .filter(Q(display_name__icontains=query) | Exists(handle_match))
        .order_by("display_name", "id")[:limit]
    )
