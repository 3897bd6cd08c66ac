"""How the automations app's URL parameters resolve, always within what the staff member
may see: registered into communities.permissions.URL_OBJECT_RESOLVERS by
AutomationsConfig.ready, so ``staff_required`` turns ``outlet_id`` into ``outlet`` or
answers 404 (another organisation's outlet, or a group not assigned to a moderator)."""

from django.shortcuts import get_object_or_404

from automations.models import Outlet
from communities.models import Staff
from communities.permissions import communities_for


def get_outlet_or_404(staff: Staff, outlet_id: int) -> Outlet:
    return get_object_or_404(
        Outlet.objects.filter(community__in=communities_for(staff)).select_related("community"),
        pk=outlet_id,
    )


RESOLVERS = {"outlet_id": ("outlet", get_outlet_or_404)}
