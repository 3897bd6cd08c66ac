"""Demo calendar for ``manage.py seed_demo``: a believable rhythm for every demo community.

Over the last 90 days and the next 30: a daily column, a weekly topic discussion, a
monthly guest talk relayed to three groups, offline meetups with a waitlist and two
no-shows, a moved and a cancelled occurrence, one check-in challenge finished and settled
(some deposits forfeited) and one running whose check-ins came from chat messages.
Attendance is taken over the last four weeks, at a rate of its own per community, so
action power differs visibly between them.

Everything goes through the calendar's services, except what only history can do: answers
given before an occurrence ended and participants who joined a challenge that has since
finished are written as the rows those services would have written at the time.
Idempotent: nothing is added to an organisation that has calendar entries already.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from django.utils import timezone

from activities.calendar import challenges, participation, services
from activities.calendar.models import (
    CalendarEntry,
    ChallengeParticipant,
    EntryKind,
    Participation,
    Response,
)
from activities.calendar.selectors import entry_slots
from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityKind, EventSource
from communities.models import Community, Organization, Penalty, RuleKind
from communities.services import rule_create
from members.models import DepositKind, Membership, MembershipStatus
from members.services import deposit_record

HISTORY_DAYS = 90
ATTENDANCE_WEEKS = 4

# Share of the invited who come to a call to action: what makes action power differ.
ATTENDANCE = {
    "reading-50": 0.32,
    "early-risers-camp": 0.5,
    "python-beijing": 0.06,
    "parents-hangzhou": 0.2,
    "indie-hackers-cn": 0.14,
    "shanghai-runners": 0.45,
    "design-guild": 0.25,
    "sg-founders": 0.6,
}

# slug: [(kind, title, description, RRULE, clock time, minutes, place)]
SERIES = {
    "reading-50": [
        (
            EntryKind.COLUMN,
            "每日早读·今日书摘",
            "群主每天早上发一段书摘和一个问题。",
            "FREQ=DAILY",
            time(7, 30),
            15,
            "",
        ),
        (
            EntryKind.TOPIC,
            "周四共读讨论：本周章节",
            "每周四晚围绕本周共读章节讨论，讨论后整理精华帖。",
            "FREQ=WEEKLY;BYDAY=TH",
            time(21, 0),
            30,
            "微信群内",
        ),
    ],
    "early-risers-camp": [
        (
            EntryKind.COLUMN,
            "早安晨报",
            "每天 6:00 发当天的早起之星和一句话。",
            "FREQ=DAILY",
            time(6, 0),
            10,
            "",
        ),
    ],
    "python-beijing": [
        (
            EntryKind.TOPIC,
            "周二技术话题：本周讨论",
            "每周二晚一个技术话题，欢迎带问题来。",
            "FREQ=WEEKLY;BYDAY=TU",
            time(20, 0),
            45,
            "企业微信群",
        ),
        (
            EntryKind.CLINIC,
            "月末答疑夜",
            "每月最后一个周四，老手在线答疑。",
            "FREQ=MONTHLY;BYDAY=-1TH",
            time(20, 30),
            60,
            "企业微信群",
        ),
    ],
    "parents-hangzhou": [
        (
            EntryKind.CLINIC,
            "周三育儿问答",
            "儿科医生志愿者每周三晚答疑。",
            "FREQ=WEEKLY;BYDAY=WE",
            time(20, 30),
            45,
            "QQ群",
        ),
    ],
    "indie-hackers-cn": [
        (
            EntryKind.COLUMN,
            "周一出海周报",
            "每周一早上的出海资讯与收入榜。",
            "FREQ=WEEKLY;BYDAY=MO",
            time(9, 0),
            15,
            "",
        ),
        (
            EntryKind.TOPIC,
            "周五复盘会",
            "每周五晚大家轮流复盘本周进展。",
            "FREQ=WEEKLY;BYDAY=FR",
            time(21, 0),
            60,
            "Discord 语音频道",
        ),
    ],
    "shanghai-runners": [
        (
            EntryKind.MEETUP,
            "Saturday long run",
            "Easy pace, 12–18 km along the river.",
            "FREQ=WEEKLY;BYDAY=SA",
            time(7, 0),
            120,
            "Xuhui Riverside, Longteng Ave",
        ),
    ],
    "design-guild": [
        (
            EntryKind.TOPIC,
            "Wednesday design crit",
            "Bring one screen; get three kind, honest notes.",
            "FREQ=WEEKLY;BYDAY=WE",
            time(18, 0),
            60,
            "#crit huddle",
        ),
    ],
    "sg-founders": [
        (
            EntryKind.MEETUP,
            "Friday founders breakfast",
            "Kaya toast and one intro each.",
            "FREQ=WEEKLY;BYDAY=FR",
            time(8, 0),
            90,
            "Tiong Bahru Bakery",
        ),
    ],
}

GUEST_TALK = (
    "月度嘉宾分享：从 0 到 1 做一个付费社群",
    "每月第二个周六晚，一位嘉宾的分享同时转播到三个群。",
    ["reading-50", "python-beijing", "indie-hackers-cn"],
)


def _first_on_rule(rule: str, earliest: date, at: time) -> date:
    """The first date on or after ``earliest`` that ``rule`` produces (a series starts on
    one of its own occurrences)."""
    start = datetime.combine(earliest, at)
    return du.rrulestr(rule, dtstart=start).after(start, inc=True).date()


def _members(community: Community) -> list[Membership]:
    return list(
        community.memberships.filter(status__in=(MembershipStatus.ACTIVE, MembershipStatus.LURKER))
        .select_related("member", "tier", "community")
        .order_by("pk")
    )


def _keen_first(members: list[Membership], rng: random.Random) -> list[Membership]:
    """Higher tiers and active members come first more often; lurkers rarely."""

    def weight(m: Membership) -> float:
        rank = m.tier.rank if m.tier_id else 1
        lurk = 0.2 if m.status == MembershipStatus.LURKER else 1.0
        return rng.random() * (0.5 + rank) * lurk

    return sorted(members, key=weight, reverse=True)


def _series(organization, communities, kind, title, description, rule, at, minutes, place, by):
    today = communities[0].local_today()
    start = _first_on_rule(rule, today - timedelta(days=HISTORY_DAYS), at)
    return services.entry_create(
        organization=organization,
        communities=communities,
        data={
            "kind": kind,
            "title": title,
            "description": description,
            "place": place,
            "start_date": start,
            "start_time": at,
            "duration_minutes": minutes,
            "rrule": rule,
        },
        by=by,
    )


def _take_attendance(entry: CalendarEntry, rng: random.Random, by, no_shows=()) -> int:
    """Attendance for the entry's occurrences that ended in the last four weeks, closed.

    ``no_shows`` said "going" to the latest of them and did not come.
    """
    now = timezone.now()
    ticks = 0
    window = entry_slots(entry, now - timedelta(weeks=ATTENDANCE_WEEKS), now)
    ended = [slot for slot in window if slot.ends_at <= now]
    for n, slot in enumerate(ended):
        occurrence = services.occurrence_for(entry=entry, original_start=slot.slot.original_start)
        absent = set()
        if no_shows and n == len(ended) - 1:
            answered = slot.starts_at - timedelta(days=2)
            Participation.objects.bulk_create(
                [
                    Participation(
                        occurrence=occurrence,
                        membership=m,
                        response=Response.GOING,
                        responded_at=answered,
                    )
                    for m in no_shows
                ]
            )
            absent = {m.pk for m in no_shows}
        for community in entry.communities.all():
            members = _members(community)
            rate = ATTENDANCE.get(community.slug, 0.2) * rng.uniform(0.75, 1.25)
            for membership in _keen_first(members, rng)[: round(len(members) * rate)]:
                if membership.pk in absent:
                    continue
                participation.attendance_set(
                    occurrence=occurrence, membership=membership, attended=True, by=by
                )
                ticks += 1
        participation.attendance_close(occurrence=occurrence, by=by)
    return ticks


def _past_meetup(community: Community, rng: random.Random, by) -> list[Membership]:
    """A meetup ten days ago: capacity 10, a waitlist that moved up, two no-shows, and the
    community's rule that two no-shows in 30 days are a violation. Returns the no-shows."""
    no_show_rule = rule_create(
        community=community,
        by=by,
        kind=RuleKind.FORBIDDEN,
        title="Booked a place and did not show",
        penalty=Penalty.WARNING,
        points=0,
    )
    attend_rule = community.rules.filter(kind=RuleKind.ENCOURAGED).first()
    participation.calendar_rules_save(
        community=community,
        data={"attendance_rule": attend_rule, "no_show_limit": 2, "no_show_rule": no_show_rule},
        by=by,
    )
    day = community.local_today() - timedelta(days=10)
    entry = services.entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": EntryKind.MEETUP,
            "title": "Half-marathon prep: pacing clinic + dim sum",
            "description": "Track session with the pacers, then lunch together.",
            "place": "Shanghai Stadium track, gate 3",
            "start_date": day,
            "start_time": time(9, 0),
            "duration_minutes": 180,
            "capacity": 10,
        },
        by=by,
    )
    occurrence = entry.occurrences.get()
    people = _keen_first(_members(community), rng)[:13]
    answered = occurrence.starts_at - timedelta(days=6)
    rows = [
        Participation(
            occurrence=occurrence,
            membership=membership,
            response=Response.GOING if n < 10 else Response.WAITLIST,
            responded_at=answered + timedelta(minutes=n * 7),
        )
        for n, membership in enumerate(people)
    ]
    # One of the ten declined two days before; the first on the waitlist moved up.
    rows[3].response = Response.DECLINED
    rows[3].responded_at = occurrence.starts_at - timedelta(days=2)
    rows[10].response = Response.GOING
    rows[10].promoted_at = rows[3].responded_at
    Participation.objects.bulk_create(rows)
    going = [r.membership for r in rows if r.response == Response.GOING]
    # The last two who said "going" did not come.
    for membership in going[:-2]:
        participation.attendance_set(
            occurrence=occurrence, membership=membership, attended=True, by=by
        )
    participation.attendance_close(occurrence=occurrence, by=by)
    return going[-2:]


