"""Staff's decisions on an action as a whole (the Actions pages): cancelling one that has
not gone out yet. Sending a missed action now is ``dispatch.action_send_now``; a delivery's
"mark as sent" and "send again" are in ``deliver``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from automations.models import ActionStatus, ScheduledAction


def action_cancel(*, action: ScheduledAction, by) -> ScheduledAction:
    """An upcoming action will not be sent. The one atomic transition ``scheduled`` →
    ``cancelled``: a dispatcher that claimed it first wins, and then nothing changes."""
    with transaction.atomic():
        cancelled = ScheduledAction.objects.filter(
            pk=action.pk, status=ActionStatus.SCHEDULED
        ).update(status=ActionStatus.CANCELLED)
        if not cancelled:
            raise ValidationError(_("Only an upcoming action can be cancelled."))
    action.refresh_from_db()
    return action
