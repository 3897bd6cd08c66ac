"""The occurrence page's participation section: invited, answers, the waitlist, attendance.

``participation_context(request, ref)`` gives what the section needs; the occurrence page
(``views.py``) merges it into its own context and includes
``activities/calendar/occurrence_participation.html``. The writes (answer for a member,
tick attendance, close attendance) answer htmx with the part that changed, and a plain form
post with a redirect back. The calendar rules of a community have their own small page.

Who may do what (CALENDAR.md): staff who moderate members (``MODERATE_MEMBERS``) record
answers and attendance for members of the communities they may see (a moderator: those
assigned to them); closing needs every community of the entry; the rules need
``MANAGE_COMMUNITIES``.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from activities.access import OccurrenceRef
from activities.calendar import participation, services
from activities.calendar.forms_participation import AnswerForm, CalendarRulesForm
from activities.calendar.models import CalendarRules, Occurrence
from communities.forms import add_service_error
from communities.models import Community
from communities.permissions import Capability, communities_for, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members.models import Membership

TEMPLATE = "activities/calendar/occurrence_participation.html"


def _occurrence(ref: OccurrenceRef) -> Occurrence:
    """The occurrence's row when it has one; else an unsaved one (reading writes nothing)."""
    row = Occurrence.objects.filter(entry=ref.entry, original_start=ref.original_start).first()
    if row is not None:
        row.entry = ref.entry
        return row
    start = ref.original_start
    return Occurrence(
        entry=ref.entry,
        original_start=start,
        starts_at=start,
        ends_at=start + timedelta(minutes=ref.entry.duration_minutes),
    )


def _visible_ids(request: HtmxHttpRequest) -> set[int]:
    if not hasattr(request, "_calendar_visible_ids"):
        request._calendar_visible_ids = set(
            communities_for(request.staff).values_list("pk", flat=True)
        )
    return request._calendar_visible_ids


def _page_url(ref: OccurrenceRef) -> str:
    try:
        return reverse("activities:occurrence", args=[ref.key()])
    except NoReverseMatch:  # the occurrence page is not there yet: the section's own page
        return reverse("activities:occurrence-participation", args=[ref.key()])


def participation_context(request: HtmxHttpRequest, ref: OccurrenceRef, **extra) -> dict:
    """The section's context: four queries whatever the number of people invited."""
    occurrence = _occurrence(ref)
    visible = _visible_ids(request)
    listing = participation.occurrence_list(occurrence, communities=visible)
    can_record = has_capability(request.staff, Capability.MODERATE_MEMBERS)
    entry_communities = {c.pk for c in ref.entry.communities.all()}
    closed = occurrence.attendance_closed_at is not None
    started = participation.has_started(occurrence)
    ended = participation.has_ended(occurrence)
    return {
        "occurrence": occurrence,
        "occurrence_key": ref.key(),
        "people": listing,
        "capacity": ref.entry.capacity,
        "multi_community": len(entry_communities) > 1,
        "can_answer": can_record and not closed and not ended and not occurrence.cancelled,
        "can_tick": can_record and started and not closed and not occurrence.cancelled,
        "can_close": can_record
        and ended
        and not closed
        and not occurrence.cancelled
        and entry_communities <= visible,
        "attendance_closed": closed,
        "answer_form": extra.pop("answer_form", None)
        or AnswerForm(people=listing.ticking_order, prefix="answer"),
        **extra,
    }


def _section(request: HtmxHttpRequest, ref: OccurrenceRef, **extra) -> HttpResponse:
    return render(
        request, f"{TEMPLATE}#participation", participation_context(request, ref, **extra)
    )


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def occurrence_participation(request: HtmxHttpRequest, occurrence: OccurrenceRef):
    """The section alone (htmx refreshes it; without htmx, a page of its own)."""
    if request.htmx:
        return _section(request, occurrence)
    context = participation_context(request, occurrence)
    context.update(nav="calendar", entry=occurrence.entry, page_url=_page_url(occurrence))
    return render(request, "activities/calendar/occurrence_people.html", context)


