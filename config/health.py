"""Liveness: beat enqueues the heartbeat task, the worker that runs it records itself
(``communities.heartbeat``, which the settings page reads); ``/healthz`` and ``/readyz``
for load balancers.

Load balancers probe over plain HTTP, by IP address, often with HEAD. So the probes are
answered by :class:`HealthCheckMiddleware`, first in ``MIDDLEWARE``: before
SecurityMiddleware's TLS redirect and before anything validates the Host header against
``ALLOWED_HOSTS``. The URL patterns point at the same views (for ``reverse`` and the URL
walks). Neither probe says anything beyond which service failed.
"""

import logging
import uuid

from celery import shared_task
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from communities.heartbeat import heartbeat_record

logger = logging.getLogger(__name__)


@shared_task(name="config.heartbeat", soft_time_limit=10, time_limit=20, ignore_result=False)
def heartbeat_task() -> dict:
    return heartbeat_record()


@never_cache
@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: 200 while the process answers requests. Says nothing else, needs no login."""
    return JsonResponse({"status": "ok"})


def _database_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "not ready", never a traceback
        logger.warning("readyz: the database does not answer", exc_info=True)
        return False
    return True


def _cache_ready() -> bool:
    key = "readyz:probe"
    value = uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        ok = cache.get(key) == value
    except Exception:  # any failure means "not ready", never a traceback
        logger.warning("readyz: the cache does not answer", exc_info=True)
        return False
    if not ok:
        logger.warning("readyz: the cache did not return what was stored")
    return ok


def _cache_name() -> str:
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    return "redis" if "redis" in backend.lower() else "cache"


@never_cache
@require_http_methods(["GET", "HEAD"])
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when the database and the cache (Redis in production) both answer,
    else 503 naming the ones that failed."""
    failed = []
    if not _database_ready():
        failed.append("database")
    if not _cache_ready():
        failed.append(_cache_name())
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok"})


PROBES = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    """Answers the probes before the TLS redirect and the Host check (keep it first)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is not None:
            response = probe(request)
            if request.method == "HEAD":
                # No body on HEAD (RFC 9110); gunicorn would drop it, warning at every probe.
                response.content = b""
            return response
        return self.get_response(request)