def _upcoming_meetup(community: Community, rng: random.Random, by) -> None:
    """A meetup in twelve days, full, with three on the waitlist (answers recorded now)."""
    entry = services.entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": EntryKind.MEETUP,
            "title": "Sunday trail run + picnic",
            "description": "Sheshan loop, 14 km; bring something to share.",
            "place": "Sheshan National Forest Park, east gate",
            "start_date": community.local_today() + timedelta(days=12),
            "start_time": time(8, 0),
            "duration_minutes": 300,
            "capacity": 12,
        },
        by=by,
    )
    occurrence = entry.occurrences.get()
    people = _keen_first(_members(community), rng)
    for membership in people[:15]:
        participation.rsvp(
            occurrence=occurrence, membership=membership, response=Response.GOING, by=by
        )
    for membership in people[15:19]:
        participation.rsvp(
            occurrence=occurrence, membership=membership, response=Response.MAYBE, by=by
        )


def _exceptions(entry: CalendarEntry, by) -> None:
    """One occurrence moved a day later, the one after cancelled (a bank holiday)."""
    now = timezone.now()
    upcoming = entry_slots(entry, now + timedelta(days=3), now + timedelta(days=30))
    if len(upcoming) < 2:
        return
    moved, cancelled = upcoming[0], upcoming[1]
    zone = ZoneInfo(entry.time_zone)
    local = moved.starts_at.astimezone(zone)
    services.entry_update(
        entry=entry,
        scope=services.Scope.THIS,
        original_start=moved.slot.original_start,
        data={
            "start_date": local.date() + timedelta(days=1),
            "start_time": local.time().replace(tzinfo=None),
            "note": "Moved to Thursday: the studio is booked on Wednesday.",
        },
        by=by,
    )
    services.entry_cancel(
        entry=entry, scope=services.Scope.THIS, original_start=cancelled.slot.original_start, by=by
    )


