"""Reads of the calendar: the occurrences of a range, a community's next ones, rules in words.

``calendar_slots`` costs the same number of queries whatever the number of entries and
occurrences: the entries (with their communities, one prefetch), then every exception
row of the range in one query; the rules are expanded in Python (``recurrence.expand``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from activities.access import visible_entries
from activities.calendar import recurrence
from activities.calendar.models import EXCEPTION_ROWS, CalendarEntry, EntryKind, Occurrence
from activities.calendar.services import shape
from communities.models import Community, Staff

# The longest an entry may last (CalendarEntry.duration_minutes' bound), plus a day.
_LONGEST = timedelta(days=61)
_DAY = timedelta(days=1)
# The entries' communities as the pages use them (names, links, zones): four columns.
_COMMUNITIES = Prefetch(
    "communities",
    queryset=Community.objects.only("pk", "slug", "name", "time_zone", "organization_id"),
)


@dataclass(frozen=True)
class CalendarSlot:
    """One occurrence on a page: the expanded slot, its entry, its row's note."""

    slot: recurrence.Slot
    entry: CalendarEntry
    note: str = ""

    @property
    def key(self) -> str:
        return self.slot.key()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.entry.time_zone)

    @property
    def starts_at(self) -> datetime:
        return self.slot.starts_at

    @property
    def ends_at(self) -> datetime:
        return self.slot.ends_at

    @property
    def local_start(self) -> datetime:
        """Naive wall-clock time in the entry's zone (what the pages print; naive, so the
        templates do not convert it to the viewer's zone)."""
        return recurrence.to_local(self.slot.starts_at, self.zone)

    @property
    def local_end(self) -> datetime:
        return recurrence.to_local(self.slot.ends_at, self.zone)

    @property
    def clock(self) -> str:
        """ "21:00–21:30" (with the end's date when it ends on another day)."""
        start, end = self.local_start, self.local_end
        if end.date() != start.date():
            return f"{start:%H:%M}–{end:%m-%d %H:%M}"
        return f"{start:%H:%M}–{end:%H:%M}"

    @property
    def original_start(self) -> datetime:
        return self.slot.original_start

    @property
    def moved(self) -> bool:
        return self.slot.moved

    @property
    def cancelled(self) -> bool:
        return self.slot.cancelled

    @property
    def title(self) -> str:
        return self.entry.title

    @property
    def zone_mark(self) -> str:
        """The entry's zone, short, for a cramped cell: "Berlin", "New York", "UTC"."""
        return self.entry.time_zone.rsplit("/", 1)[-1].replace("_", " ")

    @property
    def challenge_id(self) -> int | None:
        """The check-in challenge the entry is the calendar side of (selected with the
        entries: no query), else None."""
        if self.entry.kind != EntryKind.CHALLENGE:
            return None
        try:
            return self.entry.challenge.pk
        except ObjectDoesNotExist:
            return None

    @property
    def url(self) -> str:
        """Where the calendar leads: a challenge's occurrences to the challenge's page (its
        check-in grid), any other to the occurrence's page."""
        if self.challenge_id is not None:
            return reverse("activities:challenge", args=[self.challenge_id])
        return reverse("activities:occurrence", args=[self.key])


def _entries(
    staff: Staff,
    start: datetime,
    end: datetime,
    communities: Iterable[Community] | None,
    kinds: Iterable[str] | None,
) -> QuerySet[CalendarEntry]:
    entries = visible_entries(staff).filter(cancelled_at__isnull=True)
    if communities:
        entries = entries.filter(
            pk__in=CalendarEntry.communities.through.objects.filter(
                community__in=list(communities)
            ).values("calendarentry_id")
        )
    if kinds:
        entries = entries.filter(kind__in=list(kinds))
    # Local start dates differ from UTC by less than a day; a one-off lasts at most 60 days.
    last_day = (end + _DAY).date()
    entries = entries.filter(start_date__lte=last_day).filter(
        ~Q(rrule="") | Q(start_date__gte=(start - _LONGEST).date())
    )
    return entries.prefetch_related("communities")


# What makes an occurrence row an exception (as the feeds read them, ``ics.feed_entries``):
# a one-off's own row, a cancelled or moved one, or one edited since (every edit of a row
# raises its sequence). The rows RSVPs and attendance leave behind change nothing shown and
# are not read: in a busy organisation they are nearly all the rows.


def _exceptions(entry_ids: QuerySet, start: datetime, end: datetime) -> list[Occurrence]:
    """Every exception row of the range's entries that can matter, in one query (only the
    columns expansion and the pages use)."""
    return list(
        Occurrence.objects.filter(entry_id__in=entry_ids)
        .filter(
            Q(original_start__gte=start - _LONGEST, original_start__lt=end + _DAY)
            | Q(starts_at__lt=end, ends_at__gt=start)
        )
        .filter(EXCEPTION_ROWS)
        .only("pk", "entry_id", "original_start", "starts_at", "ends_at", "cancelled", "note")
    )


