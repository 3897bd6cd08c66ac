"""Staff's decisions on an action as a whole (the Actions pages): cancelling one that has
not gone out yet (still upcoming, or claimed by the dispatcher a few seconds ahead of its
time, its deliveries written and waiting). Sending a missed action now is
``dispatch.action_send_now``; a delivery's "mark as sent" and "send again" are in
``deliver``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.models import ActionStatus, Delivery, DeliveryState, ScheduledAction
from automations.selectors.actions import can_cancel


def action_cancel(*, action: ScheduledAction, by) -> ScheduledAction:
    """An action not yet due will not be sent. Upcoming: the one atomic transition
    ``scheduled`` → ``cancelled`` (a dispatcher that claimed it first wins). Claimed ahead
    of its time (``dispatched``, due in a few seconds): its deliveries still waiting become
    skipped, each by the atomic ``pending`` → ``skipped`` that a worker's claim of it would
    have to win first, and no worker claims one before its time."""
    now = timezone.now()
    with transaction.atomic():
        cancelled = ScheduledAction.objects.filter(
            pk=action.pk, status=ActionStatus.SCHEDULED
        ).update(status=ActionStatus.CANCELLED)
        if not cancelled and can_cancel(action, now=now):
            cancelled = ScheduledAction.objects.filter(
                pk=action.pk, status=ActionStatus.DISPATCHED
            ).update(status=ActionStatus.CANCELLED)
            Delivery.objects.filter(action=action, state=DeliveryState.PENDING).update(
                state=DeliveryState.SKIPPED, detail=_("Cancelled before its time.")
            )
        if not cancelled:
            raise ValidationError(_("Only an upcoming action can be cancelled."))
    action.refresh_from_db()
    return action
