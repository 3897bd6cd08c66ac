"""Event announcements: the calendar's pre-announcement posted before each occurrence.

For every occurrence of an entry linked to communities, each community that has an enabled
outlet (with its ``CommunityAutomation``, or the defaults when it has none: the day before
at 20:00 local, and 30 minutes before) gets up to two ``ScheduledAction`` rows of kind
*announcement*:

- *day before*: the local day before the occurrence (in the community's zone), at
  ``announce_day_before_at``;
- *minutes before*: the occurrence's start minus ``announce_minutes_before``.

Their text is ``activities.calendar.announcement.pre_announcement`` as of the time it is
sent ("Tomorrow 21:00…" the day before, "Tonight 21:00…" half an hour before), in the
community's announcement language.

Identity: ``source_key`` = ``announce:<occurrence key>:<community id>:day-before`` (or
``:minutes-before``). The occurrence key holds the occurrence's *original* start, so an
occurrence moved on its own keeps its key and its actions move with it (due time and
text). The unique constraint on (organization, source_key) makes each once, whoever runs
the sync and however often.

``announcements_sync(entry=…)`` runs after every calendar change (registered with
``activities.calendar.hooks`` in ``AutomationsConfig.ready``) and hourly for every entry
(``automations.sync_announcements``), so recurring series stay covered
``HORIZON`` ahead. It creates what is missing, moves what moved, and cancels what no
longer applies (cancelled occurrences or entries, communities taken off the entry, an
announcement switched off). Only actions still *scheduled* are ever touched: what was
dispatched is history. A time already past when planned is not created (no stale sends),
and an action whose time moved into the past is cancelled.

A cancelled action's key gets a ``~<id>`` suffix, so the same announcement can be made
again when it applies again (the occurrence restored, the community added back). An
action staff cancelled by hand keeps its key and is never made again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from activities.calendar import recurrence
from activities.calendar.announcement import pre_announcement
from activities.calendar.models import CalendarEntry
from activities.calendar.selectors import CalendarSlot, entry_slots
from automations.models import (
    ActionKind,
    ActionStatus,
    CommunityAutomation,
    Outlet,
    ScheduledAction,
)
from communities.models import Community

# Occurrences starting within this horizon get their announcements (kept ahead hourly).
HORIZON = timedelta(days=15)
DAY_BEFORE = "day-before"
MINUTES_BEFORE = "minutes-before"


@dataclass(frozen=True)
class Planned:
    community: Community
    slot: CalendarSlot
    due_at: datetime
    text: str


def source_key(slot: CalendarSlot, community_id: int, which: str) -> str:
    return f"announce:{slot.key}:{community_id}:{which}"


def settings_for(communities: list[Community]) -> dict[int, CommunityAutomation]:
    """Each community's settings (unsaved defaults for those without a row): one query."""
    rows = {
        row.community_id: row
        for row in CommunityAutomation.objects.filter(community__in=[c.pk for c in communities])
    }
    return {c.pk: rows.get(c.pk) or CommunityAutomation(community=c) for c in communities}


def day_before_at(starts_at: datetime, community: Community, at) -> datetime:
    """The local day before ``starts_at`` (in the community's zone) at the local time ``at``
    (a time that a daylight-saving change skips is placed as the calendar places it)."""
    zone = ZoneInfo(community.time_zone)
    day = starts_at.astimezone(zone).date() - timedelta(days=1)
    return recurrence.place(recurrence.local_start(day, at), zone)


def _plan(entry: CalendarEntry, communities: list[Community], now: datetime) -> dict:
    if entry.cancelled_at is not None or not communities:
        return {}
    slots = entry_slots(entry, now, now + HORIZON)
    settings = settings_for(communities)
    planned: dict[str, Planned] = {}
    for slot in slots:
        for community in communities:
            options = settings[community.pk]
            times = []
            if options.announce_day_before:
                times.append(
                    (
                        DAY_BEFORE,
                        day_before_at(slot.starts_at, community, options.announce_day_before_at),
                    )
                )
            if options.announce_minutes_before is not None:
                minutes = timedelta(minutes=options.announce_minutes_before)
                times.append((MINUTES_BEFORE, slot.starts_at - minutes))
            for which, due_at in times:
                text = pre_announcement(slot, community=community, now=due_at)
                planned[source_key(slot, community.pk, which)] = Planned(
                    community, slot, due_at, text
                )
    return planned


def _cancel(action: ScheduledAction) -> bool:
    """Cancelled by the sync, its key freed (``~<id>``); only while still scheduled."""
    return bool(
        ScheduledAction.objects.filter(pk=action.pk, status=ActionStatus.SCHEDULED).update(
            status=ActionStatus.CANCELLED, source_key=f"{action.source_key}~{action.pk}"[:200]
        )
    )


def _row(entry: CalendarEntry, key: str, plan: Planned) -> ScheduledAction:
    return ScheduledAction(
        organization_id=entry.organization_id,
        kind=ActionKind.ANNOUNCEMENT,
        title=entry.title,
        text=plan.text,
        due_at=plan.due_at,
        entry=entry,
        source_key=key,
    )