def slots_for(
    entries: list[CalendarEntry], rows: list[Occurrence], start: datetime, end: datetime
) -> list[CalendarSlot]:
    by_id = {entry.pk: entry for entry in entries}
    # A row the entry's rule no longer produces (an old exception) is shown only if moved.
    exceptions = [
        recurrence.Exception_(
            row.pk, row.entry_id, row.original_start, row.starts_at, row.ends_at, row.cancelled
        )
        for row in rows
        if row.entry_id in by_id
    ]
    notes = {row.pk: row.note for row in rows}
    slots = recurrence.expand([shape(e) for e in entries], start, end, exceptions)
    return [
        CalendarSlot(slot, by_id[slot.entry_id], notes.get(slot.occurrence_id, ""))
        for slot in slots
    ]


def entry_slots(entry: CalendarEntry, start: datetime, end: datetime) -> list[CalendarSlot]:
    """One entry's occurrences in [start, end), with its exceptions (one query)."""
    rows = _exceptions(CalendarEntry.objects.filter(pk=entry.pk).values("pk"), start, end)
    return slots_for([entry], rows, start, end)


def calendar_slots(
    staff: Staff,
    start: datetime,
    end: datetime,
    communities: Iterable[Community] | None = None,
    kinds: Iterable[str] | None = None,
) -> list[CalendarSlot]:
    """The occurrences in [start, end) (aware) of the entries the staff may see, by start.

    Three queries whatever the number of entries and occurrences: entries, their
    communities, the exception rows of the range.
    """
    entries_qs = _entries(staff, start, end, communities, kinds)
    entries = list(entries_qs)
    if not entries:
        return []
    rows = _exceptions(entries_qs.values("pk"), start, end)
    return slots_for(entries, rows, start, end)


def community_next_occurrences(
    community: Community, n: int = 5, *, now: datetime | None = None
) -> list[CalendarSlot]:
    """The community's next ``n`` occurrences (not ended yet) within a year: three queries
    (one when it has no entries)."""
    now = now or timezone.now()
    end = now + timedelta(days=366)
    entries_qs = (
        CalendarEntry.objects.filter(communities=community, cancelled_at__isnull=True)
        .filter(start_date__lte=(end + _DAY).date())
        .filter(~Q(rrule="") | Q(start_date__gte=(now - _LONGEST).date()))
        .select_related("challenge")
        .prefetch_related(_COMMUNITIES)
    )
    entries = list(entries_qs)
    if not entries:
        return []
    rows = _exceptions(entries_qs.values("pk"), now, end)
    return slots_for(entries, rows, now, end)[:n]


def communities_next_occurrences(
    communities: Iterable[Community], n: int = 5, *, now: datetime | None = None
) -> dict[int, list[CalendarSlot]]:
    """``community_next_occurrences`` for many communities at once, by community id: three
    queries whatever their number (one when none has entries); each entry expanded once."""
    now = now or timezone.now()
    end = now + timedelta(days=366)
    ids = [c.pk for c in communities]
    found: dict[int, list[CalendarSlot]] = {pk: [] for pk in ids}
    if not ids:
        return found
    entries_qs = (
        CalendarEntry.objects.filter(
            pk__in=CalendarEntry.communities.through.objects.filter(community_id__in=ids).values(
                "calendarentry_id"
            ),
            cancelled_at__isnull=True,
        )
        .filter(start_date__lte=(end + _DAY).date())
        .filter(~Q(rrule="") | Q(start_date__gte=(now - _LONGEST).date()))
        .select_related("challenge")
        .prefetch_related(_COMMUNITIES)
    )
    entries = list(entries_qs)
    if not entries:
        return found
    rows = _exceptions(entries_qs.values("pk"), now, end)
    for slot in slots_for(entries, rows, now, end):
        for community in slot.entry.communities.all():
            if community.pk in found and len(found[community.pk]) < n:
                found[community.pk].append(slot)
    return found


def occurrence_slot(entry: CalendarEntry, original_start: datetime) -> CalendarSlot:
    """One occurrence of an entry (with its exception row applied), even when cancelled."""
    row = Occurrence.objects.filter(entry=entry, original_start=original_start).first()
    length = timedelta(minutes=entry.duration_minutes)
    if row is None:
        slot = recurrence.Slot(entry.pk, original_start, original_start, original_start + length)
        return CalendarSlot(slot, entry)
    slot = recurrence.Slot(
        entry.pk, original_start, row.starts_at, row.ends_at, row.cancelled, row.pk
    )
    return CalendarSlot(slot, entry, row.note)


# --- Rules in words -------------------------------------------------------------------------

