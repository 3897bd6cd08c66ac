"""iCalendar (RFC 5545) for the calendar's feeds, built with the ``icalendar`` package.

What a feed holds, and how:

- One VEVENT per entry, its UID the entry's ``uid`` (stable across fetches) and its
  SEQUENCE the entry's ``sequence`` (up with every edit), DTSTAMP and LAST-MODIFIED the
  entry's last change (so a feed that did not change reads byte for byte the same).
- A series: DTSTART;TZID=<the entry's zone> in local wall-clock time (never floating, never
  UTC: that is what keeps 21:00 at 21:00 across a daylight-saving change in the
  subscriber's calendar), DURATION, the entry's RRULE (an UNTIL, kept in local time in the
  database, is written in UTC as RFC 5545 requires with a zoned DTSTART), EXDATE;TZID for
  each cancelled occurrence, and one more VEVENT with the same UID and
  RECURRENCE-ID;TZID for each moved occurrence.
- A one-off: DTSTART;TZID and DTEND;TZID (where its occurrence row says it is).
- A VTIMEZONE for every TZID used (``icalendar`` writes them from ``zoneinfo``), covering
  the years from the earliest DTSTART to three years ahead.
- Left out: whole series or one-offs that were cancelled (subscribed calendars then drop
  them, which is what a cancellation means to a subscriber), and what is over: one-offs
  that started more than ``HISTORY`` ago and series whose last occurrence did. A series
  split by "this and following" is two entries, two VEVENTs with their own UIDs.
- No METHOD: a subscribed feed is not a scheduling message (Google and Apple read
  feeds without one; METHOD:PUBLISH would make some clients treat it as an import).

Text goes in as iCalendar TEXT (escaped by ``icalendar``), never as HTML. ``icalendar``
folds lines at 75 octets on UTF-8 character boundaries and ends them with CRLF.

Queries: the entries, then every exception of all of them, whatever their number (rows
that only hold RSVPs and attendance are not read).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import parser as dateutil_parser
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from icalendar import Calendar, Event, Timezone, vDuration, vRecur

from activities.calendar import recurrence
from activities.calendar.models import EXCEPTION_ROWS, CalendarEntry, Occurrence

# What is over stays in a feed this long (so last month's meetings are still there).
HISTORY = timedelta(days=180)
# VTIMEZONE definitions reach this many years past the later of today and the last start.
ZONE_YEARS_AHEAD = 3
PRODID = "-//CommunityOps//Activity calendar//EN"
# How often subscribed calendars should look again (RFC 7986 and the common X- name).
REFRESH = timedelta(hours=1)


def feed_entries(entries: QuerySet[CalendarEntry], *, now: datetime | None = None) -> list:
    """The entries of ``entries`` a feed shows, each with ``feed_exceptions`` attached.

    Two queries: the entries (not cancelled, not over) and their exception rows (moved or
    cancelled occurrences, whenever they were; the one-offs' own rows).
    """
    now = now or timezone.now()
    cutoff = now - HISTORY
    selected = entries.filter(cancelled_at__isnull=True).filter(
        ~Q(rrule="") | Q(start_date__gte=(cutoff - timedelta(days=1)).date())
    )
    kept = [
        entry
        for entry in selected.order_by("start_date", "start_time", "id")
        if not _over(entry, cutoff)
    ]
    exceptions: dict[int, list[Occurrence]] = defaultdict(list)
    if kept:
        by_id = {entry.pk: entry for entry in kept}
        # Rows that RSVPs and attendance made are not exceptions and are not read: an
        # exception is cancelled or moved, and every edit of a row raises its sequence.
        found = Occurrence.objects.filter(entry_id__in=selected.values("pk")).filter(EXCEPTION_ROWS)
        for row in found.order_by("original_start", "id"):
            entry = by_id.get(row.entry_id)
            if entry is not None and (not entry.rrule or _is_exception(entry, row)):
                exceptions[row.entry_id].append(row)
    for entry in kept:
        entry.feed_exceptions = exceptions.get(entry.pk, [])
    return [entry for entry in kept if not _one_off_cancelled(entry, cutoff)]


def _over(entry: CalendarEntry, cutoff: datetime) -> bool:
    zone = ZoneInfo(entry.time_zone)
    first = recurrence.local_start(entry.start_date, entry.start_time)
    length = timedelta(minutes=entry.duration_minutes)
    if not entry.rrule:
        return False  # one-offs: decided by their occurrence row (_one_off_cancelled)
    later = recurrence.build(entry.rrule, first).after(
        recurrence.to_local(cutoff, zone) - length - timedelta(days=1), inc=True
    )
    return later is None


def _is_exception(entry: CalendarEntry, row: Occurrence) -> bool:
    length = timedelta(minutes=entry.duration_minutes)
    return row.cancelled or row.moved or row.ends_at != row.original_start + length


def _one_off_cancelled(entry: CalendarEntry, cutoff: datetime) -> bool:
    if entry.rrule:
        return False
    row = entry.feed_exceptions[0] if entry.feed_exceptions else None
    if row is None:
        start = recurrence.place(
            recurrence.local_start(entry.start_date, entry.start_time), ZoneInfo(entry.time_zone)
        )
        return start < cutoff
    return row.cancelled or row.starts_at < cutoff


def _local(when: datetime, zone: ZoneInfo) -> datetime:
    """An aware time as wall-clock time in ``zone`` (written as ``;TZID=zone:…``)."""
    return when.astimezone(zone)


def _until_in_utc(text: str, zone: ZoneInfo) -> str:
    """The RRULE with an UNTIL (local wall-clock time, as dateutil reads it) in UTC."""
    parts = []
    for part in text.split(";"):
        name, _sep, value = part.partition("=")
        if name.upper() == "UNTIL":
            # Read as dateutil's rrulestr reads it (normalize() drops a "Z"), then placed.
            local = dateutil_parser.parse(value.rstrip("Zz"), ignoretz=True)
            value = f"{local.replace(tzinfo=zone).astimezone(UTC):%Y%m%dT%H%M%SZ}"
        parts.append(f"{name}={value}")
    return ";".join(parts)


def _description(entry: CalendarEntry, note: str = "") -> str:
    return "\n\n".join(part for part in (note, entry.description.strip(), entry.link) if part)


def _common(event: Event, entry: CalendarEntry, sequence: int) -> None:
    event.add("uid", entry.uid)
    event.add("sequence", sequence)
    event.add("dtstamp", entry.updated_at.astimezone(UTC))
    event.add("last-modified", entry.updated_at.astimezone(UTC))
    event.add("created", entry.created_at.astimezone(UTC))
    event.add("summary", entry.title)
    if entry.place:
        event.add("location", entry.place)
    if entry.link:
        event.add("url", entry.link)
    event.add("categories", [str(entry.get_kind_display())])


def entry_events(entry: CalendarEntry) -> list[Event]:
    """The VEVENTs of one entry (``feed_exceptions`` attached by ``feed_entries``)."""
    zone = ZoneInfo(entry.time_zone)
    exceptions = getattr(entry, "feed_exceptions", [])
    if not entry.rrule:
        event = Event()
        _common(event, entry, entry.sequence)
        row = exceptions[0] if exceptions else None
        if row is None:
            start = recurrence.place(
                recurrence.local_start(entry.start_date, entry.start_time), zone
            )
            end = start + timedelta(minutes=entry.duration_minutes)
        else:
            start, end = row.starts_at, row.ends_at
        event.add("dtstart", _local(start, zone))
        event.add("dtend", _local(end, zone))
        description = _description(entry, row.note if row else "")
        if description:
            event.add("description", description)
        return [event]

    series = Event()
    _common(series, entry, entry.sequence)
    # DTSTART is the first occurrence: RFC 5545 leaves a DTSTART the rule does not produce
    # undefined (dateutil skips it, most calendar apps show it), so it is never written.
    first = recurrence.local_start(entry.start_date, entry.start_time)
    series.add(
        "dtstart", recurrence.build(entry.rrule, first).after(first, inc=True).replace(tzinfo=zone)
    )
    series.add("duration", timedelta(minutes=entry.duration_minutes))
    series.add("rrule", vRecur.from_ical(_until_in_utc(entry.rrule, zone)))
    cancelled = [_local(row.original_start, zone) for row in exceptions if row.cancelled]
    if cancelled:
        series.add("exdate", cancelled)
    description = _description(entry)
    if description:
        series.add("description", description)
    events = [series]
    for row in exceptions:
        if row.cancelled:
            continue
        moved = Event()
        _common(moved, entry, max(entry.sequence, row.sequence))
        moved.add("recurrence-id", _local(row.original_start, zone))
        moved.add("dtstart", _local(row.starts_at, zone))
        moved.add("dtend", _local(row.ends_at, zone))
        description = _description(entry, row.note)
        if description:
            moved.add("description", description)
        events.append(moved)
    return events


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE from ``zoneinfo`` for whole years (cached; only ever serialised)."""
    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 1, 1)
    )


