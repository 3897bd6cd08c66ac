"""Demo activity: three months of believable chat history, through the real ingestion path.

Each demo community gets a shape that the dashboards will tell apart: a steady reading
club, a young and intense check-in camp, a tech group in decline, a growing founders'
community, a running club that meets at weekends, a design guild that fell silent nine
days ago and a breakfast club quiet for two days. Higher tiers talk more, lurkers
rarely, and nobody speaks before joining or after leaving. External ids are deterministic,
so seeding again adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityKind, EventSource, ImportRun
from activities.services import import_create, import_execute
from communities.models import Community, Organization
from communities.services import connector_create, connector_seen
from members.models import Membership, MembershipStatus

HISTORY_DAYS = 90

# slug: (events per member-day at full strength, strength by days ago → 0..1, silent days)
SHAPES = {
    "reading-50": (0.45, lambda ago: 0.9 + 0.1 * (ago < 30), 0),
    "early-risers-camp": (1.6, lambda ago: 1.0, 0),
    "python-beijing": (0.5, lambda ago: 1.0 if ago >= 28 else 0.4, 0),
    "parents-hangzhou": (0.55, lambda ago: 1.0, 0),
    "indie-hackers-cn": (0.35, lambda ago: 0.5 + 0.5 * (HISTORY_DAYS - ago) / HISTORY_DAYS, 0),
    "shanghai-runners": (0.3, lambda ago: 1.0, 0),
    "design-guild": (0.3, lambda ago: 1.0, 9),
    "sg-founders": (0.4, lambda ago: 0.8, 2),
}

LINES_ZH = [
    "今天读完了第三章，作者的观点很有启发",
    "打卡！早上 5:40 起床",
    "有人试过这个库吗？",
    "周末一起跑步的举手🙋",
    "分享一篇文章，讲社群冷启动的",
    "谢谢群主整理的资料👍",
    "晚上八点的分享会别忘了",
    "同问，我也遇到过",
]
LINES_EN = [
    "Morning all, who's in for Saturday?",
    "Great session yesterday, thanks!",
    "Sharing a write-up on our launch",
    "Any recommendations for a CRM?",
    "+1, same here",
    "Slides are in the drive",
]
ENGLISH = {"shanghai-runners", "design-guild", "sg-founders"}

# Kinds and their weights for a speaking member; runners also attend the weekend run.
KINDS = [
    (ActivityKind.MESSAGE, 60),
    (ActivityKind.REPLY, 20),
    (ActivityKind.REACTION, 12),
    (ActivityKind.POST, 4),
    (ActivityKind.CHECK_IN, 4),
]


def _propensity(membership: Membership, rng: random.Random) -> float:
    if membership.status == MembershipStatus.LURKER:
        return 0.05
    rank = membership.tier.rank if membership.tier_id else 1
    return rng.paretovariate(2.2) * (0.4 + 0.5 * rank) / 2


def _events(community: Community, rng: random.Random, today: date) -> Iterator[IncomingEvent]:
    rate, strength, silent_days = SHAPES[community.slug]
    tz = ZoneInfo(community.time_zone)
    lines = LINES_EN if community.slug in ENGLISH else LINES_ZH
    kinds, weights = zip(*KINDS, strict=True)
    memberships = list(
        community.memberships.select_related("tier").prefetch_related("member__handles")
    )
    start = max(community.created_on, today - timedelta(days=HISTORY_DAYS))
    for membership in memberships:
        handle = next(iter(membership.member.handles.all()), None)
        if handle is None:
            continue
        key, name = handle.external_id, membership.member.display_name
        prefix = f"demo:{community.slug}:{membership.member_id}"
        joined = max(membership.joined_on, community.created_on)
        yield IncomingEvent(
            f"{prefix}:join",
            ActivityKind.JOIN,
            datetime.combine(joined, time(9, rng.randint(0, 59)), tz),
            key,
            name,
        )
        last_day = today
        if membership.status in (MembershipStatus.LEFT, MembershipStatus.REMOVED):
            span = max((today - joined).days, 1)
            last_day = joined + timedelta(days=rng.randint(min(3, span), span))
            yield IncomingEvent(
                f"{prefix}:leave",
                ActivityKind.LEAVE,
                datetime.combine(last_day, time(22, rng.randint(0, 59)), tz),
                key,
                name,
            )
        propensity = _propensity(membership, rng)
        day = max(start, joined)
        while day <= last_day:
            ago = (today - day).days
            if ago >= silent_days:
                expected = rate * propensity * strength(ago)
                weekend_run = community.slug == "shanghai-runners" and day.weekday() == 5
                if weekend_run and rng.random() < min(0.6, propensity):
                    yield IncomingEvent(
                        f"{prefix}:{day}:run",
                        ActivityKind.ATTEND,
                        datetime.combine(day, time(7, 0), tz),
                        key,
                        name,
                    )
                count = int(expected) + (rng.random() < expected % 1)
                for n in range(count):
                    when = datetime.combine(
                        day, time(rng.choice([7, 8, 12, 13, 20, 21, 22]), rng.randint(0, 59)), tz
                    )
                    if silent_days and ago == silent_days:
                        when -= timedelta(hours=6)  # the last words before the silence
                    yield IncomingEvent(
                        f"{prefix}:{day}:{n}",
                        rng.choices(kinds, weights)[0],
                        when,
                        key,
                        name,
                        rng.choice(lines),
                    )
            day += timedelta(days=1)


def _whatsapp_export(community: Community) -> bytes:
    """A small WhatsApp export, so that the import history shows a real run."""
    today = community.local_today()
    lines = []
    for offset, (who, text) in enumerate(
        [
            ("Priya", "Morning! Breakfast at Tiong Bahru this Friday?"),
            ("Marcus Tan", "I'm in"),
            ("Priya", "Booked a table for 8"),
            ("Wei Ling", "Can I bring a friend who is raising a seed round?"),
        ]
    ):
        day = today - timedelta(days=20 - offset)
        lines.append(f"[{day:%d/%m/%Y}, 08:{10 + offset:02d}:00] {who}: {text}")
    return ("\n".join(lines) + "\n").encode()


def seed_activity(*, organization: Organization, staff_user) -> dict[str, int]:
    created = {"events": 0, "imports": 0, "connectors": 0}
    rng = random.Random(20261125)  # noqa: S311 - demo data, not security
    for community in organization.communities.filter(slug__in=SHAPES).order_by("slug"):
        if community.activity_events.exists():
            continue
        # Today's shape reaches into the evening; nothing is dated after the moment of seeding.
        now = timezone.now()
        result = ingest_events(
            community=community,
            source=EventSource.IMPORT,
            events=(
                event
                for event in _events(community, rng, community.local_today())
                if event.occurred_at <= now
            ),
        )
        created["events"] += result.events_created

    founders = organization.communities.filter(slug="sg-founders").first()
    if founders and not ImportRun.objects.filter(community=founders).exists():
        upload = SimpleUploadedFile(
            "WhatsApp Chat with SG Founders.txt", _whatsapp_export(founders)
        )
        run = import_create(
            community=founders,
            format="whatsapp",
            upload=upload,
            by=staff_user,
            language="en",
            enqueue=False,  # read now, by this process: the demo needs no worker
        )
        import_execute(run_id=run.pk)
        created["imports"] += 1

    reading = organization.communities.filter(slug="reading-50").first()
    if reading and not reading.connectors.exists():
        issued = connector_create(
            community=reading, name="企业微信机器人", platform=reading.platform, by=staff_user
        )
        connector_seen(connector=issued.connector)
        created["connectors"] += 1
    return created
