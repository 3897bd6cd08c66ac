"""The Actions pages' reads: the actions a staff member may see, in tabs by what became of
them, and one action with its deliveries and their attempts.

A staff member sees their organisation's actions; one who sees only some communities (a
moderator) sees only the actions that touch those, and only those communities' deliveries.
Each action's deliveries are counted by state in the list's own query (one aggregate, no
query per row), and the tabs are filters on those counts:

- *Upcoming*: scheduled; *Missed*: its time passed while nothing ran; *Cancelled*.
- *Sending*: dispatched, with a delivery waiting or being sent.
- *Sent*: dispatched, every delivery finished, none failed, rejected or unknown (a
  skipped one is fine: it was not sent on purpose).
- *Failed*: any delivery failed or rejected; *Unknown*: any delivery whose outcome is
  unknown. One action can be in both (and still sending): each tab shows what needs a look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from automations.models import (
    ActionStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    ScheduledAction,
)
from communities.models import Community, Organization, Staff
from communities.permissions import ASSIGNED_ONLY_ROLES, communities_for

PAGE_SIZE = 50
# An upcoming action this close to its time makes the page watch for it.
SOON = timedelta(minutes=1)

IN_FLIGHT_STATES = (DeliveryState.PENDING, DeliveryState.SENDING)
PROBLEM_STATES = (DeliveryState.FAILED, DeliveryState.REJECTED, DeliveryState.UNKNOWN)
# The annotation of each state's count: ``n_sent``, ``n_unknown`` …
COUNT_NAMES = {state.value: f"n_{state.value}" for state in DeliveryState}

# An action's status in the pages' words (the model's "Missed" is a check-in's elsewhere).
STATUS_LABELS = {
    ActionStatus.SCHEDULED: pgettext_lazy("action status", "Upcoming"),
    ActionStatus.DISPATCHED: pgettext_lazy("action status", "Dispatched"),
    ActionStatus.MISSED: pgettext_lazy("action status", "Missed"),
    ActionStatus.CANCELLED: pgettext_lazy("action status", "Cancelled"),
}

TABS = ("all", "upcoming", "sending", "sent", "failed", "unknown", "missed", "cancelled")


def _tab_filters() -> dict[str, Q]:
    dispatched = Q(status=ActionStatus.DISPATCHED)
    return {
        "all": Q(),
        "upcoming": Q(status=ActionStatus.SCHEDULED),
        "sending": dispatched & Q(n_in_flight__gt=0),
        "sent": dispatched & Q(n_in_flight=0, n_problems=0),
        "failed": dispatched & (Q(n_failed__gt=0) | Q(n_rejected__gt=0)),
        "unknown": dispatched & Q(n_unknown__gt=0),
        "missed": Q(status=ActionStatus.MISSED),
        "cancelled": Q(status=ActionStatus.CANCELLED),
    }


@dataclass
class ActionFilters:
    tab: str = "all"
    community: Community | None = None
    kind: str = ""
    due_from: date | None = None
    due_to: date | None = None
    search: str = ""


def restricted(staff: Staff) -> bool:
    """Whether the staff member sees only some of the organisation's communities."""
    return staff.role in ASSIGNED_ONLY_ROLES


def visible_actions(staff: Staff) -> QuerySet[ScheduledAction]:
    """Every action the staff member may see (the base of every lookup and list)."""
    queryset = ScheduledAction.objects.filter(organization_id=staff.organization_id)
    if restricted(staff):
        touching = ScheduledAction.communities.through.objects.filter(
            community__in=communities_for(staff)
        ).values("scheduledaction_id")
        queryset = queryset.filter(pk__in=touching)
    return queryset


def _delivery_scope(staff: Staff) -> Q:
    """The deliveries counted: all of an action's, or only the visible communities'."""
    if restricted(staff):
        return Q(deliveries__community__in=communities_for(staff))
    return Q()


