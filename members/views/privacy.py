"""A member's privacy requests: download everything held about them, erase them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from communities.forms import add_service_error
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members import privacy
from members.forms_privacy import EraseForm, ExportRequestForm
from members.models import Member


# Exporting follows the downloads' rule: EXPORT_DATA (owners and managers); operators and
# moderators work with members but do not take their data out.
@require_http_methods(["GET", "POST"])
@staff_required(Capability.EXPORT_DATA)
def member_export(request: HtmxHttpRequest, member: Member):
    """The export form; a valid post answers with the member's ZIP bundle."""
    form = ExportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        bundle = privacy.member_export(
            member=member, actor=request.user, requested_by=form.cleaned_data["requested_by"]
        )
        day = timezone.localdate().isoformat()
        response = FileResponse(
            bundle,
            as_attachment=True,
            filename=f"member-{member.pk}-{day}.zip",
            content_type="application/zip",
        )
        add_never_cache_headers(response)
        return response
    return render(
        request, "members/export.html", {"nav": "members", "member": member, "form": form}
    )


# Erasure cannot be undone: owners only (the one capability only they hold).
@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_ORGANIZATION)
def member_erase(request: HtmxHttpRequest, member: Member):
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy.member_erase(
                member=member, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("The member's data has been erased."))
            return redirect(reverse("members:profile", args=[member.pk]))
    return render(request, "members/erase.html", {"nav": "members", "member": member, "form": form})
