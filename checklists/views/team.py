"""The team view: SOP completion per community, moderator and template over a date range,
the overdue list, reassigning a run.

Who: owners, operators and managers see it (``VIEW_ANALYTICS``); owners and managers
download the CSV (``EXPORT_DATA``, as every CSV of the product); owners and operators
reassign runs (``MANAGE_COMMUNITIES``), managers see the overdue list without the form.
The page costs a constant number of queries whatever the number of communities and runs.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from checklists import figures
from checklists.forms_team import ReassignForm, TeamFilterForm
from checklists.models import ChecklistRun
from checklists.selectors.team import (
    CompletionRow,
    TeamReport,
    assignable_staff,
    overdue_runs,
    team_report,
)
from checklists.services.runs import run_reassign as reassign_service
from communities.models import Staff
from communities.permissions import Capability, communities_for, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members.transfer import csv_download, neutralise

TEMPLATE = "checklists/team.html"


def _organization_today(staff: Staff) -> date:
    return timezone.localdate(timezone=ZoneInfo(staff.organization.time_zone))


def _filter_form(request: HtmxHttpRequest) -> TeamFilterForm:
    communities = list(communities_for(request.staff).order_by("name", "pk"))
    return TeamFilterForm(
        request.GET, today=_organization_today(request.staff), communities=communities
    )


def _report(request: HtmxHttpRequest, form: TeamFilterForm) -> TeamReport:
    return team_report(
        organization_id=request.staff.organization_id,
        communities=list(form.communities.values()),
        start=form.start,
        end=form.end,
        community=form.chosen_community,
        phase=form.chosen_phase,
    )


def _with_choices(request: HtmxHttpRequest, runs: list[ChecklistRun]) -> list[ChecklistRun]:
    """Give each run the staff it may be reassigned to (only for those who may reassign)."""
    if not has_capability(request.staff, Capability.MANAGE_COMMUNITIES):
        return runs
    choices = assignable_staff(
        organization_id=request.staff.organization_id,
        community_ids=sorted({run.community_id for run in runs}),
    )
    for run in runs:
        run.assignable = choices.get(run.community_id, [])
    return runs


def _team_url(query: dict | None = None) -> str:
    url = reverse("checklists:team")
    return f"{url}?{urlencode(query)}" if query else url


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_ANALYTICS)
def team(request: HtmxHttpRequest):
    form = _filter_form(request)
    valid = form.is_valid()
    context = {
        "nav": "checklists",
        "title": _("Team view"),
        "form": form,
        "can_export": has_capability(request.staff, Capability.EXPORT_DATA),
        "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        "return_to": request.get_full_path(),
    }
    # The overdue list follows the community and phase filters, whatever the date range.
    context["overdue"] = _with_choices(
        request,
        overdue_runs(
            organization_id=request.staff.organization_id,
            community=form.chosen_community,
            phase=form.chosen_phase,
        ),
    )
    if valid:
        report = _report(request, form)
        line_name = form.chosen_community.name if form.chosen_community else _("All communities")
        context.update(
            {
                "report": report,
                "range_query": urlencode(form.query()),
                "day_chart": figures.completion_by_day_figure(days=report.days, name=line_name),
                "moderator_chart": figures.completion_by_moderator_figure(rows=report.moderators),
                "tables": [
                    ("community", _("Per community"), _("Community"), report.communities),
                    ("moderator", _("Per moderator"), _("Moderator"), report.moderators),
                    ("template", _("Per template"), _("Template"), report.templates),
                ],
            }
        )
    # A bad range is a 400 page; to htmx it answers 200, since htmx swaps no error response
    # and the form must show what is wrong.
    status = 200 if valid or request.htmx else 400
    template = TEMPLATE
    if request.htmx and not request.htmx.boosted and not request.htmx.history_restore_request:
        template += "#team-body"
    return render(request, template, context, status=status)


CSV_HEADER = ["group", "name", "items_due", "on_time", "late", "not_done", "completion_percent"]
UNNAMED = {"moderator": "(unassigned)", "template": "(deleted template)"}


def _csv_rows(group: str, rows: list[CompletionRow]):
    for row in rows:
        name = row.name if row.key is not None else UNNAMED.get(group, "")
        percent = "" if row.percent is None else row.percent
        yield [group, neutralise(name), row.due, row.on_time, row.late, row.not_done, percent]


@require_GET
@staff_required(Capability.EXPORT_DATA)
def team_csv(request: HtmxHttpRequest):
    """The three tables of the page as one CSV, a ``group`` column saying which (UTF-8 with
    a BOM for Excel, never cached; the header stays English)."""
    form = _filter_form(request)
    if not form.is_valid():
        errors = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
    report = _report(request, form)
    response, writer = csv_download(
        f"sop-completion-{form.start.isoformat()}-{form.end.isoformat()}.csv"
    )
    writer.writerow(CSV_HEADER)
    for group, rows in (
        ("community", report.communities),
        ("moderator", report.moderators),
        ("template", report.templates),
    ):
        writer.writerows(_csv_rows(group, rows))
    return response


# --- Reassigning a run -----------------------------------------------------------------------


def _back(request: HtmxHttpRequest, form: ReassignForm) -> str:
    """The team view the form was on (its filters kept); anything else is not where we
    came from."""
    wanted = (form.data.get("next") or "").strip()
    team_url = _team_url()
    if (
        wanted.startswith(team_url)
        and wanted.isprintable()
        and url_has_allowed_host_and_scheme(
            wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return wanted
    return team_url


def _row(request: HtmxHttpRequest, run: ChecklistRun, **extra) -> HttpResponse:
    """The run's row of the overdue list alone, for htmx to swap in place of the old one."""
    found = overdue_runs(organization_id=request.staff.organization_id, run_ids=[run.pk])
    if found:
        run = found[0]
    else:  # nothing overdue any more (ticked meanwhile, or closed a week ago)
        run.overdue_items = []
    context = {
        "run": _with_choices(request, [run])[0],
        "can_manage": True,
        "return_to": extra.pop("return_to", _team_url()),
        **extra,
    }
    return render(request, f"{TEMPLATE}#overdue-row", context)


def _assignee_name(run: ChecklistRun) -> str:
    return run.assignee.user.get_username() if run.assignee else ""


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def run_reassign(request: HtmxHttpRequest, run: ChecklistRun):
    form = ReassignForm(request.POST, organization_id=request.staff.organization_id)
    errors: list[str] = []
    if form.is_valid():
        try:
            reassign_service(run=run, assignee=form.cleaned_data["assignee"])
        except ValidationError as error:
            errors = error.messages
            run.refresh_from_db(fields=["assignee"])
    else:
        errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
    notice = ""
    if not errors:
        if run.assignee is None:
            notice = _("“%(run)s” in %(community)s is now unassigned.")
        else:
            notice = _("“%(run)s” in %(community)s now goes to %(assignee)s.")
        notice %= {
            "run": run.name,
            "community": run.community.name,
            "assignee": _assignee_name(run),
        }
    if request.htmx:
        return _row(request, run, errors=errors, notice=notice, return_to=_back(request, form))
    for message in errors:
        messages.error(request, message)
    if notice:
        messages.success(request, notice)
    return redirect(_back(request, form))
