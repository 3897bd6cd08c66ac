"""Recurrence: RFC 5545 RRULEs expanded by ``python-dateutil`` in the entry's own time zone.

A series is expanded in *local wall-clock time* (naive datetimes) and each occurrence is
then placed in the zone, so 21:00 stays 21:00 across daylight-saving changes. A local time
that does not exist on a spring-forward day (02:30) is placed by ``zoneinfo``'s rule for
such times (fold=0: it lands an hour later in UTC terms); a repeated autumn time takes its
first instance.

Everything here is pure: no queries. The selectors hand in the exceptions (moved and
cancelled ``Occurrence`` rows) they read in one query for all entries of a range.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The finest rule we accept: at most one occurrence per hour (a calendar, not a cron).
MIN_GAP = timedelta(hours=1)
# How many occurrences are looked at to check a rule's gap.
_GAP_SAMPLE = 200
_FORBIDDEN_PARTS = ("DTSTART", "BYSECOND")


@dataclass(frozen=True)
class Slot:
    """One occurrence as the calendar shows it (expanded, with its exception applied)."""

    entry_id: int
    original_start: datetime  # aware, UTC: the occurrence's identity (RECURRENCE-ID)
    starts_at: datetime  # aware, UTC
    ends_at: datetime  # aware, UTC
    cancelled: bool = False
    occurrence_id: int | None = None  # the Occurrence row, when there is one

    @property
    def moved(self) -> bool:
        return self.starts_at != self.original_start

    def key(self) -> str:
        """The occurrence's id in URLs: ``<entry>-<original start, UTC, basic format>``."""
        return f"{self.entry_id}-{self.original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def parse_key(key: str) -> tuple[int, datetime] | None:
    """The inverse of ``Slot.key``; None for anything that is not one."""
    entry, sep, stamp = key.partition("-")
    if not sep or not entry.isascii() or not entry.isdigit() or len(entry) > 18:
        return None
    try:
        when = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    if not 2000 <= when.year <= 2999:
        return None
    return int(entry), when


def local_start(start_date: date, start_time: time) -> datetime:
    return datetime.combine(start_date, start_time.replace(tzinfo=None, microsecond=0))


