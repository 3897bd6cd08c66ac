"""The demo's recurring broadcasts (定时群发): a daily morning greeting to the Chinese
reading and early-risers groups, a Monday weekly report to several Chinese groups, and an
English weekly digest on Fridays, each with placeholders filled per community.

Made through ``services.broadcasts.broadcast_create`` (checked and planned like any other);
a second run finds them by name and makes nothing."""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone

from automations.models import Broadcast
from automations.services.broadcasts import broadcast_create
from communities.models import Organization

BROADCASTS = [
    {
        "name": "每日早安分享",
        "slugs": ["reading-50", "early-risers-camp"],
        "at_time": time(8, 30),
        "rrule": "FREQ=DAILY",
        "text": (
            "早上好，{community}的朋友们！今天是{date}，{weekday}。\n"
            "今日共读打卡开始啦：读完记得在群里分享一句最打动你的话。\n"
            "下一场活动：{next_topic}"
        ),
        "skip_if_quiet": False,
        "no_repeat": True,
    },
    {
        "name": "周一社群周报",
        "slugs": ["reading-50", "python-beijing", "parents-hangzhou", "indie-hackers-cn"],
        "at_time": time(10, 0),
        "rrule": "FREQ=WEEKLY;BYDAY=MO",
        "text": (
            "【{community} 周报 · {date}】\n"
            "本群现有 {members} 位成员，感谢大家上周的分享和互助。\n"
            "本周活动：{next_topic}\n"
            "欢迎在群里说说你上周的收获，也欢迎提名下周想聊的话题。"
        ),
        "skip_if_quiet": True,
        "no_repeat": True,
    },
    {
        "name": "Friday weekly digest",
        "slugs": ["shanghai-runners", "design-guild", "sg-founders"],
        "at_time": time(18, 0),
        "rrule": "FREQ=WEEKLY;BYDAY=FR",
        "text": (
            "Weekly digest for {community} — {weekday}, {date}\n"
            "We are {members} members now. Next up: {next_topic}\n"
            "Reply with your highlight of the week, and welcome everyone who joined!"
        ),
        "skip_if_quiet": True,
        "no_repeat": True,
    },
]


def seed(organization: Organization, staff_user) -> dict:
    """Returns ``{"broadcasts": [...]}`` (those made now or found from an earlier run)."""
    live = organization.communities.filter(archived=False).order_by("pk")
    made = []
    for spec in BROADCASTS:
        existing = Broadcast.objects.filter(organization=organization, name=spec["name"]).first()
        if existing is not None:
            made.append(existing)
            continue
        communities = list(live.filter(slug__in=spec["slugs"]))
        if not communities:  # an organisation without the demo's groups: its first ones
            communities = list(live[:2])
        if not communities:
            continue
        made.append(
            broadcast_create(
                organization=organization,
                by=staff_user,
                name=spec["name"],
                text=spec["text"],
                markdown=False,
                communities=communities,
                start_date=timezone.localdate() - timedelta(days=14),
                at_time=spec["at_time"],
                rrule=spec["rrule"],
                skip_if_quiet=spec["skip_if_quiet"],
                no_repeat=spec["no_repeat"],
            )
        )
    return {"broadcasts": made}
