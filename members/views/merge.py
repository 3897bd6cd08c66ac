"""Merging another member into the one whose profile this is (issue 13)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from communities.forms import add_service_error
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from communities.validators import database_id
from members.access import get_member_or_404
from members.forms_merge import MergeForm, MergeSearchForm
from members.merge import members_merge, merge_preview
from members.models import Member
from members.selectors import member_merge_candidates


# Owners and operators: merging rewrites members' records (moderators and managers: 403).
@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def member_merge(request: HtmxHttpRequest, member: Member):
    """GET: find the other member (``q``), then see what moves (``other``); POST: merge
    the other member into this one. Another organisation's member is a 404."""
    form = MergeForm(request.POST or None, initial={"other": request.GET.get("other", "")})
    other = None
    if request.method == "POST":
        if form.is_valid():
            other = get_member_or_404(request.staff, form.cleaned_data["other"])
            try:
                members_merge(source=other, target=member, actor=request.user)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(
                    request,
                    _("%(name)s has been merged into this member.") % {"name": other.display_name},
                )
                return redirect(reverse("members:profile", args=[member.pk]))
        else:
            other = _other_from(request, request.POST.get("other", ""))
    else:
        other = _other_from(request, request.GET.get("other", ""))
    search = MergeSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    return render(
        request,
        "members/merge.html",
        {
            "nav": "members",
            "member": member,
            "other": other,
            "form": form,
            "search": search,
            "query": query,
            "candidates": member_merge_candidates(member=member, query=query) if query else [],
            "preview": merge_preview(source=other, target=member) if other else None,
        },
    )


def _other_from(request: HtmxHttpRequest, value: str) -> Member | None:
    """The chosen member, within what the staff member may see; a bad id is no choice."""
    try:
        pk = database_id(value)
    except ValueError:
        return None
    return get_member_or_404(request.staff, pk)
