from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRefresh

from communities import selectors, services
from communities.forms import CommunityFilterForm, CommunityForm
from communities.models import Community
from communities.permissions import (
    SESSION_ORGANIZATION_KEY,
    Capability,
    has_capability,
    staff_required,
)
from communities.shortcuts import HtmxHttpRequest
from config.health import worker_status


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def community_list(request: HtmxHttpRequest):
    form = CommunityFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    communities = selectors.community_list(
        staff=request.staff,
        archived=filters.get("archived") or False,
        platform=filters.get("platform") or "",
        search=filters.get("q") or "",
    )
    template = "communities/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#community-table"
    return render(
        request,
        template,
        {
            "nav": "communities",
            "form": form,
            "communities": communities,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def community_create(request: HtmxHttpRequest):
    form = CommunityForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            community = services.community_create(
                organization=request.staff.organization, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Community “%(name)s” created.") % {"name": community})
            return redirect("communities:detail", community_slug=community.slug)
    return render(request, "communities/form.html", {"nav": "communities", "form": form})


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def community_detail(request: HtmxHttpRequest, community: Community):
    return render(
        request,
        "communities/detail.html",
        {
            "nav": "communities",
            "community": community,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def community_edit(request: HtmxHttpRequest, community: Community):
    form = CommunityForm(request.POST or None, instance=community)
    if request.method == "POST" and form.is_valid():
        try:
            services.community_update(community=community, data=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Changes to “%(name)s” saved.") % {"name": community})
            return redirect("communities:detail", community_slug=community.slug)
    return render(
        request,
        "communities/form.html",
        {"nav": "communities", "form": form, "community": community},
    )


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def organization_settings(request: HtmxHttpRequest):
    can_manage = has_capability(request.staff, Capability.MANAGE_ORGANIZATION)
    return render(
        request,
        "communities/settings.html",
        {
            "nav": "settings",
            "staff_list": selectors.organization_staff(staff=request.staff) if can_manage else [],
            "worker": worker_status() if can_manage else None,
            "can_manage": can_manage,
        },
    )


@require_POST
@staff_required(Capability.VIEW_COMMUNITIES)
def organization_switch(request: HtmxHttpRequest):
    """Work in another organisation this user belongs to (chosen in the header)."""
    wanted = request.POST.get("organization", "")
    roles = selectors.staff_list_for_user(user=request.user)
    match = next((s for s in roles if str(s.organization_id) == wanted), None)
    if match is None:
        raise Http404
    request.session[SESSION_ORGANIZATION_KEY] = match.organization_id
    if request.htmx:
        return HttpResponseClientRefresh()
    return redirect("overview")
