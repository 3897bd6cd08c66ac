"""Checklist messages sent to the group: an item's message to post (its placeholders filled
as My checklists shows them, ``checklists.messages.run_messages``) becomes a scheduled
action due now, through the community's outlet — once per item
(``source_key`` = ``checklist:<run item id>``): a second click shows what became of the
first, it never sends twice."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.models import ActionKind, Outlet, ScheduledAction
from checklists.messages import run_messages
from checklists.models import ChecklistRun, RunItem
from communities.models import Staff
from communities.permissions import Capability, has_capability


def source_key(run_item_id: int) -> str:
    return f"checklist:{run_item_id}"


def may_send(staff: Staff | None, run: ChecklistRun) -> bool:
    """Who may post a run's messages: its assignee, and those who manage communities."""
    if staff is None or staff.organization_id != run.organization_id:
        return False
    return run.assignee_id == staff.pk or has_capability(staff, Capability.MANAGE_COMMUNITIES)


def checklist_message_send(
    *, run_item: RunItem, by: Staff, now: datetime | None = None
) -> ScheduledAction:
    """The item's message as an action due now to its community (or the action made
    for it before). Raises ``ValidationError`` and makes nothing when it cannot be sent."""
    now = now or timezone.now()
    run = (
        ChecklistRun.objects.select_related("community", "entry")
        .prefetch_related(Prefetch("items", queryset=RunItem.objects.filter(pk=run_item.pk)))
        .get(pk=run_item.run_id)
    )
    if not may_send(by, run):
        raise ValidationError(_("Only the run's assignee or an operator can send its messages."))
    key = source_key(run_item.pk)
    existing = ScheduledAction.objects.filter(
        organization_id=run.organization_id, source_key=key
    ).first()
    if existing is not None:
        return existing
    if run.cancelled_at is not None:
        raise ValidationError(_("This run was cancelled."))
    if run.closes_at <= now:
        raise ValidationError(_("This checklist is closed: its message is not sent any more."))
    text = run_messages([run], staff=by, now=now).get(run_item.pk, "")
    if not text.strip():
        raise ValidationError(_("This item has no message to post."))
    if not Outlet.objects.filter(community=run.community, disabled_at__isnull=True).exists():
        raise ValidationError(_("This community has no enabled outlet to send through."))
    try:
        with transaction.atomic():
            action = ScheduledAction.objects.create(
                organization_id=run.organization_id,
                kind=ActionKind.CHECKLIST,
                title=run_item.title[:200],
                text=text,
                due_at=now,
                created_by=by.user,
                source_key=key,
            )
            action.communities.add(run.community)
    except IntegrityError:  # a double click's twin made it first
        return ScheduledAction.objects.get(organization_id=run.organization_id, source_key=key)
    return action
