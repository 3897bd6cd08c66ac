"""An item's message to post, with its placeholders filled for its run.

The four placeholders of a template's ``message`` (``ItemFields.message``):

- ``{community}``: the community's name;
- ``{date}``: the run's day, in Django's date format of the run's language;
- ``{next_topic}``: the community's next occurrence that has not started (title, local
  weekday and time); for an activity run whose occurrence has not started, that one;
- ``{newcomers}``: who joined the community on the run's local day ("、" between names in
  Chinese, ", " in English).

Only these four names are replaced, with a regex: any other brace (``{x}``, a lone ``{``)
stays as written, so a template's text can never break the page. ``run_messages`` fills the
messages of many runs at once in a constant number of queries (one for the joins of every
community and day, the calendar's batched selector for the next occurrences).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from activities.calendar.selectors import calendar_slots
from checklists.models import ChecklistRun
from communities.models import Staff
from members.models import PRESENT_STATUSES, Membership

PLACEHOLDER = re.compile(r"\{(community|date|next_topic|newcomers)\}")
# How far ahead {next_topic} looks (as the community page's next occurrences do).
NEXT_TOPIC_HORIZON = timedelta(days=366)


def _when(moment: datetime, zone: ZoneInfo) -> str:
    """Local weekday and time, in the active language's Django formats."""
    local = moment.astimezone(zone)
    return f"{formats.date_format(local, 'l')} {formats.time_format(local, 'TIME_FORMAT')}"


def _topic(title: str, moment: datetime, zone: ZoneInfo) -> str:
    # Translators: {next_topic} in a message to post: the title, then weekday and time.
    return pgettext("message placeholder", "%(title)s (%(when)s)") % {
        "title": title,
        "when": _when(moment, zone),
    }


def _names(names: list[str]) -> str:
    # Translators: what separates newcomers' names in a message to post ("、" in Chinese).
    return pgettext("list separator of names", ", ").join(names)


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with the four placeholders replaced from ``values``; nothing else touched."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def _next_starts(
    runs: list[ChecklistRun], staff: Staff, now: datetime
) -> dict[int, tuple[str, datetime]]:
    """Per community id: the title and start of its next occurrence not started yet."""
    communities = {run.community_id: run.community for run in runs}
    slots = calendar_slots(staff, now, now + NEXT_TOPIC_HORIZON, communities.values())
    found: dict[int, tuple[str, datetime]] = {}
    for calendar_slot in slots:  # by start
        if calendar_slot.cancelled or calendar_slot.starts_at <= now:
            continue
        for community in calendar_slot.entry.communities.all():
            if community.pk in communities and community.pk not in found:
                found[community.pk] = (calendar_slot.title, calendar_slot.starts_at)
    return found


def _newcomers(runs: list[ChecklistRun]) -> dict[tuple[int, object], list[str]]:
    """(community id, local day) → names of those who joined that day, in one query."""
    pairs = {(run.community_id, run.day) for run in runs}
    condition = Q()
    for community_id, day in pairs:
        condition |= Q(community_id=community_id, joined_on=day)
    names: dict[tuple[int, object], list[str]] = defaultdict(list)
    rows = (
        Membership.objects.filter(condition)
        .filter(status__in=PRESENT_STATUSES)  # not applicants, nor who already left
        .order_by("member__display_name", "pk")
        .values_list("community_id", "joined_on", "member__display_name")
    )
    for community_id, day, name in rows:
        names[(community_id, day)].append(name)
    return names


def run_messages(
    runs: Iterable[ChecklistRun], *, staff: Staff, now: datetime | None = None
) -> dict[int, str]:
    """The filled message of every item (of ``runs``' prefetched ``items``) that has one:
    ``{run item id: text}``. The runs need their community (and entry) selected and their
    items prefetched. At most four queries whatever the number of runs and items (none
    when no item uses ``{next_topic}`` or ``{newcomers}``)."""
    now = now or timezone.now()
    runs = list(runs)
    with_message = {
        run.pk: [item for item in run.items.all() if item.message.strip()] for run in runs
    }
    texts = " ".join(item.message for items in with_message.values() for item in items)
    busy = [run for run in runs if with_message[run.pk]]
    next_starts = _next_starts(busy, staff, now) if "{next_topic}" in texts and busy else {}
    newcomers = _newcomers(busy) if "{newcomers}" in texts and busy else {}
    filled: dict[int, str] = {}
    for run in busy:
        zone = ZoneInfo(run.community.time_zone)
        with translation.override(run.language):
            if (
                run.entry_id is not None
                and run.occurrence_starts_at is not None
                and run.occurrence_starts_at > now
            ):
                topic = _topic(run.entry.title, run.occurrence_starts_at, zone)
            elif run.community_id in next_starts:
                topic = _topic(*next_starts[run.community_id], zone)
            else:
                topic = _("(nothing scheduled)")
            names = newcomers.get((run.community_id, run.day), [])
            values = {
                "community": run.community.name,
                "date": formats.date_format(run.day, "DATE_FORMAT"),
                "next_topic": topic,
                "newcomers": _names(names) if names else _("(no newcomers today)"),
            }
            for item in with_message[run.pk]:
                filled[item.pk] = fill(item.message, values)
    return filled
