"""The calendar's pages: month, week and agenda, the entry dialog, the occurrence page."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def month(request: HtmxHttpRequest):
    return render(request, "activities/calendar/month.html", {"nav": "calendar"})
