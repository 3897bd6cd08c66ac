"""Calendar benchmark: the month view, a community's .ics feed, and occurrence expansion.

Run from the project root, on PostgreSQL (the database named in the URL is created,
and dropped at the end unless --keep, so it must be a throwaway one with "bench" in its
name)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/communityops_bench_calendar \\
        .venv/bin/python bench/calendar.py

or without DATABASE_URL, on SQLite in a temporary VAR_DIR (never the developer's var/).

It builds one organisation (bulk inserts, not the services): --communities communities
(200) in four time zones (most Asia/Shanghai; Europe/Berlin and America/New_York have
daylight saving), each with 5 recurring series (a daily column, a weekly topic, weekday
mornings, a monthly "second Tuesday" guest talk, a fortnightly Saturday meetup) that
started 30 to 400 days ago, with an occurrence row for every past occurrence (what RSVPs
and attendance leave behind) and a few moved and cancelled ones; plus --one-offs one-off
entries (2,000) over the last 90 and the next 60 days, a tenth of them relayed to three
communities, more of them in the first communities (community 1 is the busiest). Then, in
the same run:

- server time, p50 and p95 of --requests requests (20; --org-requests, 5, for the whole
  organisation) through the Django test client (after warm-ups, signed in as the owner,
  ``DEBUG=0``) of the month view (``activities:calendar``) of this month, for the whole
  organisation and filtered to the busiest community, with the number of queries of each;
- the same for the .ics feed of the busiest community (no sign-in, as calendar apps);
- the occurrences of this month's grid (six weeks) for all entries: our expansion
  (``selectors.calendar_slots``: the entries, one query for every exception row of the
  range, ``recurrence.expand`` between the window's bounds) against a naive one (per entry
  a query for its rows, the rule iterated from its DTSTART, each occurrence checked
  against the rows and the window); the two must give the same occurrences.

It prints a table and exits non-zero only on errors (a failed request, expansions that
disagree), not on time.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Named like the standard library's ``calendar``: run as a script, this folder comes first
# on sys.path and would shadow it (dateutil imports calendar.monthrange). Not any more.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import argparse
import math
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from bench.scratch import scratch_cleanup, scratch_django

ROOT = Path(__file__).resolve().parent.parent
ZONES = ["Asia/Shanghai"] * 7 + ["Europe/Berlin", "America/New_York", "Asia/Tokyo"]
# (kind, title, rule, local start, minutes)
SERIES = (
    ("column", "早报 Morning report", "FREQ=DAILY", clock(8, 0), 15),
    ("topic", "每周主题讨论 Weekly topic", "FREQ=WEEKLY;BYDAY=TU", clock(21, 0), 30),
    ("clinic", "工作日答疑 Weekday clinic", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", clock(12, 30), 30),
    ("guest", "月度嘉宾分享 Guest talk", "FREQ=MONTHLY;BYDAY=2TU", clock(20, 0), 90),
    ("meetup", "双周线下聚会 Meetup", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", clock(15, 0), 120),
)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def timed_requests(client, path: str, n: int, connection, errors: list[str]):
    """(p50 ms, p95 ms, queries) of ``n`` GETs after two warm-ups; None on a failure."""
    for _ in range(2):
        response = client.get(path)
        if response.status_code != 200:
            errors.append(f"GET {path} → {response.status_code}")
            return None
    queries = []  # an execute wrapper: the test client's request_started resets Django's log
    with connection.execute_wrapper(lambda execute, *a: queries.append(1) or execute(*a)):
        client.get(path)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            errors.append(f"GET {path} → {response.status_code}")
            return None
    return percentile(times, 50), percentile(times, 95), len(queries), len(response.content)


def build(org, communities, *, one_offs: int, rng: random.Random, today: date) -> dict:
    """The entries, their communities and occurrence rows, in bulk. Returns counts."""
    from activities.calendar import recurrence
    from activities.calendar.models import CalendarEntry, Occurrence

    through = CalendarEntry.communities.through
    entries, links = [], []
    for index, community in enumerate(communities):
        for kind, title, rule, start_time, minutes in SERIES:
            started = today - timedelta(days=rng.randint(30, 400))
            entries.append(
                CalendarEntry(
                    organization=org,
                    kind=kind,
                    title=f"{title} · {community.name}",
                    description="每期主题见群公告。",
                    time_zone=community.time_zone,
                    start_date=started,
                    start_time=start_time,
                    duration_minutes=minutes,
                    rrule=rule,
                    place="线上 Online" if kind != "meetup" else "图书馆三楼",
                )
            )
            links.append([index])
    # One-offs: Zipf-like over the communities, a tenth relayed to three of them.
    weights = [1 / (c + 1) ** 0.8 for c in range(len(communities))]
    kinds = ["topic", "guest", "meetup", "clinic", "camp", "campaign", "other"]
    for n in range(one_offs):
        home = rng.choices(range(len(communities)), weights=weights)[0]
        community = communities[home]
        day = today + timedelta(days=rng.randint(-90, 60))
        entries.append(
            CalendarEntry(
                organization=org,
                kind=rng.choice(kinds),
                title=f"活动 {n + 1} Event {n + 1}",
                time_zone=community.time_zone,
                start_date=day,
                start_time=clock(rng.randint(8, 21), rng.choice([0, 30])),
                duration_minutes=rng.choice([30, 60, 90, 120]),
            )
        )
        group = [home]
        if n % 10 == 0:
            group += rng.sample([c for c in range(len(communities)) if c != home], 2)
        links.append(group)
    CalendarEntry.objects.bulk_create(entries, batch_size=1000)
    through.objects.bulk_create(
        [
            through(calendarentry_id=entry.pk, community_id=communities[c].pk)
            for entry, group in zip(entries, links, strict=True)
            for c in group
        ],
        batch_size=5000,
    )
    # Occurrence rows: every past occurrence of a series (RSVPs, attendance), the one-offs'
    # own rows, and per series a cancelled and a moved one in the next four weeks.
    now = datetime.now(UTC)
    rows, exceptions = [], 0
    for entry in entries:
        zone = ZoneInfo(entry.time_zone)
        length = timedelta(minutes=entry.duration_minutes)
        first = recurrence.local_start(entry.start_date, entry.start_time)
        if not entry.rrule:
            start = recurrence.place(first, zone)
            rows.append(
                Occurrence(
                    entry=entry, original_start=start, starts_at=start, ends_at=start + length
                )
            )
            continue
        upcoming = recurrence.next_local_starts(
            entry.rrule, first, recurrence.to_local(now, zone), 4
        )
        for local in recurrence.local_starts(
            entry.rrule, first, first, recurrence.to_local(now, zone)
        ):
            start = recurrence.place(local, zone)
            rows.append(
                Occurrence(
                    entry=entry, original_start=start, starts_at=start, ends_at=start + length
                )
            )
        if len(upcoming) >= 3:
            cancelled = recurrence.place(upcoming[1], zone)
            rows.append(
                Occurrence(
                    entry=entry,
                    original_start=cancelled,
                    starts_at=cancelled,
                    ends_at=cancelled + length,
                    cancelled=True,
                )
            )
            moved = recurrence.place(upcoming[2], zone)
            rows.append(
                Occurrence(
                    entry=entry,
                    original_start=moved,
                    starts_at=moved + timedelta(hours=2),
                    ends_at=moved + timedelta(hours=2) + length,
                )
            )
            exceptions += 2
    Occurrence.objects.bulk_create(rows, batch_size=5000)
    return {
        "series": len(communities) * len(SERIES),
        "one_offs": one_offs,
        "rows": len(rows),
        "exceptions": exceptions,
    }


def naive_expansion(entries, start: datetime, end: datetime) -> list[tuple]:
    """Per entry: a query for its occurrence rows, the rule iterated from DTSTART, every
    occurrence checked against the rows and the window."""
    from dateutil import rrule as du

    from activities.calendar import recurrence
    from activities.calendar.models import Occurrence

    found = []
    for entry in entries:
        rows = list(Occurrence.objects.filter(entry=entry))
        zone = ZoneInfo(entry.time_zone)
        length = timedelta(minutes=entry.duration_minutes)
        first = recurrence.local_start(entry.start_date, entry.start_time)
        starts = du.rrulestr(entry.rrule, dtstart=first, cache=False) if entry.rrule else [first]
        originals = set()
        for local in starts:
            original = recurrence.place(local, zone)
            if original >= end + timedelta(days=2):
                break
            originals.add(original)
            begin, finish, cancelled = original, original + length, False
            for row in rows:
                if row.original_start == original:
                    begin, finish, cancelled = row.starts_at, row.ends_at, row.cancelled
            if not cancelled and begin < end and finish > start:
                found.append((entry.pk, original, begin, finish))
        for row in rows:  # moved here from elsewhere
            if (
                row.original_start not in originals
                and not row.cancelled
                and row.starts_at < end
                and row.ends_at > start
            ):
                found.append((entry.pk, row.original_start, row.starts_at, row.ends_at))
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--one-offs", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--org-requests", type=int, default=5, help="requests of the whole organisation's month"
    )
    parser.add_argument("--runs", type=int, default=3, help="expansion runs (median)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--profile", action="store_true", help="cProfile one run of our expansion")
    args = parser.parse_args()

    scratch = scratch_django("calendar")
    from django import get_version

    django_version = get_version()
    import logging

    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse

    from activities.calendar import feeds, selectors
    from activities.calendar.models import CalendarEntry
    from communities.models import Staff
    from communities.services import community_create, organization_create, staff_user_create

    errors: list[str] = []
    results: list[tuple[str, str]] = []
    try:
        call_command("migrate", verbosity=0, interactive=False)
        rng = random.Random(args.seed)
        started = time.perf_counter()
        org = organization_create(name="Bench calendar", slug="bench-calendar")
        with transaction.atomic():
            communities = [
                community_create(
                    organization=org,
                    name=f"社群 {c + 1:03d}" if c % 2 else f"Circle {c + 1:03d}",
                    slug=f"c{c + 1:03d}",
                    platform="wechat",
                    time_zone=ZONES[c % len(ZONES)] if c else "Europe/Berlin",
                )
                for c in range(args.communities)
            ]
        zone = ZoneInfo(org.time_zone)
        today = datetime.now(zone).date()
        with transaction.atomic():
            counts = build(org, communities, one_offs=args.one_offs, rng=rng, today=today)
        if connection.vendor == "postgresql":
            # Planner statistics, as autovacuum keeps them on a database in use: without
            # them the freshly bulk-loaded tables are planned as empty (nested loops).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        print(
            f"built in {time.perf_counter() - started:.1f} s: {args.communities} communities, "
            f"{counts['series']} series, {counts['one_offs']} one-offs, "
            f"{counts['rows']:,} occurrence rows ({counts['exceptions']} moved or cancelled)"
        )
        user = staff_user_create(
            organization=org, username="bench-owner", password="bench-pass-1234",  # noqa: S106
            role="owner",
        )  # fmt: skip
        owner = Staff.objects.get(user=user)
        busiest = communities[0]
        client = Client()
        client.force_login(
            get_user_model().objects.get(pk=user.pk),
            backend="django.contrib.auth.backends.ModelBackend",
        )
        month = reverse("activities:calendar")
        first_of_month = today.replace(day=1)
        pages = [
            (
                "month view, whole organisation",
                f"{month}?date={first_of_month}",
                client,
                args.org_requests,
            ),
            (
                f"month view, busiest community ({busiest.slug})",
                f"{month}?date={first_of_month}&community={busiest.slug}",
                client,
                args.requests,
            ),
        ]
        _feed, key = feeds.feed_create(staff=owner, community=busiest)
        feed_url = reverse("activities:calendar-feed", kwargs={"key": key})
        pages.append(
            (f".ics feed, busiest community ({busiest.slug})", feed_url, Client(), args.requests)
        )
        for label, path, who, n in pages:
            figures = timed_requests(who, path, n, connection, errors)
            if figures is None:
                results.append((label, "error (see below)"))
                continue
            p50, p95, n_queries, size = figures
            results.append(
                (
                    label,
                    f"p50 {p50:.0f} ms, p95 {p95:.0f} ms "
                    f"({n} requests, {n_queries} queries, {size:,} B)",
                )
            )

        # This month's grid (Monday of the first week … Sunday of the sixth), all entries.
        weeks = selectors.month_grid(first_of_month.year, first_of_month.month)
        start = datetime.combine(weeks[0][0], clock(), tzinfo=zone).astimezone(UTC)
        end = datetime.combine(weeks[-1][-1] + timedelta(days=1), clock(), tzinfo=zone)
        end = end.astimezone(UTC)
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            selectors.calendar_slots(owner, start, end)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        ours, ours_times = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            slots = selectors.calendar_slots(owner, start, end)
            ours_times.append(time.perf_counter() - t0)
            ours = sorted(
                (s.slot.entry_id, s.original_start, s.starts_at, s.ends_at) for s in slots
            )
        naive, naive_times = [], []
        entries = list(CalendarEntry.objects.filter(organization=org, cancelled_at__isnull=True))
        for _ in range(max(1, args.runs // 2)):
            t0 = time.perf_counter()
            naive = naive_expansion(entries, start, end)
            naive_times.append(time.perf_counter() - t0)
        if ours != naive:
            errors.append(
                f"the expansions disagree: ours {len(ours)} occurrences, naive {len(naive)}"
            )
        ours_s, naive_s = statistics.median(ours_times), statistics.median(naive_times)
        results.append(
            (
                f"expansion, this month's grid ({len(ours):,} occurrences)",
                f"ours {ours_s * 1000:.0f} ms, naive {naive_s * 1000:,.0f} ms: "
                f"{naive_s / ours_s:.0f}× faster",
            )
        )

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                server = f"PostgreSQL {cursor.fetchone()[0]}"
            else:
                import sqlite3

                server = f"SQLite {sqlite3.sqlite_version}"
        print(
            f"\ndatabase: {server}; Django {django_version}; Python "
            f"{sys.version.split()[0]}; expansion median of {len(ours_times)} (ours) "
            f"and {len(naive_times)} (naive) runs"
        )
        width = max(len(r[0]) for r in results)
        print(f"\n{'what':<{width}}  figures")
        for what, value in results:
            print(f"{what:<{width}}  {value}")
        for error in errors:
            print(f"ERROR: {error}")
        return 1 if errors else 0
    finally:
        scratch_cleanup(scratch, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
