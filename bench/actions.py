"""Scheduled actions benchmark: 10,000 actions due in the same minute, delivered by real
Celery workers to a local sink, with one worker and then with two.

Run from the project root, on PostgreSQL and Redis (the database named in the URL is
created, and dropped at the end unless --keep, so it must be a throwaway one with "bench"
in its name; the two Redis databases are flushed before each run)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/communityops_bench_actions \\
    REDIS_URL=redis://127.0.0.1:6379/13 CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/actions.py

What it builds, for each run on fresh data: --actions communities (10,000), each with its
own generic-webhook outlet at the sink (its own URL, so its own pace of 10 a second: the
sink is not a platform with a tight limit), and one scheduled broadcast per community —
10,000 ``ScheduledAction`` rows, one delivery each, all due at the same instant, --lead
seconds (40) after the workers are ready: a 09:00 broadcast exists long before 09:00, and
the dispatcher claims actions and writes their deliveries up to 30 s ahead (``--spread``
spreads the due times evenly over that many seconds instead: "due in the same minute").

Then the workers run: ``celery worker -Q default,actions --pool threads --concurrency 8`` (one
process each; ``--pool prefork --concurrency 4``, the deploy unit's, takes about 1.3 times
the CPU per delivery and starts slower), the first with ``-B`` (beat, whose 5 s tick
dispatches), and the sink, an asyncio HTTP server in this process, records each request's
receipt time and idempotency key. It prints, for one worker and for two side by side:
delivered, duplicates (keys received more than once; must be 0), lost (deliveries not
received by the deadline; must be 0), the time from the due time to the last delivery,
p50/p99 lateness (receipt − due time) for all and for the first 1,000 due, and the
workers' CPU time (with the delivery rate per CPU second: the figure that does not depend
on what else the machine is doing). Targets: all 10,000 within 60 s with one worker, p99
lateness of the first 1,000 under 2 s. Exits
non-zero on a duplicate or a loss, not on a missed target.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and bench/calendar.py would shadow
# the standard library's calendar (dateutil, which Celery imports, needs it).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import contextlib
import math
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.scratch import scratch_cleanup, scratch_django

ROOT = Path(__file__).resolve().parent.parent
FIRST = 1000


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


class Sink:
    """A fast local receiver standing in for the platforms: answers 200 at once and records
    (idempotency key, receipt time). One asyncio loop in a thread of this process, not a
    thread per connection (``http.server``'s costs about three times the CPU per request,
    taken from the same two cores the workers run on): it is the instrument, and should
    weigh as little as it can."""

    def __init__(self):
        import asyncio

        self.received: list[tuple[str, float]] = []
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        started = threading.Event()

        async def handle(reader, writer):
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                await reader.readexactly(int(headers.get("content-length") or 0))
                at = time.time()
                with self.lock:
                    self.received.append((headers.get("idempotency-key", ""), at))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        async def serve():
            self.server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
            started.set()

        def run():
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(serve())
            self.loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        started.wait(10)

    @property
    def url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def build(run: int, count: int, sink: Sink) -> int:
    """``count`` communities, each with an outlet and one scheduled broadcast (due far
    ahead until the workers are ready). Returns the organisation's id."""
    from automations.models import ActionKind, Outlet, ScheduledAction
    from communities.models import Community, Organization

    org = Organization.objects.create(name=f"Bench {run}", slug=f"bench-{run}")
    communities = Community.objects.bulk_create(
        Community(organization=org, name=f"群 {i}", slug=f"g{run}-{i}", platform="wechat")
        for i in range(count)
    )
    Outlet.objects.bulk_create(
        Outlet(
            community=c,
            name="sink",
            platform="webhook",
            url=f"{sink.url}/hook/{c.slug}",
            secret="bench-secret",  # noqa: S106 (the sink does not check it)
        )
        for c in communities
    )
    later = datetime.now(UTC) + timedelta(days=1)
    actions = ScheduledAction.objects.bulk_create(
        ScheduledAction(organization=org, kind=ActionKind.BROADCAST, text=f"早安 {i}", due_at=later)
        for i in range(count)
    )
    through = ScheduledAction.communities.through
    through.objects.bulk_create(
        through(scheduledaction_id=a.pk, community_id=c.pk)
        for a, c in zip(actions, communities, strict=True)
    )
    return org.pk


