"""The signed-in staff member's notifications: the list (the bell in the layout links
here, with the unread count) and marking one or all as read.

Marking answers htmx with the list and, out of band, the layout's bell; without
JavaScript the form posts and comes back to the list. Another staff member's
notification id changes nothing (the service only looks at the signed-in one's).
"""

from django import forms
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from communities.notifications import notification_list, notifications_mark_read
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest

TEMPLATE = "communities/notifications.html"


class MarkReadForm(forms.Form):
    # Without it, every notification is marked as read.
    notification = forms.IntegerField(required=False, min_value=1, max_value=2**62)


def _context(request: HtmxHttpRequest) -> dict:
    return {
        "title": _("Notifications"),
        "notifications": notification_list(staff=request.staff),
    }


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def notifications(request: HtmxHttpRequest):
    return render(request, TEMPLATE, _context(request))


@require_POST
@staff_required(Capability.VIEW_COMMUNITIES)
def notifications_read(request: HtmxHttpRequest):
    form = MarkReadForm(request.POST)
    if form.is_valid():
        notifications_mark_read(
            staff=request.staff, notification_id=form.cleaned_data["notification"]
        )
    if request.htmx:
        context = {**_context(request), "oob": True}
        return render(request, f"{TEMPLATE}#read-response", context, status=200)
    return redirect("notifications")
