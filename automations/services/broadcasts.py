"""Broadcasts (定时群发): create, edit, pause, resume, delete.

Each write is all-or-nothing and checks the whole broadcast first: a text, communities of
the broadcast's organisation, a repeat rule that parses and fires at most hourly, a one-off
time still ahead in every chosen community's zone, and the text — filled for each community
(``automations.placeholders``) — within the limit of every enabled outlet's platform there.
Errors are keyed by field.

A create or an edit plans at once (``plan.plan_broadcasts``), so a broadcast due in two
minutes does not wait for beat's next planning run; an edit, a pause and a delete first
remove the broadcast's actions not dispatched yet, and occurrences before the last edit are
never planned again (the old version's time is not sent late as the new one).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.calendar import recurrence
from automations.models import ActionStatus, Broadcast, Outlet
from automations.placeholders import fill
from automations.platforms import get_platform
from automations.platforms.base import Destination, Message
from automations.services import plan
from communities.models import Community, Organization

NAME_MAX = 120


def _first_local(start_date: date, at_time: time) -> datetime:
    return recurrence.local_start(start_date, at_time)


def _check_rule(rrule: str, start: datetime) -> str:
    """The canonical rule, or a ValidationError worded for a broadcast."""
    try:
        return recurrence.normalize(rrule, start)
    except ValidationError as error:
        if error.messages == [_("A calendar entry repeats at most once an hour.")]:
            raise ValidationError(_("A broadcast repeats at most once an hour.")) from None
        raise


def _text_problems(
    *, text: str, markdown: bool, communities: list[Community], at: datetime
) -> list[str]:
    """The text filled for each community, checked against each enabled outlet's platform."""
    outlets: dict[int, list[Outlet]] = {}
    for outlet in Outlet.objects.filter(
        community__in=communities, disabled_at__isnull=True
    ).order_by("pk"):
        outlets.setdefault(outlet.community_id, []).append(outlet)
    problems = []
    for community in communities:
        filled = None
        for outlet in outlets.get(community.pk, []):
            if filled is None:
                filled = fill(text, community=community, at=at)
            platform = get_platform(outlet.platform)
            found = platform.check(
                Message(text=filled, markdown=markdown),
                Destination(
                    url=outlet.url, secret=outlet.secret, token=outlet.token, chat_id=outlet.chat_id
                ),
            )
            for problem in found:
                problems.append(
                    _("%(community)s, through %(platform)s: %(problem)s")
                    % {
                        "community": community.name,
                        "platform": outlet.get_platform_display(),
                        "problem": problem,
                    }
                )
    return problems


def _validate(
    *,
    organization: Organization,
    name: str,
    text: str,
    markdown: bool,
    communities: Iterable[Community],
    start_date: date | None,
    at_time: time | None,
    rrule: str,
    now: datetime,
) -> tuple[str, list[Community]]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("Give the broadcast a name."))
    elif len(name) > NAME_MAX:
        errors.setdefault("name", []).append(
            _("A name has at most %(count)s characters.") % {"count": NAME_MAX}
        )
    chosen = list(communities or [])
    if not chosen:
        errors.setdefault("communities", []).append(_("Choose at least one community."))
    elif any(c.organization_id != organization.pk for c in chosen):
        errors.setdefault("communities", []).append(
            _("A broadcast can only go to this organisation's communities.")
        )
    if start_date is None:
        errors.setdefault("start_date", []).append(_("Give the first day."))
    if at_time is None:
        errors.setdefault("at_time", []).append(_("Give the local time."))
    canonical = ""
    first = None
    if start_date is not None and at_time is not None:
        first = _first_local(start_date, at_time)
        if (rrule or "").strip():
            try:
                canonical = _check_rule(rrule, first)
            except ValidationError as error:
                errors.setdefault("rrule", []).extend(error.messages)
        elif chosen and "communities" not in errors:
            late = [c.name for c in chosen if recurrence.place(first, ZoneInfo(c.time_zone)) <= now]
            if late:
                errors.setdefault("at_time", []).append(
                    _("This time has already passed in %(communities)s.")
                    % {"communities": ", ".join(late)}
                )
    if not (text or "").strip():
        errors.setdefault("text", []).append(_("Write the text to send."))
    elif chosen and "communities" not in errors:
        problems = _text_problems(text=text, markdown=markdown, communities=chosen, at=now)
        if problems:
            errors.setdefault("text", []).extend(problems)
    if errors:
        raise ValidationError(errors)
    return canonical, chosen


