"""Analytics benchmark: dashboards read from the rollups against the raw-event computation.

Run from the project root, on PostgreSQL (the database named in the URL is created,
and dropped at the end unless --keep, so it must be a throwaway one with "bench" in its
name)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/communityops_bench_analytics \\
        .venv/bin/python bench/analytics.py [--members 200000] [--events 20000000]

or without DATABASE_URL, on SQLite in a temporary VAR_DIR (never the developer's var/),
usually with ``--quick`` (20,000 members, 1,000,000 events, 10 communities).

It generates one large organisation straight into the tables (COPY on PostgreSQL,
``executemany`` in big transactions on SQLite; not the ORM): --members people in
--communities communities of very different sizes (a fifth of the people in two), each
community with its own trend over --days local days ending yesterday (growing, flat,
declining, and one silent for the last three weeks), a weekly and daily rhythm, members
arriving over the year and some drifting away (a few with a leave event), Zipf-like
activity within each community, and a join event and ``joined_on`` at each membership's
first appearance. Then it measures, in the same run:

- ``rollups_refresh_all()`` over the whole log (the nightly rebuild);
- server time (p50, p95 of --requests requests through the Django test client after
  3 warm-ups, signed in as a manager) of the overview (``/``) and of the community
  analytics page of the largest community (``/analytics/<slug>/``);
- the core metrics of that community (DAU/WAU/MAU, stickiness and 30-day events on the
  last day, 12 weekly cohorts × offsets 0…12 of retention, 12 weeks of lifecycle) read
  from the rollups by ``analytics.metrics``, and computed naively from ``ActivityEvent``
  with ORM queries; the two must agree; the ratios naive / page and naive / rollup read;
- one more day, today: --day-events events (100,000) spread over the communities through
  ``activities.ingest.ingest_events``, then ``rollups_refresh_touched()``.

It prints a table of results against the targets; it exits non-zero only on errors
(a failed request, a naive figure that disagrees with the rollups), not on a missed target.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where bench/calendar.py would
# shadow the standard library's calendar (which Django and dateutil import).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import argparse
import cProfile
import math
import pstats
import random
import statistics
import time
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from bench.scratch import scratch_cleanup, scratch_django

ROOT = Path(__file__).resolve().parent.parent
ZONE = "Asia/Shanghai"  # every community's zone: days and weeks are counted in it
OFFSET_SECONDS = 8 * 3600  # Asia/Shanghai has no DST: local = UTC + 8 h all year
SILENT_DAYS = 21  # the silent community's last weeks without activity
# (kind, weight, texts): one draw picks the kind and its text.
KINDS = (
    ("message", 78, [
        "今天的分享太有用了，谢谢老师！", "请问下周的线下活动在哪里报名？", "大家早上好☀️",
        "我也遇到了同样的问题，后来重启就好了", "收到，明天的会议我准时参加", "哈哈哈哈笑死我了",
        "Thanks for sharing, this is really helpful!", "Good morning everyone",
        "Does anyone know when the next meetup is?", "Agreed, let's discuss it on Friday.",
    ]),
    ("reply", 12, ["+1", "同意", "我觉得第二个方案更好", "Good point!", "谢谢🙏"]),
    ("reaction", 6, ["👍", "❤️", "😂", "🎉", "🙏"]),
    ("check_in", 2, ["打卡第12天 #早起", "打卡 #读书"]),
    ("post", 2, ["推荐一本书：《原则》 https://mp.weixin.qq.com/s/abc", "Slides: https://example.com/s"]),
)  # fmt: skip
# Relative activity per local hour (quiet nights, lunch and evening peaks) and weekday.
HOURS = (2, 1, 0.5, 0.3, 0.3, 0.5, 1.5, 4, 6, 7, 7, 7, 9, 7, 6, 6, 6, 6, 7, 9, 11, 11, 8, 4)
WEEKDAYS = (1.05, 1.0, 1.0, 1.0, 0.95, 0.8, 0.7)  # Monday … Sunday
SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞"
ENGLISH = ["Alice", "Ben", "Chloe", "David", "Emma", "Frank", "Grace", "Henry", "Ivy", "Jack"]
TRENDS = (2.5, 1.0, 0.4, 1.6, 0.7)  # activity at the end of the year / at the start, cycled


class Plan:
    """The organisation to generate: who is in which community, when they arrive and go,
    and how many events each community has on each day. Ids are assigned here (members
    1…M, memberships 1…N), so rows are written with explicit keys."""

    def __init__(self, *, members: int, events: int, communities: int, days: int, seed: int):
        rng = self.rng = random.Random(seed)
        self.members, self.events, self.n_days = members, events, days
        self.silent = communities // 2 if communities > 1 else None
        sizes = [1 / (c + 1) ** 0.9 for c in range(communities)]  # community 0 is the largest
        self.trend = [TRENDS[c % len(TRENDS)] for c in range(communities)]
        # Who is where: a home community by size, and a fifth also in a second one.
        cum_sizes = list(accumulate(sizes))
        homes = rng.choices(range(communities), cum_weights=cum_sizes, k=members)
        self.roster: list[list[int]] = [[] for _ in range(communities)]  # member ids
        for member, home in enumerate(homes, start=1):
            self.roster[home].append(member)
        for member in rng.sample(range(1, members + 1), members // 5):
            other = rng.choices(range(communities), cum_weights=cum_sizes)[0]
            if other != homes[member - 1]:
                self.roster[other].append(member)
        # Per membership: Zipf weight (by a random rank), arrival and departure day
        # (indexes into the days; None: stays), and whether the departure is a "leave".
        self.weight: list[dict[int, float]] = []
        self.arrival: list[dict[int, int]] = []
        self.departure: list[dict[int, int]] = []
        self.leaver: list[set[int]] = []
        for c, roster in enumerate(self.roster):
            ranks = list(range(len(roster)))
            rng.shuffle(ranks)
            self.weight.append({m: 1 / (r + 3) for m, r in zip(roster, ranks, strict=True)})
            # Arrivals follow the trend: growing communities gain members through the year.
            cum_arrivals = list(accumulate(self.trend_at(c, d) for d in range(days)))
            founders = 0.6 if self.trend[c] < 1 else 0.35
            arrival, departure, leaver = {}, {}, set()
            p_leave = 0.5 if self.trend[c] < 1 else 0.2
            for m in roster:
                day = 0
                if rng.random() >= founders:
                    day = bisect_right(cum_arrivals, rng.random() * cum_arrivals[-1])
                arrival[m] = min(day, days - 1)
                if rng.random() < p_leave:
                    gone = arrival[m] + int(rng.expovariate(1 / 120)) + 7
                    if gone < days:
                        departure[m] = gone
                        if rng.random() < 0.4:
                            leaver.add(m)
            self.arrival.append(arrival)
            self.departure.append(departure)
            self.leaver.append(leaver)
        # Events per community and day: size × trend × weekday × noise, scaled to --events.
        intensity = [
            [
                0.0
                if c == self.silent and d >= days - SILENT_DAYS
                else sizes[c] * self.trend_at(c, d) * rng.lognormvariate(0, 0.15)
                for d in range(days)
            ]
            for c in range(communities)
        ]
        self.first_day: date | None = None  # set by dated(): weekdays need real dates
        self.community_ids: list[int] = []  # set once the communities exist
        self._intensity = intensity

    def trend_at(self, c: int, d: int) -> float:
        return self.trend[c] ** (d / max(1, self.n_days - 1))

    def dated(self, last_day: date) -> None:
        """Fix the calendar (the days end on ``last_day``) and the per-day event counts."""
        self.first_day = last_day - timedelta(days=self.n_days - 1)
        weekday = [
            WEEKDAYS[(self.first_day + timedelta(days=d)).weekday()] for d in range(self.n_days)
        ]
        raw = [[x * weekday[d] for d, x in enumerate(row)] for row in self._intensity]
        total = sum(map(sum, raw))
        self.counts, carry = [], 0.0
        for row in raw:
            counts = []
            for x in row:  # carry the rounding so the counts add up to --events exactly
                carry += x * self.events / total
                n = int(carry)
                carry -= n
                counts.append(n)
            self.counts.append(counts)
        self.counts[0][-1] += self.events - sum(map(sum, self.counts))


def utc_prefixes(plan: Plan) -> list[tuple[str, str]]:
    """Per local day: the UTC date prefixes of its first 8 hours and of the rest."""
    out = []
    for d in range(plan.n_days):
        day = plan.first_day + timedelta(days=d)
        out.append((f"{day - timedelta(days=1):%Y-%m-%d} ", f"{day:%Y-%m-%d} "))
    return out


def generate_events(plan: Plan, write_rows, *, suffix: str) -> dict:
    """Activity and membership events, day by day (the table fills in time order, as a
    live log does). ``write_rows(rows)`` receives each day's rows; ``suffix`` ends the
    UTC timestamps ("+00" for PostgreSQL, "" for SQLite's naive UTC text). Returns each
    membership's first and last appearance."""
    rng = plan.rng
    # Second of the local day → UTC "HH:MM:SS" + suffix, and the daily rhythm.
    hms = [
        f"{(s - OFFSET_SECONDS) % 86400 // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}{suffix}"
        for s in range(86400)
    ]
    seconds = range(86400)
    cum_seconds = list(accumulate(HOURS[s // 3600] for s in seconds))
    kind_texts = [(kind, text) for kind, _w, texts in KINDS for text in texts]
    cum_kinds = list(
        accumulate(w / len(texts) for _kind, w, texts in KINDS for _text in texts)
    )  # fmt: skip
    prefixes = utc_prefixes(plan)
    n_comm = len(plan.roster)
    first: list[dict[int, int]] = [{} for _ in range(n_comm)]  # member → local day index
    last: list[dict[int, str]] = [{} for _ in range(n_comm)]  # member → UTC timestamp
    pools: list[tuple[list[int], list[float]]] = [([], [])] * n_comm
    serial = 0
    for d in range(plan.n_days):
        if d % 7 == 0:  # who is around this week, and their Zipf weights
            for c in range(n_comm):
                arrival, departure, weight = plan.arrival[c], plan.departure[c], plan.weight[c]
                pool = [
                    m for m in plan.roster[c] if arrival[m] <= d + 6 and departure.get(m, d) >= d
                ]
                pools[c] = (pool, list(accumulate(weight[m] for m in pool)))
        early, late = prefixes[d]
        rows = []
        add = rows.append
        for c in range(n_comm):
            k = plan.counts[c][d]
            pool, cum = pools[c]
            if not k or not pool:
                continue
            community_id = plan.community_ids[c]
            seen, latest = first[c], last[c]
            senders = rng.choices(pool, cum_weights=cum, k=k)
            secs = sorted(rng.choices(seconds, cum_weights=cum_seconds, k=k))
            kinds = rng.choices(kind_texts, cum_weights=cum_kinds, k=k)
            for member, s, (kind, text) in zip(senders, secs, kinds, strict=True):
                at = (early if s < OFFSET_SECONDS else late) + hms[s]
                serial += 1
                if member not in seen:
                    seen[member] = d
                    add((community_id, member, "join", at, "import", f"j{serial}", ""))
                latest[member] = at
                add((community_id, member, kind, at, "import", f"e{serial}", text))
        write_rows(rows)
    # The few who leave say so (those who ever appeared, on their departure day).
    rows = []
    for c in range(n_comm):
        for member in sorted(plan.leaver[c]):
            gone = plan.departure[c][member]
            if member in first[c] and first[c][member] <= gone:
                at = prefixes[gone][1] + hms[21 * 3600]
                external_id = f"l{c}-{member}"
                rows.append((plan.community_ids[c], member, "leave", at, "import", external_id, ""))
    write_rows(rows)
    return {"first": first, "last": last}


def member_rows(plan: Plan, organization_id: int, now: str):
    rng = random.Random(7)
    for member in range(1, plan.members + 1):
        if member % 10 < 7:
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        else:
            name = f"{rng.choice(ENGLISH)} {chr(65 + rng.randrange(26))}."
        yield (member, organization_id, name, "", now)


def handle_rows(plan: Plan, organization_id: int):
    for member in range(1, plan.members + 1):
        yield (member, organization_id, member, "telegram", f"u{member}")


def membership_rows(plan: Plan, seen: dict, bottom_tiers: list[int], now: str):
    first, last = seen["first"], seen["last"]
    pk = 0
    for c, roster in enumerate(plan.roster):
        for member in roster:
            pk += 1
            day_index = first[c].get(member, plan.arrival[c][member])
            joined = str(plan.first_day + timedelta(days=day_index))
            status, left = "active", None
            gone = plan.departure[c].get(member)
            if member in plan.leaver[c] and member in first[c] and first[c][member] <= gone:
                status, left = "left", str(plan.first_day + timedelta(days=gone))
            yield (
                pk, plan.community_ids[c], member, status, joined, left, bottom_tiers[c],
                False, 0, last[c].get(member), now,
            )  # fmt: skip


# --- Naive: the same metrics straight from the raw events ------------------------------


def naive_metrics(community, day: date) -> dict:
    """DAU/WAU/MAU, stickiness and 30-day events on ``day``; 12 weekly cohorts × offsets
    0…12; 12 weeks of lifecycle: ORM queries over ActivityEvent, as one would write them
    without rollups (a distinct count per window, a query per cohort cell)."""
    from django.db.models import Count, Min
    from django.db.models.functions import TruncDate

    from activities.models import ACTIVITY_KINDS, ActivityEvent
    from analytics.rollups import COHORT_WEEKS, day_bounds, monday
    from members.models import Membership

    tz = ZoneInfo(community.time_zone)
    acts = ActivityEvent.objects.filter(community=community, kind__in=ACTIVITY_KINDS)

    def between(first: date, last: date):
        start, end = day_bounds(first, last, tz)
        return acts.filter(occurred_at__gte=start, occurred_at__lt=end)

    def distinct(first: date, last: date) -> int:
        return between(first, last).values("member_id").distinct().count()

    window = between(day - timedelta(days=29), day)
    dau_30 = sum(
        n
        for _d, n in window.annotate(d=TruncDate("occurred_at", tzinfo=tz))
        .values_list("d")
        .annotate(n=Count("member_id", distinct=True))
        .order_by()
    )
    mau = distinct(day - timedelta(days=29), day)
    out = {
        "dau": distinct(day, day),
        "wau": distinct(day - timedelta(days=6), day),
        "mau": mau,
        "events_30": window.count(),
        "stickiness": dau_30 / 30 / mau if mau else None,
    }
    # Retention: cohorts by join week (Membership.joined_on), activity per later week.
    last_week = monday(day)
    first_week = last_week - timedelta(weeks=11)
    cohorts = {}
    week = first_week
    while week <= last_week:
        members = (
            Membership.objects.filter(
                community=community, joined_on__gte=week, joined_on__lt=week + timedelta(days=7)
            )
            .exclude(status="applicant")
            .values("member_id")
        )
        size = members.count()
        retained = []
        for offset in range(COHORT_WEEKS + 1):
            start = week + timedelta(weeks=offset)
            if start > last_week:
                retained.append(None)
                continue
            retained.append(
                between(start, start + timedelta(days=6))
                .filter(member_id__in=members)
                .values("member_id")
                .distinct()
                .count()
                if size
                else 0
            )
        cohorts[week] = (size, retained)
        week += timedelta(weeks=1)
    out["retention"] = cohorts
    # Lifecycle: active sets per week, and each member's first activity ever.
    firsts = acts.values_list("member_id").annotate(at=Min("occurred_at")).order_by()
    first_active = {member_id: monday(at.astimezone(tz).date()) for member_id, at in firsts}
    active = {}
    week = first_week - timedelta(weeks=1)
    while week <= last_week:
        active[week] = set(
            between(week, week + timedelta(days=6)).values_list("member_id", flat=True).distinct()
        )
        week += timedelta(weeks=1)
    lifecycle = []
    week = first_week
    while week <= last_week:
        now, before = active[week], active[week - timedelta(weeks=1)]
        new = {m for m in now if first_active[m] == week}
        lifecycle.append(
            (week, len(now), len(new), len(now & before), len(now - before - new),
             len(before - now))
        )  # fmt: skip
        week += timedelta(weeks=1)
    out["lifecycle"] = lifecycle
    return out


def rollup_metrics(community, day: date) -> dict:
    from analytics import metrics

    ind = metrics.indicators(communities=[community], day=day)
    ret = metrics.retention(communities=[community], end=day, cohorts=12)
    life = metrics.lifecycle(communities=[community], start=day - timedelta(weeks=11), end=day)
    return {
        "dau": ind.dau,
        "wau": ind.wau,
        "mau": ind.mau,
        "events_30": ind.events_30,
        "stickiness": ind.stickiness,
        "retention": {c.week: (c.size, c.retained) for c in ret.cohorts},
        "lifecycle": [
            (w.week, w.active, w.new, w.returning, w.resurrecting, w.dormant) for w in life
        ],
    }


def differences(naive: dict, rolled: dict) -> list[str]:
    problems = []
    for key in ("dau", "wau", "mau", "events_30", "lifecycle"):
        if naive[key] != rolled[key]:
            problems.append(f"{key}: naive {naive[key]} ≠ rollups {rolled[key]}")
    if not math.isclose(naive["stickiness"] or 0, rolled["stickiness"] or 0, rel_tol=1e-9):
        problems.append(f"stickiness: naive {naive['stickiness']} ≠ {rolled['stickiness']}")
    for week, (size, retained) in naive["retention"].items():
        other = rolled["retention"].get(week)
        if (
            other is None
            or other[0] != size
            or [r or 0 for r in other[1]] != [r or 0 for r in retained]
        ):
            problems.append(f"cohort {week}: naive {size} {retained} ≠ rollups {other}")
    return problems


# --- Helpers ----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=20_000_000)
    parser.add_argument("--communities", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--day-events", type=int, default=100_000, help="the one more day")
    parser.add_argument("--naive-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--quick", action="store_true", help="20,000 members, 1,000,000 events, 10 communities"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--profile", action="store_true", help="profile one request of each page and the refresh"
    )
    args = parser.parse_args()
    if args.quick:
        args.members, args.events, args.communities = 20_000, 1_000_000, 10

    scratch = scratch_django("analytics")
    url = scratch.url
    from django import get_version

    django_version = get_version()
    import logging

    logging.getLogger("django.request").setLevel(logging.CRITICAL)  # errors: one line below
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from activities.ingest import ingest_events
    from activities.models import ActivityEvent, EventSource, TouchedDay
    from analytics.models import CommunityDay, MemberDay
    from analytics.rollups import rollups_refresh, rollups_refresh_all, rollups_refresh_touched
    from communities.services import community_create, organization_create, staff_user_create
    from members.models import Member, Membership, PlatformHandle, Tier

    postgres = connection.vendor == "postgresql"
    results: list[tuple[str, str, str, str]] = []  # (what, value, target, verdict)
    errors: list[str] = []
    try:
        call_command("migrate", verbosity=0, interactive=False)
        started = time.perf_counter()
        plan = Plan(
            members=args.members,
            events=args.events,
            communities=args.communities,
            days=args.days,
            seed=args.seed,
        )
        org = organization_create(name="Bench analytics", slug="bench-analytics")
        tz = ZoneInfo(ZONE)
        today = datetime.now(tz).date()
        plan.dated(today - timedelta(days=1))  # the year ends yesterday; today is "one more day"
        communities = [
            community_create(
                organization=org,
                name=f"社群 {c + 1:02d}" if c % 2 else f"Circle {c + 1:02d}",
                slug=f"c{c + 1:02d}",
                platform="telegram",
                time_zone=ZONE,
                created_on=plan.first_day - timedelta(days=plan.rng.randint(0, 60)),
            )
            for c in range(args.communities)
        ]
        plan.community_ids = [c.pk for c in communities]
        bottom = [
            Tier.objects.filter(community=c).order_by("rank").values_list("pk", flat=True)[0]
            for c in communities
        ]
        print(f"plan: {time.perf_counter() - started:.1f} s")

        now = f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}"
        tables = {
            "member": (Member._meta.db_table,
                "id, organization_id, display_name, notes, created_at"),
            "handle": (PlatformHandle._meta.db_table,
                "id, organization_id, member_id, platform, external_id"),
            "membership": (Membership._meta.db_table,
                "id, community_id, member_id, status, joined_on, left_on, tier_id, "
                "tier_set_by_staff, points_balance, last_active_at, created_at"),
            "event": (ActivityEvent._meta.db_table,
                "community_id, member_id, kind, occurred_at, source, external_id, text"),
        }  # fmt: skip
        written = defaultdict(int)
        started = time.perf_counter()
        if postgres:
            import psycopg
            from psycopg import sql

            raw = psycopg.connect(url)
            try:
                raw.execute("SET synchronous_commit = off")
                try:  # superuser: skip the foreign-key triggers for the load (ids are ours)
                    raw.execute("SET session_replication_role = replica")
                except psycopg.Error:
                    raw.rollback()
                    raw.execute("SET synchronous_commit = off")
                # Secondary indexes of the event log are built after the load, as for
                # any bulk load; the same definitions as the migration's.
                table = tables["event"][0]
                constraints = raw.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                    " WHERE conrelid = %s::regclass AND contype = 'u'",
                    [table],
                ).fetchall()
                indexes = raw.execute(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s"
                    " AND indexname NOT IN (SELECT conname FROM pg_constraint"
                    " WHERE conrelid = %s::regclass)",
                    [table, table],
                ).fetchall()
                for name, _definition in constraints:
                    raw.execute(
                        sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                            sql.Identifier(table), sql.Identifier(name)
                        )
                    )
                for name, _definition in indexes:
                    raw.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
                raw.commit()

                def copy_rows(kind: str, rows) -> None:
                    name, columns = tables[kind]
                    with raw.cursor().copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
                        write = copy.write_row
                        for row in rows:
                            write(row)
                            written[kind] += 1

                with raw.cursor().copy(
                    f"COPY {tables['event'][0]} ({tables['event'][1]}) FROM STDIN"
                ) as copy:
                    write = copy.write_row

                    def write_events(rows: list[tuple]) -> None:
                        for row in rows:
                            write(row)
                        written["event"] += len(rows)

                    seen = generate_events(plan, write_events, suffix="+00")
                raw.commit()
                generated = time.perf_counter() - started
                copy_rows("member", member_rows(plan, org.pk, now + "+00"))
                copy_rows("handle", handle_rows(plan, org.pk))
                copy_rows("membership", membership_rows(plan, seen, bottom, now + "+00"))
                for kind in ("member", "handle", "membership"):
                    raw.execute(
                        sql.SQL(
                            "SELECT setval(pg_get_serial_sequence({t}, 'id'), max(id)) FROM {i}"
                        ).format(t=sql.Literal(tables[kind][0]), i=sql.Identifier(tables[kind][0]))
                    )
                raw.commit()
                loaded = time.perf_counter() - started
                raw.execute("SET maintenance_work_mem = '1GB'")
                for name, definition in constraints:
                    raw.execute(
                        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(
                            sql.Identifier(table), sql.Identifier(name)
                        )
                        + sql.SQL(definition)
                    )
                for _name, definition in indexes:
                    raw.execute(sql.SQL(definition))
                raw.commit()
                indexed = time.perf_counter() - started
                raw.autocommit = True
                raw.execute("VACUUM ANALYZE")
            finally:
                raw.close()
            print(
                f"generated and COPYed {written['event']:,} event rows in {generated:.1f} s "
                f"({written['event'] / generated:,.0f} rows/s); members, handles, memberships "
                f"by {loaded:.1f} s; indexes by {indexed:.1f} s; "
                f"VACUUM ANALYZE by {time.perf_counter() - started:.1f} s"
            )
        else:
            with connection.cursor() as cursor, transaction.atomic():

                def insert(kind: str, rows) -> None:
                    name, columns = tables[kind]
                    marks = ", ".join(["%s"] * len(columns.split(",")))
                    statement = f"INSERT INTO {name} ({columns}) VALUES ({marks})"  # noqa: S608
                    batch = []
                    for row in rows:
                        batch.append(row)
                        if len(batch) >= 50_000:
                            cursor.executemany(statement, batch)
                            written[kind] += len(batch)
                            batch = []
                    if batch:
                        cursor.executemany(statement, batch)
                        written[kind] += len(batch)

                insert("member", member_rows(plan, org.pk, now))
                insert("handle", handle_rows(plan, org.pk))
                seen = generate_events(plan, lambda rows: insert("event", rows), suffix="")
                insert("membership", membership_rows(plan, seen, bottom, now))
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            generated = time.perf_counter() - started
            print(
                f"generated and inserted {written['event']:,} event rows in {generated:.1f} s "
                f"({written['event'] / generated:,.0f} rows/s, with members and memberships)"
            )
        activity = ActivityEvent.objects.exclude(kind__in=["join", "leave", "removed"]).count()
        print(
            f"organisation: {written['member']:,} members, {written['membership']:,} "
            f"memberships, {len(communities)} communities; {activity:,} activity events "
            f"+ {written['event'] - activity:,} joins/leaves, {plan.first_day} … "
            f"{plan.first_day + timedelta(days=plan.n_days - 1)} ({ZONE})"
        )

        started = time.perf_counter()
        rollups_refresh_all()
        full_refresh = time.perf_counter() - started
        print(
            f"rollups_refresh_all(): {full_refresh:.1f} s → {MemberDay.objects.count():,} "
            f"member-days, {CommunityDay.objects.count():,} community-days"
        )

        # The largest community (most memberships) is the one measured.
        largest = max(range(len(communities)), key=lambda c: len(plan.roster[c]))
        target = communities[largest]
        day = plan.first_day + timedelta(days=plan.n_days - 1)  # yesterday: a whole day

        staff_user_create(
            organization=org, username="bench-manager", password="bench-pass-1234",  # noqa: S106
            role="manager",
        )  # fmt: skip
        client = Client()
        client.force_login(
            get_user("bench-manager"), backend="django.contrib.auth.backends.ModelBackend"
        )
        page_target_ms = 150 if postgres else 300
        pages = {}
        for label, path in (
            ("overview", "/"),
            (f"community page ({target.slug})", f"/analytics/{target.slug}/"),
        ):
            try:
                response = client.get(path)
            except Exception as error:  # a page being written may still fail: report it
                errors.append(f"GET {path} raised {type(error).__name__}: {error}")
                print(f"{label}: GET {path} raised {type(error).__name__}: {error}")
                pages[label] = "error"
                continue
            if response.status_code == 404 and path != "/":
                print(f"{label}: GET {path} → 404: not available")
                pages[label] = None
                continue
            if response.status_code != 200:
                errors.append(f"GET {path} → {response.status_code}")
                pages[label] = None
                continue
            for _ in range(2):
                client.get(path)
            with QueryLog(connection) as queries:
                client.get(path)
            times = []
            for _ in range(args.requests):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    errors.append(f"GET {path} → {response.status_code}")
                    break
            pages[label] = (percentile(times, 50), percentile(times, 95), len(queries))
            if args.profile:
                profile_request(client, path, connection)

        # Metrics from the rollups vs straight from the events, for the same community.
        reads = []
        for _ in range(10):
            t0 = time.perf_counter()
            rolled = rollup_metrics(target, day)
            reads.append(time.perf_counter() - t0)
        read_s = statistics.median(reads)
        naive_times = []
        for _ in range(max(1, args.naive_runs)):
            t0 = time.perf_counter()
            naive = naive_metrics(target, day)
            naive_times.append(time.perf_counter() - t0)
        naive_s = statistics.median(naive_times)
        problems = differences(naive, rolled)
        for problem in problems:
            errors.append(f"naive ≠ rollups: {problem}")
        print(
            f"metrics of {target.slug} on {day}: DAU {naive['dau']:,}, WAU {naive['wau']:,}, "
            f"MAU {naive['mau']:,}, 30-day events {naive['events_30']:,}; naive and rollups "
            + ("agree" if not problems else f"DISAGREE ({len(problems)} differences)")
        )

        # One more day: today's events through the real ingestion path, then the refresh.
        day_events = day_batches(plan, communities, args.day_events, tz)
        started = time.perf_counter()
        created = 0
        for community, events in day_events:
            created += ingest_events(
                community=community, source=EventSource.WEBHOOK, events=events
            ).events_created
        ingest_s = time.perf_counter() - started
        touched = TouchedDay.objects.count()
        started = time.perf_counter()
        refreshed = rollups_refresh_touched()
        incremental_s = time.perf_counter() - started
        if args.profile:  # the same refresh again, profiled (the timing above is not)
            with QueryLog(connection) as log:
                profiler = cProfile.Profile()
                profiler.enable()
                for community in communities:
                    rollups_refresh(community=community, days=[today])
                profiler.disable()
            print_profile("refresh of today, every community", log, profiler)
        today_row = CommunityDay.objects.filter(community=target, day=today).first()
        if created != args.day_events or TouchedDay.objects.exists() or today_row is None:
            errors.append(
                f"one more day: {created} events created, {TouchedDay.objects.count()} marks "
                f"left, today's row for {target.slug}: {today_row}"
            )
        print(
            f"one more day ({today}): {created:,} events ingested in {ingest_s:.1f} s "
            f"({created / ingest_s:,.0f}/s), {touched} (community, day) marks; "
            f"rollups_refresh_touched(): {len(refreshed)} communities in {incremental_s:.2f} s"
            + (f"; today's DAU in {target.slug}: {today_row.dau:,}" if today_row else "")
        )

        # --- The table ---------------------------------------------------------------------
        with connection.cursor() as cursor:
            if postgres:
                cursor.execute("SHOW server_version")
                server = f"PostgreSQL {cursor.fetchone()[0]}"
            else:
                import sqlite3

                server = f"SQLite {sqlite3.sqlite_version}"
        print(f"\ndatabase: {server}; Django {django_version}; "
              f"Python {sys.version.split()[0]}; {args.requests} requests per page, "
              f"naive median of {len(naive_times)} runs")  # fmt: skip

        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        for label, figures in pages.items():
            what = f"{label} p50 / p95"
            if figures is None or figures == "error":
                value = "not available" if figures is None else "error (see below)"
                results.append((what, value, f"p95 < {page_target_ms} ms", "-"))
            else:
                p50, p95, n_queries = figures
                results.append(
                    (
                        what,
                        f"{p50:.1f} / {p95:.1f} ms ({n_queries} queries)",
                        f"p95 < {page_target_ms} ms",
                        verdict(p95 < page_target_ms),
                    )
                )
        community_page = pages.get(f"community page ({target.slug})")
        results.append(("naive metrics from events", f"{naive_s * 1000:,.0f} ms", "", ""))
        if isinstance(community_page, tuple):
            ratio = naive_s * 1000 / community_page[1]
            results.append(
                ("naive / community page p95", f"{ratio:,.0f}×", "≥ 50×", verdict(ratio >= 50))
            )
        else:
            results.append(("naive / community page p95", "not available", "≥ 50×", "-"))
        ratio = naive_s / read_s
        results.append(
            (
                "naive / rollup read (metrics)",
                f"{ratio:,.0f}× ({read_s * 1000:.1f} ms)",
                "≥ 50×",
                verdict(ratio >= 50),
            )
        )
        results.append(("rollups_refresh_all()", f"{full_refresh:.1f} s", "", ""))
        results.append(
            (
                f"incremental refresh of a day ({args.day_events:,} events)",
                f"{incremental_s:.2f} s",
                "< 10 s",
                verdict(incremental_s < 10),
            )
        )
        width = max(len(r[0]) for r in results)
        value_width = max(len(r[1]) for r in results)
        print(f"\n{'what':<{width}}  {'value':>{value_width}}  {'target':<14} verdict")
        for what, value, goal, ok in results:
            print(f"{what:<{width}}  {value:>{value_width}}  {goal:<14} {ok}")
        for error in errors:
            print(f"ERROR: {error}")
        return 1 if errors else 0
    finally:
        scratch_cleanup(scratch, keep=args.keep)


def get_user(username: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def day_batches(plan: Plan, communities, total: int, tz: ZoneInfo):
    """Today's ``total`` events, spread over the communities like yesterday's, from their
    members of the last week (and a few newcomers), between local midnight and now."""
    from activities.importers.base import IncomingEvent

    rng = random.Random(99)
    now = datetime.now(tz)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    span = (now - midnight).total_seconds()
    if span < 3600:  # just after midnight: spread over the whole day instead
        span = 86399
    weights = [max(plan.counts[c][-1], 0) for c in range(len(communities))]
    counts = [int(total * w / sum(weights)) for w in weights]
    counts[max(range(len(counts)), key=counts.__getitem__)] += total - sum(counts)
    batches = []
    serial = 0
    for c, community in enumerate(communities):
        if not counts[c]:
            continue
        last = plan.n_days - 1
        pool = [
            m
            for m in plan.roster[c]
            if plan.arrival[c][m] <= last and plan.departure[c].get(m, last) >= last - 6
        ]
        senders = rng.choices(pool, weights=[plan.weight[c][m] for m in pool], k=counts[c])
        offsets = sorted(rng.uniform(0, span) for _ in range(counts[c]))
        events = []
        for member, offset in zip(senders, offsets, strict=True):
            serial += 1
            key = f"u{member}" if rng.random() > 0.01 else f"new{serial % 500}"
            events.append(
                IncomingEvent(
                    external_id=f"today-{serial}",
                    kind=rng.choices(("message", "reply", "reaction"), (80, 14, 6))[0],
                    occurred_at=midnight + timedelta(seconds=offset),
                    member_key=key,
                    member_name=f"Newcomer {key}",
                    text="今天的分享太有用了",
                )
            )
        batches.append((community, events))
    return batches


class QueryLog:
    """The queries run on ``connection`` inside the block, with their times. (An execute
    wrapper: the test client's request_started signal resets Django's own query log.)"""

    def __init__(self, connection):
        self.connection = connection
        self.queries: list[tuple[float, str]] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - t0, sql))

    def __enter__(self):
        self._wrapping = self.connection.execute_wrapper(self)
        self._wrapping.__enter__()
        return self

    def __exit__(self, *exc):
        self._wrapping.__exit__(*exc)

    def __len__(self) -> int:
        return len(self.queries)


def profile_request(client, path: str, connection) -> None:
    """Where one request spends its time: the slowest queries, then cProfile."""
    with QueryLog(connection) as log:
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(path)
        profiler.disable()
    print_profile(f"GET {path}", log, profiler)


def print_profile(what: str, log: QueryLog, profiler: cProfile.Profile) -> None:
    total = sum(seconds for seconds, _sql in log.queries)
    print(f"\nprofile of {what}: {len(log)} queries, {total * 1000:.1f} ms in SQL; slowest:")
    for seconds, sql in sorted(log.queries, reverse=True)[:8]:
        print(f"  {seconds * 1000:7.1f} ms  {sql[:200]}")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    sys.exit(main())
