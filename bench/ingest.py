"""Activity ingestion benchmark: the import path against a naive per-row ORM loop.

Run from the project root, on PostgreSQL (the database named in the URL is created,
and dropped at the end, so it must be a throwaway one with "bench" in its name)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/communityops_bench \\
        .venv/bin/python bench/ingest.py [--messages 1000000] [--members 20000] [--sample 5000]

or without DATABASE_URL, on SQLite in a temporary VAR_DIR (never the developer's var/).

It writes a generic-CSV export to a temporary directory, streamed row by row: --messages
activity rows (mostly messages, some replies, reactions, check-ins, posts) from --members
people with a Zipf-like activity distribution over 365 days, Chinese and English text,
explicit ids, +08:00 times, plus a join at each person's first appearance and a few
leaves (and rejoins). Then, each into its own organisation and community, it measures:

- the import path, ``activities.services.import_file(format="csv")``, on a file 1/4 the
  size and on the whole file (events/s; peak RSS growth of each, to show memory does
  not grow with the file), then a re-import of the whole file (all duplicates);
- a naive import of a --sample file with the same mix: per row, find or create the
  member, handle and membership through the services, skip a known id, and
  ``ActivityEvent(...).save()`` (one transaction for the whole loop, as the import).

- a PyWxDump export (a zip of --wx-rows rows, by default as many as --messages, in parts
  of 5,000 as PyWxDump writes them: one group chat of --wx-senders people, its mix of
  type_name labels, sysmsgtemplate joins, pats and recalls) through
  ``import_file(format="auto")``, and format recognition
  (``activities.importers.recognition.recognise``) on the same zip, timed alone: its
  share of the import time (limit 2 %).

It prints a table (path, events, seconds, events/s) and the ratio import/naive.
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
import csv
import io
import os
import pstats
import random
import resource
import time
import zipfile
from datetime import datetime, timedelta, timezone

from bench.scratch import scratch_cleanup, scratch_django

ROOT = Path(__file__).resolve().parent.parent
KINDS = (("message", 78), ("reply", 12), ("reaction", 6), ("check_in", 2), ("post", 2))
ZH = [
    "今天的分享太有用了，谢谢老师！",
    "请问下周的线下活动在哪里报名？",
    "我也遇到了同样的问题，后来重启就好了",
    "周末有人一起去爬山吗？",
    "收到，明天的会议我准时参加",
    "这个链接打不开，能再发一次吗",
    "哈哈哈哈笑死我了",
    "大家早上好☀️",
    "推荐一本书：《原则》，读完很有收获",
    "群里有做跨境电商的朋友吗，想请教一下物流",
    "已经按照步骤操作了，但是还是报错，截图发在下面",
    "感谢群主的整理，辛苦了🙏",
    "这个价格还是有点贵，有没有团购",
    "我觉得第二个方案更好，成本低一些，上线也快",
    "晚上八点直播，记得提前进直播间",
]
EN = [
    "Thanks for sharing, this is really helpful!",
    "Does anyone know when the next meetup is?",
    "Good morning everyone",
    "I pushed the fix, please review when you have time.",
    "Agreed, let's discuss it on Friday.",
    "Can someone resend the slides from yesterday's session?",
    "That's a great point, I hadn't thought of it that way.",
    "Welcome to the group!",
    "Here's the link: https://example.com/docs/getting-started",
    "I'll be 10 minutes late, start without me.",
    "We tried that in production and it doubled our latency, so be careful.",
    "Has anyone used the new API yet? Any gotchas?",
]
EMOJI = ["👍", "❤️", "😂", "🎉", "🙏", "👏", "🔥"]
SURNAMES, GIVEN = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗",
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂",
)
ENGLISH = ["Alice", "Ben", "Chloe", "David", "Emma", "Frank", "Grace", "Henry", "Ivy", "Jack"]
TZ = timezone(timedelta(hours=8))


def generate(path: Path, *, messages: int, members: int, seed: int) -> int:
    """Write the export; returns its row count. Only per-person state is kept."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=TZ).timestamp()
    mean_gap = 365 * 86400 / messages
    cum, total = [], 0.0
    for rank in range(members):  # Zipf-like: the person of rank r posts ~1/(r+3) as much
        total += 1 / (rank + 3)
        cum.append(total)
    order = list(range(members))
    rng.shuffle(order)  # ranks are not ids
    names = [
        rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        if person % 10 < 7  # seven in ten write Chinese
        else f"{rng.choice(ENGLISH)} {chr(65 + rng.randrange(26))}."
        for person in range(members)
    ]
    present: dict[int, bool] = {}  # person → in the group now
    kinds, weights = zip(*KINDS, strict=True)
    rows, t = 0, start
    with open(path, "w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(["occurred_at", "kind", "member_id", "member_name", "external_id", "text"])
        for done in range(0, messages, 10_000):
            k = min(10_000, messages - done)
            senders = rng.choices(order, cum_weights=cum, k=k)
            for n, (person, kind) in enumerate(
                zip(senders, rng.choices(kinds, weights, k=k), strict=True)
            ):
                t += rng.expovariate(1 / mean_gap)
                when = datetime.fromtimestamp(int(t), TZ)
                if when.hour < 7:  # quiet nights: push the message into the morning
                    when = when.replace(hour=7 + when.hour)
                at, key, name = when.isoformat(), f"user{100000 + person}", names[person]
                if not present.get(person):
                    present[person] = True
                    out.writerow([at, "join", key, name, f"j{done + n}", ""])
                    rows += 1
                pool = ZH if person % 10 < 7 else EN
                if kind == "reaction":
                    text = rng.choice(EMOJI)
                elif kind == "check_in":
                    text = f"打卡第{rng.randint(1, 100)}天 #早起"
                elif kind == "post":
                    text = f"{rng.choice(pool)} https://mp.weixin.qq.com/s/{rng.getrandbits(64):x}"
                else:
                    parts = rng.choices(pool, k=rng.choice((1, 1, 1, 2, 2, 3, 6)))
                    text = ("\n" if len(parts) > 3 else " ").join(parts)
                out.writerow([at, kind, key, name, f"m{done + n}", text])
                rows += 1
                if rng.random() < 0.0005:  # a few people leave (and may come back)
                    present[person] = False
                    out.writerow([at, "leave", key, name, f"l{done + n}", ""])
                    rows += 1
    return rows


# PyWxDump's export: a chat's rows in parts of 5,000 (pywxdump/api/export/exportCSV.py),
# type_name labels as its type_converter writes them, CreateTime as local time strings.
WX_HEADER = ["id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src",
             "CreateTime"]  # fmt: skip
WX_PART_ROWS = 5_000
WX_ROOM = "20881234567@chatroom"
# (type_name, weight, whether it becomes an event)
WX_KINDS = (
    ("文本", 66, True), ("图片", 8, True), ("语音", 3, True), ("动画表情", 6, True),
    ("视频", 1, True), ("引用回复", 7, True), ("(分享)卡片式链接", 2, True), ("文件", 1, True),
    ("(分享)小程序", 1, True), ("拍一拍", 2, False), ("消息撤回1", 1, False),
    ("系统通知", 1, False), ("语音通话", 1, False),
)  # fmt: skip
WX_JOIN_XML = (
    '<sysmsg type="sysmsgtemplate"><sysmsgtemplate><content_template type="tmpl_type_profile">'
    '<plain><![CDATA[]]></plain><template><![CDATA["$username$"邀请"$names$"加入了群聊]]>'
    '</template><link_list><link name="username" type="link_profile"><memberlist><member>'
    "<username><![CDATA[wxid_bench_owner]]></username><nickname><![CDATA[群主]]></nickname>"
    '</member></memberlist></link><link name="names" type="link_profile"><memberlist><member>'
    "<username><![CDATA[{wxid}]]></username><nickname><![CDATA[{name}]]></nickname></member>"
    "</memberlist><separator><![CDATA[、]]></separator></link></link_list></content_template>"
    "</sysmsgtemplate></sysmsg>"
)


def generate_pywxdump(path: Path, *, rows: int, senders: int, seed: int) -> tuple[int, int]:
    """Write a zip of PyWxDump parts of one group chat; returns (rows, events expected).
    Each person's first appearance is a join (sysmsgtemplate XML, or the plain-text line
    for every third), a few own messages (is_sender=1, talker "我"), Zipf-like senders."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=TZ).timestamp()
    mean_gap = 365 * 86400 / rows
    cum, total = [], 0.0
    for rank in range(senders):
        total += 1 / (rank + 3)
        cum.append(total)
    names = [
        rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        for _ in range(senders)
    ]
    wxids = [f"wxid_{rng.getrandbits(48):012x}" for _ in range(senders)]
    labels, weights, counted = zip(*WX_KINDS, strict=True)
    counts = dict(zip(labels, counted, strict=True))
    joined: set[int] = set()
    written = expected = 0
    t = start
    buffer: list[list] = []

    def row(type_name, is_sender, talker, msg, src=""):
        nonlocal written
        written += 1
        when = datetime.fromtimestamp(int(t), TZ).strftime("%Y-%m-%d %H:%M:%S")
        buffer.append([written, 7_300_000_000_000_000_000 + written * 7, type_name, is_sender,
                       talker, WX_ROOM, msg, src, when])  # fmt: skip

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:

        def flush() -> None:
            first = written - len(buffer)
            name = f"{WX_ROOM}_{first}_{first + WX_PART_ROWS}.csv"
            with archive.open(name, "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                out = csv.writer(text, quoting=csv.QUOTE_MINIMAL)
                out.writerow(WX_HEADER)
                out.writerows(buffer)
                text.flush()
                text.detach()
            buffer.clear()

        while written < rows:
            t += rng.expovariate(1 / mean_gap)
            person = rng.choices(range(senders), cum_weights=cum)[0]
            if person not in joined:
                joined.add(person)
                if person % 3:
                    msg = WX_JOIN_XML.format(wxid=wxids[person], name=names[person])
                    row("系统通知", 0, "未知", msg)
                else:
                    row("系统通知", 0, "未知", f'"群主"邀请"{names[person]}"加入了群聊')
                expected += 1
            else:
                type_name = rng.choices(labels, weights)[0]
                own = rng.random() < 0.05
                talker, is_sender = ("我", 1) if own else (wxids[person], 0)
                if type_name == "文本":
                    parts = rng.choices(ZH, k=rng.choice((1, 1, 1, 2, 3)))
                    msg = " ".join(parts)
                elif type_name == "引用回复":
                    msg = f"{rng.choice(ZH)}\n\n[引用](2025-01-01 10:00:00)某人:{rng.choice(ZH)}"
                elif type_name == "(分享)卡片式链接":
                    url = f"https://mp.weixin.qq.com/s/{rng.getrandbits(64):x}"
                    msg = f'{rng.choice(ZH)}\n摘要\n\n<a href="{url}">点击查看详情</a>'
                elif type_name == "拍一拍":
                    msg, talker, is_sender = f'"{names[person]}" 拍了拍 "群主"', "未知", 0
                elif type_name == "消息撤回1":
                    msg, talker, is_sender = f'"{names[person]}" 撤回了一条消息', "未知", 0
                elif type_name == "系统通知":
                    msg, talker, is_sender = f'"{names[person]}"修改群名为"读书会"', "未知", 0
                else:
                    msg = {"图片": "图片", "视频": "视频", "动画表情": "表情"}.get(type_name, "")
                    msg = msg or ("活动方案.pdf" if type_name == "文件" else type_name)
                row(type_name, is_sender, talker, msg)
                expected += counts[type_name]
            if len(buffer) == WX_PART_ROWS:
                flush()
        if buffer:
            flush()
    return written, expected


def rss_mb() -> float:
    """Current resident set size (Linux), else the peak."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return peak_mb()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument(
        "--wx-rows",
        type=int,
        default=None,
        help="rows of the PyWxDump zip (in parts of 5,000; default: as many as --messages)",
    )
    parser.add_argument("--wx-senders", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    parser.add_argument(
        "--profile", action="store_true", help="print where the full import spends its time"
    )
    args = parser.parse_args()

    scratch = scratch_django("ingest", keep_redis=True)
    work, url = scratch.work, scratch.url
    from django import get_version

    django_version = get_version()
    from django.core.management import call_command
    from django.db import connection, transaction

    from activities.models import ActivityEvent, EventSource
    from activities.services import import_file
    from communities.services import community_create, organization_create
    from members.models import Membership, MembershipStatus
    from members.services import member_create, member_find_by_handle, membership_create

    try:
        call_command("migrate", verbosity=0, interactive=False)

        def community(label: str, platform: str = "telegram"):
            org = organization_create(name=f"Bench {label}", slug=f"bench-{label}")
            return community_create(
                organization=org,
                name=f"读书会 {label}",
                platform=platform,
                time_zone="Asia/Shanghai",
            )

        full, quarter, sample = work / "full.csv", work / "quarter.csv", work / "sample.csv"
        started = time.perf_counter()
        rows = generate(full, messages=args.messages, members=args.members, seed=1)
        q_rows = generate(quarter, messages=args.messages // 4, members=args.members // 4, seed=2)
        s_members = max(1, round(args.members * args.sample / args.messages))
        s_rows = generate(sample, messages=args.sample, members=s_members, seed=3)
        print(
            f"export: {rows:,} rows ({full.stat().st_size / 2**20:.0f} MB), "
            f"1/4: {q_rows:,} rows, sample: {s_rows:,} rows; "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        wx_zip = work / "pywxdump_export.zip"
        started = time.perf_counter()
        wx_rows, wx_events = generate_pywxdump(
            wx_zip, rows=args.wx_rows or args.messages, senders=args.wx_senders, seed=4
        )
        with zipfile.ZipFile(wx_zip) as archive:
            wx_parts = len(archive.namelist())
            wx_unpacked = sum(info.file_size for info in archive.infolist())
        print(
            f"PyWxDump zip: {wx_rows:,} rows in {wx_parts} parts "
            f"({wx_zip.stat().st_size / 2**20:.0f} MB, {wx_unpacked / 2**20:.0f} MB unpacked), "
            f"{wx_events:,} events expected; written in {time.perf_counter() - started:.1f} s"
        )

        table, memory = [], []

        def run_import(
            label: str, target, path: Path, expected: int, created: int, format: str = "csv"
        ) -> float:
            base, peak = rss_mb(), [0.0]
            max_before = peak_mb()

            def on_progress(_fraction: float) -> None:
                peak[0] = max(peak[0], rss_mb() - base)

            profiler = cProfile.Profile() if args.profile and label.startswith("import (") else None
            started = time.perf_counter()
            if profiler:
                profiler.enable()
            outcome = import_file(
                community=target,
                format=format,
                path=path,
                on_progress=on_progress,
                original_name=path.name,
            )
            seconds = time.perf_counter() - started
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
            if not outcome.ok:
                for problem in outcome.problems[:10]:
                    print(f"  {problem.where}: {problem.message}")
                raise SystemExit(f"{label}: the import failed")
            if format == "auto" and outcome.format != "pywxdump":
                raise SystemExit(f"{label}: recognised as {outcome.format}")
            in_db = ActivityEvent.objects.filter(community=target).count()
            if outcome.result.events_created != created or in_db != expected:
                raise SystemExit(f"{label}: created {outcome.result.events_created}, {in_db} in DB")
            table.append((label, expected, seconds))
            memory.append((label, expected, max(peak[0], rss_mb() - base), peak_mb() - max_before))
            return seconds

        run_import("import 1/4 file", community("quarter"), quarter, q_rows, q_rows)
        target = community("full")
        run_import("import (COPY)" if url else "import", target, full, rows, rows)
        run_import("re-import (all duplicates)", target, full, rows, 0)

        # PyWxDump zip of parts, format recognised from the file (as the form's default);
        # recognition timed alone on the same zip, side by side.
        from activities.importers.recognition import recognise

        wx_label = f"PyWxDump zip, {wx_parts} parts"
        wx_seconds = run_import(
            wx_label, community("pywxdump", "wechat"), wx_zip, wx_events, wx_events, "auto"
        )
        timings = []
        for _ in range(21):
            started = time.perf_counter()
            assert recognise(wx_zip, wx_zip.name) == "pywxdump"
            timings.append(time.perf_counter() - started)
        recognition = sorted(timings)[len(timings) // 2]

        naive = community("naive")
        org = naive.organization
        started = time.perf_counter()
        with transaction.atomic(), open(sample, newline="", encoding="utf-8") as file:
            for row in csv.DictReader(file):
                when = datetime.fromisoformat(row["occurred_at"])
                member = member_find_by_handle(
                    organization=org, platform="telegram", external_id=row["member_id"]
                ) or member_create(
                    organization=org,
                    display_name=row["member_name"],
                    handles=[("telegram", row["member_id"])],
                )
                membership = Membership.objects.filter(
                    community=naive, member=member
                ).first() or membership_create(
                    community=naive, member=member, joined_on=when.date()
                )
                if ActivityEvent.objects.filter(
                    community=naive, source=EventSource.IMPORT, external_id=row["external_id"]
                ).exists():
                    continue
                ActivityEvent(
                    community=naive, member=member, kind=row["kind"], occurred_at=when,
                    source=EventSource.IMPORT, external_id=row["external_id"], text=row["text"],
                ).save()  # fmt: skip
                if row["kind"] == "leave":
                    membership.status, membership.left_on = MembershipStatus.LEFT, when.date()
                elif row["kind"] == "join":
                    membership.status, membership.left_on = MembershipStatus.ACTIVE, None
                else:
                    membership.last_active_at = when
                membership.save(update_fields=["status", "left_on", "last_active_at"])
        table.append(("naive ORM save() per row", s_rows, time.perf_counter() - started))
        assert ActivityEvent.objects.filter(community=naive).count() == s_rows

        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SHOW server_version")
                server = f"PostgreSQL {cursor.fetchone()[0]}"
            else:
                import sqlite3

                server = f"SQLite {sqlite3.sqlite_version}"
        print(f"database: {connection.vendor} ({server}); Django {django_version}; "
              f"Python {sys.version.split()[0]}")  # fmt: skip
        print(f"\n{'path':<28} {'events':>10} {'seconds':>9} {'events/s':>10}")
        for label, events, seconds in table:
            print(f"{label:<28} {events:>10,} {seconds:>9.2f} {events / seconds:>10,.0f}")
        speed = {label: events / seconds for label, events, seconds in table}
        fast = speed["import (COPY)" if url else "import"]
        print(f"\nratio import / naive: {fast / speed['naive ORM save() per row']:,.0f}×")
        share = recognition / wx_seconds
        print(
            f"format recognition of the PyWxDump zip: {recognition * 1000:.1f} ms (median of "
            f"{len(timings)}) against its import {wx_seconds:.2f} s: {share:.3%} of the import "
            f"time (limit 2 %: {'met' if share <= 0.02 else 'MISSED'})"
        )
        print("\nmemory (MB): rows, peak RSS above the start of the run, ru_maxrss growth")
        for label, events, in_run, maxrss in memory:
            print(f"  {label:<26} {events:>10,} {in_run:>8.1f} {maxrss:>8.1f}")
        target_speed = 50_000 if url else 20_000
        print(
            f"\ntarget ≥ {target_speed:,} events/s: {'met' if fast >= target_speed else 'MISSED'}"
        )
        return 0
    finally:
        scratch_cleanup(scratch, keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
