"""Run one export file through the real import task and report its time and memory.

``python -m tests.activities.import_probe FORMAT PATH [SOURCE]`` (from the repository
root, with ``VAR_DIR`` pointing at a migrated SQLite database) prints one JSON object:
the run's status and problems, the seconds the task took, the resident set just before
it started and the peak while it ran, in MB. Used by ``test_import_memory.py``; each
file gets a fresh process, so one file's peak never hides another's.

The peak is the kernel's high-water mark of this process, which ``ru_maxrss`` reports,
reset just before the import (``/proc/self/clear_refs``): a process started from a big
one (pytest) otherwise inherits that one's size in ``ru_maxrss`` when it execs.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import uuid


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _high_water_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _reset_high_water() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # resets the peak resident set to the current one
    except OSError:
        return False
    return True


def main(argv: list[str]) -> dict:
    format, path = argv[0], argv[1]
    source = argv[2] if len(argv) > 2 else ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from activities.models import ImportRun
    from activities.services import import_create
    from activities.tasks import run_import_task
    from communities.services import community_create, organization_create

    slug = uuid.uuid4().hex[:12]
    organization = organization_create(name=slug, slug=slug)
    community = community_create(
        organization=organization,
        name="Probe",
        platform=format if format in ("telegram", "slack", "discord") else "other",
    )
    uploader = get_user_model().objects.create_user(username=slug)  # no password: no hashing
    with open(path, "rb") as raw:
        run = import_create(
            community=community,
            format=format,
            upload=File(raw, name=os.path.basename(path)),
            source_name=source,
            by=uploader,
            language="en",
            enqueue=False,
        )

    reset = _reset_high_water()
    before = _rss_mb()
    started = time.perf_counter()
    run_import_task(run.pk)
    seconds = time.perf_counter() - started
    # ru_maxrss also holds what the process inherited; without a reset it is all we have
    # (an overestimate, never an underestimate).
    peak = _high_water_mb() if reset else _peak_mb()

    run = ImportRun.objects.get(pk=run.pk)
    return {
        "status": run.status,
        "events_created": run.events_created,
        "problems": run.problems,
        "seconds": round(seconds, 3),
        "rss_before_mb": round(before, 1),
        "peak_mb": round(peak, 1),
        "ru_maxrss_mb": round(_peak_mb(), 1),
        "growth_mb": round(max(peak - before, 0.0), 1),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:]), ensure_ascii=False))
