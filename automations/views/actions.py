"""The Actions pages: every scheduled action in tabs by what became of it (upcoming,
sending, sent, failed, unknown, missed, cancelled) with filters, and one action with its
deliveries per community, the platforms' answers and each attempt. Both pages ask again
every few seconds while something is being sent or is due within a minute.

Everybody who sees the organisation's communities reads them (a moderator: the actions of
their groups); the buttons — cancel, send now, mark as sent, send again — need
``MANAGE_COMMUNITIES``. Each answers htmx with the refreshed action and a redirect
otherwise, and refuses with the service's message when the state moved meanwhile.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from automations.forms_actions import ActionFilterForm
from automations.models import ActionStatus, Delivery, ScheduledAction
from automations.selectors import actions as selectors
from automations.services import actions as action_services
from automations.services import deliver as deliver_services
from automations.services import dispatch as dispatch_services
from automations.views.outlets import OUTCOME_LABELS
from communities.permissions import Capability, communities_for, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest

LIST_TEMPLATE = "automations/actions.html"
ACTION_TEMPLATE = "automations/action.html"


def _tabs(counts: dict[str, int]) -> list[dict]:
    status = selectors.STATUS_LABELS
    labels = {
        "all": _("All"),
        "upcoming": status[ActionStatus.SCHEDULED],
        "sending": _("Sending"),
        "sent": _("Sent"),
        "failed": _("Failed"),
        "unknown": _("Unknown"),
        "missed": status[ActionStatus.MISSED],
        "cancelled": status[ActionStatus.CANCELLED],
    }
    return [{"key": key, "label": labels[key], "count": counts[key]} for key in selectors.TABS]


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def actions(request: HtmxHttpRequest) -> HttpResponse:
    staff = request.staff
    form = ActionFilterForm(
        request.GET,
        communities=list(communities_for(staff).filter(archived=False).order_by("name", "pk")),
    )
    filters = form.filters()
    page = Paginator(selectors.action_list(staff=staff, filters=filters), selectors.PAGE_SIZE)
    page = page.get_page(request.GET.get("page"))
    rows = selectors.action_rows(page.object_list, organization=staff.organization)
    keep = {"q", "community", "kind", "due_from", "due_to"}
    filter_query = {k: v for k, v in request.GET.items() if k in keep and v}
    query = urlencode({**filter_query, "tab": filters.tab})
    context = {
        "nav": "actions",
        "form": form,
        "tab": filters.tab,
        "tabs": _tabs(selectors.tab_counts(staff=staff, filters=filters)),
        "filter_query": urlencode(filter_query),
        "query": query,
        "page": page,
        "rows": rows,
        "live": selectors.in_flight(page.object_list),
        "here": f"{request.path}?{query}&page={page.number}",
    }
    template = LIST_TEMPLATE
    if request.htmx and not request.htmx.boosted:
        template += "#action-results"
    return render(request, template, context)


def _action_context(request: HtmxHttpRequest, action: ScheduledAction) -> dict:
    return {
        "nav": "actions",
        "page": selectors.action_page(staff=request.staff, action=action),
        "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        "outcomes": OUTCOME_LABELS,
    }


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def action(request: HtmxHttpRequest, action: ScheduledAction) -> HttpResponse:
    template = ACTION_TEMPLATE
    if request.htmx and not request.htmx.boosted:
        template += "#action-body"
    return render(request, template, _action_context(request, action))


def _answer(request: HtmxHttpRequest, action: ScheduledAction) -> HttpResponse:
    """The refreshed action for htmx (its messages inside), the action page otherwise."""
    if request.htmx:
        action = selectors.get_action_or_404_queryset(request.staff).get(pk=action.pk)
        return render(request, f"{ACTION_TEMPLATE}#action-body", _action_context(request, action))
    return redirect("automations:action", action_id=action.pk)


def _run(request: HtmxHttpRequest, action: ScheduledAction, change, done: str) -> HttpResponse:
    try:
        change()
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, done)
    return _answer(request, action)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def action_cancel(request: HtmxHttpRequest, action: ScheduledAction) -> HttpResponse:
    return _run(
        request,
        action,
        lambda: action_services.action_cancel(action=action, by=request.user),
        _("The action was cancelled: it will not be sent."),
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def action_send_now(request: HtmxHttpRequest, action: ScheduledAction) -> HttpResponse:
    return _run(
        request,
        action,
        lambda: dispatch_services.action_send_now(action=action, by=request.user),
        _("Sending now."),
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def delivery_mark_sent(request: HtmxHttpRequest, delivery: Delivery) -> HttpResponse:
    return _run(
        request,
        delivery.action,
        lambda: deliver_services.delivery_mark_sent(delivery=delivery, by=request.user),
        _("Marked as sent to %(community)s.") % {"community": delivery.community.name},
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def delivery_send_again(request: HtmxHttpRequest, delivery: Delivery) -> HttpResponse:
    return _run(
        request,
        delivery.action,
        lambda: deliver_services.delivery_send_again(delivery=delivery, by=request.user),
        _("Sending again to %(community)s.") % {"community": delivery.community.name},
    )
