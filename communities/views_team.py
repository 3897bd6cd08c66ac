"""The staff pages (owners): invitations, accounts, roles, communities, deactivation, the log;
and the public page that accepts an invitation."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from communities import team
from communities.forms import add_service_error
from communities.forms_team import (
    AcceptForm,
    AccountForm,
    AssignForm,
    InviteForm,
    LogFilterForm,
    ModeratorForm,
    RoleForm,
)
from communities.models import Community, Invitation, Role, Staff
from communities.permissions import Capability, staff_required
from communities.selectors import organization_staff
from communities.shortcuts import HtmxHttpRequest

LOG_PAGE_SIZE = 50


def _accept_link(request, token: str) -> str:
    return request.build_absolute_uri(reverse("invitation-accept", args=[token]))


def _staff_page(request, *, invite_form=None, account_form=None, issued=None, status=200):
    organization = request.staff.organization
    pending = (
        Invitation.objects.filter(
            organization=organization, accepted_at__isnull=True, revoked_at__isnull=True
        )
        .select_related("invited_by")
        .prefetch_related("communities")
        .order_by("-created_at")
    )
    return render(
        request,
        "communities/team/staff.html",
        {
            "nav": "settings",
            "staff_list": organization_staff(staff=request.staff),
            "invitations": pending,
            "invite_form": invite_form or InviteForm(organization=organization),
            "account_form": account_form or AccountForm(organization=organization),
            "roles": Role.choices,
            "communities": list(
                Community.objects.filter(organization=organization).order_by("name")
            ),
            "now": timezone.now(),
            "issued": issued,
        },
        status=status,
    )


@require_GET
@staff_required(Capability.MANAGE_STAFF)
def staff_list(request: HtmxHttpRequest):
    return _staff_page(request)


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def invitation_create(request: HtmxHttpRequest):
    organization = request.staff.organization
    form = InviteForm(request.POST, organization=organization)
    if form.is_valid():
        try:
            invitation, token = team.invitation_create(
                organization=organization, invited_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            link = _accept_link(request, token)
            team.invitation_send(invitation=invitation, link=link)
            return _staff_page(request, issued={"invitation": invitation, "link": link})
    return _staff_page(request, invite_form=form, status=400)


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def invitation_resend(request: HtmxHttpRequest, invitation: Invitation):
    try:
        token = team.invitation_resend(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("team:staff")
    invitation.refresh_from_db()
    link = _accept_link(request, token)
    team.invitation_send(invitation=invitation, link=link)
    return _staff_page(request, issued={"invitation": invitation, "link": link})


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def invitation_revoke(request: HtmxHttpRequest, invitation: Invitation):
    try:
        team.invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Invitation withdrawn: its link no longer works."))
    return redirect("team:staff")


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def account_create(request: HtmxHttpRequest):
    organization = request.staff.organization
    form = AccountForm(request.POST, organization=organization)
    if form.is_valid():
        try:
            staff = team.staff_account_create(
                organization=organization, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Account %(name)s created. Give them the temporary password yourself.")
                % {"name": staff.user.get_username()},
            )
            return redirect("team:staff")
    return _staff_page(request, account_form=form, status=400)


def _staff_action(request, call, success: str):
    try:
        call()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return redirect("team:staff")


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def staff_role(request: HtmxHttpRequest, staff_member: Staff):
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return redirect("team:staff")
    return _staff_action(
        request,
        lambda: team.staff_role_change(
            staff=staff_member, role=form.cleaned_data["role"], actor=request.user
        ),
        _("Role changed."),
    )


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def staff_communities(request: HtmxHttpRequest, staff_member: Staff):
    form = AssignForm(request.POST, organization=request.staff.organization)
    if not form.is_valid():
        messages.error(request, _("Choose communities of this organisation."))
        return redirect("team:staff")
    return _staff_action(
        request,
        lambda: team.staff_communities_set(
            staff=staff_member, communities=form.cleaned_data["communities"], actor=request.user
        ),
        _("Assigned communities saved."),
    )


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def staff_deactivate(request: HtmxHttpRequest, staff_member: Staff):
    return _staff_action(
        request,
        lambda: team.staff_deactivate(staff=staff_member, actor=request.user),
        _("Deactivated: they can no longer sign in here; their records stay."),
    )


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def staff_reactivate(request: HtmxHttpRequest, staff_member: Staff):
    return _staff_action(
        request,
        lambda: team.staff_reactivate(staff=staff_member, actor=request.user),
        _("Reactivated."),
    )


@require_POST
@staff_required(Capability.MANAGE_STAFF)
def community_moderators(request: HtmxHttpRequest, community: Community):
    """Assign or unassign a moderator from the community's page."""
    moderators = team.community_moderator_choices(community)
    form = ModeratorForm(request.POST, moderators=moderators)
    if form.is_valid():
        staff = form.moderators[form.cleaned_data["staff"]]
        try:
            team.staff_community_assign(
                staff=staff,
                community=community,
                assigned=form.cleaned_data["assigned"],
                actor=request.user,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Moderators of this group saved."))
    else:
        messages.error(request, _("Choose a moderator of this organisation."))
    return redirect("communities:detail", community.slug)


@require_GET
@staff_required(Capability.MANAGE_STAFF)
def log(request: HtmxHttpRequest):
    organization = request.staff.organization
    form = LogFilterForm(
        request.GET or None, people=team.staff_log_people(organization=organization)
    )
    filters = form.cleaned_data if form.is_valid() else {}
    page = Paginator(team.staff_log(organization=organization, **filters), LOG_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(
        request,
        "communities/team/log.html",
        {"nav": "settings", "form": form, "page": page, "query": urlencode(query)},
        status=200 if not form.is_bound or form.is_valid() else 400,
    )


# --- Accepting (public: the link is the credential) ---------------------------------------


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    invitation = team.invitation_for_token(token)
    problem = team.invitation_problem(invitation)
    if problem:
        return render(
            request,
            "communities/team/accept.html",
            {"problem": problem},
            status=410 if invitation else 404,
        )
    form = AcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = team.invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            add_service_error(form, error, {"password": "password1"}.get)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Welcome to %(organization)s.") % {"organization": invitation.organization.name},
            )
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "communities/team/accept.html",
        {"invitation": invitation, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
