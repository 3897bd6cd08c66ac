"""An item's due time and weekdays in words, for the template pages ("by 09:00",
"1 day before the start", "30 minutes after the end", "day 3 at 10:00")."""

from __future__ import annotations

from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from checklists.models import ALL_WEEKDAYS, MANUAL_PHASES, DueAnchor, Phase

MINUTES_PER_DAY = 24 * 60


def span_in_words(minutes: int) -> str:
    """A duration in the largest whole unit: "2 days", "3 hours", "90 minutes"."""
    minutes = abs(minutes)
    if minutes and minutes % MINUTES_PER_DAY == 0:
        days = minutes // MINUTES_PER_DAY
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if minutes and minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def due_in_words(item, phase: str) -> str:
    """When ``item`` (a template's item or a run's copy) falls due, relative to its run of
    a template of ``phase``."""
    anchor, minutes = item.anchor, item.offset_minutes
    if anchor == DueAnchor.CLOCK:
        clock = item.due_time.strftime("%H:%M") if item.due_time else "23:59"
        days = item.offset_days
        if days == 0:
            return _("by %(time)s") % {"time": clock}
        if phase in MANUAL_PHASES:
            return _("day %(day)d at %(time)s") % {"day": days + 1, "time": clock}
        if days < 0:
            return ngettext(
                "%(count)d day before, by %(time)s", "%(count)d days before, by %(time)s", -days
            ) % {"count": -days, "time": clock}
        return ngettext(
            "%(count)d day after, by %(time)s", "%(count)d days after, by %(time)s", days
        ) % {"count": days, "time": clock}
    span = span_in_words(minutes)
    if anchor == DueAnchor.OCCURRENCE_END:
        if minutes == 0:
            return _("when it ends")
        if minutes < 0:
            return _("%(span)s before the end") % {"span": span}
        return _("%(span)s after the end") % {"span": span}
    if minutes == 0:
        return _("when it starts") if anchor == DueAnchor.OCCURRENCE_START else _("at the start")
    if minutes < 0:
        return _("%(span)s before the start") % {"span": span}
    return _("%(span)s after the start") % {"span": span}


def weekdays_in_words(weekdays: str) -> str:
    """ISO weekday digits ("67") as short day names ("Sat, Sun"); every day in words."""
    days = "".join(day for day in ALL_WEEKDAYS if day in weekdays)
    if days == ALL_WEEKDAYS:
        return _("every day")
    return ", ".join(str(WEEKDAYS_ABBR[int(day) - 1]) for day in days)


def applies_on(item, phase: str) -> str | None:
    """The weekdays in words for a daily template's item, None for other phases."""
    return weekdays_in_words(item.weekdays) if phase == Phase.DAILY else None
