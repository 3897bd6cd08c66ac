"""The dispatcher: beat's tick every few seconds (docs/architecture.md, "Act").

The database decides what is due; Celery only carries it. ``dispatch_due`` claims due
actions with an atomic status transition (``scheduled`` → ``dispatched``, one UPDATE that
only one caller can win, on every database; on PostgreSQL the due rows are also read with
``select_for_update(skip_locked=True)`` so two dispatchers do not even wait for each other),
writes one ``Delivery`` per community before any request, and enqueues one
``automations.deliver`` task per pending delivery after commit.

It also rebuilds the queue from the database: pending deliveries whose next attempt is due,
and deliveries left in ``sending`` by a worker that died, are enqueued again. A short-lived
cache marker per delivery ("a task for it is queued") keeps a tick from enqueueing a
delivery the previous tick already enqueued; a Redis flush forgets the markers, and the next
tick enqueues everything again, which is harmless because ``deliver`` reads the row first.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, Subquery, When
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from activities.models import ACTIVITY_KINDS, ActivityEvent
from automations.models import (
    ActionStatus,
    Delivery,
    DeliveryState,
    Outlet,
    ScheduledAction,
)
from automations.placeholders import fill_many

# Actions claimed per transaction, and how long one tick may keep claiming batches.
BATCH = 200
TICK_BUDGET_SECONDS = 3.0
# Deliveries due within this many seconds are enqueued now, with that countdown (never
# more: long ETAs are redelivered in a loop by a Redis broker).
LOOKAHEAD_SECONDS = 5
# "A task for this delivery is queued" (cleared when the task has run).
MARKER_KEY = "automations:queued:{}"
MARKER_SECONDS = 120
# A delivery in ``sending`` for longer than the task's hard time limit plus this margin was
# left by a worker that died (automations/tasks.py).
DELIVER_TIME_LIMIT = 60
STALE_SENDING = timedelta(seconds=DELIVER_TIME_LIMIT + 30)
REQUEUE_LIMIT = 5000


def _after_due_query() -> None:
    """A seam for the tests that race two dispatchers (a barrier goes here)."""


def _grace() -> timedelta:
    return timedelta(minutes=settings.ACTIONS_GRACE_MINUTES)


def dispatch_due(*, now: datetime | None = None) -> dict:
    """Claim the due actions, write their deliveries, enqueue what is pending. Returns
    counts: ``dispatched``, ``missed``, ``deliveries`` (written), ``enqueued``."""
    now = now or timezone.now()
    counts = {"dispatched": 0, "missed": 0, "deliveries": 0, "enqueued": 0}
    just_written: set[int] = set()
    started = time.monotonic()
    while True:
        batch = _dispatch_batch(now=now, counts=counts, written=just_written)
        if batch < BATCH or time.monotonic() - started > TICK_BUDGET_SECONDS:
            break
    counts["enqueued"] += len(just_written)
    counts["enqueued"] += requeue_due(now=now, exclude=just_written)
    return counts


def _dispatch_batch(*, now: datetime, counts: dict, written: set[int]) -> int:
    with transaction.atomic():
        due = ScheduledAction.objects.filter(
            status=ActionStatus.SCHEDULED, due_at__lte=now
        ).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        actions = list(due[:BATCH])
        _after_due_query()
        pending: list[int] = []
        for action in actions:
            if now - action.due_at > _grace():
                # Its time passed while nothing ran: no burst of stale messages at start-up.
                if _claim(action, ActionStatus.SCHEDULED, ActionStatus.MISSED, now):
                    counts["missed"] += 1
                continue
            if not _claim(action, ActionStatus.SCHEDULED, ActionStatus.DISPATCHED, now):
                continue  # another dispatcher won it
            counts["dispatched"] += 1
            deliveries = _write_deliveries(action, now)
            counts["deliveries"] += len(deliveries)
            pending += [d.pk for d in deliveries if d.state == DeliveryState.PENDING]
        written.update(pending)
        transaction.on_commit(lambda: enqueue_many(pending))
    return len(actions)


def _claim(action: ScheduledAction, from_status: str, to_status: str, now: datetime) -> bool:
    """The one atomic transition that makes a dispatcher the action's only owner."""
    fields = {"status": to_status}
    if to_status == ActionStatus.DISPATCHED:
        fields["dispatched_at"] = now
    return bool(ScheduledAction.objects.filter(pk=action.pk, status=from_status).update(**fields))


def _write_deliveries(action: ScheduledAction, now: datetime) -> list[Delivery]:
    """One delivery per community, through its first enabled outlet, written before any
    request, with the action's text filled for that community (``placeholders.fill``); a
    community without an outlet gets a failed delivery that says so, and a broadcast's
    options may write a skipped one (``_skip_reason``)."""
    communities = (
        action.communities.select_related("organization")
        .prefetch_related(
            Prefetch(
                "outlets",
                queryset=Outlet.objects.filter(disabled_at__isnull=True).order_by("pk"),
                to_attr="enabled_outlets",
            )
        )
        .order_by("pk")
    )
    broadcast = action.broadcast if action.broadcast_id else None
    if broadcast is not None and (broadcast.skip_if_quiet or broadcast.no_repeat):
        communities = _with_history(communities, broadcast)
    communities = list(communities)
    texts = fill_many(action.text, communities=communities, at=action.due_at)
    rows = []
    for community in communities:
        outlet = community.enabled_outlets[0] if community.enabled_outlets else None
        text = texts[community.pk]
        skipped = _skip_reason(broadcast, community, text) if broadcast is not None else ""
        if skipped:
            rows.append(
                Delivery(
                    action=action,
                    community=community,
                    outlet=outlet,
                    state=DeliveryState.SKIPPED,
                    next_attempt_at=now,
                    text=text,
                    detail=skipped[:500],
                )
            )
        elif outlet is None:
            rows.append(
                Delivery(
                    action=action,
                    community=community,
                    state=DeliveryState.FAILED,
                    next_attempt_at=now,
                    text=text,
                    detail=_("This community has no enabled outlet to send through."),
                )
            )
        else:
            rows.append(
                Delivery(
                    action=action,
                    community=community,
                    outlet=outlet,
                    next_attempt_at=now,
                    text=text,
                )
            )
    return Delivery.objects.bulk_create(rows)


