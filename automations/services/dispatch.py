"""The dispatcher: beat's tick every few seconds (docs/architecture.md, "Act").

The database decides what is due; Celery only carries it. ``dispatch_due`` claims due
actions with an atomic status transition (``scheduled`` → ``dispatched``, one UPDATE that
only one caller can win, on every database; on PostgreSQL the due rows are also read with
``select_for_update(skip_locked=True)`` so two dispatchers do not even wait for each other),
writes one ``Delivery`` per community before any request, and enqueues the pending
deliveries after commit, a few to a task (``automations.deliver`` sends them one after
another: a 10,000-group minute is 400 tasks, not 10,000).

Ahead of time: an action is claimed, and its deliveries written, up to
``CLAIM_AHEAD_SECONDS`` before it is due (the heavy part of a 10,000-group 09:00 is done
before 09:00 comes), and its deliveries are enqueued up to ``LOOKAHEAD_SECONDS`` before,
with the countdown to their time, so they leave at the due second whatever the tick's
phase. Until then staff can still cancel it (``actions.action_cancel``).

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
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Prefetch, Q, Subquery, When
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from activities.models import ACTIVITY_KINDS, ActivityEvent
from automations.models import (
    ActionStatus,
    Broadcast,
    Delivery,
    DeliveryState,
    Outlet,
    ScheduledAction,
)
from automations.placeholders import fill_many, used
from automations.platforms import pacing

# Actions claimed per transaction, and how long one tick may keep claiming batches.
BATCH = 200
TICK_BUDGET_SECONDS = 3.0
# Deliveries due within this many seconds are enqueued now, with that countdown (never
# more: long ETAs are redelivered in a loop by a Redis broker). It is beat's tick
# (config/beat.py), so each due second is seen by a tick before it comes.
LOOKAHEAD_SECONDS = 5
# Actions due within this many seconds are claimed and their deliveries written (pending,
# due at the action's time); the ticks enqueue them once they are due within the lookahead.
CLAIM_AHEAD_SECONDS = 30
# Deliveries per task, and how far apart their due times may be: a task sends its
# deliveries one after another, each at its time.
DELIVER_BATCH = 25
DELIVER_BATCH_SPAN = timedelta(seconds=1)
# "A task for this delivery is queued" (cleared when the task has run).
MARKER_KEY = "automations:queued:{}"
MARKER_SECONDS = 120
# A delivery in ``sending`` for longer than the task's hard time limit plus this margin was
# left by a worker that died (automations/tasks.py).
DELIVER_TIME_LIMIT = 60
STALE_SENDING = timedelta(seconds=DELIVER_TIME_LIMIT + 30)
REQUEUE_LIMIT = 20_000


def _after_due_query() -> None:
    """A seam for the tests that race two dispatchers (a barrier goes here)."""


def _grace() -> timedelta:
    return timedelta(minutes=settings.ACTIONS_GRACE_MINUTES)


def dispatch_due(*, now: datetime | None = None) -> dict:
    """Claim the actions due (within ``LOOKAHEAD_SECONDS``), write their deliveries,
    enqueue what is pending. Returns counts: ``dispatched``, ``missed``, ``deliveries``
    (written), ``enqueued`` (deliveries)."""
    driven, now = now, now or timezone.now()
    counts = {"dispatched": 0, "missed": 0, "deliveries": 0, "enqueued": 0}
    just_written: set[int] = set()
    started = time.monotonic()
    while True:
        batch = _dispatch_batch(now=now, counts=counts, written=just_written, driven=driven)
        if batch < BATCH or time.monotonic() - started > TICK_BUDGET_SECONDS:
            break
    counts["enqueued"] += requeue_due(now=driven, exclude=just_written)
    return counts


def _dispatch_batch(
    *, now: datetime, counts: dict, written: set[int], driven: datetime | None
) -> int:
    with transaction.atomic():
        due = ScheduledAction.objects.filter(
            status=ActionStatus.SCHEDULED, due_at__lte=now + timedelta(seconds=CLAIM_AHEAD_SECONDS)
        ).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        actions = list(due[:BATCH])
        _after_due_query()
        won: list[ScheduledAction] = []
        for action in actions:
            if now - action.due_at > _grace():
                # Its time passed while nothing ran: no burst of stale messages at start-up.
                if _claim(action, ActionStatus.SCHEDULED, ActionStatus.MISSED, now):
                    counts["missed"] += 1
            else:
                won.append(action)
        won = _claim_dispatched(won, now)
        counts["dispatched"] += len(won)
        deliveries = _write_deliveries_of(won, now)
        counts["deliveries"] += len(deliveries)
        horizon = now + timedelta(seconds=LOOKAHEAD_SECONDS)
        pending = [
            (d.pk, d.next_attempt_at)
            for d in deliveries
            if d.state == DeliveryState.PENDING and d.next_attempt_at <= horizon
        ]  # the later ones are enqueued by a later tick's ``requeue_due``
        written.update(pk for pk, _ in pending)

        def enqueue_written():
            counts["enqueued"] += enqueue_many(pending, now=driven)

        transaction.on_commit(enqueue_written)
    return len(actions)


def _claim(action: ScheduledAction, from_status: str, to_status: str, now: datetime) -> bool:
    """The one atomic transition that makes a dispatcher the action's only owner."""
    fields = {"status": to_status}
    if to_status == ActionStatus.DISPATCHED:
        fields["dispatched_at"] = now
    return bool(ScheduledAction.objects.filter(pk=action.pk, status=from_status).update(**fields))


