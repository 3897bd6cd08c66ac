"""How the activities app's URL parameters resolve, within what the staff may see."""

from django.shortcuts import get_object_or_404

from activities.models import ImportRun
from communities.models import Staff
from communities.permissions import communities_for


def get_import_or_404(staff: Staff, import_id: int) -> ImportRun:
    return get_object_or_404(
        ImportRun.objects.filter(community__in=communities_for(staff)).select_related(
            "community", "created_by"
        ),
        pk=import_id,
    )


RESOLVERS = {"import_id": ("import_run", get_import_or_404)}
