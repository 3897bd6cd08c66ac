"""The calendar's pages: month, week and agenda, the entry dialog, the occurrence page.

Month, week and agenda are one template each whose ``calendar`` partial is what htmx swaps
when navigating (previous / next / today, the view switch, the filters): no full reload.
The entry form opens in a <dialog> (static/js/calendar.js) and posts with htmx; on success
the calendar refreshes itself (the ``calendar-changed`` event). Without JavaScript every
link and form is a plain page.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from activities.access import OccurrenceRef
from activities.calendar import recurrence, selectors, services
from activities.calendar.announcement import pre_announcement
from activities.calendar.forms import (
    CalendarFilterForm,
    CancelForm,
    EntryForm,
    PreviewForm,
    build_rrule,
)
from activities.calendar.models import Challenge, EntryKind
from activities.calendar.services import Scope
from communities.forms import add_service_error
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest

AGENDA_DAYS = 60
# Occurrences a month cell lists; the rest are a "+N more" link to the day's week.
MONTH_CELL_SLOTS = 4
CHANGED_EVENT = "calendar-changed"


# --- Month, week, agenda ----------------------------------------------------------------


def _viewer_zone(request: HtmxHttpRequest) -> ZoneInfo:
    return ZoneInfo(request.staff.organization.time_zone)


def _filters(request: HtmxHttpRequest) -> dict:
    """The filters and the date shown; a bad value is ignored (today, no filter)."""
    form = CalendarFilterForm(request.GET, staff=request.staff)
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    communities = list(data.get("community") or [])
    kinds = list(data.get("kind") or [])
    today = timezone.now().astimezone(_viewer_zone(request)).date()
    query = urlencode([("community", c.slug) for c in communities] + [("kind", k) for k in kinds])
    return {
        "form": form,
        "communities": communities,
        "kinds": kinds,
        "today": today,
        "anchor": data.get("date") or today,
        "filter_query": query,
    }


def _window(zone: ZoneInfo, first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, last+1 00:00) in the viewer's zone, widened by a day for other zones."""
    start = recurrence.place(datetime.combine(first, time()), zone) - timedelta(days=1)
    end = recurrence.place(datetime.combine(last + timedelta(days=1), time()), zone)
    return start, end + timedelta(days=1)


def _by_day(slots, first: date, last: date) -> dict[date, list]:
    """Occurrences per local day (in the entry's zone) within [first, last]."""
    days = defaultdict(list)
    for slot in slots:
        day = slot.local_start.date()
        if first <= day <= last:
            days[day].append(slot)
    return days


def _slots(request, filters, first: date, last: date):
    start, end = _window(_viewer_zone(request), first, last)
    return selectors.calendar_slots(
        request.staff, start, end, communities=filters["communities"], kinds=filters["kinds"]
    )


def _page(request: HtmxHttpRequest, template: str, context: dict) -> HttpResponse:
    view_links = [
        {"key": "month", "url": reverse("activities:calendar"), "label": _("Month")},
        {"key": "week", "url": reverse("activities:calendar-week"), "label": _("Week")},
        {"key": "agenda", "url": reverse("activities:calendar-agenda"), "label": _("Agenda")},
    ]
    context.update(
        nav="calendar",
        view_links=view_links,
        viewer_zone=request.staff.organization.time_zone,
        can_manage=has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        weekday_names=[WEEKDAYS_ABBR[i] for i in range(7)],
        here=request.get_full_path(),
        kinds=EntryKind.choices,
    )
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{template}#calendar", context)
    return render(request, template, context)


def _query(filters: dict, day: date) -> str:
    query = f"date={day:%Y-%m-%d}"
    return f"{query}&{filters['filter_query']}" if filters["filter_query"] else query


