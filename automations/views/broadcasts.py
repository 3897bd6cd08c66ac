"""Broadcasts (定时群发) pages: the list (schedule in words, next and last send, paused),
the create/edit form with its live preview per community (an htmx POST on every change:
the filled text, the outlet, the length against its platform's limit, the next sends in
the community's zone), and pause / resume / delete.

Reading needs ``VIEW_COMMUNITIES`` (managers read the list); writing needs
``MANAGE_COMMUNITIES`` (owners and operators). A broadcast outside what the staff member
may see is a 404 (``selectors.broadcasts.get_broadcast_or_404``).
"""

from __future__ import annotations

from datetime import date, time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from automations.forms_broadcasts import BroadcastForm, PreviewForm, Repeat
from automations.models import Broadcast
from automations.selectors.broadcasts import broadcast_rows, preview_rows, state_summary
from automations.services import broadcasts as services
from communities.forms import add_service_error
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest

LIST_TEMPLATE = "automations/broadcasts.html"
FORM_TEMPLATE = "automations/broadcast_form.html"


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def broadcasts(request: HtmxHttpRequest) -> HttpResponse:
    rows = broadcast_rows(request.staff)
    for row in rows:
        row.summary = state_summary(row.last_states)
    return render(
        request,
        LIST_TEMPLATE,
        {
            "nav": "actions",
            "rows": rows,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


def _form_page(request, form: BroadcastForm, broadcast: Broadcast | None, *, status=200):
    return render(
        request,
        FORM_TEMPLATE,
        {
            "nav": "actions",
            "form": form,
            "broadcast": broadcast,
            "placeholders": BroadcastForm.placeholders(),
            "preview_url": reverse("automations:broadcast-preview"),
            **_preview_context(request, form.data if form.is_bound else None, broadcast),
        },
        status=status,
    )


def _save(request, form: BroadcastForm, broadcast: Broadcast | None):
    if form.is_valid():
        try:
            if broadcast is None:
                broadcast = services.broadcast_create(
                    organization=request.staff.organization,
                    by=request.user,
                    **form.service_data(),
                )
                text = _("Broadcast “%(name)s” saved.")
            else:
                broadcast = services.broadcast_update(
                    broadcast=broadcast, by=request.user, **form.service_data()
                )
                text = _("Broadcast “%(name)s” changed; its next sends are planned again.")
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, text % {"name": broadcast.name})
            return redirect("automations:broadcasts")
    return _form_page(request, form, broadcast)


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def broadcast_new(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, BroadcastForm(request.POST, staff=request.staff), None)
    today = timezone.localdate()
    form = BroadcastForm(
        staff=request.staff,
        initial={"start_date": today, "at_time": time(9), "repeat": Repeat.DAILY},
    )
    return _form_page(request, form, None)


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def broadcast_edit(request: HtmxHttpRequest, broadcast: Broadcast) -> HttpResponse:
    if request.method == "POST":
        return _save(request, BroadcastForm(request.POST, staff=request.staff), broadcast)
    form = BroadcastForm(staff=request.staff, initial=BroadcastForm.initial_for(broadcast))
    return _form_page(request, form, broadcast)


def _preview_context(request, data, broadcast: Broadcast | None) -> dict:
    """The preview's rows for the form's values (``data``; None: the saved broadcast's)."""
    if data is None:
        if broadcast is None:
            return {"preview": [], "preview_error": ""}
        shape = broadcast
        chosen = list(broadcast.communities.order_by("name"))
        text, markdown = broadcast.text, broadcast.markdown
    else:
        form = PreviewForm(data, staff=request.staff)
        form.is_valid()
        values = form.cleaned_data
        chosen = sorted(values.get("communities") or [], key=lambda c: c.name)
        start_date = values.get("start_date") or timezone.localdate()
        at_time = values.get("at_time") or time(9)
        text, markdown = values.get("text") or "", bool(values.get("markdown"))
        rrule = _rule_of(values, start_date)
        if rrule is None:
            return {"preview": [], "preview_error": _("Write a valid repeat rule to see when.")}
        shape = Broadcast(start_date=start_date, at_time=at_time, rrule=rrule)
    if not chosen:
        return {"preview": [], "preview_error": ""}
    return {
        "preview": preview_rows(communities=chosen, text=text, markdown=markdown, broadcast=shape),
        "preview_error": "",
    }


def _rule_of(values: dict, start_date: date) -> str | None:
    from activities.calendar import recurrence
    from activities.calendar.forms import build_rrule

    text = build_rrule(
        values.get("repeat") or Repeat.NONE,
        start_date,
        weekdays=values.get("weekdays") or (),
        custom=values.get("rrule") or "",
    )
    if not text:
        return ""
    try:
        return recurrence.normalize(text, recurrence.local_start(start_date, time(0)))
    except ValidationError:
        return None


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def broadcast_preview(request: HtmxHttpRequest) -> HttpResponse:
    return render(
        request, f"{FORM_TEMPLATE}#preview", _preview_context(request, request.POST, None)
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def broadcast_pause(request: HtmxHttpRequest, broadcast: Broadcast) -> HttpResponse:
    services.broadcast_pause(broadcast=broadcast)
    messages.success(request, _("Broadcast “%(name)s” paused.") % {"name": broadcast.name})
    return redirect("automations:broadcasts")


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def broadcast_resume(request: HtmxHttpRequest, broadcast: Broadcast) -> HttpResponse:
    services.broadcast_resume(broadcast=broadcast)
    messages.success(
        request,
        _("Broadcast “%(name)s” resumed: it is sent again from its next time on.")
        % {"name": broadcast.name},
    )
    return redirect("automations:broadcasts")


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def broadcast_delete(request: HtmxHttpRequest, broadcast: Broadcast) -> HttpResponse:
    name = broadcast.name
    services.broadcast_delete(broadcast=broadcast)
    messages.success(request, _("Broadcast “%(name)s” deleted.") % {"name": name})
    return redirect("automations:broadcasts")