def _with_counts(queryset: QuerySet[ScheduledAction], staff: Staff) -> QuerySet:
    scope = _delivery_scope(staff)
    counts = {
        name: Count("deliveries", filter=scope & Q(deliveries__state=state))
        for state, name in COUNT_NAMES.items()
    }
    through = ScheduledAction.communities.through.objects.filter(scheduledaction_id=OuterRef("pk"))
    if restricted(staff):
        through = through.filter(community__in=communities_for(staff))
    communities = through.order_by().values("scheduledaction_id").annotate(n=Count("pk"))
    return queryset.annotate(
        **counts,
        n_deliveries=Count("deliveries", filter=scope),
        n_in_flight=Count("deliveries", filter=scope & Q(deliveries__state__in=IN_FLIGHT_STATES)),
        n_problems=Count("deliveries", filter=scope & Q(deliveries__state__in=PROBLEM_STATES)),
        n_communities=Coalesce(
            Subquery(communities.values("n")[:1], output_field=IntegerField()), Value(0)
        ),
    )


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _filtered(staff: Staff, filters: ActionFilters) -> QuerySet[ScheduledAction]:
    queryset = visible_actions(staff)
    if filters.community is not None:
        queryset = queryset.filter(
            pk__in=ScheduledAction.communities.through.objects.filter(
                community=filters.community
            ).values("scheduledaction_id")
        )
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    zone = ZoneInfo(staff.organization.time_zone)
    if filters.due_from:
        queryset = queryset.filter(due_at__gte=_day_start(filters.due_from, zone))
    if filters.due_to:
        queryset = queryset.filter(due_at__lt=_day_start(filters.due_to + timedelta(days=1), zone))
    if filters.search:
        queryset = queryset.filter(
            Q(title__icontains=filters.search) | Q(text__icontains=filters.search)
        )
    return queryset


def action_list(*, staff: Staff, filters: ActionFilters) -> QuerySet[ScheduledAction]:
    """The tab's actions, newest due first (upcoming: soonest first; all: what happened,
    then what is coming), each with
    ``n_<state>`` counts, ``n_in_flight``, ``n_problems``, ``n_communities`` and its
    visible communities prefetched (``shown_communities``), ready to paginate."""
    queryset = _with_counts(_filtered(staff, filters), staff).filter(_tab_filters()[filters.tab])
    if filters.tab == "upcoming":
        ordering = (F("due_at").asc(), F("pk").asc())
    elif filters.tab == "all":
        # What happened first, newest first; then what is coming, soonest first (a month of
        # planned announcements would otherwise fill the first pages).
        upcoming = Q(status=ActionStatus.SCHEDULED)
        ordering = (
            Case(When(upcoming, then=Value(1)), default=Value(0)).asc(),
            Case(When(upcoming, then=F("due_at"))).asc(nulls_first=True),
            F("due_at").desc(),
            F("pk").desc(),
        )
    else:
        ordering = (F("due_at").desc(), F("pk").desc())
    return queryset.order_by(*ordering).prefetch_related(
        Prefetch(
            "communities",
            queryset=communities_for(staff).order_by("name", "pk"),
            to_attr="shown_communities",
        )
    )


def tab_counts(*, staff: Staff, filters: ActionFilters) -> dict[str, int]:
    """How many actions each tab holds under the same filters, in one query."""
    queryset = _with_counts(_filtered(staff, filters), staff)
    return queryset.aggregate(
        **{tab: Count("pk", filter=condition) for tab, condition in _tab_filters().items()}
    )


def in_flight(actions, *, now: datetime | None = None) -> bool:
    """Whether any of these (counted) actions is being sent or is due within a minute:
    the page then asks again every few seconds."""
    horizon = (now or timezone.now()) + SOON
    return any(
        action.n_in_flight or (action.status == ActionStatus.SCHEDULED and action.due_at <= horizon)
        for action in actions
    )


def state_summary(action: ScheduledAction) -> list[tuple[str, str, int]]:
    """``(state, label, count)`` of a counted action's deliveries, in the machine's order,
    the states it has none of left out."""
    return [
        (state, DeliveryState(state).label, getattr(action, name))
        for state, name in COUNT_NAMES.items()
        if getattr(action, name, 0)
    ]


