"""Reads of the team view: SOP completion per community, moderator, template and day (all
through ``completion``, the one computation), the overdue list and who a run may go to.

A constant number of queries whatever the number of communities, runs and items: four
grouped completion queries, one each for the names of the moderators and the templates,
two for the overdue runs and their items, two for the reassign choices.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Exists, Min, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from checklists.models import ChecklistRun, RunItem, SopTemplate
from checklists.selectors.completion import Completion, completion
from communities.models import Community, Role, Staff

# Open runs whose day closed at most this long ago still show their overdue items.
OVERDUE_LOOKBACK = timedelta(days=7)
# The overdue list shows the runs with the oldest overdue items first, at most this many.
OVERDUE_SHOWN = 100
# Who may be given a run: those who work checklists in the community.
ASSIGNABLE_ROLES = (Role.OWNER, Role.OPERATOR, Role.MODERATOR)


@dataclass(frozen=True)
class CompletionRow:
    """One line of a table: a community, a moderator (None: unassigned) or a template."""

    key: int | None
    name: str
    figures: Completion

    @property
    def due(self) -> int:
        return self.figures.due

    @property
    def on_time(self) -> int:
        return self.figures.on_time

    @property
    def late(self) -> int:
        return self.figures.done - self.figures.on_time

    @property
    def not_done(self) -> int:
        return self.figures.due - self.figures.done

    @property
    def percent(self) -> int | None:
        return self.figures.percent

    @property
    def rate(self) -> float | None:
        return self.figures.rate


@dataclass(frozen=True)
class DayPoint:
    day: date
    figures: Completion


@dataclass
class TeamReport:
    start: date
    end: date
    total: Completion
    communities: list[CompletionRow]
    moderators: list[CompletionRow]
    templates: list[CompletionRow]
    days: list[DayPoint] = field(default_factory=list)


def _total(figures: dict) -> Completion:
    return Completion(
        due=sum(value.due for value in figures.values()),
        on_time=sum(value.on_time for value in figures.values()),
        done=sum(value.done for value in figures.values()),
    )


def _sorted(rows: list[CompletionRow]) -> list[CompletionRow]:
    """The lowest rate first (who needs help), then by name; rows without a key last."""
    return sorted(
        rows,
        key=lambda row: (row.key is None, row.rate if row.rate is not None else 2, row.name),
    )


def team_report(
    *,
    organization_id: int,
    communities: list[Community],
    start: date,
    end: date,
    community: Community | None = None,
    phase: str | None = None,
    now: datetime | None = None,
) -> TeamReport:
    """Completion over the local days ``start``..``end`` of the organisation's runs (or of
    ``community``'s, or of one ``phase``): per community, per assignee (the key None is
    the unassigned runs), per template (None: a deleted template) and per day.

    ``communities`` are the organisation's, already loaded (for their names)."""
    now = now or timezone.now()
    scope = {
        "start": start,
        "end": end,
        "organization_id": organization_id,
        "community_ids": None if community is None else [community.pk],
        "phase": phase or None,
        "now": now,
    }
    by_community = completion(by="community", **scope)
    by_assignee = completion(by="assignee", **scope)
    by_template = completion(by="template", **scope)
    by_day = completion(by="day", **scope)

    names = {item.pk: item.name for item in communities}
    staff_ids = [key for key in by_assignee if key is not None]
    staff_names = {
        staff.pk: staff.user.get_username()
        for staff in Staff.objects.filter(pk__in=staff_ids).select_related("user")
    }
    template_ids = [key for key in by_template if key is not None]
    template_names = dict(SopTemplate.objects.filter(pk__in=template_ids).values_list("pk", "name"))
    community_rows = [
        CompletionRow(key, names.get(key, ""), figures) for key, figures in by_community.items()
    ]
    moderator_rows = [
        CompletionRow(
            key, staff_names.get(key, "") if key is not None else _("Unassigned"), figures
        )
        for key, figures in by_assignee.items()
    ]
    template_rows = [
        CompletionRow(
            key,
            template_names.get(key, "") if key is not None else _("Deleted template"),
            figures,
        )
        for key, figures in by_template.items()
    ]
    days = []
    day = start
    while day <= end and day <= now.date() + timedelta(days=1):
        days.append(DayPoint(day, by_day.get(day, Completion())))
        day += timedelta(days=1)
    return TeamReport(
        start=start,
        end=end,
        total=_total(by_community),
        communities=_sorted(community_rows),
        moderators=_sorted(moderator_rows),
        templates=_sorted(template_rows),
        days=days,
    )


# --- The overdue list ------------------------------------------------------------------------


def _overdue_items(now: datetime):
    return RunItem.objects.filter(done_at__isnull=True, due_at__lte=now)


def overdue_runs(
    *,
    organization_id: int,
    community: Community | None = None,
    phase: str | None = None,
    run_ids: list[int] | None = None,
    now: datetime | None = None,
) -> list[ChecklistRun]:
    """Open runs with items past due and not done: not cancelled, and closing in the future
    or within the last ``OVERDUE_LOOKBACK``; the oldest overdue item first. Each run's
    ``overdue_items`` are those items, in order."""
    now = now or timezone.now()
    overdue = _overdue_items(now)
    runs = ChecklistRun.objects.filter(
        Exists(overdue.filter(run_id=OuterRef("pk"))),
        organization_id=organization_id,
        cancelled_at__isnull=True,
        closes_at__gte=now - OVERDUE_LOOKBACK,
    )
    if community is not None:
        runs = runs.filter(community=community)
    if phase:
        runs = runs.filter(phase=phase)
    if run_ids is not None:
        runs = runs.filter(pk__in=run_ids)
    return list(
        runs.annotate(first_due=Min("items__due_at", filter=Q(items__done_at__isnull=True)))
        .select_related("community", "assignee__user")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=overdue.order_by("due_at", "position", "pk"),
                to_attr="overdue_items",
            )
        )
        .order_by("first_due", "pk")[:OVERDUE_SHOWN]
    )


def assignable_staff(*, organization_id: int, community_ids: list[int]) -> dict[int, list[Staff]]:
    """Per community: the active staff a run there may be given (its assigned moderators,
    the operators and the owners), by username; two queries for any number of communities."""
    if not community_ids:
        return {}
    staff = list(
        Staff.objects.filter(
            organization_id=organization_id,
            role__in=ASSIGNABLE_ROLES,
            deactivated_at__isnull=True,
        )
        .select_related("user")
        .order_by("user__username", "pk")
    )
    assigned = defaultdict(set)
    pairs = Staff.communities.through.objects.filter(
        community_id__in=community_ids, staff__organization_id=organization_id
    ).values_list("community_id", "staff_id")
    for community_id, staff_id in pairs:
        assigned[community_id].add(staff_id)
    return {
        community_id: [
            person
            for person in staff
            if person.role != Role.MODERATOR or person.pk in assigned[community_id]
        ]
        for community_id in community_ids
    }
