"""What My checklists shows beside an item's message: "Send to the group" where the viewer
may send it and its community has an enabled outlet, or what became of the message sent.
Two queries for a whole page (outlets, the items' actions with their deliveries counted),
none when no row qualifies."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from automations.models import ActionStatus, DeliveryState, Outlet, ScheduledAction
from automations.services.checklist_messages import may_send, source_key

FAILED = [DeliveryState.REJECTED, DeliveryState.FAILED, DeliveryState.UNKNOWN]


def send_state(action: ScheduledAction | None) -> str:
    """``""`` (not sent), ``sending``, ``sent``, ``failed``, ``missed`` or ``cancelled``;
    ``action`` carries the ``total``, ``sent`` and ``failed`` delivery counts."""
    if action is None:
        return ""
    if action.status in (ActionStatus.MISSED, ActionStatus.CANCELLED):
        return action.status
    if action.status == ActionStatus.SCHEDULED or not action.total:
        return "sending"
    if action.failed:
        return "failed"
    return "sent" if action.sent == action.total else "sending"


def actions_by_item(organization_id: int, item_ids: list[int]) -> dict[int, ScheduledAction]:
    keys = {source_key(item_id): item_id for item_id in item_ids}
    rows = ScheduledAction.objects.filter(
        organization_id=organization_id, source_key__in=list(keys)
    ).annotate(
        total=Count("deliveries"),
        sent=Count("deliveries", filter=Q(deliveries__state=DeliveryState.SENT)),
        failed=Count("deliveries", filter=Q(deliveries__state__in=FAILED)),
    )
    return {keys[action.source_key]: action for action in rows}


def item_context(item_id: int, action: ScheduledAction | None) -> dict:
    return {"item_id": item_id, "sent_action": action, "state": send_state(action)}


def checklist_send_contexts(request: HttpRequest, rows: list) -> dict[int, dict]:
    """The context of each row's send button or state (``checklists.item_actions``)."""
    staff = getattr(request, "staff", None)
    # A closed run's message is history (its day, its newcomers): it is not offered.
    now = timezone.now()
    rows = [row for row in rows if row.item.run.closes_at > now and may_send(staff, row.item.run)]
    if not rows:
        return {}
    community_ids = {row.item.run.community_id for row in rows}
    with_outlet = set(
        Outlet.objects.filter(community_id__in=community_ids, disabled_at__isnull=True)
        .values_list("community_id", flat=True)
        .distinct()
    )
    rows = [row for row in rows if row.item.run.community_id in with_outlet]
    if not rows:
        return {}
    actions = actions_by_item(staff.organization_id, [row.item.pk for row in rows])
    return {row.item.pk: item_context(row.item.pk, actions.get(row.item.pk)) for row in rows}