# A claimed action can be cancelled until this long before its time (a task may claim a
# delivery half a second early: services/deliver.py's EARLY_TOLERANCE).
CANCEL_MARGIN = timedelta(seconds=1)


def can_cancel(action: ScheduledAction, *, now: datetime | None = None) -> bool:
    """Upcoming, or claimed by the dispatcher ahead of its time and not yet due (a
    moment's margin for the workers' clocks)."""
    if action.status == ActionStatus.SCHEDULED:
        return True
    margin = (now or timezone.now()) + CANCEL_MARGIN
    return action.status == ActionStatus.DISPATCHED and action.due_at > margin


@dataclass(frozen=True)
class ActionRow:
    action: ScheduledAction
    zone: str  # the time zone its due time is shown in
    summary: list[tuple[str, str, int]]  # (delivery state, its label, count)
    communities: list[Community]  # the visible ones, by name

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.action.status]


def zone_of(communities: list[Community], *, organization: Organization) -> str:
    """An action to one community is shown in that community's time; others in the
    organisation's (its communities' are listed on its page)."""
    return communities[0].time_zone if len(communities) == 1 else organization.time_zone


def action_rows(actions, *, organization: Organization) -> list[ActionRow]:
    return [
        ActionRow(
            action=action,
            zone=zone_of(action.shown_communities, organization=organization),
            summary=state_summary(action),
            communities=action.shown_communities,
        )
        for action in actions
    ]


@dataclass
class ActionPage:
    action: ScheduledAction
    communities: list[Community]  # the visible ones it goes to, by name
    zone: str
    deliveries: list[Delivery] = field(default_factory=list)
    occurrence_key: str = ""  # the calendar occurrence an announcement is about

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.action.status]

    @property
    def can_cancel(self) -> bool:
        return can_cancel(self.action)

    @property
    def in_flight(self) -> bool:
        if any(d.state in IN_FLIGHT_STATES for d in self.deliveries):
            return True
        return (
            self.action.status == ActionStatus.SCHEDULED
            and self.action.due_at <= timezone.now() + SOON
        )


def get_action_or_404_queryset(staff: Staff) -> QuerySet[ScheduledAction]:
    return visible_actions(staff).select_related(
        "organization", "created_by", "broadcast", "entry", "rule"
    )


def visible_deliveries(staff: Staff) -> QuerySet[Delivery]:
    return Delivery.objects.filter(
        action__organization_id=staff.organization_id, community__in=communities_for(staff)
    )


def _occurrence_key(action: ScheduledAction) -> str:
    # "announce:88-20261201T120000Z:day-before" → "88-20261201T120000Z"
    if action.entry_id is None or not action.source_key.startswith("announce:"):
        return ""
    parts = action.source_key.split(":")
    return parts[1] if len(parts) >= 2 and parts[1].startswith(f"{action.entry_id}-") else ""


def delivery_rows(*, staff: Staff, action: ScheduledAction) -> list[Delivery]:
    """The action's deliveries the staff member may see, by community, each with its
    outlet, community and attempt log (``attempt_log.all``) loaded: two queries."""
    return list(
        visible_deliveries(staff)
        .filter(action=action)
        .select_related("community", "outlet", "resolved_by")
        .prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("at", "pk"))
        )
        .order_by("community__name", "pk")
    )


def action_page(*, staff: Staff, action: ScheduledAction) -> ActionPage:
    """The action, its visible communities and deliveries with their attempts: four
    queries whatever their number."""
    communities = list(
        communities_for(staff).filter(scheduled_actions=action).order_by("name", "pk")
    )
    return ActionPage(
        action=action,
        communities=communities,
        zone=zone_of(communities, organization=staff.organization),
        deliveries=delivery_rows(staff=staff, action=action),
        occurrence_key=_occurrence_key(action),
    )


def delivery_row(*, staff: Staff, delivery: Delivery) -> Delivery:
    """One delivery reloaded as the action page shows it (after a button)."""
    return (
        visible_deliveries(staff)
        .select_related("community", "outlet", "resolved_by", "action")
        .prefetch_related(
            Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("at", "pk"))
        )
        .get(pk=delivery.pk)
    )
