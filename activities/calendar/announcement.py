"""An occurrence's pre-announcement (预告), in the community's announcement language.

"明晚 21:00–21:30 我们讨论「X」" / "Tomorrow 21:00–21:30 we discuss “X”": the day is said
relative to the community's local day (today, tomorrow, else weekday and date), the times
are the community's local times. Plain text: the page shows it escaped, for copying. The
scheduled-actions issue sends the same text, so this is the one place that writes it.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from activities.calendar.models import CalendarEntry, EntryKind
from activities.calendar.selectors import CalendarSlot, occurrence_slot
from activities.calendar.services import first_start
from communities.models import Community

# From this hour on an occurrence is "tonight" / "tomorrow evening" (今晚 / 明晚).
EVENING_HOUR = 18


def _day_words(start: datetime, today) -> str:
    days = (start.date() - today).days
    evening = start.hour >= EVENING_HOUR
    if days == 0:
        return (
            pgettext("announcement, evening", "Tonight")
            if evening
            else pgettext("announcement", "Today")
        )
    if days == 1:
        return (
            pgettext("announcement, evening", "Tomorrow")
            if evening
            else pgettext("announcement", "Tomorrow")
        )
    # A Django date format, translated: "Tuesday 8 December" / "12月8日（星期二）".
    # Translators: a date format (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date).
    return dateformat.format(start, pgettext("announcement date format", "l j F"))


def pre_announcement(
    occurrence: CalendarSlot | CalendarEntry,
    language: str | None = None,
    *,
    community: Community | None = None,
    now: datetime | None = None,
) -> str:
    """The text announcing ``occurrence`` (a slot, or an entry: its first occurrence).

    ``community`` (default: the entry's first) decides the language (its announcement
    language unless ``language`` is given), the time zone and so what "tomorrow" is.
    """
    if isinstance(occurrence, CalendarEntry):
        occurrence = occurrence_slot(occurrence, first_start(occurrence))
    entry = occurrence.entry
    if community is None:
        communities = sorted(entry.communities.all(), key=lambda c: c.pk)
        community = communities[0] if communities else None
    zone = ZoneInfo(community.time_zone if community else entry.time_zone)
    language = language or (community.announcement_language if community else None)
    start = occurrence.starts_at.astimezone(zone)
    end = occurrence.ends_at.astimezone(zone)
    today = (now or timezone.now()).astimezone(zone).date()
    with translation.override(language or translation.get_language()):
        values = {
            "when": _day_words(start, today),
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}",
            "title": entry.title,
            "kind": entry.get_kind_display(),
        }
        if entry.kind == EntryKind.TOPIC:
            first = _("%(when)s %(start)s–%(end)s we discuss “%(title)s”.") % values
        else:
            first = _("%(when)s %(start)s–%(end)s, %(kind)s: “%(title)s”.") % values
        lines = [first]
        if occurrence.note:
            lines.append(occurrence.note)
        if entry.description.strip():
            lines.append(entry.description.strip())
        if entry.place:
            lines.append(_("Place: %(place)s") % {"place": entry.place})
        if entry.link:
            lines.append(_("Link: %(link)s") % {"link": entry.link})
        if occurrence.cancelled:
            lines = [_("Cancelled: %(text)s") % {"text": first}]
        else:
            lines.append(_("See you there!"))
        return "\n".join(lines)
