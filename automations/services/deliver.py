"""Deliveries' sends, and staff's decisions on the ones whose outcome is unknown.

``deliver_many`` sends a task's few deliveries one after another, each at its time (it
waits up to ``MAX_SLEEP_SECONDS`` for a delivery due, or paced, that soon). It is safe to
run any number of times for one delivery, at once or after a crash: it reads the rows
first, owns each only through an atomic ``pending`` → ``sending`` transition made just
before that delivery's request (so a crash leaves at most the one in flight in
``sending``), and records every request (``DeliveryAttempt``) with its outcome in one
transaction. A row found in ``sending``
means the worker that claimed it died mid-request (the task is ``acks_late`` and comes
back): the message may have arrived, and the chat platforms have no idempotency key, so it
becomes *unknown*, never sent blindly again; the generic webhook carries the delivery's key
(``IDEMPOTENT``), so there it is retried.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.models import TERMINAL_STATES, Delivery, DeliveryAttempt, DeliveryState
from automations.platforms import addresses, get_platform, pacing
from automations.platforms.base import DETAIL_CHARS, Destination, Message, Outcome, Result
from automations.services import dispatch, rows

# A paced slot this close is waited for in the task; a later one goes back to the database.
MAX_SLEEP_SECONDS = 3.0
# The pace is kept with a margin. A send leaves a little after its slot (a busy worker, the
# request's own way), and a platform that counts in a rolling window (WeCom: 20 in any
# 60 s) refuses the 21st when the 1st left a moment late. So slots are spaced this much
# wider than the platform allows, and a reserved slot is used at most half of that late
# (WeCom: 3.3 s apart, a slot used up to 3 s late; 21 sends then span at least 63 s), at
# least SLOT_KEPT_MIN; later, a new slot is reserved.
PACE_MARGIN = 0.1
SLOT_KEPT_MIN = timedelta(seconds=2)
MAX_BACKOFF_SECONDS = 600
# A task may run this much before its delivery's next attempt (clocks of workers differ).
EARLY_TOLERANCE = timedelta(milliseconds=500)
# A task takes no new delivery after this long (the rest stay pending for the next tick),
# well inside its time limit (automations/tasks.py).
BATCH_BUDGET_SECONDS = 20.0
# The cache (Redis) could not be reached for the pace: nothing was sent; try again soon.
PACE_UNAVAILABLE_RETRY = timedelta(seconds=5)


def deliver(*, delivery_id: int, now: datetime | None = None, redelivered: bool = False):
    """``deliver_many`` for one delivery. Returns it (None when it no longer exists)."""
    deliver_many(delivery_ids=[delivery_id], now=now, redelivered=redelivered)
    return Delivery.objects.filter(pk=delivery_id).first()


def deliver_many(
    *, delivery_ids: list[int], now: datetime | None = None, redelivered: bool = False
) -> dict[int, str]:
    """Send each of these deliveries that is this caller's to send, in the order they are
    due. ``now`` drives the clock (tests): then nothing waits for its time. Returns each
    delivery's state as this call left it (deliveries that no longer exist are absent)."""
    started = time.monotonic()
    deliveries = list(
        Delivery.objects.select_related("outlet", "action")
        .filter(pk__in=delivery_ids)
        .order_by("next_attempt_at", "pk")
    )
    try:
        ahead = _reserve_ahead(deliveries, now=now)
        deliveries.sort(key=lambda d: (_ready_at(d, ahead), d.pk))
        for delivery in deliveries:
            if time.monotonic() - started > BATCH_BUDGET_SECONDS:
                break  # the rest stay pending: the next tick enqueues them again
            _deliver(delivery, now=now, redelivered=redelivered, reserved=ahead.get(delivery.pk))
    finally:
        dispatch.tasks_done(delivery_ids)
    return {delivery.pk: delivery.state for delivery in deliveries}


def _destination(outlet) -> Destination:
    return Destination(
        url=outlet.url, secret=outlet.secret, token=outlet.token, chat_id=outlet.chat_id
    )


def _pace(platform, destination: Destination) -> tuple[str, int, float]:
    """The pacing key, count and window of a send, with the margin (``PACE_MARGIN``)."""
    count, seconds = platform.PACE
    return platform.pace_key(destination), count, seconds * (1 + PACE_MARGIN)


def _reserve_ahead(deliveries: list[Delivery], *, now: datetime | None) -> dict[int, datetime]:
    """The pace slots of a task's deliveries that will want a new one in a moment, reserved
    together (one round trip to Redis, not one per send). A slot left unused (the
    delivery was refused, or another worker had it) is a gap in the pace, never a second
    send in a slot. Nothing is reserved if Redis cannot be reached: each delivery then
    tries on its own, and says so."""
    at = _clock(now)
    soon = at + timedelta(seconds=MAX_SLEEP_SECONDS)
    wanted = []
    for delivery in deliveries:
        platform = _platform(delivery)
        if (
            delivery.state != DeliveryState.PENDING
            or platform is None
            or delivery.outlet.disabled_at is not None
            or delivery.next_attempt_at > soon
            or _slot_still_kept(delivery, platform, at)
        ):
            continue
        wanted.append((delivery.pk, _pace(platform, _destination(delivery.outlet))))
    if len(wanted) < 2:
        return {}
    try:
        waits = pacing.wait_for_many(
            [pace for _, pace in wanted], now=None if now is None else at.timestamp()
        )
    except Exception:  # Redis down: each delivery reserves, and fails, alone
        return {}
    return {pk: at + timedelta(seconds=wait) for (pk, _), wait in zip(wanted, waits, strict=True)}


