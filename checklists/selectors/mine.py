"""Reads of My checklists and the run page: runs as cards of items, ready to render.

``my_runs`` costs a constant number of queries however many runs and items it shows: the
runs (with community, entry and assignee joined), their items (with who ticked them), and
``checklists.messages.run_messages`` for the messages to post (at most four more).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from checklists.messages import run_messages
from checklists.models import ChecklistRun, ItemTick, RunItem
from checklists.services.runs import can_correct
from communities.models import Staff
from communities.permissions import (
    ASSIGNED_ONLY_ROLES,
    Capability,
    communities_for,
    has_capability,
)

# How far back the Overdue section of My checklists looks.
OVERDUE_DAYS = 7


@dataclass
class ItemRow:
    item: RunItem
    due_local: datetime  # naive, the community's wall clock (templates print it as is)
    overdue: bool
    message: str = ""
    done_local: datetime | None = None
    errors: list[str] = field(default_factory=list)
    entered: str | None = None  # what was posted with an error, shown back in the field
    # What higher apps add to an item with a message (checklists.item_actions).
    actions: list = field(default_factory=list)

    @property
    def field_value(self) -> str:
        return self.item.value if self.entered is None else self.entered

    @property
    def due_on_other_day(self) -> bool:
        return self.due_local.date() != self.item.run.day


@dataclass
class RunCard:
    run: ChecklistRun
    rows: list[ItemRow]
    editable: bool  # the viewer may tick its items now
    # The Overdue section lists only what is still undone (the rest is one line).
    compact: bool = False

    @property
    def shown_rows(self) -> list[ItemRow]:
        if not self.compact:
            return self.rows
        return [row for row in self.rows if row.item.done_at is None]

    @property
    def done(self) -> int:
        return sum(row.item.done_at is not None for row in self.rows)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def overdue_count(self) -> int:
        return sum(row.overdue for row in self.rows)

    def row(self, item_id: int) -> ItemRow | None:
        return next((row for row in self.rows if row.item.pk == item_id), None)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def may_tick(staff: Staff, run: ChecklistRun, now: datetime) -> bool:
    """Whether ``staff`` may tick ``run``'s items now (the services decide in the end)."""
    if run.cancelled_at is not None or not has_capability(staff, Capability.WORK_CHECKLISTS):
        return False
    return now < run.closes_at or can_correct(staff)


def cards(runs: list[ChecklistRun], *, staff: Staff, now: datetime) -> list[RunCard]:
    """Cards for runs whose items (``done_by`` selected) are prefetched."""
    texts = run_messages(runs, staff=staff, now=now)
    result = []
    for run in runs:
        zone = ZoneInfo(run.community.time_zone)
        rows = []
        for item in run.items.all():
            item.run = run  # the prefetch's items point back at this run without a query
            rows.append(
                ItemRow(
                    item=item,
                    due_local=_local(item.due_at, zone),
                    overdue=item.done_at is None and item.due_at < now,
                    message=texts.get(item.pk, ""),
                    done_local=_local(item.done_at, zone) if item.done_at else None,
                )
            )
        result.append(RunCard(run=run, rows=rows, editable=may_tick(staff, run, now)))
    return result


def _items(with_ticks: bool = False) -> Prefetch:
    items = RunItem.objects.select_related("done_by").order_by("position", "pk")
    if with_ticks:
        items = items.prefetch_related(
            Prefetch("ticks", queryset=ItemTick.objects.select_related("by").order_by("at", "pk"))
        )
    return Prefetch("items", queryset=items)


def _runs():
    return ChecklistRun.objects.select_related("community", "entry", "assignee__user")


def _mine(staff: Staff):
    """Runs that are the staff member's to work: assigned to them, and for a moderator the
    unassigned runs of their communities (always within the communities they may see)."""
    runs = _runs().filter(
        organization_id=staff.organization_id,
        community__in=communities_for(staff),
        cancelled_at__isnull=True,
    )
    mine = Q(assignee=staff)
    if staff.role in ASSIGNED_ONLY_ROLES:
        mine |= Q(assignee__isnull=True)
    return runs.filter(mine)


@dataclass
class MyRuns:
    today: list[RunCard]
    overdue: list[RunCard]


def my_runs(*, staff: Staff, now: datetime | None = None) -> MyRuns:
    """The runs open now (``opens_at <= now < closes_at``) and, apart, the runs closed in
    the last ``OVERDUE_DAYS`` days that still have undone items past due."""
    now = now or timezone.now()
    late_items = RunItem.objects.filter(run=OuterRef("pk"), done_at__isnull=True, due_at__lt=now)
    runs = list(
        _mine(staff)
        .alias(has_late=Exists(late_items))
        .filter(
            Q(opens_at__lte=now, closes_at__gt=now)
            | Q(
                closes_at__lte=now,
                closes_at__gt=now - timedelta(days=OVERDUE_DAYS),
                has_late=True,
            )
        )
        .prefetch_related(_items())
        .order_by("closes_at", "community__name", "pk")
    )
    all_cards = cards(runs, staff=staff, now=now)
    return MyRuns(
        today=[card for card in all_cards if card.run.closes_at > now],
        overdue=sorted(
            (replace(card, compact=True) for card in all_cards if card.run.closes_at <= now),
            key=lambda card: (-card.run.closes_at.timestamp(), card.run.pk),
        ),
    )


def run_card(
    *, staff: Staff, run_id: int, now: datetime | None = None, with_ticks: bool = False
) -> RunCard:
    """One run (already resolved within what the staff may see) as a card."""
    now = now or timezone.now()
    run = _runs().prefetch_related(_items(with_ticks)).get(pk=run_id)
    return cards([run], staff=staff, now=now)[0]
