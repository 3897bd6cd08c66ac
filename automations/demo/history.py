"""The demo's outlets and a week of what was sent through them (the Actions pages).

Each demo community with a chat platform gets an outlet fitting it — a WeCom group robot
for WeChat and WeCom groups, a Telegram bot, a Slack or Discord webhook, a Feishu bot, a
generic JSON webhook (to a bridge) for QQ and WhatsApp — at the platform's real host, with
made-up credentials (nothing is ever sent to them: the history is written as the rows the
dispatcher and the workers would have written).

The week: a morning greeting every day (08:30 in each group's time, one action per time
zone and language) and the calendar's day-before announcements of the week's occurrences,
all sent, each request recorded with the platform's answer; among them one delivery that
failed once its retries were used up (500, 502, 503 …) and one whose answer never came
(unknown). One
action missed while the machine was off (with "send now"), and two upcoming ones.

Idempotent: a second run writes nothing (the missed action's ``source_key`` marks the
history); a group that has an outlet already keeps it and sends through it. Run it before
the rules' demo, whose messages go out through these outlets."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from activities.calendar.models import CalendarEntry
from activities.calendar.selectors import entry_slots
from automations.models import (
    ActionKind,
    ActionStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Outlet,
    OutletPlatform,
    ScheduledAction,
)
from communities.models import Community, Organization, Platform

DAYS = 7
MORNING = time(8, 30)
DAY_BEFORE = time(20, 0)
# Per community, at most this many of the week's announcements (a daily column would flood).
ANNOUNCEMENTS_PER_COMMUNITY = 3
TIMEOUT_DETAIL = "no answer before the timeout"
MARKER = "demo:history:missed"

# Outlets: (name, platform, url, token, chat_id, secret) by the community's platform.
OUTLETS = {
    Platform.WECHAT: ("企业微信群机器人", OutletPlatform.WECOM),
    Platform.WECOM: ("企业微信群机器人", OutletPlatform.WECOM),
    Platform.TELEGRAM: ("Telegram bot", OutletPlatform.TELEGRAM),
    Platform.SLACK: ("Slack #general webhook", OutletPlatform.SLACK),
    Platform.DISCORD: ("Discord #公告 webhook", OutletPlatform.DISCORD),
    Platform.FEISHU: ("飞书群机器人", OutletPlatform.FEISHU),
    Platform.QQ: ("QQ 群机器人（桥接）", OutletPlatform.WEBHOOK),
    Platform.WHATSAPP: ("WhatsApp bridge", OutletPlatform.WEBHOOK),
}

# What each platform answers to a message it took (a request's recorded answer).
SENT_ANSWERS = {
    OutletPlatform.WECOM: '{"errcode":0,"errmsg":"ok"}',
    OutletPlatform.FEISHU: (
        '{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}'
    ),
    OutletPlatform.SLACK: "ok",
    OutletPlatform.WEBHOOK: '{"status":"accepted"}',
}


def _fake_key(community: Community, length: int = 32) -> str:
    """A made-up credential, stable per community (hex)."""
    return hashlib.sha256(f"demo-outlet-{community.slug}".encode()).hexdigest()[:length]


def _outlet_fields(community: Community) -> dict | None:
    entry = OUTLETS.get(community.platform)
    if entry is None:
        return None
    name, platform = entry
    key = _fake_key(community)
    if platform == OutletPlatform.WECOM:
        uuid = f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:32]}"
        url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={uuid}"
        return {"name": name, "platform": platform, "url": url}
    if platform == OutletPlatform.TELEGRAM:
        token = f"7{int(key[:8], 16) % 10**9:09d}:AAF{_fake_key(community, 32)}"
        chat_id = f"-100{int(key[8:18], 16) % 10**10:010d}"
        return {
            "name": name,
            "platform": platform,
            "url": "https://api.telegram.org",
            "token": token,
            "chat_id": chat_id,
        }
    if platform == OutletPlatform.SLACK:
        team, hook = key[:8].upper(), key[8:16].upper()
        url = f"https://hooks.slack.com/services/T0{team}/B0{hook}/{key[16:40]}"
        return {"name": name, "platform": platform, "url": url}
    if platform == OutletPlatform.DISCORD:
        url = f"https://discord.com/api/webhooks/11{int(key[:16], 16) % 10**16:016d}/{key}{key}"
        return {"name": name, "platform": platform, "url": url}
    if platform == OutletPlatform.FEISHU:
        uuid = f"{key[:8]}-{key[8:12]}-{key[12:16]}-{key[16:20]}-{key[20:32]}"
        url = f"https://open.feishu.cn/open-apis/bot/v2/hook/{uuid}"
        return {"name": name, "platform": platform, "url": url, "secret": key[:24]}
    url = f"https://hooks.example.com/bridge/{community.slug}/{key[:16]}"
    return {"name": name, "platform": platform, "url": url, "secret": key[:32]}


def _sent_answer(outlet: Outlet, n: int) -> tuple[str, str]:
    """(answer text, message id) as the platform words a message it took."""
    if outlet.platform == OutletPlatform.TELEGRAM:
        message_id = str(4800 + n)
        chat = outlet.chat_id
        return (
            f'{{"ok":true,"result":{{"message_id":{message_id},"chat":{{"id":{chat},'
            f'"type":"supergroup"}},"date":1733000000}}}}',
            message_id,
        )
    if outlet.platform == OutletPlatform.DISCORD:
        message_id = f"13{n:017d}"
        return (f'{{"type":0,"id":"{message_id}","channel_id":"1181234567890123456"}}', message_id)
    return SENT_ANSWERS.get(outlet.platform, "ok"), ""


def _is_chinese(community: Community) -> bool:
    return community.announcement_language != "en"


def _local(day: date, at: time, zone: str) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone))


class _Writer:
    def __init__(self, organization: Organization, staff_user):
        self.organization = organization
        self.staff_user = staff_user
        self.counts = {"actions": 0, "deliveries": 0, "attempts": 0}
        self.n = 0

    def action(self, *, kind, title, text, due_at, communities, status, entry=None,
               source_key="", created_by=None) -> ScheduledAction | None:  # fmt: skip
        if source_key and self.keys_taken(source_key):
            return None
        action = ScheduledAction.objects.create(
            organization=self.organization,
            kind=kind,
            title=title,
            text=text,
            due_at=due_at,
            status=status,
            dispatched_at=due_at if status == ActionStatus.DISPATCHED else None,
            created_by=created_by,
            created_at=due_at - timedelta(days=1),
            entry=entry,
            source_key=source_key,
        )
        action.communities.set(communities)
        self.counts["actions"] += 1
        return action

    def keys_taken(self, key: str) -> bool:
        return ScheduledAction.objects.filter(
            organization=self.organization, source_key=key
        ).exists()

    def delivery(self, action, community, outlet, text, *, outcome="sent") -> Delivery:
        """A delivery with its requests: ``sent`` (one 200), ``failed`` (500, 502, 503),
        ``unknown`` (sent, no answer before the timeout)."""
        self.n += 1
        at = action.due_at + timedelta(seconds=1 + self.n % 7)
        delivery = Delivery(
            action=action, community=community, outlet=outlet, text=text, next_attempt_at=at
        )
        attempts = []
        if outcome == "sent":
            answer, message_id = _sent_answer(outlet, self.n)
            delivery.state = DeliveryState.SENT
            delivery.sent_at = at
            delivery.status_code, delivery.detail, delivery.message_id = 200, answer, message_id
            attempts = [(at, "sent", 200, answer)]
        elif outcome == "failed":
            answers = [
                (500, "Internal Server Error"),
                (502, "<html><head><title>502 Bad Gateway</title></head></html>"),
                (503, "Service Temporarily Unavailable"),
            ]
            # 500, 502, 503 … until the retries are used up (ACTIONS_MAX_ATTEMPTS), each
            # after the backoff's wait (2^n seconds and a little jitter).
            attempts, t = [], at
            for n in range(max(3, settings.ACTIONS_MAX_ATTEMPTS)):
                code, answer = answers[n % 3]
                attempts.append((t, "retry", code, answer))
                t += timedelta(seconds=2 ** (n + 1) * 1.1)
            delivery.state = DeliveryState.FAILED
            delivery.status_code, delivery.detail = attempts[-1][2], attempts[-1][3]
        else:
            delivery.state = DeliveryState.UNKNOWN
            delivery.detail = TIMEOUT_DETAIL
            attempts = [(at, "unknown", None, TIMEOUT_DETAIL)]
        delivery.attempts = len(attempts)
        delivery.last_attempt_at = attempts[-1][0]
        delivery.save()
        DeliveryAttempt.objects.bulk_create(
            DeliveryAttempt(delivery=delivery, at=t, outcome=o, status_code=code, detail=d)
            for t, o, code, d in attempts
        )
        self.counts["deliveries"] += 1
        self.counts["attempts"] += len(attempts)
        return delivery


def _morning_text(community: Community, day: date) -> str:
    if _is_chinese(community):
        return (
            f"早上好，{community.name}的朋友们！今天是{day.month}月{day.day}日。\n"
            "今日打卡开始啦：记得在群里分享一句今天最想做成的事。"
        )
    return (
        f"Good morning, {community.name}! It is {day:%A, %d %B}.\n"
        "Share one thing you want to get done today."
    )


def _announcement_text(community: Community, entry: CalendarEntry, starts_at: datetime) -> str:
    local = starts_at.astimezone(ZoneInfo(community.time_zone))
    if _is_chinese(community):
        return f"【活动预告】明天 {local:%H:%M}「{entry.title}」，欢迎准时参加！回复“参加”报名。"
    return f"Tomorrow at {local:%H:%M}: {entry.title}. See you there — reply “in” to join."


@transaction.atomic
def seed(organization: Organization, staff_user) -> dict:
    """Outlets for the organisation's chat groups and a week of sent messages; returns
    counts (``outlets``, ``actions``, ``deliveries``, ``attempts``). An announcement the
    calendar's announcer already made (the same ``source_key``) is left as it is."""
    communities = list(
        Community.objects.filter(organization=organization, archived=False).order_by("pk")
    )
    if ScheduledAction.objects.filter(organization=organization, source_key=MARKER).exists():
        return {"outlets": 0, "actions": 0, "deliveries": 0, "attempts": 0}
    outlets: dict[int, Outlet] = {}
    made = 0
    for community in communities:
        fields = _outlet_fields(community)
        if fields is None:
            continue  # an offline group: nothing to post to
        existing = community.outlets.filter(disabled_at__isnull=True).order_by("pk").first()
        if existing is not None:  # one added by hand, or by another demo part
            outlets[community.pk] = existing
            continue
        made += 1
        outlet = Outlet(
            community=community,
            created_by=staff_user,
            created_at=timezone.now() - timedelta(days=DAYS + 1),
            last_test_at=timezone.now() - timedelta(days=DAYS + 1),
            last_test_result="sent",
            **fields,
        )
        outlet.last_test_detail = _sent_answer(outlet, 0)[0]
        outlet.save()
        outlets[community.pk] = outlet
    reachable = [c for c in communities if c.pk in outlets]
    writer = _Writer(organization, staff_user)
    today = timezone.localdate(timezone=ZoneInfo(organization.time_zone))
    failed_done = unknown_done = False

    # The mornings: one action per (time zone, language), as a broadcast to those groups.
    groups: dict[tuple[str, bool], list[Community]] = {}
    for community in reachable:
        groups.setdefault((community.time_zone, _is_chinese(community)), []).append(community)
    for offset in range(DAYS, 0, -1):
        day = today - timedelta(days=offset)
        for (zone, chinese), members in groups.items():
            action = writer.action(
                kind=ActionKind.BROADCAST,
                title="每日早安分享" if chinese else "Morning check-in",
                text=_morning_text(members[0], day).replace(members[0].name, "{community}"),
                due_at=_local(day, MORNING, zone),
                communities=members,
                status=ActionStatus.DISPATCHED,
                created_by=staff_user,
            )
            for community in members:
                outcome = "sent"
                # Three days ago, the first Chinese group's robot kept answering 5xx.
                if offset == 3 and chinese and not failed_done:
                    outcome, failed_done = "failed", True
                writer.delivery(
                    action, community, outlets[community.pk], _morning_text(community, day),
                    outcome=outcome,
                )  # fmt: skip

    # The week's day-before announcements, from the demo calendar.
    start = timezone.now() - timedelta(days=DAYS - 1)
    end = timezone.now()
    entries = CalendarEntry.objects.filter(communities__in=reachable).distinct().order_by("pk")
    for community in reachable:
        done = 0
        for entry in entries.filter(communities=community):
            for slot in entry_slots(entry, start, end):
                if done >= ANNOUNCEMENTS_PER_COMMUNITY or slot.slot.cancelled:
                    continue
                local_day = slot.slot.starts_at.astimezone(ZoneInfo(community.time_zone)).date()
                due = _local(local_day - timedelta(days=1), DAY_BEFORE, community.time_zone)
                text = _announcement_text(community, entry, slot.slot.starts_at)
                action = writer.action(
                    kind=ActionKind.ANNOUNCEMENT,
                    title=entry.title,
                    text=text,
                    due_at=due,
                    communities=[community],
                    status=ActionStatus.DISPATCHED,
                    entry=entry,
                    source_key=f"announce:{slot.key}:{community.pk}:day-before",
                )
                if action is None:
                    continue
                outcome = "sent"
                if not unknown_done and community.platform == Platform.TELEGRAM:
                    outcome, unknown_done = "unknown", True
                writer.delivery(action, community, outlets[community.pk], text, outcome=outcome)
                done += 1
    if not unknown_done and reachable:
        # No calendar to announce from: the unknown delivery is a morning's, yesterday.
        community = reachable[-1]
        day = today - timedelta(days=1)
        action = writer.action(
            kind=ActionKind.BROADCAST,
            title="晚间话题" if _is_chinese(community) else "Evening topic",
            text=_morning_text(community, day),
            due_at=_local(day, time(21, 0), community.time_zone),
            communities=[community],
            status=ActionStatus.DISPATCHED,
            created_by=staff_user,
        )
        writer.delivery(action, community, outlets[community.pk], action.text, outcome="unknown")

    if reachable:
        _missed_and_upcoming(writer, reachable, today, staff_user)
    return {"outlets": made, **writer.counts}


