"""The one permission module every view and API goes through.

Rules:
- every page needs a signed-in user who is staff of the current organisation;
- a role grants capabilities (``ROLE_CAPABILITIES``); a missing capability is a 403 page;
- objects are always looked up *through* ``communities_for(staff)``, so another
  organisation's object (or, for a moderator, a group not assigned to them) is a 404
  that says nothing about it.
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from communities.models import Community, Connector, Invitation, Programme, Role, Staff


class Capability(StrEnum):
    VIEW_COMMUNITIES = "communities.view"
    MANAGE_COMMUNITIES = "communities.manage"
    VIEW_ANALYTICS = "analytics.view"
    EXPORT_DATA = "analytics.export"
    WORK_CHECKLISTS = "checklists.work"
    MODERATE_MEMBERS = "members.moderate"  # record violations in the groups one works on
    MANAGE_ORGANIZATION = "organization.manage"
    MANAGE_STAFF = "staff.manage"  # invite, change roles, assign, deactivate; read the staff log


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.OWNER: frozenset(Capability),
    Role.OPERATOR: frozenset(
        {
            Capability.VIEW_COMMUNITIES,
            Capability.MANAGE_COMMUNITIES,
            Capability.VIEW_ANALYTICS,
            Capability.WORK_CHECKLISTS,
            Capability.MODERATE_MEMBERS,
        }
    ),
    Role.MANAGER: frozenset(
        {Capability.VIEW_COMMUNITIES, Capability.VIEW_ANALYTICS, Capability.EXPORT_DATA}
    ),
    Role.MODERATOR: frozenset(
        {Capability.VIEW_COMMUNITIES, Capability.WORK_CHECKLISTS, Capability.MODERATE_MEMBERS}
    ),
}

# Roles that see only the communities assigned to them.
ASSIGNED_ONLY_ROLES = frozenset({Role.MODERATOR})


SESSION_ORGANIZATION_KEY = "organization_id"


def get_programme_or_404(staff: Staff, programme_id: int) -> Programme:
    return get_object_or_404(
        Programme.objects.filter(organization_id=staff.organization_id), pk=programme_id
    )


def get_staff_or_404(staff: Staff, staff_id: int) -> Staff:
    return get_object_or_404(
        Staff.objects.filter(organization_id=staff.organization_id).select_related("user"),
        pk=staff_id,
    )


def get_invitation_or_404(staff: Staff, invitation_id: int) -> Invitation:
    return get_object_or_404(
        Invitation.objects.filter(organization_id=staff.organization_id), pk=invitation_id
    )


def staff_list_for_user(*, user) -> list[Staff]:
    """The user's active staff records: a deactivated one no longer lets them in."""
    return list(
        Staff.objects.filter(user=user, deactivated_at__isnull=True)
        .select_related("organization")
        .order_by("organization__name")
    )


def current_staff(request: HttpRequest) -> Staff | None:
    """The signed-in user's staff record in the organisation chosen for this session.

    Computed once per request. A user in several organisations works in one at a time;
    the choice lives in the session and defaults to the first by name.
    """
    if not hasattr(request, "_current_staff"):
        staff, roles = None, []
        if request.user.is_authenticated:
            roles = staff_list_for_user(user=request.user)
            chosen = request.session.get(SESSION_ORGANIZATION_KEY)
            staff = next((s for s in roles if s.organization_id == chosen), None)
            if staff is None and roles:
                staff = roles[0]
        request._current_staff = staff
        request._staff_roles = roles
    return request._current_staff


def staff_roles(request: HttpRequest) -> list[Staff]:
    """Every staff record of the signed-in user (one per organisation), loaded once."""
    current_staff(request)
    return request._staff_roles


def has_capability(staff: Staff | None, capability: Capability) -> bool:
    return staff is not None and capability in ROLE_CAPABILITIES.get(staff.role, frozenset())


def communities_for(staff: Staff) -> QuerySet[Community]:
    """Every community this staff member may see: their organisation's, or their own."""
    queryset = Community.objects.filter(organization_id=staff.organization_id)
    if staff.role in ASSIGNED_ONLY_ROLES:
        queryset = queryset.filter(assigned_staff=staff)
    return queryset


def get_community_or_404(staff: Staff, slug: str) -> Community:
    return get_object_or_404(communities_for(staff), slug=slug)


def get_connector_or_404(staff: Staff, connector_pk: int) -> Connector:
    return get_object_or_404(
        Connector.objects.filter(community__in=communities_for(staff)).select_related("community"),
        pk=connector_pk,
    )


# URL parameters that name an object, and how to find it *within what the staff may see*.
# The decorator swaps the parameter for the object, so a view can never look one up
# unscoped. Higher apps register theirs in AppConfig.ready (members/access.py).
URL_OBJECT_RESOLVERS: dict[str, tuple[str, Callable[[Staff, Any], object]]] = {
    "community_slug": ("community", get_community_or_404),
    "programme_id": ("programme", get_programme_or_404),
    "connector_pk": ("connector", get_connector_or_404),
    "staff_id": ("staff_member", get_staff_or_404),
    "invitation_id": ("invitation", get_invitation_or_404),
}


def staff_required(capability: Capability) -> Callable:
    """Decorate a view: sign-in, staff of the current organisation, its objects, the capability.

    In this order: anonymous users go to the login page; a user with no organisation sees
    a page that says so; an object outside what the user may see is a 404 (before any
    role check, so a 403 never confirms that another organisation's object exists); and a
    role without the capability gets a 403 page.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.user.must_change_password:  # a temporary password set by an owner
                return redirect("password_change")
            request.staff = current_staff(request)
            if request.staff is None:
                return render(request, "registration/no_organization.html", status=403)
            for parameter, (name, resolve) in URL_OBJECT_RESOLVERS.items():
                if parameter in kwargs:
                    kwargs[name] = resolve(request.staff, kwargs.pop(parameter))
            if not has_capability(request.staff, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability
        return wrapped

    return decorator
