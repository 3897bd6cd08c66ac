"""My checklists: the moderator's day (today's and overdue runs, ticked in place)."""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def mine(request: HtmxHttpRequest):
    return render(
        request, "checklists/mine.html", {"nav": "checklists", "title": _("My checklists")}
    )


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def run(request: HtmxHttpRequest, run):
    return render(
        request, "checklists/run.html", {"nav": "checklists", "title": run.name, "run": run}
    )