def _membership_for(request: HtmxHttpRequest, ref: OccurrenceRef, membership_id) -> Membership:
    """A membership of one of the entry's communities the staff may see, or a 404."""
    return get_object_or_404(
        Membership.objects.filter(
            community__in=communities_for(request.staff).filter(
                pk__in=[c.pk for c in ref.entry.communities.all()]
            )
        ).select_related("member", "community"),
        pk=membership_id,
    )


@require_POST
@staff_required(Capability.MODERATE_MEMBERS)
def occurrence_answer(request: HtmxHttpRequest, occurrence: OccurrenceRef):
    """Staff record a member's answer (members answer in chat)."""
    ref = occurrence
    listing = participation.occurrence_list(_occurrence(ref), communities=_visible_ids(request))
    form = AnswerForm(request.POST, people=listing.ticking_order, prefix="answer")
    if form.is_valid():
        membership = form.cleaned_data["membership"]
        try:
            row = services.occurrence_for(entry=ref.entry, original_start=ref.original_start)
            if form.cleaned_data["response"] == AnswerForm.CLEAR:
                participation.rsvp_clear(occurrence=row, membership=membership, by=request.user)
            else:
                participation.rsvp(
                    occurrence=row,
                    membership=membership,
                    response=form.cleaned_data["response"],
                    by=request.user,
                )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("Answer of %(name)s recorded.") % {"name": membership.member}
            )
            if request.htmx:
                return _section(request, ref, inline_messages=True)
            return redirect(_page_url(ref))
    if request.htmx:
        return _section(request, ref, answer_form=form)
    for errors in form.errors.values():
        messages.error(request, " ".join(errors))
    return redirect(_page_url(ref))


@require_POST
@staff_required(Capability.MODERATE_MEMBERS)
def occurrence_attendance(
    request: HtmxHttpRequest, occurrence: OccurrenceRef, membership: Membership
):
    """Tick or untick one person; htmx gets their row back (with the new points balance)."""
    ref = occurrence
    membership = _membership_for(request, ref, membership.pk)
    attended = request.POST.get("attended", "") in {"1", "on", "true"}
    errors: list[str] = []
    try:
        participation.attendance_set_at(
            entry=ref.entry,
            original_start=ref.original_start,
            membership=membership,
            attended=attended,
            by=request.user,
        )
    except ValidationError as error:
        errors = error.messages
    if not request.htmx:
        for message in errors:
            messages.error(request, message)
        return redirect(_page_url(ref))
    row = _occurrence(ref)
    membership.refresh_from_db(fields=["points_balance"])
    context = participation_context(request, ref)
    context.update(person=participation.person(row, membership), row_errors=errors)
    return render(request, f"{TEMPLATE}#person-row", context, status=200)


@require_POST
@staff_required(Capability.MODERATE_MEMBERS)
def occurrence_close(request: HtmxHttpRequest, occurrence: OccurrenceRef):
    """Close attendance: no-shows are marked and the no-show rule applied."""
    ref = occurrence
    if not {c.pk for c in ref.entry.communities.all()} <= _visible_ids(request):
        raise PermissionDenied
    try:
        row = services.occurrence_for(entry=ref.entry, original_start=ref.original_start)
        result = participation.attendance_close(occurrence=row, by=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        if result.closed:
            messages.success(
                request,
                ngettext(
                    "Attendance closed: %(count)d no-show.",
                    "Attendance closed: %(count)d no-shows.",
                    len(result.no_shows),
                )
                % {"count": len(result.no_shows)},
            )
    if request.htmx:
        return _section(request, ref, inline_messages=True)
    return redirect(_page_url(ref))


# --- The calendar rules of a community -------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def calendar_rules(request: HtmxHttpRequest, community: Community):
    rules = CalendarRules.objects.filter(community=community).first() or CalendarRules(
        community=community
    )
    form = CalendarRulesForm(request.POST or None, instance=rules, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            participation.calendar_rules_save(
                community=community, data=form.cleaned_data, by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request, _("Calendar rules of “%(name)s” saved.") % {"name": community.name}
            )
            return redirect("communities:rules", community_slug=community.slug)
    return render(
        request,
        "activities/calendar/rules.html",
        {"nav": "communities", "community": community, "form": form},
    )
