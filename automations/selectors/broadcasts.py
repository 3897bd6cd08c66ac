"""Reads of the broadcasts pages: which broadcasts a staff member sees, the list's rows in a
fixed number of queries, and the preview per community (filled text, outlet, length
against its platform's limit, next sends in its zone)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from activities.calendar import recurrence
from activities.calendar.selectors import describe_rule
from automations.models import (
    ActionStatus,
    Broadcast,
    Delivery,
    DeliveryState,
    Outlet,
    ScheduledAction,
)
from automations.placeholders import fill
from automations.platforms import get_platform
from automations.platforms.base import Destination, Message
from automations.services.plan import next_sends
from communities.models import Community, Staff
from communities.permissions import ASSIGNED_ONLY_ROLES, communities_for

# Platforms whose limit counts bytes of UTF-8 (the others count characters).
BYTE_COUNTED = frozenset({"wecom", "dingtalk", "feishu", "webhook"})


def visible_broadcasts(staff: Staff) -> QuerySet[Broadcast]:
    """The organisation's broadcasts; for a moderator, only those to groups all theirs."""
    queryset = Broadcast.objects.filter(organization_id=staff.organization_id)
    if staff.role in ASSIGNED_ONLY_ROLES:
        hidden = Community.objects.filter(organization_id=staff.organization_id).exclude(
            pk__in=communities_for(staff).values("pk")
        )
        queryset = queryset.exclude(communities__in=hidden)
    return queryset


def get_broadcast_or_404(staff: Staff, broadcast_id: int) -> Broadcast:
    return get_object_or_404(
        visible_broadcasts(staff).select_related("organization"), pk=broadcast_id
    )


@dataclass
class BroadcastRow:
    broadcast: Broadcast
    communities: list[Community]
    schedule: str
    next_send: datetime | None
    last_send: datetime | None
    last_states: dict[str, int] = field(default_factory=dict)

    @property
    def paused(self) -> bool:
        return self.broadcast.paused_at is not None


def schedule_words(broadcast: Broadcast, *, now: datetime, zone: str | None = None) -> str:
    start = recurrence.local_start(broadcast.start_date, broadcast.at_time)
    after = recurrence.to_local(now, ZoneInfo(zone)) if zone else None
    return describe_rule(broadcast.rrule, start, after=after)


def next_send(broadcast: Broadcast, communities, *, now: datetime) -> datetime | None:
    zones = {c.time_zone for c in communities}
    found = [w for zone in zones for w in next_sends(broadcast, zone, after=now, count=1)]
    return min(found) if found else None


def broadcast_rows(staff: Staff, *, now: datetime | None = None) -> list[BroadcastRow]:
    """The list page's rows: 3 queries whatever the number of broadcasts."""
    now = now or timezone.now()
    last_action = ScheduledAction.objects.filter(
        broadcast=OuterRef("pk"), status=ActionStatus.DISPATCHED
    ).order_by("-due_at", "-pk")
    broadcasts = list(
        visible_broadcasts(staff)
        .annotate(
            last_action_id=Subquery(last_action.values("pk")[:1]),
            last_action_at=Subquery(last_action.values("due_at")[:1]),
        )
        .prefetch_related(
            Prefetch(
                "communities",
                queryset=Community.objects.order_by("name"),
                to_attr="chosen",
            )
        )
        .order_by("paused_at", "name", "pk")
    )
    states: dict[int, dict[str, int]] = {}
    last_ids = [b.last_action_id for b in broadcasts if b.last_action_id]
    if last_ids:
        for action_id, state, count in (
            Delivery.objects.filter(action_id__in=last_ids)
            .values_list("action_id", "state")
            .annotate(count=Count("pk"))
            .order_by()
        ):
            states.setdefault(action_id, {})[state] = count
    rows = []
    for broadcast in broadcasts:
        zone = broadcast.chosen[0].time_zone if broadcast.chosen else None
        rows.append(
            BroadcastRow(
                broadcast=broadcast,
                communities=broadcast.chosen,
                schedule=schedule_words(broadcast, now=now, zone=zone),
                next_send=None
                if broadcast.paused_at
                else next_send(broadcast, broadcast.chosen, now=now),
                last_send=broadcast.last_action_at,
                last_states=states.get(broadcast.last_action_id, {}),
            )
        )
    return rows


STATE_ORDER = [
    DeliveryState.SENT,
    DeliveryState.SKIPPED,
    DeliveryState.PENDING,
    DeliveryState.SENDING,
    DeliveryState.UNKNOWN,
    DeliveryState.REJECTED,
    DeliveryState.FAILED,
]


def state_summary(states: dict[str, int]) -> list[tuple[str, str, int]]:
    """(state, label, count) in a fixed order, for the list's last-send column."""
    return [(s.value, s.label, states[s.value]) for s in STATE_ORDER if states.get(s.value)]


@dataclass
class PreviewRow:
    community: Community
    text: str
    platform: str  # "" without an enabled outlet
    platform_label: str
    size: int
    limit: int | None
    unit: str  # "bytes" or "characters"
    problems: list[str]
    next_sends: list[datetime]

    @property
    def size_text(self) -> str:
        return f"{self.size:,}"

    @property
    def limit_text(self) -> str:
        return f"{self.limit:,}" if self.limit is not None else ""

    @property
    def over(self) -> bool:
        return self.limit is not None and self.size > self.limit


def preview_rows(
    *,
    communities: list[Community],
    text: str,
    markdown: bool,
    broadcast: Broadcast,
    now: datetime | None = None,
) -> list[PreviewRow]:
    """For each chosen community: the text filled as it would be at its next send, the
    outlet the dispatcher would use, the length against that platform's limit (and the
    platform's own complaints), and the next 3 sends in the community's zone.
    ``broadcast`` may be unsaved (the form's values)."""
    now = now or timezone.now()
    outlets: dict[int, Outlet] = {}
    for outlet in Outlet.objects.filter(
        community__in=communities, disabled_at__isnull=True
    ).order_by("pk"):
        outlets.setdefault(outlet.community_id, outlet)
    rows = []
    for community in communities:
        upcoming = next_sends(broadcast, community.time_zone, after=now, count=3)
        filled = fill(text, community=community, at=upcoming[0] if upcoming else now)
        outlet = outlets.get(community.pk)
        if outlet is None:
            rows.append(PreviewRow(community, filled, "", "", len(filled), None, "", [], upcoming))
            continue
        platform = get_platform(outlet.platform)
        limit = getattr(platform, "MAX_MARKDOWN", None) if markdown else None
        limit = limit or platform.MAX_TEXT
        by_bytes = outlet.platform in BYTE_COUNTED
        size = len(filled.encode("utf-8")) if by_bytes else len(filled)
        problems = platform.check(
            Message(text=filled, markdown=markdown),
            Destination(
                url=outlet.url, secret=outlet.secret, token=outlet.token, chat_id=outlet.chat_id
            ),
        )
        rows.append(
            PreviewRow(
                community,
                filled,
                outlet.platform,
                outlet.get_platform_display(),
                size,
                limit,
                "bytes" if by_bytes else "characters",
                problems,
                upcoming,
            )
        )
    return rows
