from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest, render_coming_soon


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def member_list(request: HtmxHttpRequest):
    return render_coming_soon(
        request,
        nav="members",
        title=_("Members"),
        lead=_("Every person across your groups, seen as a pyramid rather than a crowd."),
        items=[
            _("Members with their platform handles, tags and notes, across communities."),
            _("Tiers, roles and squads (小组), with a points ledger and deposits."),
            _("Filters by tier, role, tag and inactivity, and bulk actions."),
            _("Entry applications waiting for review, and the violations log."),
        ],
    )
