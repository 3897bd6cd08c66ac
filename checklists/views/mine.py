"""My checklists: the moderator's day (today's and overdue runs, ticked in place), and a
run's page with its audit trail.

Ticking answers htmx with the item's partial and, out of band, the run's progress bar;
without JavaScript the form posts and comes back to the page it was on. A service's error
(a required value missing, a finished day, a cancelled run) is shown next to the item and
nothing is written.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from activities.calendar import recurrence
from checklists import item_actions
from checklists.forms import TickForm, UntickForm
from checklists.models import ChecklistRun, RunItem
from checklists.selectors.mine import OVERDUE_DAYS, RunCard, my_runs, run_card
from checklists.services.runs import item_tick as tick_service
from checklists.services.runs import item_untick as untick_service
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest

TEMPLATE = "checklists/mine.html"
RUN_TEMPLATE = "checklists/run.html"


def _team_url() -> str:
    try:
        return reverse("checklists:team")
    except NoReverseMatch:  # the team view is not installed yet
        return reverse("communities:list")


def _mine_context(request: HtmxHttpRequest, runs) -> dict:
    return {
        "nav": "checklists",
        "title": _("My checklists"),
        "mine": runs,
        "page": "mine",
        "overdue_days": OVERDUE_DAYS,
    }


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def mine(request: HtmxHttpRequest):
    if not has_capability(request.staff, Capability.WORK_CHECKLISTS):
        return redirect(_team_url())  # managers follow the work, they do not do it
    runs = my_runs(staff=request.staff, now=timezone.now())
    item_actions.attach(request, [*runs.today, *runs.overdue])
    return render(request, TEMPLATE, _mine_context(request, runs))


def _occurrence_url(run: ChecklistRun) -> str:
    if run.entry_id is None or run.original_start is None:
        return ""
    start = run.original_start
    key = recurrence.Slot(run.entry_id, start, start, start).key()
    return reverse("activities:occurrence", args=[key])


def _run_context(request: HtmxHttpRequest, card: RunCard) -> dict:
    ticks = sorted(
        (tick for row in card.rows for tick in row.item.ticks.all()),
        key=lambda tick: (tick.at, tick.pk),
        reverse=True,
    )
    return {
        "nav": "checklists",
        "title": card.run.name,
        "card": card,
        "run": card.run,
        "ticks": ticks,
        "occurrence_url": _occurrence_url(card.run),
        "page": "run",
    }


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def run(request: HtmxHttpRequest, run: ChecklistRun):
    card = run_card(staff=request.staff, run_id=run.pk, now=timezone.now(), with_ticks=True)
    item_actions.attach(request, [card])
    return render(request, RUN_TEMPLATE, _run_context(request, card))


def _answer(
    request: HtmxHttpRequest, item: RunItem, *, page: str, errors: list[str], entered: str | None
):
    """After a tick or untick: htmx gets the item and the run's progress (200 with an error
    too: htmx swaps no 4xx answer); a plain form goes back to its page, or on an error gets
    that page (400) with the error at the item."""
    now = timezone.now()
    if request.htmx:
        card = run_card(staff=request.staff, run_id=item.run_id, now=now)
        item_actions.attach(request, [card])
        row = card.row(item.pk)
        row.errors, row.entered = errors, entered if errors else None
        context = {"card": card, "row": row, "page": page, "oob": True}
        return render(request, f"{TEMPLATE}#tick-response", context)
    if not errors:
        if page == "run":
            return redirect("checklists:run", run_id=item.run_id)
        return redirect(f"{reverse('checklists:mine')}#item-{item.pk}")
    if page == "mine":
        runs = my_runs(staff=request.staff, now=now)
        item_actions.attach(request, [*runs.today, *runs.overdue])
        for card in [*runs.today, *runs.overdue]:
            row = card.row(item.pk)
            if row is not None:
                row.errors, row.entered = errors, entered
                return render(request, TEMPLATE, _mine_context(request, runs), status=400)
    card = run_card(staff=request.staff, run_id=item.run_id, now=now, with_ticks=True)
    item_actions.attach(request, [card])
    row = card.row(item.pk)
    row.errors, row.entered = errors, entered
    return render(request, RUN_TEMPLATE, _run_context(request, card), status=400)


@require_POST
@vary_on_headers("HX-Request")
@staff_required(Capability.WORK_CHECKLISTS)
def item_tick(request: HtmxHttpRequest, run_item: RunItem):
    form = TickForm(request.POST)
    value = form.cleaned_data["value"] if form.is_valid() else ""
    errors: list[str] = []
    try:
        tick_service(item=run_item, staff=request.staff, value=value, now=timezone.now())
    except ValidationError as error:
        errors = error.messages
    return _answer(request, run_item, page=form.back_to(), errors=errors, entered=value)


@require_POST
@vary_on_headers("HX-Request")
@staff_required(Capability.WORK_CHECKLISTS)
def item_untick(request: HtmxHttpRequest, run_item: RunItem):
    form = UntickForm(request.POST)
    errors: list[str] = []
    try:
        untick_service(item=run_item, staff=request.staff, now=timezone.now())
    except ValidationError as error:
        errors = error.messages
    return _answer(request, run_item, page=form.back_to(), errors=errors, entered=None)