def _nav(filters: dict, previous: date, following: date) -> dict:
    return {
        "prev_query": _query(filters, previous),
        "next_query": _query(filters, following),
        "today_query": _query(filters, filters["today"]),
        "anchor_query": _query(filters, filters["anchor"]),
    }


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_cell(filters: dict, day: date, slots: list, anchor: date) -> dict:
    """A day of the month grid: its first MONTH_CELL_SLOTS occurrences and how many more
    (a busy organisation's month stays a small page; "+N more" opens the day's week)."""
    shown = slots if len(slots) <= MONTH_CELL_SLOTS else slots[:MONTH_CELL_SLOTS]
    return {
        "day": day,
        "slots": shown,
        "more": len(slots) - len(shown),
        "day_query": _query(filters, day),
        "in_month": day.month == anchor.month,
    }


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def month(request: HtmxHttpRequest):
    filters = _filters(request)
    anchor = filters["anchor"]
    first_of_month = anchor.replace(day=1)
    # Keep six weeks inside the supported dates (communities.validators' bounds).
    first_of_month = min(max(first_of_month, date(2000, 2, 1)), date(2999, 11, 1))
    weeks = selectors.month_grid(first_of_month.year, first_of_month.month)
    first, last = weeks[0][0], weeks[-1][-1]
    by_day = _by_day(_slots(request, filters, first, last), first, last)
    grid = [
        [_month_cell(filters, day, by_day.get(day, []), anchor) for day in week] for week in weeks
    ]
    context = {
        "filters": filters,
        "view": "month",
        "month_start": first_of_month,
        "weeks": grid,
        **_nav(filters, _add_months(first_of_month, -1), _add_months(first_of_month, 1)),
    }
    return _page(request, "activities/calendar/month.html", context)


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def week(request: HtmxHttpRequest):
    filters = _filters(request)
    anchor = min(max(filters["anchor"], date(2000, 1, 10)), date(2999, 12, 20))
    first = anchor - timedelta(days=anchor.weekday())
    days = [first + timedelta(days=i) for i in range(7)]
    by_day = _by_day(_slots(request, filters, days[0], days[-1]), days[0], days[-1])
    context = {
        "filters": filters,
        "view": "week",
        "days": [{"day": day, "slots": by_day.get(day, [])} for day in days],
        "week_start": days[0],
        "week_end": days[-1],
        **_nav(filters, first - timedelta(days=7), first + timedelta(days=7)),
    }
    return _page(request, "activities/calendar/week.html", context)


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def agenda(request: HtmxHttpRequest):
    filters = _filters(request)
    first = min(filters["anchor"], date(2999, 10, 1))
    last = first + timedelta(days=AGENDA_DAYS - 1)
    by_day = _by_day(_slots(request, filters, first, last), first, last)
    context = {
        "filters": filters,
        "view": "agenda",
        "agenda_days": [(day, by_day[day]) for day in sorted(by_day)],
        "range_start": first,
        "range_end": last,
        **_nav(filters, first - timedelta(days=AGENDA_DAYS), first + timedelta(days=AGENDA_DAYS)),
    }
    return _page(request, "activities/calendar/agenda.html", context)


# --- The entry dialog ---------------------------------------------------------------------

FORM_TEMPLATE = "activities/calendar/entry_form.html"


def _form_response(request, form, *, action: str, title: str, status: int = 200, **extra):
    context = {
        "form": form,
        "action": action,
        "dialog_title": title,
        "nav": "calendar",
        "preview_url": reverse("activities:calendar-preview"),
        **extra,
    }
    if request.htmx:  # htmx swaps only 2xx answers: the errors come with a 200
        return render(request, f"{FORM_TEMPLATE}#entry-form", context)
    return render(request, FORM_TEMPLATE, context, status=status)


def _saved(request, message: str, day: date) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Trigger"] = CHANGED_EVENT
        return response
    messages.success(request, message)
    return redirect(f"{reverse('activities:calendar')}?date={day:%Y-%m-%d}")


