"""Liveness: beat enqueues the heartbeat task, the worker that runs it records itself
(``communities.heartbeat``, which the settings page reads); ``/healthz`` for load balancers.
"""

from celery import shared_task
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from communities.heartbeat import heartbeat_record


@shared_task(name="config.heartbeat", soft_time_limit=10, time_limit=20, ignore_result=False)
def heartbeat_task() -> dict:
    return heartbeat_record()


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers: 200 when the database answers. Says nothing else, needs no login."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