def _reward_rule(community: Community, title: str, points: int, by):
    rule = community.rules.filter(kind=RuleKind.ENCOURAGED, title=title).first()
    return rule or rule_create(
        community=community, by=by, kind=RuleKind.ENCOURAGED, title=title, points=points
    )


def _finished_challenge(community: Community, rng: random.Random, by) -> None:
    """Seven days of early rising, finished three days ago and settled: most made it and got
    their deposit back with points; those who missed more than one day forfeited it."""
    today = community.local_today()
    challenge = challenges.challenge_create(
        community=community,
        data={
            "title": "7天早起挑战（第一期）",
            "description": "每天 7:00 前在群里发 #早起打卡 和起床时间。",
            "start_date": today - timedelta(days=10),
            "days": 7,
            "deadline": time(7, 0),
            "max_missed_days": 1,
            "deposit": "50.00",
            "keyword": "#早起打卡",
            "reward_rule": _reward_rule(community, "完成打卡挑战", 30, by),
        },
        by=by,
    )
    members = _keen_first(_members(community), rng)[:24]
    joined = timezone.now() - timedelta(days=12)
    for membership in members:  # joined before it started, deposit held then
        held = deposit_record(
            membership=membership,
            kind=DepositKind.HELD,
            amount=challenge.deposit,
            note=f"Deposit for the check-in challenge “{challenge.entry.title}”",
            by=by,
        )
        participant = ChallengeParticipant.objects.create(
            challenge=challenge, membership=membership, deposit_held=held, joined_at=joined
        )
        misses = rng.choices([0, 1, 2, 3], weights=[55, 25, 12, 8])[0]
        missed_days = set(rng.sample(range(7), misses))
        for offset in range(7):
            if offset not in missed_days:
                challenges.check_in(
                    challenge=challenge,
                    participant=participant,
                    day=challenge.start_date + timedelta(days=offset),
                    by=by,
                )
    challenges.challenge_settle(challenge=challenge)


