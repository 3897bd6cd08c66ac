"""How members' URL parameters resolve, always within what the staff member may see.

Registered into communities.permissions.URL_OBJECT_RESOLVERS by MembersConfig.ready, so
``staff_required`` turns ``member_id`` into ``member`` (and so on) or answers 404.
"""

from django.shortcuts import get_object_or_404

from communities.models import Staff
from communities.permissions import ASSIGNED_ONLY_ROLES, communities_for
from members.models import Application, Member, Membership


def get_member_or_404(staff: Staff, member_id: int) -> Member:
    """A member of the staff's organisation; a moderator sees only their groups' members."""
    queryset = Member.objects.filter(organization_id=staff.organization_id)
    if staff.role in ASSIGNED_ONLY_ROLES:
        queryset = queryset.filter(memberships__community__in=communities_for(staff)).distinct()
    return get_object_or_404(queryset, pk=member_id)


def get_application_or_404(staff: Staff, application_id: int) -> Application:
    return get_object_or_404(
        Application.objects.filter(community__in=communities_for(staff)).select_related(
            "community"
        ),
        pk=application_id,
    )


def get_membership_or_404(staff: Staff, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.filter(community__in=communities_for(staff)).select_related(
            "community", "member", "tier"
        ),
        pk=membership_id,
    )


RESOLVERS = {
    "membership_id": ("membership", get_membership_or_404),
    "member_id": ("member", get_member_or_404),
    "application_id": ("application", get_application_or_404),
}