def _claim_dispatched(actions: list[ScheduledAction], now: datetime) -> list[ScheduledAction]:
    """The actions this dispatcher won, each by the atomic ``scheduled`` → ``dispatched``
    transition: on PostgreSQL one UPDATE … RETURNING for the batch, elsewhere one each."""
    if not actions:
        return []
    if connection.vendor != "postgresql":
        return [
            a for a in actions if _claim(a, ActionStatus.SCHEDULED, ActionStatus.DISPATCHED, now)
        ]
    table = connection.ops.quote_name(ScheduledAction._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, dispatched_at = %s"  # noqa: S608 (our table)
            " WHERE id = ANY(%s) AND status = %s RETURNING id",
            [ActionStatus.DISPATCHED, now, [a.pk for a in actions], ActionStatus.SCHEDULED],
        )
        won = {row[0] for row in cursor.fetchall()}
    return [a for a in actions if a.pk in won]


def _write_deliveries_of(actions: list[ScheduledAction], now: datetime) -> list[Delivery]:
    """``_write_deliveries`` for a batch of claimed actions. Those that need nothing per
    community (no placeholder in the text, no broadcast option that reads the history)
    are written together: a few queries for the whole batch, not several per action
    (10,000 actions due in one minute are dispatched within seconds)."""
    broadcast_ids = {a.broadcast_id for a in actions if a.broadcast_id}
    broadcasts = Broadcast.objects.in_bulk(broadcast_ids) if broadcast_ids else {}
    plain, one_by_one = [], []
    for action in actions:
        if action.broadcast_id:
            action.broadcast = broadcasts[action.broadcast_id]
        options = action.broadcast_id and (
            action.broadcast.skip_if_quiet or action.broadcast.no_repeat
        )
        (one_by_one if options or used(action.text) else plain).append(action)
    rows = []
    if plain:
        through = ScheduledAction.communities.through
        pairs = list(
            through.objects.filter(scheduledaction_id__in=[a.pk for a in plain])
            .order_by("scheduledaction_id", "community_id")
            .values_list("scheduledaction_id", "community_id")
        )
        first_outlet: dict[int, int] = {}
        for community_id, outlet_id in (
            Outlet.objects.filter(community_id__in={c for _, c in pairs}, disabled_at__isnull=True)
            .order_by("-pk")
            .values_list("community_id", "pk")
        ):
            first_outlet[community_id] = outlet_id  # the lowest pk is written last
        by_pk = {a.pk: a for a in plain}
        for action_id, community_id in pairs:
            action = by_pk[action_id]
            outlet_id = first_outlet.get(community_id)
            rows.append(
                Delivery(
                    action=action,
                    community_id=community_id,
                    outlet_id=outlet_id,
                    state=DeliveryState.PENDING if outlet_id else DeliveryState.FAILED,
                    next_attempt_at=max(now, action.due_at),
                    text=action.text,
                    detail=""
                    if outlet_id
                    else _("This community has no enabled outlet to send through."),
                )
            )
        rows = Delivery.objects.bulk_create(rows)
    for action in one_by_one:
        rows += _write_deliveries(action, now)
    return rows


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
    at = max(now, action.due_at)  # claimed a few seconds early, it leaves at its time
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
                    next_attempt_at=at,
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
                    next_attempt_at=at,
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
                    next_attempt_at=at,
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
    driven, now = now, now or timezone.now()
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
    return enqueue_many(list(rows), now=driven)


