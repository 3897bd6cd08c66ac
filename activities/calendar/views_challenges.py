"""Check-in challenge pages: a community's challenges, the form, the challenge page.

The challenge page shows the daily grid (participants × days), streaks, the leaderboard,
the completion rate and the settlement preview (after settlement: each outcome). Staff who
moderate members tick and untick check-ins in the grid (htmx swaps the row); adding and
removing participants, creating and settling need ``MANAGE_COMMUNITIES`` (CALENDAR.md).
The grid costs the same number of queries for any number of participants and days.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from activities.calendar import challenges
from activities.calendar.forms_challenges import (
    ChallengeForm,
    CheckInForm,
    ParticipantsForm,
    RemoveParticipantForm,
)
from activities.calendar.models import Challenge
from communities.forms import add_service_error
from communities.models import Community
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest

TEMPLATE = "activities/calendar/challenge.html"


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def challenge_list(request: HtmxHttpRequest, community: Community):
    return render(
        request,
        "activities/calendar/challenge_list.html",
        {
            "nav": "calendar",
            "community": community,
            "challenges": [
                (challenge, challenges.status(challenge))
                for challenge in challenges.community_challenges(community)
            ],
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def challenge_create(request: HtmxHttpRequest, community: Community):
    form = ChallengeForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            challenge = challenges.challenge_create(
                community=community, data=form.cleaned_data, by=request.user
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Challenge created. Now add its participants."))
            return redirect("activities:challenge", challenge_id=challenge.pk)
    return render(
        request,
        "activities/calendar/challenge_form.html",
        {"nav": "calendar", "community": community, "form": form},
    )


def _context(request: HtmxHttpRequest, challenge: Challenge, **extra) -> dict:
    board = challenges.board(challenge)
    can_manage = has_capability(request.staff, Capability.MANAGE_COMMUNITIES)
    running_or_ended = board.status in ("running", "ended")
    context = {
        "nav": "calendar",
        "challenge": challenge,
        "community": challenge.community,
        "board": board,
        "can_tick": has_capability(request.staff, Capability.MODERATE_MEMBERS) and running_or_ended,
        "can_manage": can_manage,
        "can_add": can_manage and board.status in ("upcoming", "running"),
        "can_remove": can_manage and board.status == "upcoming",
        "can_settle": can_manage and board.status == "ended",
        "deadline_at": challenges.ends_at(challenge),
    }
    if context["can_add"] and "participants_form" not in extra:
        context["participants_form"] = ParticipantsForm(challenge=challenge)
    context.update(extra)
    return context


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def challenge_page(request: HtmxHttpRequest, challenge: Challenge):
    template = TEMPLATE
    if request.htmx and not request.htmx.boosted:
        template += "#board"
    return render(request, template, _context(request, challenge))


@require_POST
@staff_required(Capability.MODERATE_MEMBERS)
def challenge_check_in(request: HtmxHttpRequest, challenge: Challenge):
    """Tick (checked=1) or untick one participant's day; htmx gets the board back."""
    form = CheckInForm(request.POST, challenge=challenge)
    errors: list[str] = []
    if form.is_valid():
        participant, day = form.cleaned_data["participant"], form.cleaned_data["day"]
        try:
            if form.cleaned_data["checked"]:
                challenges.check_in(
                    challenge=challenge, participant=participant, day=day, by=request.user
                )
            else:
                challenges.check_in_remove(
                    challenge=challenge, participant=participant, day=day, by=request.user
                )
        except ValidationError as error:
            errors = error.messages
    else:
        errors = [message for field in form.errors.values() for message in field]
    if not request.htmx:
        for message in errors:
            messages.error(request, message)
        return redirect("activities:challenge", challenge_id=challenge.pk)
    context = _context(request, challenge, board_errors=errors)
    return render(request, f"{TEMPLATE}#board", context, status=400 if errors else 200)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def challenge_participants_add(request: HtmxHttpRequest, challenge: Challenge):
    form = ParticipantsForm(request.POST, challenge=challenge)
    if form.is_valid():
        added = 0
        try:
            for membership in form.cleaned_data["memberships"]:
                challenges.participant_add(
                    challenge=challenge, membership=membership, by=request.user
                )
                added += 1
        except ValidationError as error:
            add_service_error(form, error)
        if not form.errors:
            messages.success(
                request,
                ngettext("%(count)d participant added.", "%(count)d participants added.", added)
                % {"count": added},
            )
            return redirect("activities:challenge", challenge_id=challenge.pk)
    return render(
        request, TEMPLATE, _context(request, challenge, participants_form=form), status=400
    )


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def challenge_participant_remove(request: HtmxHttpRequest, challenge: Challenge):
    form = RemoveParticipantForm(request.POST, challenge=challenge)
    if form.is_valid():
        participant = form.cleaned_data["participant"]
        try:
            challenges.participant_remove(participant=participant, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(name)s no longer takes part.")
                % {"name": participant.membership.member.display_name},
            )
    else:
        messages.error(request, _("Choose a participant of this challenge."))
    return redirect("activities:challenge", challenge_id=challenge.pk)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def challenge_settle(request: HtmxHttpRequest, challenge: Challenge) -> HttpResponse:
    """Settle now rather than wait for the scheduled run (which does the same, once)."""
    try:
        result = challenges.challenge_settle(challenge=challenge)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if result.settled:
            messages.success(
                request,
                _("Settled: %(met)d made it, %(missed)d did not.")
                % {"met": result.met, "missed": result.missed},
            )
        else:
            messages.info(request, _("This challenge had been settled already."))
    return redirect("activities:challenge", challenge_id=challenge.pk)
