"""SOP completion: items done on time ÷ items due (docs/metrics.md).

An item counts on its run's local day (``ChecklistRun.day``, in the community's time zone),
once its due time has passed or it was ticked (an item ticked ahead of time is settled, so
the figure moves when a moderator ticks); it is on time when it was ticked at or before its
due time.
Items of cancelled runs never count. One grouped query per call, whatever the number of
communities, runs and items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Q
from django.utils import timezone

from checklists.models import RunItem

# The window of the indicator: the last 30 days, and the alert's 7.
WINDOW_DAYS = 30
ALERT_WINDOW_DAYS = 7


@dataclass(frozen=True)
class Completion:
    due: int = 0
    on_time: int = 0
    done: int = 0  # ticked at all, late or not

    @property
    def rate(self) -> float | None:
        """On-time share, 0..1; None when nothing fell due (no figure, not 0 %)."""
        return self.on_time / self.due if self.due else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(self.rate * 100)


GROUPS = {
    "community": "run__community_id",
    "assignee": "run__assignee_id",
    "template": "run__template_id",
    "day": "run__day",
}


def completion(
    *,
    start: date,
    end: date,
    by: str = "community",
    community_ids: Iterable[int] | None = None,
    organization_id: int | None = None,
    phase: str | None = None,
    now: datetime | None = None,
) -> dict:
    """Completion per ``by`` (community, assignee, template or day) for runs of the local
    days ``start``..``end`` inclusive: ``{key: Completion}`` (keys with nothing due left out)."""
    now = now or timezone.now()
    items = RunItem.objects.filter(
        Q(due_at__lte=now) | Q(done_at__isnull=False),
        run__day__gte=start,
        run__day__lte=end,
        run__cancelled_at__isnull=True,
    )
    if community_ids is not None:
        items = items.filter(run__community_id__in=list(community_ids))
    if organization_id is not None:
        items = items.filter(run__organization_id=organization_id)
    if phase is not None:
        items = items.filter(run__phase=phase)
    rows = (
        items.values(GROUPS[by])
        .annotate(
            due=Count("pk"),
            on_time=Count("pk", filter=Q(done_at__lte=F("due_at"))),
            done=Count("pk", filter=Q(done_at__isnull=False)),
        )
        .order_by()
    )
    return {
        row[GROUPS[by]]: Completion(due=row["due"], on_time=row["on_time"], done=row["done"])
        for row in rows
    }


def completion_last_days(
    *, community_ids: Iterable[int], end: date, days: int = WINDOW_DAYS, phase: str | None = None
) -> dict[int, Completion]:
    """Per community: the ``days`` local days ending on ``end`` (the indicator's window)."""
    return completion(
        start=end - timedelta(days=days - 1),
        end=end,
        community_ids=community_ids,
        phase=phase,
    )