_ORDINALS = {
    1: lambda: pgettext("nth weekday of the month", "first"),
    2: lambda: pgettext("nth weekday of the month", "second"),
    3: lambda: pgettext("nth weekday of the month", "third"),
    4: lambda: pgettext("nth weekday of the month", "fourth"),
    5: lambda: pgettext("nth weekday of the month", "fifth"),
    -1: lambda: pgettext("nth weekday of the month", "last"),
}
_DAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def _parts(text: str) -> dict[str, str]:
    parts = {}
    for part in text.upper().split(";"):
        name, _sep, value = part.partition("=")
        if name:
            parts[name] = value
    return parts


def _weekday_name(code: str) -> str:
    return str(WEEKDAYS[_DAY_CODES.index(code)])


def _list(items: list[str]) -> str:
    return pgettext("list separator", ", ").join(items)


def _pattern(text: str, start: datetime) -> str | None:
    """The rule in words (without its time), or None for a rule the words do not cover."""
    parts = _parts(text)
    freq = parts.pop("FREQ", "")
    parts.pop("UNTIL", None)
    parts.pop("COUNT", None)
    parts.pop("WKST", None)
    if parts.pop("INTERVAL", "1") != "1":
        return None
    byday = [d for d in parts.pop("BYDAY", "").split(",") if d]
    if parts.keys() - {"BYMONTHDAY"}:
        return None
    if freq == "DAILY" and not byday and not parts:
        return _("every day")
    if freq == "WEEKLY" and not parts:
        days = byday or [_DAY_CODES[start.weekday()]]
        if any(d not in _DAY_CODES for d in days):
            return None
        if sorted(days, key=_DAY_CODES.index) == _DAY_CODES[:5]:
            return _("every weekday (Monday to Friday)")
        names = [_weekday_name(d) for d in sorted(days, key=_DAY_CODES.index)]
        return _("every %(days)s") % {"days": _list(names)}
    if freq == "MONTHLY" and not byday:
        day = parts.get("BYMONTHDAY") or str(start.day)
        if not day.isdigit():
            return None
        return _("monthly on day %(day)s") % {"day": int(day)}
    if freq == "MONTHLY" and len(byday) == 1 and not parts:
        code = byday[0]
        number, weekday = code[:-2], code[-2:]
        try:
            ordinal = _ORDINALS[int(number)]
        except (ValueError, KeyError):
            return None
        if weekday not in _DAY_CODES:
            return None
        return _("monthly on the %(nth)s %(weekday)s") % {
            "nth": ordinal(),
            "weekday": _weekday_name(weekday),
        }
    return None


def describe_rule(
    rule: CalendarEntry | str,
    start: datetime | None = None,
    language: str | None = None,
    *,
    after: datetime | None = None,
    count: int = 3,
) -> str:
    """The entry's (or RRULE text's) repetition in words, with its next dates:
    "every Tuesday 21:00, next: 12-08, 12-15, 12-22" / "每星期二 21:00，接下来：12-08、…".

    ``start`` is the series' naive local first start (taken from an entry); ``after`` the
    naive local moment from which "next" counts (default: now in the entry's zone, else
    ``start``). A rule the words do not cover is shown as written.
    """
    if isinstance(rule, CalendarEntry):
        entry = rule
        text = entry.rrule
        start = recurrence.local_start(entry.start_date, entry.start_time)
        if after is None:
            after = recurrence.to_local(timezone.now(), ZoneInfo(entry.time_zone))
    else:
        text = rule or ""
    if start is None:
        raise ValueError("describe_rule needs the series' start")
    after = max(after or start, start)
    with translation.override(language or translation.get_language()):
        clock = f"{start:%H:%M}"
        if not text:
            return _("once, on %(date)s %(time)s") % {
                "date": f"{start:%Y-%m-%d}",
                "time": clock,
            }
        pattern = _pattern(text, start)
        words = (
            _("%(pattern)s %(time)s") % {"pattern": pattern, "time": clock}
            if pattern
            else _("custom rule %(rule)s") % {"rule": text}
        )
        parts = _parts(text)
        if "COUNT" in parts and parts["COUNT"].isdigit():
            total = int(parts["COUNT"])
            words += " " + ngettext("(%(count)d time)", "(%(count)d times)", total) % {
                "count": total
            }
        elif "UNTIL" in parts:
            until = parts["UNTIL"][:8]
            words += " " + _("(until %(date)s)") % {
                "date": f"{until[:4]}-{until[4:6]}-{until[6:8]}"
            }
        try:
            upcoming = recurrence.next_local_starts(text, start, after, count)
        except (ValueError, TypeError):
            upcoming = []
        if not upcoming:
            return _("%(rule)s; no further occurrences") % {"rule": words}
        dates = pgettext("list of dates separator", ", ").join(f"{d:%m-%d}" for d in upcoming)
        return _("%(rule)s, next: %(dates)s") % {"rule": words, "dates": dates}


def month_grid(year: int, month: int) -> list[list[date]]:
    """Six weeks, Monday first, around the month (the month view's rows)."""
    first = date(year, month, 1)
    grid_start = first - timedelta(days=first.weekday())
    return [[grid_start + timedelta(days=7 * w + d) for d in range(7)] for w in range(6)]
