"""When a checklist item falls due, in the community's time zone, and what a run spans.

Pure functions (no queries), shared by the services that create and move runs and by the
template form that refuses an item due outside its run.

- ``clock`` items are due at a wall-clock time on the run's local day (plus
  ``offset_days``). A time that does not exist that day (inside a DST jump forward) is
  moved forward by the jump; a doubled hour takes its first instance. So "by 09:00" is
  09:00 local on both sides of a DST change.
- the other anchors are an exact duration (``offset_minutes``) from the run's start or from
  the occurrence's start or end, so "30 minutes after the end" is always 30 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from checklists.models import DueAnchor, Phase

# How far before an activity its items may fall due, and how long after its end.
ACTIVITY_BEFORE = timedelta(days=14)
ACTIVITY_AFTER = timedelta(days=14)
# A daily run opens at this local time (beat makes it on its first tick after).
DAILY_OPENS_AT = time(5, 0)
# An activity run shows on My checklists this long before its first item falls due.
ACTIVITY_SHOWS_BEFORE = timedelta(days=1)


def local_datetime(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """``day`` at ``clock`` in ``zone``, as an aware UTC datetime (so that adding a
    duration to it is exact). A time inside a DST jump forward moves forward by the jump
    (fold=0 reads it with the offset before the jump); a doubled hour is its first instance."""
    return datetime.combine(day, clock).replace(tzinfo=zone, fold=0).astimezone(UTC)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The start of ``day`` and of the next day in ``zone`` (aware)."""
    return local_datetime(day, time(0), zone), local_datetime(
        day + timedelta(days=1), time(0), zone
    )


@dataclass(frozen=True)
class RunFrame:
    """What an item's due time is measured against: the run's local day and start, and
    for an activity run the occurrence's start and end (aware)."""

    zone: ZoneInfo
    day: date
    starts_at: datetime
    occurrence_start: datetime | None = None
    occurrence_end: datetime | None = None


def due_at(item, frame: RunFrame) -> datetime:
    """When ``item`` (a template item or a run's copy) falls due in ``frame``."""
    anchor = item.anchor
    if anchor == DueAnchor.CLOCK:
        clock = item.due_time or time(23, 59)
        return local_datetime(frame.day + timedelta(days=item.offset_days), clock, frame.zone)
    offset = timedelta(minutes=item.offset_minutes)
    if anchor == DueAnchor.OCCURRENCE_START and frame.occurrence_start is not None:
        return frame.occurrence_start + offset
    if anchor == DueAnchor.OCCURRENCE_END and frame.occurrence_end is not None:
        return frame.occurrence_end + offset
    return frame.starts_at + offset


def closes_at(due_times: list[datetime], frame: RunFrame) -> datetime:
    """The end of the local day of the run's last due item (or of its day)."""
    last = max([*due_times, frame.occurrence_end or frame.starts_at, frame.starts_at])
    return day_bounds(last.astimezone(frame.zone).date(), frame.zone)[1]


def check_item_timing(*, phase: str, duration_days: int, item) -> None:
    """Refuse an item whose due time lies outside any run of its template.

    Daily runs are one local day: a clock time that day, or minutes from its start within
    it. Activity runs: the occurrence's start or end (or a clock time on a day around it),
    at most 14 days before it starts or after it ends. Runs started by hand last
    ``duration_days`` from their start.
    """
    anchor = item.anchor
    if anchor == DueAnchor.CLOCK and item.due_time is None:
        raise ValidationError({"due_time": _("Give the time of day it is due by.")})
    if phase == Phase.DAILY:
        if anchor in (DueAnchor.OCCURRENCE_START, DueAnchor.OCCURRENCE_END):
            raise ValidationError(
                {"anchor": _("A daily item cannot be due relative to an activity.")}
            )
        if anchor == DueAnchor.CLOCK and item.offset_days != 0:
            raise ValidationError(
                {"offset_days": _("A daily run lasts one day: its items are due that day.")}
            )
        if anchor == DueAnchor.RUN_START and not 0 <= item.offset_minutes < 24 * 60:
            raise ValidationError(
                {
                    "offset_minutes": _(
                        "A daily run lasts one day: the offset must be between 0 and 1,439 minutes."
                    )
                }
            )
        return
    if phase == Phase.ACTIVITY:
        if anchor == DueAnchor.RUN_START:
            raise ValidationError(
                {"anchor": _("Activity items are due relative to the activity's start or end.")}
            )
        limit = ACTIVITY_BEFORE.days
        if anchor == DueAnchor.CLOCK and not -limit <= item.offset_days <= limit:
            raise ValidationError(
                {
                    "offset_days": _(
                        "An activity's items fall due at most %(days)s days before or after it."
                    )
                    % {"days": limit}
                }
            )
        minutes = item.offset_minutes
        if (
            anchor == DueAnchor.OCCURRENCE_START
            and minutes < -ACTIVITY_BEFORE / timedelta(minutes=1)
        ) or (
            anchor == DueAnchor.OCCURRENCE_END and minutes > ACTIVITY_AFTER / timedelta(minutes=1)
        ):
            raise ValidationError(
                {
                    "offset_minutes": _(
                        "An activity's items fall due at most %(days)s days before or after it."
                    )
                    % {"days": limit}
                }
            )
        return
    # Runs started by hand.
    if anchor in (DueAnchor.OCCURRENCE_START, DueAnchor.OCCURRENCE_END):
        raise ValidationError(
            {"anchor": _("Only activity templates have items due relative to an activity.")}
        )
    if anchor == DueAnchor.CLOCK and not 0 <= item.offset_days < duration_days:
        raise ValidationError(
            {
                "offset_days": ngettext(
                    "This run lasts %(days)s day: choose day %(last)s.",
                    "This run lasts %(days)s days: choose a day from 0 to %(last)s.",
                    duration_days,
                )
                % {"days": duration_days, "last": duration_days - 1}
            }
        )
    if anchor == DueAnchor.RUN_START and not 0 <= item.offset_minutes <= duration_days * 24 * 60:
        raise ValidationError(
            {
                "offset_minutes": ngettext(
                    "This run lasts %(days)s day: the item must fall due within it.",
                    "This run lasts %(days)s days: the item must fall due within it.",
                    duration_days,
                )
                % {"days": duration_days}
            }
        )