def place(local: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time in ``zone``, as an aware UTC datetime."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def to_local(when: datetime, zone: ZoneInfo) -> datetime:
    """An aware time as naive local wall-clock time in ``zone``."""
    return when.astimezone(zone).replace(tzinfo=None)


@lru_cache(maxsize=4096)
def _rule(text: str, start: datetime) -> du.rrule:
    return du.rrulestr(text, dtstart=start, cache=False)


def build(text: str, start: datetime) -> du.rrule:
    """The dateutil rule for RRULE ``text`` starting at naive local ``start`` (cached)."""
    return _rule(text, start)


def normalize(text: str, start: datetime) -> str:
    """Check an RRULE for an entry starting at naive local ``start``; return its canonical text.

    Accepts "FREQ=…" with or without a leading "RRULE:"; refuses what does not parse, what
    fires more often than hourly, and what never fires. UNTIL given in UTC ("…Z") is kept
    as written; dateutil compares it as local time, which is what an editor means by it.
    """
    raw = " ".join((text or "").split()).strip()
    if raw.upper().startswith("RRULE:"):
        raw = raw[6:]
    if not raw:
        raise ValidationError(_("Write a repeat rule, such as FREQ=WEEKLY;BYDAY=TU."))
    if len(raw) > 400:
        raise ValidationError(_("This repeat rule is too long."))
    upper = raw.upper()
    parts = [p for p in upper.split(";") if p]
    if not upper.startswith("FREQ=") and not any(p.startswith("FREQ=") for p in parts):
        raise ValidationError(_("A repeat rule needs FREQ (for example FREQ=WEEKLY)."))
    if any(p.split("=", 1)[0] in _FORBIDDEN_PARTS for p in parts):
        raise ValidationError(_("A repeat rule cannot set DTSTART or seconds here."))
    # UNTIL with a "Z" and a naive start cannot be compared by dateutil: read it as local.
    fixed = []
    for part in parts:
        name, _sep, value = part.partition("=")
        if name == "UNTIL" and value.endswith("Z"):
            value = value[:-1]
        fixed.append(f"{name}={value}")
    canonical = ";".join(fixed)
    try:
        rule = du.rrulestr(canonical, dtstart=start, cache=False)
    except (ValueError, TypeError, OverflowError, IndexError, KeyError, AttributeError):
        raise ValidationError(
            _("This repeat rule could not be read. Check it against RFC 5545 (FREQ=…;BYDAY=…).")
        ) from None
    if not isinstance(rule, du.rrule):
        raise ValidationError(_("Write one repeat rule, not a set of rules."))
    if rule._freq in (du.SECONDLY, du.MINUTELY):
        raise ValidationError(_("A calendar entry repeats at most once an hour."))
    try:
        sample = []
        for when in rule:
            sample.append(when)
            if len(sample) >= _GAP_SAMPLE:
                break
    except (ValueError, OverflowError):
        raise ValidationError(_("This repeat rule could not be read.")) from None
    if not sample:
        raise ValidationError(_("This repeat rule never happens after the start."))
    if any(b - a < MIN_GAP for a, b in pairwise(sample)):
        raise ValidationError(_("A calendar entry repeats at most once an hour."))
    return canonical


def with_until(text: str, start: datetime, last: datetime) -> str | None:
    """The rule cut so that its last occurrence is before naive local ``last``.

    Returns None when nothing is left (the cut is at or before the first occurrence).
    COUNT becomes the number of occurrences kept, so the rule stays one RRULE.
    """
    rule = build(text, start)
    kept = rule.before(last, inc=False)
    if kept is None:
        return None
    parts = [p for p in text.split(";") if p.split("=", 1)[0] not in ("UNTIL", "COUNT")]
    parts.append(f"UNTIL={kept:%Y%m%dT%H%M%S}")
    return ";".join(parts)


def rest_after(text: str, start: datetime, first: datetime) -> str:
    """The rule for the series' continuation from naive local ``first`` on.

    A COUNT is reduced by the occurrences before ``first``; UNTIL is kept.
    """
    parts = text.split(";")
    counts = [p for p in parts if p.startswith("COUNT=")]
    if not counts:
        return text
    before = len(build(text, start).between(start, first, inc=False)) + (1 if first != start else 0)
    total = int(counts[0].split("=", 1)[1])
    left = max(total - before, 1)
    return ";".join(f"COUNT={left}" if p.startswith("COUNT=") else p for p in parts)


def _rule_parts(text: str) -> dict[str, str]:
    parts = {}
    for part in text.upper().split(";"):
        name, _sep, value = part.partition("=")
        parts[name.strip()] = value.strip()
    return parts


def _add_months(when: datetime, months: int) -> datetime:
    index = when.year * 12 + when.month - 1 + months
    return when.replace(year=index // 12, month=index % 12 + 1)


def iteration_start(text: str, start: datetime, near: datetime) -> datetime:
    """A DTSTART from which the rule gives exactly the occurrences it gives from naive
    local ``start`` at ``near`` and later, as close before ``near`` as is safe.

    dateutil iterates a rule from its DTSTART, period by period (day, week, month, year
    of INTERVAL length), so a series that began a year ago costs a year of periods on
    every page. Moving DTSTART forward by whole periods keeps everything dateutil takes
    from it (the time of day; the weekday of a weekly rule; the day of the month of a
    monthly one, the month and day of a yearly one) and the periods' alignment, so the
    occurrences from the new DTSTART on are the same. Not for COUNT (counted from the
    first) or BYSETPOS (counted within a period, the first of which would be cut), nor
    for days a month or year does not always have (29–31; 29 February), nor for rules
    finer than daily: those iterate from ``start`` as written. One whole period more is
    kept before ``near`` than needed.
    """
    if near <= start:
        return start
    parts = _rule_parts(text)
    if "COUNT" in parts or "BYSETPOS" in parts:
        return start
    try:
        interval = int(parts.get("INTERVAL") or 1)
    except ValueError:
        return start
    if interval < 1:
        return start
    freq = parts.get("FREQ")
    if freq in ("DAILY", "WEEKLY"):
        length = interval * (7 if freq == "WEEKLY" else 1)
        periods = (near.date() - start.date()).days // length - 1
        return start + timedelta(days=periods * length) if periods > 0 else start
    if freq == "MONTHLY" and start.day <= 28:
        periods = ((near.year - start.year) * 12 + near.month - start.month) // interval - 1
        return _add_months(start, periods * interval) if periods > 0 else start
    if freq == "YEARLY" and (start.month, start.day) != (2, 29):
        periods = (near.year - start.year) // interval - 1
        return start.replace(year=start.year + periods * interval) if periods > 0 else start
    return start


def local_starts(
    text: str, start: datetime, window_start: datetime, window_end: datetime
) -> list[datetime]:
    """Naive local starts of the rule within [window_start, window_end) (iterated from
    near the window, ``iteration_start``)."""
    if window_end <= start:
        return []
    rule = build(text, iteration_start(text, start, window_start))
    return [w for w in rule.between(window_start, window_end, inc=True) if w < window_end]


def next_local_starts(text: str, start: datetime, after: datetime, count: int) -> list[datetime]:
    rule = build(text, start)
    found: list[datetime] = []
    when = rule.after(after, inc=True)
    while when is not None and len(found) < count:
        found.append(when)
        when = rule.after(when, inc=False)
    return found


@dataclass(frozen=True)
class SeriesShape:
    """What expansion needs to know of an entry (so callers can pass rows or models)."""

    entry_id: int
    time_zone: str
    start_date: date
    start_time: time
    duration_minutes: int
    rrule: str
    cancelled: bool = False


@dataclass(frozen=True)
class Exception_:
    """An ``Occurrence`` row as expansion needs it."""

    occurrence_id: int
    entry_id: int
    original_start: datetime
    starts_at: datetime
    ends_at: datetime
    cancelled: bool


def expand(
    series: Iterable[SeriesShape],
    window_start: datetime,
    window_end: datetime,
    exceptions: Sequence[Exception_] = (),
    include_cancelled: bool = False,
) -> list[Slot]:
    """Every occurrence overlapping [window_start, window_end) (aware), sorted by start.

    Exceptions replace the occurrence whose original start they name (moved ones may move
    into or out of the window); rows for one-off entries are the occurrence itself.
    """
    by_original = {(e.entry_id, e.original_start): e for e in exceptions}
    used: set[tuple[int, datetime]] = set()
    slots: list[Slot] = []
    for shape in series:
        if shape.cancelled:
            continue
        zone = ZoneInfo(shape.time_zone)
        length = timedelta(minutes=shape.duration_minutes)
        first = local_start(shape.start_date, shape.start_time)
        if shape.rrule:
            # Local window widened by a day each side (offsets) and by the length (overlap).
            lo = to_local(window_start, zone) - length - timedelta(days=1)
            hi = to_local(window_end, zone) + timedelta(days=1)
            starts = local_starts(shape.rrule, first, max(lo, first), hi)
        else:
            starts = [first]
        for local in starts:
            original = place(local, zone)
            exception = by_original.get((shape.entry_id, original))
            if exception is not None:
                used.add((shape.entry_id, original))
                slot = Slot(
                    shape.entry_id,
                    original,
                    exception.starts_at,
                    exception.ends_at,
                    exception.cancelled,
                    exception.occurrence_id,
                )
            else:
                slot = Slot(shape.entry_id, original, original, original + length)
            slots.append(slot)
    # Moved occurrences whose original start is outside the window but whose new one is in.
    for (entry_id, original), exception in by_original.items():
        if (entry_id, original) in used:
            continue
        slots.append(
            Slot(
                entry_id,
                original,
                exception.starts_at,
                exception.ends_at,
                exception.cancelled,
                exception.occurrence_id,
            )
        )
    return sorted(
        (
            s
            for s in slots
            if s.starts_at < window_end
            and s.ends_at > window_start
            and (include_cancelled or not s.cancelled)
        ),
        key=lambda s: (s.starts_at, s.entry_id),
    )


def is_rule_occurrence(shape: SeriesShape, original: datetime) -> bool:
    """Whether ``original`` (aware) is an occurrence the entry's rule produces."""
    zone = ZoneInfo(shape.time_zone)
    first = local_start(shape.start_date, shape.start_time)
    if not shape.rrule:
        return place(first, zone) == original
    local = to_local(original, zone)
    return any(
        place(w, zone) == original
        for w in local_starts(
            shape.rrule, first, local - timedelta(hours=2), local + timedelta(hours=2)
        )
    )
