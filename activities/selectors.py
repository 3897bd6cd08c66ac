from django.core.cache import cache
from django.db.models import QuerySet

from activities.models import ImportRun, ImportStatus
from communities.models import Staff
from communities.permissions import communities_for


def import_list(*, staff: Staff, limit: int = 50) -> QuerySet[ImportRun]:
    return ImportRun.objects.filter(community__in=communities_for(staff)).select_related(
        "community", "created_by"
    )[:limit]


def import_progress(*, run: ImportRun) -> int:
    """Percent done: from the worker's progress notes while it runs."""
    if run.is_finished:
        return 100
    if run.status == ImportStatus.QUEUED:
        return 0
    from activities.services import PROGRESS_KEY

    return int(cache.get(PROGRESS_KEY.format(run.pk)) or 0)