def _ready_at(delivery: Delivery, ahead: dict[int, datetime]) -> datetime:
    """When a delivery can go: due, and its pace's slot come (the order a task sends in)."""
    slot = ahead.get(delivery.pk, delivery.slot_at)
    return max(delivery.next_attempt_at, slot) if slot else delivery.next_attempt_at


def _slot_still_kept(delivery: Delivery, platform, at: datetime) -> bool:
    return delivery.slot_at is not None and at <= delivery.slot_at + slot_kept(platform.PACE[1])


def _clock(now: datetime | None) -> datetime:
    return now or timezone.now()


def _platform(delivery: Delivery):
    return get_platform(delivery.outlet.platform) if delivery.outlet else None


def _move(delivery: Delivery, from_state: str, **fields) -> bool:
    """The row's atomic transition: 0 rows means someone else moved it first. The row in
    memory follows it."""
    moved = rows.update_row(Delivery, delivery.pk, where={"state": from_state}, values=fields)
    if moved:
        for name, value in fields.items():
            setattr(delivery, name, value)
    return moved


def _claim(delivery: Delivery, at: datetime) -> bool:
    """``pending`` → ``sending``, only if the row is still as it was read: a delivery
    another worker sent and put back for a retry in the meantime has other ``attempts``
    or another ``next_attempt_at`` (this caller would record a stale count)."""
    claimed = rows.update_row(
        Delivery,
        delivery.pk,
        where={
            "state": DeliveryState.PENDING,
            "attempts": delivery.attempts,
            "next_attempt_at": delivery.next_attempt_at,
        },
        values={"state": DeliveryState.SENDING, "last_attempt_at": at},
    )
    if claimed:
        delivery.state, delivery.last_attempt_at = DeliveryState.SENDING, at
    return bool(claimed)


def _deliver(
    delivery: Delivery,
    *,
    now: datetime | None,
    redelivered: bool,
    reserved: datetime | None = None,
) -> None:
    if delivery.state in TERMINAL_STATES:
        return
    at = _clock(now)
    platform = _platform(delivery)
    if delivery.state == DeliveryState.SENDING:
        stale = (
            delivery.last_attempt_at is None
            or at - delivery.last_attempt_at > dispatch.STALE_SENDING
        )
        if not (redelivered or stale):
            return  # another worker is sending it right now
        if platform is not None and getattr(platform, "IDEMPOTENT", False):
            # The receiver deduplicates on the key: sending again is safe.
            if not _move(
                delivery, DeliveryState.SENDING, state=DeliveryState.PENDING, next_attempt_at=at
            ):
                return
        else:
            _move(
                delivery,
                DeliveryState.SENDING,
                state=DeliveryState.UNKNOWN,
                slot_at=None,
                detail=_(
                    "The worker stopped while sending: whether the message arrived is not "
                    "known. Check the group, then mark it as sent or send it again."
                ),
            )
            return
    if delivery.state != DeliveryState.PENDING:
        return
    if delivery.next_attempt_at > at + EARLY_TOLERANCE:
        wait = (delivery.next_attempt_at - at).total_seconds()
        if now is not None or wait > MAX_SLEEP_SECONDS:
            return  # not yet: the dispatcher enqueues it when it is due
        time.sleep(wait)  # due in a moment (a task's deliveries are due within a second)
        at = timezone.now()
    if platform is None:
        _move(
            delivery,
            DeliveryState.PENDING,
            state=DeliveryState.FAILED,
            detail=_("This community has no enabled outlet to send through."),
        )
        return
    if not _claim(delivery, at):
        return  # another worker has it
    outlet = delivery.outlet
    destination = _destination(outlet)
    message = Message(
        text=delivery.text or delivery.action.text,
        markdown=delivery.action.markdown,
        idempotency_key=delivery.idempotency_key,
    )
    problem = _refusal(outlet, platform, destination, message)
    if problem:
        _move(
            delivery,
            DeliveryState.SENDING,
            state=DeliveryState.REJECTED,
            detail=problem[:DETAIL_CHARS],
        )
        return

    # The pace, reserved once: a delivery put back to wait for its slot keeps it; one
    # reserved with the task's others is used while it is still good.
    window = platform.PACE[1]
    if _slot_still_kept(delivery, platform, at):
        slot = delivery.slot_at
    elif reserved is not None and at <= reserved + slot_kept(window):
        slot = reserved
    else:
        try:
            # Without a driven clock, Redis's own clock decides (workers' clocks differ).
            wait = pacing.wait_for(
                *_pace(platform, destination), now=None if now is None else at.timestamp()
            )
        except Exception as error:  # the cache (Redis) is down: nothing was sent
            _move(
                delivery,
                DeliveryState.SENDING,
                state=DeliveryState.PENDING,
                next_attempt_at=at + PACE_UNAVAILABLE_RETRY,
                detail=f"pace unavailable: {error}"[:DETAIL_CHARS],
            )
            return
        slot = at + timedelta(seconds=wait)
    wait = (slot - at).total_seconds()
    if wait > MAX_SLEEP_SECONDS:
        _move(
            delivery,
            DeliveryState.SENDING,
            state=DeliveryState.PENDING,
            next_attempt_at=slot,
            slot_at=slot,
        )
        return
    if wait > 0:
        time.sleep(wait)

    result = platform.send(destination, message, timeout=settings.ACTIONS_SEND_TIMEOUT_SECONDS)
    answered_at = now or timezone.now()
    _record(delivery, result, platform=platform, at=answered_at)


