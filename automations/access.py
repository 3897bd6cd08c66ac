"""How the automations app's URL parameters resolve, always within what the staff member
may see: registered into communities.permissions.URL_OBJECT_RESOLVERS by
AutomationsConfig.ready, so ``staff_required`` turns ``outlet_id`` into ``outlet`` or
answers 404 (another organisation's outlet, or a group not assigned to a moderator); the same
for ``action_id`` (an action touching none of the groups one sees), ``delivery_id`` and
``broadcast_id`` (automations/selectors/broadcasts.py)."""

from django.shortcuts import get_object_or_404

from automations.models import Delivery, Outlet, ScheduledAction
from automations.selectors.actions import get_action_or_404_queryset, visible_deliveries
from automations.selectors.broadcasts import get_broadcast_or_404
from communities.models import Staff
from communities.permissions import communities_for


def get_outlet_or_404(staff: Staff, outlet_id: int) -> Outlet:
    return get_object_or_404(
        Outlet.objects.filter(community__in=communities_for(staff)).select_related("community"),
        pk=outlet_id,
    )


def get_action_or_404(staff: Staff, action_id: int) -> ScheduledAction:
    return get_object_or_404(get_action_or_404_queryset(staff), pk=action_id)


def get_delivery_or_404(staff: Staff, delivery_id: int) -> Delivery:
    return get_object_or_404(
        visible_deliveries(staff).select_related("action", "community", "outlet"), pk=delivery_id
    )


RESOLVERS = {
    "outlet_id": ("outlet", get_outlet_or_404),
    "action_id": ("action", get_action_or_404),
    "delivery_id": ("delivery", get_delivery_or_404),
    "broadcast_id": ("broadcast", get_broadcast_or_404),
}
