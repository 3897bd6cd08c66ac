"""What a run of a template would contain for a community and a day, built in memory
(nothing is written): the template page's "Preview a run".

The frame is the one the run would get (``due.RunFrame``): a daily run spans the local day;
a run started by hand is taken as started at ``MANUAL_START`` that day; an activity run is
the community's first occurrence that day of the template's kinds, or, when it has none, an
activity from ``ACTIVITY_START`` lasting ``ACTIVITY_LENGTH``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from activities.calendar.selectors import calendar_slots
from checklists import due
from checklists.messages import run_messages
from checklists.models import Phase, SopItem, SopTemplate
from communities.models import Community, Staff

MANUAL_START = time(9, 0)
ACTIVITY_START = time(20, 0)
ACTIVITY_LENGTH = timedelta(hours=1)


@dataclass(frozen=True)
class PreviewItem:
    item: SopItem
    due_at: datetime  # in the community's time zone
    message: str


@dataclass(frozen=True)
class RunPreview:
    community: Community
    day: date
    starts_at: datetime  # local
    occurrence: tuple[datetime, datetime] | None  # local, for an activity template
    occurrence_title: str  # the calendar's occurrence it follows ("" when supposed)
    items: list[PreviewItem]
    skipped: list[SopItem]  # daily items that do not apply on that weekday


def _occurrence_on(template: SopTemplate, community: Community, day: date, zone, staff: Staff):
    """The community's first occurrence on ``day`` of the template's kinds, if any."""
    if not template.kinds:
        return None
    start, end = due.day_bounds(day, zone)
    slots = calendar_slots(staff, start, end, communities=[community], kinds=template.kinds)
    return next((slot for slot in slots if not slot.slot.cancelled), None)


def run_preview(
    *, template: SopTemplate, community: Community, day: date, staff: Staff
) -> RunPreview:
    zone = ZoneInfo(community.time_zone)
    items = list(template.items.order_by("position", "pk"))
    skipped: list[SopItem] = []
    occurrence = None
    entry, title = None, ""
    if template.phase == Phase.DAILY:
        weekday = str(day.isoweekday())
        skipped = [item for item in items if weekday not in item.weekdays]
        items = [item for item in items if weekday in item.weekdays]
        starts_at = due.day_bounds(day, zone)[0]
    elif template.phase == Phase.ACTIVITY:
        found = _occurrence_on(template, community, day, zone, staff)
        if found is not None:
            entry, title = found.entry, found.title
            occurrence = (found.starts_at, found.ends_at)
        else:
            start = due.local_datetime(day, ACTIVITY_START, zone)
            occurrence = (start, start + ACTIVITY_LENGTH)
        starts_at = occurrence[0]
    else:
        starts_at = due.local_datetime(day, MANUAL_START, zone)
    frame = due.RunFrame(
        zone=zone,
        day=day,
        starts_at=starts_at,
        occurrence_start=occurrence[0] if occurrence else None,
        occurrence_end=occurrence[1] if occurrence else None,
    )
    # run_messages reads these attributes of a run; this one only lives in memory.
    run = SimpleNamespace(
        pk=0,
        items=SimpleNamespace(all=lambda: items),
        community=community,
        community_id=community.pk,
        day=day,
        language=template.language,
        entry=entry,
        entry_id=entry.pk if entry else None,
        occurrence_starts_at=occurrence[0] if entry else None,
    )
    messages = run_messages([run], staff=staff)
    return RunPreview(
        community=community,
        day=day,
        starts_at=starts_at.astimezone(zone),
        occurrence=(occurrence[0].astimezone(zone), occurrence[1].astimezone(zone))
        if occurrence
        else None,
        occurrence_title=title,
        items=[
            PreviewItem(
                item=item,
                due_at=due.due_at(item, frame).astimezone(zone),
                message=messages.get(item.pk, item.message),
            )
            for item in items
        ],
        skipped=skipped,
    )