def _sent_text() -> Case:
    # A delivery's text is blank when it was the action's own.
    return Case(When(text="", then=F("action__text")), default=F("text"))


def _with_history(communities, broadcast):
    """The communities annotated, in the same query, with what a broadcast's options need:
    when this broadcast was last sent there and whether anything happened since; the last
    text sent there by anything, and when."""
    sent_here = Delivery.objects.filter(
        community=OuterRef("pk"), state=DeliveryState.SENT, sent_at__isnull=False
    )
    last_of_broadcast = sent_here.filter(action__broadcast_id=broadcast.pk).order_by(
        "-sent_at", "-pk"
    )
    last_sent = sent_here.order_by("-sent_at", "-pk")
    communities = communities.annotate(
        last_broadcast_at=Subquery(last_of_broadcast.values("sent_at")[:1]),
        last_text=Subquery(last_sent.annotate(sent_text=_sent_text()).values("sent_text")[:1]),
        last_text_at=Subquery(last_sent.values("sent_at")[:1]),
    )
    if broadcast.skip_if_quiet:
        communities = communities.annotate(
            active_since=Exists(
                ActivityEvent.objects.filter(
                    community=OuterRef("pk"),
                    kind__in=ACTIVITY_KINDS,
                    occurred_at__gt=OuterRef("last_broadcast_at"),
                )
            )
        )
    return communities


def _local_day(community, when: datetime) -> str:
    local = when.astimezone(ZoneInfo(community.time_zone))
    return formats.date_format(local, "DATETIME_FORMAT")


def _skip_reason(broadcast, community, text: str) -> str:
    """Why a broadcast is not sent to ``community`` this time ("" when it is sent)."""
    if not (broadcast.skip_if_quiet or broadcast.no_repeat):
        return ""
    with translation.override(community.organization.language):
        last_at = community.last_broadcast_at
        if broadcast.skip_if_quiet and last_at is not None and not community.active_since:
            return _(
                "No activity since the last broadcast on %(date)s: skipped, not to talk "
                "into an empty room."
            ) % {"date": _local_day(community, last_at)}
        if (
            broadcast.no_repeat
            and community.last_text is not None
            and community.last_text.strip() == text.strip()
        ):
            return _(
                "Same text as the last message sent here on %(date)s: skipped, never the "
                "same text twice in a row."
            ) % {"date": _local_day(community, community.last_text_at)}
    return ""


def requeue_due(*, now: datetime | None = None, exclude: set[int] = frozenset()) -> int:
    """Enqueue again what the database says is due and no queued task holds: pending
    deliveries whose next attempt is (about) now, and ``sending`` ones a dead worker left."""
    now = now or timezone.now()
    horizon = now + timedelta(seconds=LOOKAHEAD_SECONDS)
    rows = (
        Delivery.objects.filter(
            Q(state=DeliveryState.PENDING, next_attempt_at__lte=horizon)
            | Q(state=DeliveryState.SENDING, last_attempt_at__lt=now - STALE_SENDING)
        )
        .exclude(pk__in=exclude)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", "next_attempt_at")[:REQUEUE_LIMIT]
    )
    enqueued = 0
    for pk, next_attempt_at in rows:
        countdown = max(0.0, (next_attempt_at - now).total_seconds())
        if enqueue(pk, countdown=countdown):
            enqueued += 1
    return enqueued


def enqueue(delivery_id: int, *, countdown: float = 0.0) -> bool:
    """One ``automations.deliver`` task, unless one is already queued for this delivery."""
    if not cache.add(MARKER_KEY.format(delivery_id), 1, timeout=MARKER_SECONDS):
        return False
    from automations.tasks import deliver_task

    options = {"countdown": min(countdown, LOOKAHEAD_SECONDS)} if countdown > 0 else {}
    deliver_task.apply_async((delivery_id,), **options)
    return True


def enqueue_many(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        enqueue(delivery_id)


def task_done(delivery_id: int) -> None:
    """The task for this delivery has run: the next tick may enqueue it again."""
    cache.delete(MARKER_KEY.format(delivery_id))


def action_send_now(*, action: ScheduledAction, by) -> ScheduledAction:
    """Staff's "send now" on a missed action: dispatched now, its deliveries written."""
    now = timezone.now()
    with transaction.atomic():
        if action.status != ActionStatus.MISSED or not _claim(
            action, ActionStatus.MISSED, ActionStatus.DISPATCHED, now
        ):
            raise ValidationError(_("Only a missed action can be sent now."))
        deliveries = _write_deliveries(action, now)
        pending = [d.pk for d in deliveries if d.state == DeliveryState.PENDING]
        transaction.on_commit(lambda: enqueue_many(pending))
    action.refresh_from_db()
    return action