def _missed_and_upcoming(writer: _Writer, reachable, today: date, staff_user) -> None:
    chinese = [c for c in reachable if _is_chinese(c)] or reachable
    first = chinese[0]
    zone = first.time_zone
    # Yesterday evening the machine was off: the reminder's time passed beyond the grace.
    writer.action(
        kind=ActionKind.BROADCAST,
        title="本周共读进度提醒",
        text="各位书友晚上好！本周共读进度：请读完第 5–8 章，周六晚上一起讨论。",
        due_at=_local(today - timedelta(days=1), time(19, 30), zone),
        communities=chinese[:2],
        status=ActionStatus.MISSED,
        created_by=staff_user,
        source_key=MARKER,  # also what tells a second run that the history is there
    )
    tomorrow = today + timedelta(days=1)
    writer.action(
        kind=ActionKind.BROADCAST,
        title="每日早安分享",
        text=_morning_text(first, tomorrow).replace(first.name, "{community}"),
        due_at=_local(tomorrow, MORNING, zone),
        communities=chinese,
        status=ActionStatus.SCHEDULED,
        created_by=staff_user,
    )
    # The day-before announcement of the first group's next occurrence, when it has one.
    now = timezone.now()
    for entry in CalendarEntry.objects.filter(communities=first).order_by("pk"):
        for slot in entry_slots(entry, now + timedelta(days=1), now + timedelta(days=8)):
            if slot.slot.cancelled:
                continue
            local_day = slot.slot.starts_at.astimezone(ZoneInfo(zone)).date()
            due = _local(local_day - timedelta(days=1), DAY_BEFORE, zone)
            if due <= now:
                continue
            writer.action(
                kind=ActionKind.ANNOUNCEMENT,
                title=entry.title,
                text=_announcement_text(first, entry, slot.slot.starts_at),
                due_at=due,
                communities=[first],
                status=ActionStatus.SCHEDULED,
                entry=entry,
                source_key=f"announce:{slot.key}:{first.pk}:day-before",
            )
            return
    writer.action(
        kind=ActionKind.BROADCAST,
        title="周六晚读书分享会",
        text="【活动预告】本周六晚上八点读书分享会，欢迎准时参加！回复“参加”报名。",
        due_at=_local(tomorrow, DAY_BEFORE, zone),
        communities=[first],
        status=ActionStatus.SCHEDULED,
        created_by=staff_user,
    )
