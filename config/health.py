"""Liveness of the background side: beat enqueues a heartbeat, a worker records it.

The record lives in the shared cache (Redis at scale, files under var/ embedded), so the
web process can tell whether workers and beat are running.
"""

import socket
from dataclasses import dataclass
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

HEARTBEAT_CACHE_KEY = "health:worker-heartbeat"


@dataclass(frozen=True)
class WorkerStatus:
    last_seen: datetime | None
    hostname: str

    @property
    def age_seconds(self) -> float | None:
        if self.last_seen is None:
            return None
        return (timezone.now() - self.last_seen).total_seconds()

    @property
    def healthy(self) -> bool:
        # Two missed beats in a row mean beat or every worker is down.
        age = self.age_seconds
        return age is not None and age <= 2 * settings.HEARTBEAT_INTERVAL_SECONDS + 5


def heartbeat_record() -> dict:
    now = timezone.now()
    record = {"at": now.isoformat(), "hostname": socket.gethostname()}
    cache.set(HEARTBEAT_CACHE_KEY, record, timeout=None)
    return record


def worker_status() -> WorkerStatus:
    record = cache.get(HEARTBEAT_CACHE_KEY)
    if not record:
        return WorkerStatus(last_seen=None, hostname="")
    return WorkerStatus(last_seen=datetime.fromisoformat(record["at"]), hostname=record["hostname"])


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
