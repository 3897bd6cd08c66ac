"""The planner: broadcasts' occurrences become ``ScheduledAction`` rows a little ahead.

Beat runs ``plan_broadcasts`` every minute (config/beat.py) and the broadcast services run
it after each create or edit. For each active broadcast, its occurrences are expanded in
*local wall-clock time* (dateutil, from the naive first day + local time; once when there
is no rule) and placed in each of its communities' zones (``recurrence.place``: 09:00 is
09:00 in Berlin and in Shanghai, and a nonexistent or doubled local time is placed once,
fold=0). One action per (occurrence, zone), for the broadcast's communities in that zone.

Every action carries ``source_key`` = ``broadcast:<id>:<local %Y%m%dT%H%M>:<zone>``, unique
per organisation (a database constraint): two beats, repeated runs or a planner racing an
edit make each action once. Rows and their communities are written in one transaction with
``bulk_create(ignore_conflicts=True)`` (ON CONFLICT DO NOTHING on PostgreSQL, INSERT OR
IGNORE on SQLite), so the dispatcher never sees an action without its communities.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from activities.calendar import recurrence
from automations.models import ActionKind, Broadcast, ScheduledAction

HORIZON = timedelta(hours=36)


def source_key(broadcast_id: int, local: datetime, zone: str) -> str:
    return f"broadcast:{broadcast_id}:{local:%Y%m%dT%H%M}:{zone}"


def local_occurrences(
    broadcast: Broadcast, zone: ZoneInfo, lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime]]:
    """(naive local time, aware UTC instant) of each occurrence placed in ``zone`` with its
    instant in [lo, hi] (aware). Pure: no queries."""
    first = recurrence.local_start(broadcast.start_date, broadcast.at_time)
    if broadcast.rrule:
        # The local window widened by a day each side (zone offsets), then cut in UTC.
        local_lo = recurrence.to_local(lo, zone) - timedelta(days=1)
        local_hi = recurrence.to_local(hi, zone) + timedelta(days=1)
        if local_hi <= first:
            return []
        starts = recurrence.local_starts(broadcast.rrule, first, max(local_lo, first), local_hi)
    else:
        starts = [first]
    found = []
    for local in starts:
        instant = recurrence.place(local, zone)
        if lo <= instant <= hi:
            found.append((local, instant))
    return found


def next_sends(broadcast: Broadcast, zone: str, *, after: datetime, count: int = 3) -> list:
    """The next ``count`` send instants (aware UTC) in ``zone`` from ``after`` on."""
    tz = ZoneInfo(zone)
    first = recurrence.local_start(broadcast.start_date, broadcast.at_time)
    if not broadcast.rrule:
        instant = recurrence.place(first, tz)
        return [instant] if instant >= after else []
    try:
        locals_ = recurrence.next_local_starts(
            broadcast.rrule, first, max(first, recurrence.to_local(after, tz)), count + 1
        )
    except (ValueError, TypeError):
        return []
    return [w for w in (recurrence.place(local, tz) for local in locals_) if w >= after][:count]


def plan_broadcasts(
    *,
    now: datetime | None = None,
    horizon: timedelta = HORIZON,
    broadcast_ids: Iterable[int] | None = None,
) -> int:
    """Make the actions of every active broadcast's occurrences within
    [now − grace, now + horizon] that do not exist yet; returns how many were made.

    Occurrences before a broadcast's last edit (or resume) are left alone: they were the
    old version's, and are never sent late as the new one."""
    now = now or timezone.now()
    lo = now - timedelta(minutes=settings.ACTIONS_GRACE_MINUTES)
    hi = now + horizon
    broadcasts = Broadcast.objects.filter(paused_at__isnull=True).prefetch_related("communities")
    if broadcast_ids is not None:
        broadcasts = broadcasts.filter(pk__in=list(broadcast_ids))
    wanted: dict[tuple[int, str], tuple[ScheduledAction, list[int]]] = {}
    for broadcast in broadcasts:
        by_zone: dict[str, list[int]] = defaultdict(list)
        for community in broadcast.communities.all():
            if not community.archived:
                by_zone[community.time_zone].append(community.pk)
        since = max(lo, broadcast.updated_at)
        for zone, community_ids in sorted(by_zone.items()):
            for local, instant in local_occurrences(broadcast, ZoneInfo(zone), since, hi):
                key = source_key(broadcast.pk, local, zone)
                action = ScheduledAction(
                    organization_id=broadcast.organization_id,
                    kind=ActionKind.BROADCAST,
                    title=broadcast.name,
                    text=broadcast.text,
                    markdown=broadcast.markdown,
                    due_at=instant,
                    broadcast=broadcast,
                    created_by_id=broadcast.created_by_id,
                    created_at=now,
                    source_key=key,
                )
                wanted[(broadcast.organization_id, key)] = (action, community_ids)
    if not wanted:
        return 0
    return _write(wanted)


def _write(wanted: dict[tuple[int, str], tuple[ScheduledAction, list[int]]]) -> int:
    keys = {key for _org, key in wanted}
    with transaction.atomic():
        existing = set(
            ScheduledAction.objects.filter(source_key__in=keys).values_list(
                "organization_id", "source_key"
            )
        )
        missing = {ident: value for ident, value in wanted.items() if ident not in existing}
        if not missing:
            return 0
        ScheduledAction.objects.bulk_create(
            [action for action, _ids in missing.values()], ignore_conflicts=True
        )
        # The rows now there for the keys that were missing: this run's, or a concurrent
        # planner's (same communities: adding them again is ignored).
        made = list(
            ScheduledAction.objects.filter(
                source_key__in={key for _org, key in missing}, communities__isnull=True
            ).values_list("pk", "organization_id", "source_key")
        )
        Through = ScheduledAction.communities.through
        links = [
            Through(scheduledaction_id=pk, community_id=community_id)
            for pk, organization_id, key in made
            if (organization_id, key) in missing
            for community_id in missing[(organization_id, key)][1]
        ]
        Through.objects.bulk_create(links, ignore_conflicts=True)
    return len(made)
