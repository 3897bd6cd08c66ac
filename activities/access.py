"""How the activities app's URL parameters resolve, within what the staff may see."""

from datetime import datetime
from typing import NamedTuple

from django.http import Http404
from django.shortcuts import get_object_or_404

from activities.calendar import recurrence
from activities.calendar.models import CalendarEntry, Challenge, Occurrence
from activities.calendar.services import shape
from activities.models import ImportRun
from communities.models import Staff
from communities.permissions import communities_for


def get_import_or_404(staff: Staff, import_id: int) -> ImportRun:
    return get_object_or_404(
        ImportRun.objects.filter(community__in=communities_for(staff)).select_related(
            "community", "created_by"
        ),
        pk=import_id,
    )


def visible_entries(staff: Staff):
    """Calendar entries with at least one community the staff may see."""
    return CalendarEntry.objects.filter(
        organization_id=staff.organization_id,
        pk__in=CalendarEntry.communities.through.objects.filter(
            community__in=communities_for(staff)
        ).values("calendarentry_id"),
    )


def get_entry_or_404(staff: Staff, entry_id: int) -> CalendarEntry:
    return get_object_or_404(visible_entries(staff), pk=entry_id)


class OccurrenceRef(NamedTuple):
    """An occurrence named in a URL: its entry and where the rule put it (aware, UTC)."""

    entry: CalendarEntry
    original_start: datetime

    def key(self) -> str:
        return recurrence.Slot(
            self.entry.pk, self.original_start, self.original_start, self.original_start
        ).key()


def get_occurrence_or_404(staff: Staff, occurrence_key: str) -> OccurrenceRef:
    """``<entry id>-<original start>``: a visible entry and a start its rule produces."""
    parsed = recurrence.parse_key(occurrence_key)
    if parsed is None:
        raise Http404
    entry_id, original_start = parsed
    entry = get_object_or_404(visible_entries(staff), pk=entry_id)
    # An exception row kept from before a whole-series edit still names its occurrence.
    if (
        not recurrence.is_rule_occurrence(shape(entry), original_start)
        and not Occurrence.objects.filter(entry=entry, original_start=original_start).exists()
    ):
        raise Http404
    return OccurrenceRef(entry, original_start)


def get_challenge_or_404(staff: Staff, challenge_id: int) -> Challenge:
    """A check-in challenge of a community the staff may see."""
    return get_object_or_404(
        Challenge.objects.filter(community__in=communities_for(staff)).select_related(
            "community__organization", "entry", "reward_rule"
        ),
        pk=challenge_id,
    )


RESOLVERS = {
    "import_id": ("import_run", get_import_or_404),
    "entry_id": ("entry", get_entry_or_404),
    "occurrence_key": ("occurrence", get_occurrence_or_404),
    "challenge_id": ("challenge", get_challenge_or_404),
}
