"""Members CSV export (a community's members, with the list's filters) and import.

The format, the same both ways, is described in ``members/transfer.py`` and on the
import page.
"""

from django import forms
from django.shortcuts import redirect, render
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from communities.models import Community, Platform
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members import selectors, transfer
from members.forms import MemberFilterForm
from members.models import MemberRole, MembershipStatus, Tag, TagKind

SUMMARY_SESSION_KEY = "members_import_summary"


def _limits_help() -> str:
    return _("At most %(megabytes)s MB and %(rows)s rows.") % transfer.import_limits()


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=lazy(_limits_help, str)(),  # in the language of each request
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


@require_GET
@staff_required(Capability.EXPORT_DATA)
def member_export(request: HtmxHttpRequest, community: Community):
    """The community's members as CSV; the members list's filters apply when given."""
    form = MemberFilterForm(
        {**request.GET.dict(), "community": community.slug},
        communities=[community],
        tags=list(Tag.objects.filter(organization_id=request.staff.organization_id)),
    )
    filters = form.filters()
    filters.community = community  # whatever the query string says
    memberships = selectors.membership_list(staff=request.staff, filters=filters)
    response, writer = transfer.csv_download(transfer.export_filename(community=community))
    transfer.members_csv_write(memberships=memberships, writer=writer)
    return response


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def member_import(request: HtmxHttpRequest, community: Community):
    """Upload a CSV of members: all rows are added, or none and a row-by-row report."""
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = transfer.members_import_csv(
            community=community, file=form.cleaned_data["file"], by=request.user
        )
        if result.ok:
            # Post/redirect/get: reloading the page must not import the file twice.
            request.session[SUMMARY_SESSION_KEY] = {
                "community": community.pk,
                "rows": result.rows,
                "members_created": result.members_created,
                "members_matched": result.members_matched,
                "squads_created": result.squads_created,
                "points_entries": result.points_entries,
            }
            return redirect("members:import", community_slug=community.slug)
    summary = None
    if request.method == "GET":
        summary = request.session.pop(SUMMARY_SESSION_KEY, None)
        if summary and summary.get("community") != community.pk:
            summary = None
    return render(
        request,
        "members/import.html",
        {
            "nav": "members",
            "community": community,
            "form": form,
            "result": result,
            "summary": summary,
            "columns": transfer.COLUMNS,
            "platforms": Platform.values,
            "statuses": MembershipStatus.values,
            "roles": MemberRole.values,
            "tag_kinds": TagKind.values,
            "tiers": list(community.tiers.order_by("rank")),
            "limits": transfer.import_limits(),
        },
    )