def enqueue(delivery_id: int, *, countdown: float = 0.0) -> bool:
    """A task for one delivery, unless one is already queued for it."""
    now = timezone.now()
    return bool(enqueue_many([(delivery_id, now + timedelta(seconds=countdown))], now=now))


def enqueue_many(deliveries: list[tuple[int, datetime]], *, now: datetime | None = None) -> int:
    """Tasks for these ``(delivery id, due time)`` pairs, skipping the deliveries a queued
    task already holds (a cache marker each, set only if absent: on Redis all in one round
    trip): ``DELIVER_BATCH`` to a task, due within ``DELIVER_BATCH_SPAN`` of each other,
    each task with the countdown to its first delivery (at most ``LOOKAHEAD_SECONDS``), all
    through one producer. Returns how many deliveries were enqueued.

    The countdowns are reckoned from ``now`` when it is given (a driven clock), else from
    the moment publishing starts (not the tick's start: that would make each send late by
    the tick's own time)."""
    if not deliveries:
        return 0
    deliveries = sorted(deliveries, key=lambda pair: (pair[1], pair[0]))
    marked = _mark(pk for pk, _ in deliveries)
    fresh = [pair for pair, mine in zip(deliveries, marked, strict=True) if mine]
    chunks: list[list[tuple[int, datetime]]] = []
    for pair in fresh:
        chunk = chunks[-1] if chunks else None
        full = chunk is not None and len(chunk) >= DELIVER_BATCH
        if chunk is None or full or pair[1] - chunk[0][1] > DELIVER_BATCH_SPAN:
            chunks.append([pair])
        else:
            chunk.append(pair)
    from automations.tasks import deliver_task

    # One reference for all: each task's time is then its publishing moment plus a fixed
    # countdown, so tasks due together keep the order they were published in.
    reference = now or timezone.now()
    with deliver_task.app.producer_or_acquire() as producer:
        for chunk in chunks:
            countdown = min(LOOKAHEAD_SECONDS, (chunk[0][1] - reference).total_seconds())
            options = {"countdown": countdown} if countdown > 0 else {}
            deliver_task.apply_async(([pk for pk, _ in chunk],), producer=producer, **options)
    return len(fresh)


def _mark(delivery_ids) -> list[bool]:
    """Set each delivery's "a task is queued" marker unless it is set; True where it was
    not (this caller enqueues that one)."""
    keys = [MARKER_KEY.format(pk) for pk in delivery_ids]
    backend = caches["default"]
    if type(backend).__name__ != "RedisCache":
        return [backend.add(key, 1, timeout=MARKER_SECONDS) for key in keys]
    keys = [backend.make_and_validate_key(key) for key in keys]
    client = pacing.redis_client(backend)
    with client.pipeline(transaction=False) as pipeline:
        for key in keys:
            pipeline.set(key, 1, nx=True, ex=MARKER_SECONDS)
        return [bool(marked) for marked in pipeline.execute()]


def tasks_done(delivery_ids: list[int]) -> None:
    """The task for these deliveries has run: the next tick may enqueue them again."""
    caches["default"].delete_many([MARKER_KEY.format(pk) for pk in delivery_ids])


def action_send_now(*, action: ScheduledAction, by) -> ScheduledAction:
    """Staff's "send now" on a missed action: dispatched now, its deliveries written."""
    now = timezone.now()
    with transaction.atomic():
        if action.status != ActionStatus.MISSED or not _claim(
            action, ActionStatus.MISSED, ActionStatus.DISPATCHED, now
        ):
            raise ValidationError(_("Only a missed action can be sent now."))
        deliveries = _write_deliveries(action, now)
        pending = [
            (d.pk, d.next_attempt_at) for d in deliveries if d.state == DeliveryState.PENDING
        ]
        transaction.on_commit(lambda: enqueue_many(pending))
    action.refresh_from_db()
    return action