def _running_challenge(community: Community, rng: random.Random, by) -> int:
    """21 days of reading, on day 9: participants post "#打卡" in the group and the imported
    chat fills the grid."""
    today = community.local_today()
    challenge = challenges.challenge_create(
        community=community,
        data={
            "title": "21天共读打卡",
            "description": "每天 23:00 前在群里发 #打卡 + 今天读的页数和一句感想。",
            "start_date": today - timedelta(days=8),
            "days": 21,
            "deadline": time(23, 0),
            "max_missed_days": 3,
            "keyword": "#打卡",
            "reward_rule": _reward_rule(community, "完成打卡挑战", 30, by),
        },
        by=by,
    )
    members = _keen_first(_members(community), rng)[:40]
    for membership in members:
        challenges.participant_add(challenge=challenge, membership=membership, by=by)
    zone = ZoneInfo(community.time_zone)
    now = timezone.now()
    lines = ["今天读了 {p} 页，{t}", "Day {d} 读完一章，{t}", "{p} 页，{t}"]
    thoughts = ["很有收获", "作者这段写得真好", "有点难，明天继续", "做了笔记"]
    events = []
    for membership in members:
        handle = membership.member.handles.first()
        if handle is None:
            continue
        keen = rng.uniform(0.55, 0.98)
        for offset in range(9):
            day = challenge.start_date + timedelta(days=offset)
            if rng.random() > keen:
                continue
            when = datetime.combine(day, time(rng.randint(7, 22), rng.randint(0, 59)), zone)
            if when > now:
                continue
            text = "#打卡 " + rng.choice(lines).format(
                p=rng.randint(10, 60), d=offset + 1, t=rng.choice(thoughts)
            )
            events.append(
                IncomingEvent(
                    f"demo:checkin:{community.slug}:{membership.member_id}:{day}",
                    ActivityKind.MESSAGE,
                    when,
                    handle.external_id,
                    membership.member.display_name,
                    text,
                )
            )
    ingest_events(community=community, source=EventSource.IMPORT, events=events)
    return len(events)


def seed_calendar(*, organization: Organization, staff_user) -> dict[str, int]:
    created = {"entries": 0, "attendance": 0, "challenges": 0}
    if CalendarEntry.objects.filter(organization=organization).exists():
        return created
    rng = random.Random(20261201)  # noqa: S311 - demo data, not security
    communities = {c.slug: c for c in organization.communities.filter(archived=False)}
    by = staff_user
    calls = []
    for slug, series in SERIES.items():
        community = communities.get(slug)
        if community is None:
            continue
        for kind, title, description, rule, at, minutes, place in series:
            entry = _series(
                organization, [community], kind, title, description, rule, at, minutes, place, by
            )
            created["entries"] += 1
            if kind != EntryKind.COLUMN:
                calls.append(entry)
    relayed = [communities[s] for s in GUEST_TALK[2] if s in communities]
    if relayed:
        talk = _series(
            organization,
            relayed,
            EntryKind.GUEST,
            GUEST_TALK[0],
            GUEST_TALK[1],
            "FREQ=MONTHLY;BYDAY=2SA",
            time(20, 0),
            90,
            "三群同步直播",
            by,
        )
        created["entries"] += 1
        calls.append(talk)
    runners = communities.get("shanghai-runners")
    no_shows = []
    if runners is not None:
        no_shows = _past_meetup(runners, rng, by)
        _upcoming_meetup(runners, rng, by)
        created["entries"] += 2
    for entry in calls:
        # The meetup's first no-show missed last Saturday's long run too: two in 30 days.
        missed = (
            no_shows[:1]
            if entry.kind == EntryKind.MEETUP and runners in list(entry.communities.all())
            else ()
        )
        created["attendance"] += _take_attendance(entry, rng, by, missed)
    design = CalendarEntry.objects.filter(
        organization=organization, communities__slug="design-guild", rrule__gt=""
    ).first()
    if design is not None:
        _exceptions(design, by)
    if "early-risers-camp" in communities:
        _finished_challenge(communities["early-risers-camp"], rng, by)
        created["challenges"] += 1
    if "reading-50" in communities:
        _running_challenge(communities["reading-50"], rng, by)
        created["challenges"] += 1
    return created
