""" "Send to the group" on My checklists and the run page: an item's message posted through
its community's outlet, once (``automations.services.checklist_messages``). POST answers
htmx with the item (checklists' own partial, the button now its sending state); GET gives
that state alone, which the item polls while the message is on its way."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from automations.selectors.checklist_messages import actions_by_item, item_context
from automations.services.checklist_messages import checklist_message_send
from checklists import item_actions
from checklists.models import RunItem
from checklists.selectors.mine import run_card
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@staff_required(Capability.WORK_CHECKLISTS)
def checklist_send(request: HtmxHttpRequest, run_item: RunItem) -> HttpResponse:
    if request.method == "GET":
        action = actions_by_item(request.staff.organization_id, [run_item.pk]).get(run_item.pk)
        return render(
            request,
            "automations/checklist_send.html#send-state",
            {"action": item_context(run_item.pk, action)},
        )
    page = "run" if request.POST.get("page") == "run" else "mine"
    errors: list[str] = []
    try:
        checklist_message_send(run_item=run_item, by=request.staff)
    except ValidationError as error:
        errors = error.messages
    if request.htmx:
        card = run_card(staff=request.staff, run_id=run_item.run_id, now=timezone.now())
        item_actions.attach(request, [card])
        row = card.row(run_item.pk)
        row.errors = errors
        return render(
            request, "checklists/mine.html#item", {"card": card, "row": row, "page": page}
        )
    if errors:
        for error in errors:
            messages.error(request, error)
    else:
        messages.success(request, _("The message is on its way to the group."))
    if page == "run":
        return redirect("checklists:run", run_id=run_item.run_id)
    return redirect(f"{reverse('checklists:mine')}#item-{run_item.pk}")
