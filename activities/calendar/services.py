"""Writes of the calendar's entries and occurrences (participation: ``participation.py``;
challenges: ``challenges.py``).

Every write runs in a transaction and raises ``ValidationError`` with a translated message,
writing nothing, when the input is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.calendar import recurrence
from activities.calendar.models import CalendarEntry, Occurrence
from communities.models import Community, Organization

# Fields of CalendarEntry that a caller passes in ``data``.
ENTRY_FIELDS = (
    "kind",
    "title",
    "description",
    "place",
    "link",
    "time_zone",
    "start_date",
    "start_time",
    "duration_minutes",
    "rrule",
    "invite_scope",
    "invite_tier",
    "invite_squad",
    "capacity",
)


def _check_communities(organization: Organization, communities: Iterable[Community]) -> list:
    communities = list(communities)
    if not communities:
        raise ValidationError({"communities": _("Choose at least one community.")})
    if any(c.organization_id != organization.pk for c in communities):
        raise ValidationError({"communities": _("Choose communities of your organisation.")})
    return communities


@transaction.atomic
def entry_create(
    *,
    organization: Organization,
    communities: Iterable[Community],
    data: dict,
    host_members: Iterable = (),
    host_staff: Iterable = (),
    invite_picked: Iterable = (),
    by=None,
) -> CalendarEntry:
    """Create a one-off or recurring entry; a one-off gets its single Occurrence row."""
    communities = _check_communities(organization, communities)
    entry = CalendarEntry(organization=organization, created_by=by)
    for name in ENTRY_FIELDS:
        if name in data:
            setattr(entry, name, data[name])
    if not entry.time_zone:
        entry.time_zone = communities[0].time_zone
    if entry.rrule:
        entry.rrule = recurrence.normalize(
            entry.rrule, recurrence.local_start(entry.start_date, entry.start_time)
        )
    entry.full_clean()
    entry.save()
    entry.communities.set(communities)
    entry.host_members.set(host_members)
    entry.host_staff.set(host_staff)
    entry.invite_picked.set(invite_picked)
    if not entry.rrule:
        occurrence_for(entry=entry, original_start=first_start(entry))
    return entry


def first_start(entry: CalendarEntry) -> datetime:
    """The entry's first start, aware (UTC)."""
    return recurrence.place(
        recurrence.local_start(entry.start_date, entry.start_time), ZoneInfo(entry.time_zone)
    )


def shape(entry: CalendarEntry) -> recurrence.SeriesShape:
    return recurrence.SeriesShape(
        entry_id=entry.pk,
        time_zone=entry.time_zone,
        start_date=entry.start_date,
        start_time=entry.start_time,
        duration_minutes=entry.duration_minutes,
        rrule=entry.rrule,
        cancelled=entry.cancelled_at is not None,
    )


def occurrence_for(*, entry: CalendarEntry, original_start: datetime) -> Occurrence:
    """The Occurrence row of ``entry`` at ``original_start``, made when first needed.

    Refuses a start the entry's rule does not produce, so a URL cannot invent occurrences.
    Safe when two requests make the same row at once (the unique constraint decides).
    """
    existing = Occurrence.objects.filter(entry=entry, original_start=original_start).first()
    if existing is not None:
        return existing
    if not recurrence.is_rule_occurrence(shape(entry), original_start):
        raise ValidationError(_("This entry has no occurrence at that time."))
    length = timedelta(minutes=entry.duration_minutes)
    with transaction.atomic():
        occurrence, _created = Occurrence.objects.get_or_create(
            entry=entry,
            original_start=original_start,
            defaults={"starts_at": original_start, "ends_at": original_start + length},
        )
    return occurrence


def touch(entry: CalendarEntry) -> None:
    """Mark an edit: iCalendar SEQUENCE goes up, so subscribed calendars take the change."""
    CalendarEntry.objects.filter(pk=entry.pk).update(
        sequence=entry.sequence + 1, updated_at=timezone.now()
    )
    entry.sequence += 1