def _remove_upcoming(broadcast: Broadcast) -> int:
    deleted, _counts = broadcast.actions.filter(status=ActionStatus.SCHEDULED).delete()
    return deleted


def broadcast_create(
    *,
    organization: Organization,
    by,
    name: str,
    text: str,
    markdown: bool = False,
    communities: Iterable[Community],
    start_date: date | None,
    at_time: time | None,
    rrule: str = "",
    skip_if_quiet: bool = False,
    no_repeat: bool = True,
    now: datetime | None = None,
) -> Broadcast:
    now = now or timezone.now()
    canonical, chosen = _validate(
        organization=organization,
        name=name,
        text=text,
        markdown=markdown,
        communities=communities,
        start_date=start_date,
        at_time=at_time,
        rrule=rrule,
        now=now,
    )
    with transaction.atomic():
        broadcast = Broadcast(
            organization=organization,
            name=name.strip(),
            text=text,
            markdown=markdown,
            start_date=start_date,
            at_time=at_time.replace(second=0, microsecond=0),
            rrule=canonical,
            skip_if_quiet=skip_if_quiet,
            no_repeat=no_repeat,
            created_by=by,
            created_at=now,
            updated_at=now,
        )
        broadcast.full_clean(exclude=["communities"])
        broadcast.save()
        broadcast.communities.set(chosen)
        plan.plan_broadcasts(now=now, broadcast_ids=[broadcast.pk])
    return broadcast


def broadcast_update(
    *,
    broadcast: Broadcast,
    by=None,
    name: str,
    text: str,
    markdown: bool = False,
    communities: Iterable[Community],
    start_date: date | None,
    at_time: time | None,
    rrule: str = "",
    skip_if_quiet: bool = False,
    no_repeat: bool = True,
    now: datetime | None = None,
) -> Broadcast:
    now = now or timezone.now()
    canonical, chosen = _validate(
        organization=broadcast.organization,
        name=name,
        text=text,
        markdown=markdown,
        communities=communities,
        start_date=start_date,
        at_time=at_time,
        rrule=rrule,
        now=now,
    )
    with transaction.atomic():
        broadcast.name = name.strip()
        broadcast.text = text
        broadcast.markdown = markdown
        broadcast.start_date = start_date
        broadcast.at_time = at_time.replace(second=0, microsecond=0)
        broadcast.rrule = canonical
        broadcast.skip_if_quiet = skip_if_quiet
        broadcast.no_repeat = no_repeat
        broadcast.updated_at = now
        broadcast.full_clean(exclude=["communities"])
        broadcast.save(
            update_fields=[
                "name",
                "text",
                "markdown",
                "start_date",
                "at_time",
                "rrule",
                "skip_if_quiet",
                "no_repeat",
                "updated_at",
            ]
        )
        broadcast.communities.set(chosen)
        _remove_upcoming(broadcast)
        if broadcast.paused_at is None:
            plan.plan_broadcasts(now=now, broadcast_ids=[broadcast.pk])
    return broadcast


def broadcast_pause(*, broadcast: Broadcast, now: datetime | None = None) -> Broadcast:
    """Nothing more is sent until it is resumed: its upcoming actions are removed."""
    now = now or timezone.now()
    with transaction.atomic():
        if broadcast.paused_at is None:
            broadcast.paused_at = now
            broadcast.save(update_fields=["paused_at"])
        _remove_upcoming(broadcast)
    return broadcast


def broadcast_resume(*, broadcast: Broadcast, now: datetime | None = None) -> Broadcast:
    """Sending again from now on: what fell due while it was paused is not sent late."""
    now = now or timezone.now()
    with transaction.atomic():
        if broadcast.paused_at is not None:
            broadcast.paused_at = None
            broadcast.updated_at = now
            broadcast.save(update_fields=["paused_at", "updated_at"])
            plan.plan_broadcasts(now=now, broadcast_ids=[broadcast.pk])
    return broadcast


def broadcast_delete(*, broadcast: Broadcast) -> None:
    """The broadcast and its upcoming actions; what it already sent stays on the Actions
    pages (the actions keep their title and text, without the broadcast)."""
    with transaction.atomic():
        broadcast.actions.filter(status=ActionStatus.SCHEDULED).delete()
        broadcast.delete()