def _create(entry: CalendarEntry, missing: dict[str, Planned]) -> int:
    """Make the missing actions: in a few queries for all of them; one by one when another
    sync made some of them meanwhile (the unique key decides). Returns how many."""
    if not missing:
        return 0
    through = ScheduledAction.communities.through
    try:
        with transaction.atomic():
            rows = ScheduledAction.objects.bulk_create(
                [_row(entry, key, plan) for key, plan in missing.items()]
            )
            through.objects.bulk_create(
                through(
                    scheduledaction_id=row.pk, community_id=missing[row.source_key].community.pk
                )
                for row in rows
            )
        return len(rows)
    except IntegrityError:
        pass
    made = 0
    for key, plan in missing.items():
        try:
            with transaction.atomic():
                action = _row(entry, key, plan)
                action.save()
                action.communities.add(plan.community)
        except IntegrityError:
            continue  # another sync made it first
        made += 1
    return made


def announcements_sync(*, entry: CalendarEntry, now: datetime | None = None) -> dict:
    """Bring ``entry``'s announcements in line with its occurrences and its communities'
    settings. Returns counts: ``created``, ``moved`` (due time or text changed),
    ``cancelled``."""
    now = now or timezone.now()
    counts = {"created": 0, "moved": 0, "cancelled": 0}
    # Only where something can be sent: a group without an enabled outlet gets none (its
    # upcoming ones are withdrawn); the hourly sync plans them once it has one.
    communities = list(
        entry.communities.filter(archived=False)
        .filter(Exists(Outlet.objects.filter(community=OuterRef("pk"), disabled_at__isnull=True)))
        .select_related("organization")
        .order_by("pk")
    )
    planned = _plan(entry, communities, now)
    upcoming = ScheduledAction.objects.filter(
        entry=entry, kind=ActionKind.ANNOUNCEMENT, status=ActionStatus.SCHEDULED
    )
    existing = {
        action.source_key: action
        for action in ScheduledAction.objects.filter(
            Q(pk__in=upcoming.values("pk")) | Q(source_key__in=list(planned)),
            organization_id=entry.organization_id,
        )
    }
    for key, action in existing.items():
        if action.status != ActionStatus.SCHEDULED:
            continue  # dispatched, missed or cancelled by staff: history, left alone
        plan = planned.get(key)
        if plan is None:
            counts["cancelled"] += _cancel(action)
            continue
        if plan.due_at != action.due_at and plan.due_at <= now:
            counts["cancelled"] += _cancel(action)  # moved into the past: no stale send
            continue
        changes = {}
        if plan.due_at != action.due_at:
            changes["due_at"] = plan.due_at
        if plan.text != action.text:
            changes["text"] = plan.text
        if entry.title != action.title:
            changes["title"] = entry.title
        if changes and ScheduledAction.objects.filter(
            pk=action.pk, status=ActionStatus.SCHEDULED
        ).update(**changes):
            counts["moved"] += 1
    missing = {
        key: plan for key, plan in planned.items() if key not in existing and plan.due_at > now
    }
    counts["created"] += _create(entry, missing)
    return counts


def announcements_sync_community(*, community: Community, now: datetime | None = None) -> dict:
    """After a community's announcement settings changed: its entries in line (and those
    it still has upcoming announcements of)."""
    ids = set(
        CalendarEntry.objects.filter(communities=community, cancelled_at__isnull=True).values_list(
            "pk", flat=True
        )
    ) | set(_upcoming().filter(communities=community).values_list("entry_id", flat=True))
    totals = {"created": 0, "moved": 0, "cancelled": 0}
    for entry in CalendarEntry.objects.filter(pk__in=ids).order_by("pk"):
        for name, value in announcements_sync(entry=entry, now=now).items():
            totals[name] += value
    return totals


def _upcoming():
    return ScheduledAction.objects.filter(
        kind=ActionKind.ANNOUNCEMENT, status=ActionStatus.SCHEDULED, entry__isnull=False
    )


def announcements_sync_all(*, now: datetime | None = None) -> int:
    """The hourly catch-up: every entry that may have an occurrence within the horizon (or
    still has upcoming announcements) in line. Returns how many actions were made."""
    now = now or timezone.now()
    recent = (now - timedelta(days=62)).date()  # a one-off lasts at most 60 days
    entries = (
        CalendarEntry.objects.filter(
            communities__archived=False,
            cancelled_at__isnull=True,
            start_date__lte=(now + HORIZON + timedelta(days=1)).date(),
        )
        .filter(~Q(rrule="") | Q(start_date__gte=recent))
        .values_list("pk", flat=True)
    )
    ids = set(entries) | set(_upcoming().values_list("entry_id", flat=True))
    made = 0
    for entry in CalendarEntry.objects.filter(pk__in=ids).order_by("pk"):
        made += announcements_sync(entry=entry, now=now)["created"]
    return made
