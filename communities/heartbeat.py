"""Liveness of the background side, as the settings page shows it to the organisation.

Beat enqueues a heartbeat task (``config.health``); the worker that runs it records itself
here, in the shared cache (Redis at scale, files under var/ embedded), so the web process
can tell whether workers and beat are running. Reader and writer share this module, the
lowest app, so that no app imports ``config``.
"""

import socket
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

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