def _service_kwargs(form: EntryForm) -> dict:
    data = form.cleaned_data
    return {
        "communities": list(data["communities"]),
        "data": form.service_data(),
        "host_members": list(data.get("host_members") or []),
        "host_staff": list(data.get("host_staff") or []),
        "invite_picked": list(data.get("invite_picked") or []),
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@staff_required(Capability.MANAGE_COMMUNITIES)
def entry_create(request: HtmxHttpRequest):
    action = reverse("activities:calendar-entry-create")
    title = _("New calendar entry")
    if request.method == "POST":
        form = EntryForm(request.POST, staff=request.staff)
        if form.is_valid():
            try:
                entry = services.entry_create(
                    organization=request.staff.organization,
                    by=request.user,
                    **_service_kwargs(form),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                return _saved(
                    request,
                    _("“%(title)s” is on the calendar.") % {"title": entry.title},
                    entry.start_date,
                )
        return _form_response(request, form, action=action, title=title, status=400)
    initial = {"start_time": time(21, 0), "end_time": time(21, 30)}
    day_form = CalendarFilterForm(request.GET, staff=request.staff)
    day_form.is_valid()
    initial["start_date"] = getattr(day_form, "cleaned_data", {}).get("date") or (
        timezone.now().astimezone(_viewer_zone(request)).date()
    )
    form = EntryForm(initial=initial, staff=request.staff)
    return _form_response(request, form, action=action, title=title)


def _series_times(entry, occurrence: OccurrenceRef, data: dict) -> dict:
    """The form shows the occurrence's times; for the whole series they say by how much
    the series moves: its first start moves by the same local amount (as in calendar apps),
    so editing the series from a later occurrence keeps the earlier ones."""
    zone = ZoneInfo(entry.time_zone)
    shown = recurrence.to_local(occurrence.original_start, zone)
    start = recurrence.local_start(data["start_date"], data["start_time"])
    end = recurrence.local_start(data.get("end_date") or data["start_date"], data["end_time"])
    first = recurrence.local_start(entry.start_date, entry.start_time) + (start - shown)
    last = first + (end - start)
    return {
        **data,
        "start_date": first.date(),
        "start_time": first.time(),
        "end_date": last.date(),
        "end_time": last.time(),
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@staff_required(Capability.MANAGE_COMMUNITIES)
def occurrence_edit(request: HtmxHttpRequest, occurrence: OccurrenceRef):
    entry = occurrence.entry
    slot = selectors.occurrence_slot(entry, occurrence.original_start)
    action = reverse("activities:occurrence-edit", args=[occurrence.key()])
    title = _("Edit “%(title)s”") % {"title": entry.title}
    if request.method == "POST":
        form = EntryForm(request.POST, staff=request.staff, entry=entry)
        if form.is_valid():
            scope = form.cleaned_data.get("scope") or Scope.ALL
            kwargs = _service_kwargs(form)
            if scope == Scope.ALL and entry.rrule:
                kwargs["data"] = _series_times(entry, occurrence, kwargs["data"])
            try:
                changed = services.entry_update(
                    entry=entry,
                    scope=scope,
                    original_start=occurrence.original_start,
                    by=request.user,
                    **kwargs,
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                message = _("“%(title)s” is changed.") % {"title": changed.title}
                if scope == Scope.THIS and entry.rrule:
                    # Back on the occurrence's page, which shows the change.
                    page = reverse("activities:occurrence", args=[occurrence.key()])
                else:
                    day = form.cleaned_data["start_date"]
                    page = f"{reverse('activities:calendar')}?date={day:%Y-%m-%d}"
                messages.success(request, message)
                if request.htmx:
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = page
                    return response
                return redirect(page)
        return _form_response(
            request, form, action=action, title=title, status=400, recurring=bool(entry.rrule)
        )
    form = EntryForm(initial=EntryForm.initial_for(entry, slot), staff=request.staff, entry=entry)
    return _form_response(request, form, action=action, title=title, recurring=bool(entry.rrule))


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def preview(request: HtmxHttpRequest):
    """The repeat rule in words with its next dates, as the form is filled in."""
    form = PreviewForm(request.GET)
    text, error = "", ""
    if (
        form.is_valid()
        and form.cleaned_data.get("start_date")
        and form.cleaned_data.get("start_time")
    ):
        data = form.cleaned_data
        start = recurrence.local_start(data["start_date"], data["start_time"])
        rule = build_rrule(
            data.get("repeat") or "none",
            data["start_date"],
            weekdays=data.get("weekdays") or (),
            custom=data.get("rrule") or "",
            until=data.get("until"),
            count=data.get("count"),
        )
        try:
            rule = recurrence.normalize(rule, start) if rule else ""
        except ValidationError as invalid:
            error = " ".join(invalid.messages)
        else:
            text = selectors.describe_rule(rule, start, after=start)
    return render(
        request, f"{FORM_TEMPLATE}#preview", {"preview_text": text, "preview_error": error}
    )


# --- The occurrence page ---------------------------------------------------------------------


def _participation(request, occurrence: OccurrenceRef) -> dict:
    """cal-rsvp's section (views_occurrence.participation_context), when it is there."""
    try:
        from activities.calendar.views_occurrence import participation_context
    except ImportError:  # pragma: no cover - the section is part of the same release
        return {}
    return {"show_participation": True, **participation_context(request, occurrence)}


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def occurrence_page(request: HtmxHttpRequest, occurrence: OccurrenceRef):
    entry = occurrence.entry
    slot = selectors.occurrence_slot(entry, occurrence.original_start)
    communities = sorted(entry.communities.all(), key=lambda c: c.name)
    announcement_community = min(entry.communities.all(), key=lambda c: c.pk, default=None)
    context = {
        "nav": "calendar",
        "entry": entry,
        "slot": slot,
        "key": occurrence.key(),
        "entry_communities": communities,
        "announcement": pre_announcement(slot, community=announcement_community),
        "announcement_community": announcement_community,
        "rule_words": selectors.describe_rule(entry) if entry.rrule else "",
        "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        "cancel_form": CancelForm(initial={"scope": Scope.THIS if entry.rrule else Scope.ALL}),
        "viewer_zone": request.staff.organization.time_zone,
        "challenge": (
            Challenge.objects.filter(entry=entry).first()
            if entry.kind == EntryKind.CHALLENGE
            else None
        ),
        "hosts": [m.display_name for m in entry.host_members.all()]
        + [u.get_username() for u in entry.host_staff.all()],
    }
    context.update(_participation(request, occurrence))
    return render(request, "activities/calendar/occurrence.html", context)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def occurrence_cancel(request: HtmxHttpRequest, occurrence: OccurrenceRef):
    form = CancelForm(request.POST)
    scope = form.cleaned_data["scope"] if form.is_valid() else None
    page = reverse("activities:occurrence", args=[occurrence.key()])
    if scope is None:
        messages.error(request, _("Choose which occurrences to cancel."))
        return redirect(page)
    try:
        services.entry_cancel(
            entry=occurrence.entry,
            scope=scope,
            original_start=occurrence.original_start,
            by=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Cancelled."))
    return redirect(page)