def start_workers(n: int, *, pool: str, concurrency: int, work: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "CONNECTOR_ALLOW_PRIVATE_URLS": "1"}
    workers = []
    for i in range(n):
        command = [sys.executable, "-m", "celery", "-A", "config", "worker",
                   "-Q", "default,actions", "--pool", pool, "--concurrency", str(concurrency),
                   "--loglevel", "WARNING",
                   "--hostname", f"bench{i}-{os.getpid()}@%h"]  # fmt: skip
        if i == 0:
            command += ["-B", "--schedule", str(work / "celerybeat-schedule")]
        log = open(work / f"worker{i}.log", "w")  # noqa: SIM115 (closed with the process)
        workers.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    return workers


def ready(n: int) -> bool:
    from config.celery import app

    replies = app.control.ping(timeout=1.0) or []
    return len(replies) >= n


def stop(workers: list[subprocess.Popen]) -> float:
    """Stop the workers; returns the CPU seconds they used (each worker with its pool's
    children, which it waited for: ``wait4``'s resource usage)."""
    for worker in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGTERM)
    cpu = 0.0
    for worker in workers:
        deadline = time.monotonic() + 30
        while True:
            pid, status, usage = os.wait4(worker.pid, os.WNOHANG)
            if pid:
                worker.returncode = os.waitstatus_to_exitcode(status)
                cpu += usage.ru_utime + usage.ru_stime
                break
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.pid, signal.SIGKILL)
                deadline = time.monotonic() + 30
            time.sleep(0.2)
    return cpu


def flush_redis() -> None:
    import redis

    for url in {os.environ["REDIS_URL"], os.environ["CELERY_BROKER_URL"]}:
        redis.Redis.from_url(url).flushdb()