def calendar_for(
    entries: Iterable[CalendarEntry],
    *,
    name: str,
    language: str,
    now: datetime | None = None,
) -> Calendar:
    """A VCALENDAR of ``entries`` (as ``feed_entries`` returns them), named ``name``."""
    now = now or timezone.now()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.calendar_name = name
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    first_year: dict[str, int] = {}
    last_year = now.year
    with translation.override(language):
        for entry in entries:
            for event in entry_events(entry):
                calendar.add_component(event)
            start = entry.start_date.year
            first_year[entry.time_zone] = min(first_year.get(entry.time_zone, start), start)
            for row in getattr(entry, "feed_exceptions", []):
                last_year = max(last_year, row.starts_at.year)
            last_year = max(last_year, entry.start_date.year)
    # VTIMEZONEs first, as clients expect them before the events that name them.
    zones = []
    for tzid in sorted(first_year):
        if tzid == "UTC":
            continue  # written as "…Z", no VTIMEZONE (RFC 5545 3.2.19)
        try:
            zones.append(_vtimezone(tzid, first_year[tzid], last_year + ZONE_YEARS_AHEAD))
        except ValueError:  # a zone zoneinfo does not know: clients still read its TZID
            continue
    calendar.subcomponents[0:0] = zones
    return calendar


def to_ical(calendar: Calendar) -> bytes:
    return calendar.to_ical()
