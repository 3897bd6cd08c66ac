"""The members list (filters, bulk actions, pyramid) and the member profile."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from communities.forms import add_service_error
from communities.panels import panels_for
from communities.permissions import Capability, communities_for, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members import selectors, services
from members.figures import pyramid_figure
from members.forms import (
    PAGE_SIZE,
    AddMemberForm,
    BulkAction,
    BulkForm,
    DepositForm,
    MemberFilterForm,
    MemberForm,
    PointsForm,
    RolesForm,
    TierForm,
    ViolationForm,
)
from members.models import Member, Membership, Tag
from members.panels import MEMBERSHIP_FORMS

LIST_TEMPLATE = "members/list.html"


def _filter_form(request: HtmxHttpRequest, data) -> MemberFilterForm:
    return MemberFilterForm(
        data,
        communities=list(communities_for(request.staff).filter(archived=False).order_by("name")),
        tags=list(Tag.objects.filter(organization_id=request.staff.organization_id)),
    )


def _list_context(request: HtmxHttpRequest, data, *, bulk_form=None) -> dict:
    form = _filter_form(request, data)
    filters = form.filters()
    listed = selectors.membership_list(staff=request.staff, filters=filters)
    page = Paginator(listed, PAGE_SIZE).get_page(data.get("page"))
    community = filters.community
    # The pyramid above the list counts the same people the list shows (its filters).
    pyramid = selectors.listed_pyramid(tiers=form.tiers, memberships=listed) if community else []
    query = {k: v for k, v in data.items() if k not in {"page", "csrfmiddlewaretoken"} and v}
    return {
        "nav": "members",
        "form": form,
        "page": page,
        "community": community,
        "pyramid": pyramid,
        "pyramid_chart": pyramid_figure(levels=pyramid) if pyramid else None,
        "query": urlencode(query),
        "bulk_form": bulk_form or BulkForm(tiers=form.tiers, squads=form.squads),
        "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        "can_export": has_capability(request.staff, Capability.EXPORT_DATA),
    }


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def member_list(request: HtmxHttpRequest):
    template = LIST_TEMPLATE
    context = _list_context(request, request.GET)
    if request.htmx and not request.htmx.boosted:
        template += "#member-results"
    elif context["can_manage"]:
        # Same name, same community, different members: offered for merging.
        context["duplicates"] = selectors.duplicate_suggestions(staff=request.staff)
    return render(request, template, context)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def member_bulk(request: HtmxHttpRequest):
    """Tag, move or regroup the ticked members; answers with the refreshed list."""
    filters = request.POST.get("filters", "")
    list_data = QueryDict(filters)
    filter_form = _filter_form(request, list_data)
    form = BulkForm(request.POST, tiers=filter_form.tiers, squads=filter_form.squads)
    if form.is_valid():
        memberships = selectors.memberships_by_ids(
            staff=request.staff, ids=form.cleaned_data["memberships"]
        )
        try:
            count = _apply_bulk(request, form.cleaned_data, memberships)
        except ValidationError as error:
            # The tag service names the tag's fields; the form calls them tag_kind, tag_name.
            add_service_error(form, error, {"kind": "tag_kind", "name": "tag_name"}.get)
        else:
            messages.success(
                request,
                ngettext("%(count)s member updated.", "%(count)s members updated.", count)
                % {"count": count},
            )
            form = None
    if not request.htmx:
        if form is not None:
            for error in form.errors.values():
                messages.error(request, " ".join(error))
        return redirect(f"{reverse('members:list')}?{filters}")
    return render(
        request,
        f"{LIST_TEMPLATE}#member-results",
        _list_context(request, list_data, bulk_form=form),
    )


@transaction.atomic
def _apply_bulk(request: HtmxHttpRequest, data: dict, memberships: list[Membership]) -> int:
    action = data["action"]
    if action == BulkAction.TAG:
        tag = services.tag_get_or_create(
            organization=request.staff.organization, kind=data["tag_kind"], name=data["tag_name"]
        )
        services.members_tag(memberships=memberships, tag=tag)
        return len(memberships)
    if action == BulkAction.MOVE_TIER:
        services.memberships_set_tier(memberships=memberships, tier=data["tier"], by=request.user)
        return len(memberships)
    return services.memberships_assign_squad(memberships=memberships, squad=data["squad"])


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def member_profile(request: HtmxHttpRequest, member: Member):
    visible = communities_for(request.staff)
    memberships = list(
        member.memberships.filter(community__in=visible)
        .select_related("community", "tier", "squad")
        .prefetch_related("roles")
        .order_by("community__name")
    )
    can_manage = has_capability(request.staff, Capability.MANAGE_COMMUNITIES)
    can_moderate = has_capability(request.staff, Capability.MODERATE_MEMBERS)
    for membership in memberships:
        community = membership.community
        membership.deposit_held = selectors.deposit_held(membership=membership)
        if can_manage:
            membership.points_form = PointsForm(community=community, prefix=f"p{membership.pk}")
            membership.deposit_form = DepositForm(prefix=f"d{membership.pk}")
            membership.roles_form = RolesForm(
                prefix=f"r{membership.pk}",
                initial={"roles": [r.role for r in membership.roles.all()]},
            )
            membership.tier_form = TierForm(
                community=community, prefix=f"t{membership.pk}", initial={"tier": membership.tier}
            )
        if can_moderate:
            membership.violation_form = ViolationForm(
                community=community, prefix=f"v{membership.pk}"
            )
        # Forms of higher apps (activities: manual activity entry), each deciding who sees it.
        membership.panels = panels_for(request, membership, place=MEMBERSHIP_FORMS)
    ids = [m.pk for m in memberships]
    history = selectors.member_history(membership_ids=ids)
    return render(
        request,
        "members/profile.html",
        {
            "nav": "members",
            "member": member,
            "handles": member.handles.all(),
            "tags": member.tags.all(),
            "memberships": memberships,
            "can_manage": can_manage,
            "can_moderate": can_moderate,
            # Privacy requests: export with EXPORT_DATA, erasure for owners only.
            "can_export": has_capability(request.staff, Capability.EXPORT_DATA),
            "can_erase": has_capability(request.staff, Capability.MANAGE_ORGANIZATION),
            **history,
        },
    )


def _membership_action(request, membership: Membership, form, write) -> object:
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Saved."))
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect("members:profile", member_id=membership.member_id)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def membership_points(request: HtmxHttpRequest, membership: Membership):
    form = PointsForm(request.POST, community=membership.community, prefix=f"p{membership.pk}")
    return _membership_action(
        request,
        membership,
        form,
        lambda data: services.points_add(
            membership=membership,
            delta=data["delta"],
            reason=data["reason"],
            rule=data["rule"],
            by=request.user,
        ),
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def membership_deposit(request: HtmxHttpRequest, membership: Membership):
    form = DepositForm(request.POST, prefix=f"d{membership.pk}")
    return _membership_action(
        request,
        membership,
        form,
        lambda data: services.deposit_record(membership=membership, by=request.user, **data),
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def membership_roles(request: HtmxHttpRequest, membership: Membership):
    form = RolesForm(request.POST, prefix=f"r{membership.pk}")
    return _membership_action(
        request,
        membership,
        form,
        lambda data: services.roles_assign(membership=membership, roles=data["roles"]),
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def membership_tier(request: HtmxHttpRequest, membership: Membership):
    form = TierForm(request.POST, community=membership.community, prefix=f"t{membership.pk}")
    return _membership_action(
        request,
        membership,
        form,
        lambda data: services.memberships_set_tier(
            memberships=[membership], tier=data["tier"], by=request.user
        ),
    )


@require_POST
@staff_required(Capability.MODERATE_MEMBERS)
def membership_violation(request: HtmxHttpRequest, membership: Membership):
    form = ViolationForm(request.POST, community=membership.community, prefix=f"v{membership.pk}")
    return _membership_action(
        request,
        membership,
        form,
        lambda data: services.violation_record(
            membership=membership, rule=data["rule"], evidence=data["evidence"], by=request.user
        ),
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def member_add(request: HtmxHttpRequest):
    """Add one person to a community by hand (imports and applications do it in bulk)."""
    communities = list(communities_for(request.staff).filter(archived=False).order_by("name"))
    initial = {"community": request.GET.get("community", "")}
    form = AddMemberForm(request.POST or None, communities=communities, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            membership = services.member_add_to_community(
                community=data["community"],
                display_name=data["display_name"],
                platform=data["platform"],
                external_id=data["external_id"],
                joined_on=data["joined_on"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(name)s added to %(community)s.")
                % {"name": membership.member.display_name, "community": membership.community.name},
            )
            return redirect("members:profile", member_id=membership.member_id)
    return render(request, "members/member_form.html", {"nav": "members", "form": form})


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def member_edit(request: HtmxHttpRequest, member: Member):
    form = MemberForm(
        request.POST or None,
        organization=request.staff.organization,
        initial={
            "display_name": member.display_name,
            "notes": member.notes,
            "tags": list(member.tags.all()),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(member=member, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("members:profile", member_id=member.pk)
    return render(
        request, "members/member_form.html", {"nav": "members", "form": form, "member": member}
    )