def one_run(run: int, workers_n: int, args, work: Path) -> dict:
    from django.db import connection

    from automations.models import Delivery, DeliveryState, ScheduledAction

    flush_redis()
    sink = Sink()
    org_id = build(run, args.actions, sink)
    workers = start_workers(
        workers_n, pool=args.pool, concurrency=args.concurrency, work=work / f"run{run}"
    )
    try:
        deadline = time.monotonic() + 120
        while not ready(workers_n):
            if time.monotonic() > deadline:
                raise RuntimeError("the workers did not answer a ping within 120 s")
            time.sleep(0.5)
        time.sleep(2)  # beat's first tick
        # Due --lead seconds from now: a 09:00 broadcast exists long before 09:00, and the
        # dispatcher prepares its deliveries up to CLAIM_AHEAD_SECONDS ahead.
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=args.lead)
        step = args.spread / args.actions
        with connection.cursor() as cursor:  # one statement: every due time at once
            cursor.execute(
                "UPDATE automations_scheduledaction AS a"
                " SET due_at = %s + %s * (s.n - 1) * interval '1 second'"
                " FROM (SELECT id, row_number() OVER (ORDER BY id) AS n"
                "       FROM automations_scheduledaction WHERE organization_id = %s) AS s"
                " WHERE a.id = s.id",
                [due, step, org_id],
            )
        started = due.timestamp()
        limit = time.time() + args.timeout
        while time.time() < limit:
            with sink.lock:
                got = len({key for key, _ in sink.received})
            if got >= args.actions:
                break
            time.sleep(0.5)
        time.sleep(6)  # another tick: nothing more should go out
        load = os.getloadavg()[0]
    finally:
        cpu = stop(workers)
        sink.close()

    keys_due = {
        key: due_at.timestamp()
        for key, due_at in Delivery.objects.filter(action__organization__slug=f"bench-{run}")
        .values_list("idempotency_key", "action__due_at")
        .iterator()
    }
    order = dict(
        Delivery.objects.filter(action__organization__slug=f"bench-{run}").values_list(
            "idempotency_key", "action_id"
        )
    )
    counts = Counter(key for key, _ in sink.received)
    first_at: dict[str, float] = {}
    for key, at in sink.received:
        first_at[key] = min(at, first_at.get(key, at))
    lateness = {key: first_at[key] - keys_due[key] for key in first_at if key in keys_due}
    first_keys = sorted(lateness, key=lambda k: (keys_due[k], order[k]))[:FIRST]
    states = Counter(
        Delivery.objects.filter(action__organization__slug=f"bench-{run}").values_list(
            "state", flat=True
        )
    )
    undispatched = ScheduledAction.objects.filter(
        organization__slug=f"bench-{run}", status="scheduled"
    ).count()
    all_late = list(lateness.values())
    first_late = [lateness[k] for k in first_keys]
    return {
        "workers": workers_n,
        "delivered": len(first_at),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "lost": args.actions - len(lateness),
        "sent rows": states.get(DeliveryState.SENT, 0),
        "not dispatched": undispatched,
        "total": max(first_at.values()) - started if first_at else float("nan"),
        "p50": percentile(all_late, 50) if all_late else float("nan"),
        "p99": percentile(all_late, 99) if all_late else float("nan"),
        "first p50": percentile(first_late, 50) if first_late else float("nan"),
        "first p99": percentile(first_late, 99) if first_late else float("nan"),
        "cpu": cpu,
        "rate": len(first_at) / cpu if cpu else float("nan"),
        "load": load,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--spread", type=float, default=0.0, help="seconds (0: one instant)")
    parser.add_argument(
        "--lead", type=float, default=40.0, help="seconds from the workers' start to the due time"
    )
    parser.add_argument("--pool", default="threads", help="each worker's --pool")
    parser.add_argument("--concurrency", type=int, default=8, help="each worker's --concurrency")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--runs", default="1,2", help="worker counts, in order")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        if not os.environ.get(name):
            sys.exit(f"{name} must be set (PostgreSQL and Redis): see this file's docstring.")
    os.environ["CELERY_RESULT_BACKEND"] = ""
    scratch = scratch_django("actions", keep_redis=True)
    # The workers read the same scratch database and folder.
    os.environ["DATABASE_URL"] = scratch.url
    try:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        results = []
        for run, workers_n in enumerate(int(n) for n in args.runs.split(",")):
            (scratch.work / f"run{run}").mkdir()
            results.append(one_run(run, workers_n, args, scratch.work))
        print_table(results, args)
        broken = any(r["duplicates"] or r["lost"] for r in results)
        return 1 if broken else 0
    finally:
        scratch_cleanup(scratch, keep=args.keep)


def print_table(results: list[dict], args) -> None:
    due = "at one instant" if not args.spread else f"over {args.spread:g} s"
    print(
        f"\n{args.actions:,} actions (one delivery each) due {due}, "
        f"--pool {args.pool} --concurrency {args.concurrency} per worker\n"
    )
    header = ["", *(f"{r['workers']} worker{'s' if r['workers'] > 1 else ''}" for r in results)]
    rows = [
        ("delivered", "{:,}"),
        ("duplicates", "{:,}"),
        ("lost", "{:,}"),
        ("total", "{:.1f} s"),
        ("p50", "{:.2f} s"),
        ("p99", "{:.2f} s"),
        ("first p50", "{:.2f} s"),
        ("first p99", "{:.2f} s"),
        ("cpu", "{:.0f} s"),
        ("rate", "{:.0f}/s"),
        ("load", "{:.1f}"),
    ]
    labels = {
        "total": "due → last delivered",
        "p50": "lateness p50, all",
        "p99": "lateness p99, all",
        "first p50": f"lateness p50, first {FIRST:,}",
        "first p99": f"lateness p99, first {FIRST:,}",
        "cpu": "workers' CPU time",
        "rate": "delivered per CPU second",
        "load": "load average (1 min) at the end",
    }
    width = max(len(labels.get(name, name)) for name, _ in rows)
    print(f"{header[0]:<{width}}  " + "  ".join(f"{h:>10}" for h in header[1:]))
    for name, fmt in rows:
        cells = "  ".join(f"{fmt.format(r[name]):>10}" for r in results)
        print(f"{labels.get(name, name):<{width}}  {cells}")
    print("\ntargets: total ≤ 60 s with one worker; lateness p99 of the first 1,000 < 2 s")


if __name__ == "__main__":
    sys.exit(main())