def slot_kept(window_seconds: float) -> timedelta:
    """How late a reserved slot may still be used, for a pace counted over this window."""
    return max(SLOT_KEPT_MIN, timedelta(seconds=window_seconds * PACE_MARGIN / 2))


def _refusal(outlet, platform, destination: Destination, message: Message) -> str:
    """Why this delivery may not be sent at all (checked again at send time), or ""."""
    if outlet.disabled_at is not None:
        return _("The outlet %(name)s was disabled.") % {"name": outlet.name}
    url = outlet.url or getattr(platform, "DEFAULT_API", "")
    problem = addresses.url_problem(url, allow_private=settings.CONNECTOR_ALLOW_PRIVATE_URLS)
    if problem:
        return problem
    return " ".join(str(p) for p in platform.check(message, destination))


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff, 2^attempts seconds up to 10 minutes, with up to 25 % jitter."""
    base = min(MAX_BACKOFF_SECONDS, 2**attempts)
    return base + random.uniform(0, base / 4)  # noqa: S311 (jitter, not a secret)


def _record(delivery: Delivery, result: Result, *, platform, at: datetime) -> None:
    outcome = result.outcome
    if outcome == Outcome.UNKNOWN and getattr(platform, "IDEMPOTENT", False):
        outcome = Outcome.RETRY  # the receiver deduplicates on the key
    attempts = delivery.attempts + 1
    common = {
        "attempts": attempts,
        "status_code": result.status,
        "detail": result.detail[:DETAIL_CHARS],
        "slot_at": None,  # the slot was used by this request
    }
    if outcome == Outcome.SENT:
        fields = {
            "state": DeliveryState.SENT,
            "sent_at": at,
            "message_id": result.message_id[:100],
        }
    elif outcome == Outcome.REJECTED:
        fields = {"state": DeliveryState.REJECTED}
    elif outcome == Outcome.UNKNOWN:
        fields = {"state": DeliveryState.UNKNOWN}
    elif attempts >= settings.ACTIONS_MAX_ATTEMPTS:
        fields = {"state": DeliveryState.FAILED}
    else:
        delay = result.retry_after if result.retry_after is not None else backoff_seconds(attempts)
        fields = {
            "state": DeliveryState.PENDING,
            "next_attempt_at": at + timedelta(seconds=delay),
        }
    fields = {**common, **fields}
    attempt = {
        "delivery": delivery.pk,
        "at": at,
        "outcome": result.outcome,
        "status_code": result.status,
        "detail": result.detail[:DETAIL_CHARS],
    }
    # The request's record and the row's move, in one statement (one commit per send).
    if rows.insert_and_update(
        (DeliveryAttempt, attempt),
        Delivery,
        delivery.pk,
        where={"state": DeliveryState.SENDING},
        values=fields,
    ):
        for name, value in fields.items():
            setattr(delivery, name, value)


def delivery_mark_sent(*, delivery: Delivery, by) -> Delivery:
    """Staff checked the group: the unknown delivery did arrive."""
    now = timezone.now()
    if delivery.state != DeliveryState.UNKNOWN or not _move(
        delivery, DeliveryState.UNKNOWN, state=DeliveryState.SENT, sent_at=now, resolved_by=by
    ):
        raise ValidationError(_("Only a delivery whose outcome is unknown can be marked as sent."))
    delivery.refresh_from_db()
    return delivery


def delivery_send_again(*, delivery: Delivery, by) -> Delivery:
    """Staff checked the group: the unknown (or failed) delivery did not arrive; send it
    again. The idempotency key stays: a webhook receiver that did get it ignores the copy."""
    now = timezone.now()
    allowed = (DeliveryState.UNKNOWN, DeliveryState.FAILED)
    with transaction.atomic():
        if (
            delivery.state not in allowed
            or delivery.outlet_id is None
            or not _move(
                delivery,
                delivery.state,
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                slot_at=None,
                resolved_by=by,
            )
        ):
            raise ValidationError(
                _("Only a delivery that failed or whose outcome is unknown can be sent again.")
            )
        transaction.on_commit(lambda: dispatch.enqueue(delivery.pk))
    delivery.refresh_from_db()
    return delivery
