"""The team view: SOP completion per community, moderator and template over a date range,
the overdue list, reassigning a run."""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest


@require_GET
@staff_required(Capability.VIEW_ANALYTICS)
def team(request: HtmxHttpRequest):
    return render(request, "checklists/team.html", {"nav": "checklists", "title": _("Team view")})
