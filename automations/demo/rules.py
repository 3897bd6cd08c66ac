"""The demo's automation rules (``manage.py seed_demo``): a welcome message (on) and a
keyword auto-reply (「打卡规则」, on) for the Chinese groups, a re-engagement rule for
members inactive 14 days (off, with its dry-run to look at), and a week of firings — the
welcome for the week's real joins, a few auto-replies — each with the message it sent
(an action and its delivery, sent), so "last fired" and the counts show.

Idempotent: nothing is written to an organisation that has the demo's welcome rule."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from activities.models import ActivityEvent, ActivityKind
from automations.models import (
    ActionKind,
    ActionStatus,
    AutomationRule,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Outlet,
    RuleFiring,
    RuleTrigger,
    ScheduledAction,
)
from automations.placeholders import fill
from automations.services.rules import rule_create
from communities.models import Community, Organization
from members.models import PRESENT_STATUSES, Membership

WELCOME = "新人欢迎"
WELCOME_TEXT = "欢迎 {member} 加入{community}！先看看群公告，再跟大家打个招呼吧～"
KEYWORD = "打卡规则自动回复"
KEYWORD_TEXT = (
    "打卡规则：每天 22:00 前在群里发「#打卡 + 今天读了什么」，连续 21 天完成可退还决心金。"
)
REENGAGE = "唤醒 14 天未发言的成员"
MAX_WELCOMES = 12


def _chinese(organization: Organization) -> list[Community]:
    return list(
        Community.objects.filter(organization=organization, archived=False)
        .exclude(announcement_language="en")
        .order_by("pk")
    )


def _sent(
    rule: AutomationRule,
    community: Community,
    member,
    key: str,
    text: str,
    at,
    kind: str,
    staff_user,
) -> None:
    """One past firing and what it sent: the action, its delivery (sent) and its attempt."""
    filled = fill(
        text, community=community, at=at, member_name=member.display_name if member else ""
    )
    action = ScheduledAction.objects.create(
        organization=rule.organization,
        kind=kind,
        text=filled,
        due_at=at,
        status=ActionStatus.DISPATCHED,
        dispatched_at=at,
        created_at=at,
        rule=rule,
        title=rule.name,
        source_key=f"rule:{rule.pk}:{key}:0",
    )
    action.communities.set([community])
    outlet = (
        Outlet.objects.filter(community=community, disabled_at__isnull=True).order_by("pk").first()
    )
    sent_at = at + timedelta(seconds=2)
    delivery = Delivery.objects.create(
        action=action,
        community=community,
        outlet=outlet,
        state=DeliveryState.SENT if outlet else DeliveryState.FAILED,
        attempts=1 if outlet else 0,
        next_attempt_at=at,
        last_attempt_at=sent_at if outlet else None,
        sent_at=sent_at if outlet else None,
        status_code=200 if outlet else None,
        detail='{"errcode":0,"errmsg":"ok"}'
        if outlet
        else "This community has no enabled outlet to send through.",
    )
    if outlet:
        DeliveryAttempt.objects.create(
            delivery=delivery, at=sent_at, outcome="sent", status_code=200, detail=delivery.detail
        )
    RuleFiring.objects.create(
        rule=rule,
        community=community,
        member=member,
        key=key,
        fired_at=at,
        outcome=[
            {"type": "send", "ok": True, "text": f"已排队发往 {community.name}：{filled[:200]}"}
        ],
    )
    AutomationRule.objects.filter(pk=rule.pk).update(fire_count=F("fire_count") + 1)


@transaction.atomic
def seed(organization: Organization, staff_user) -> dict:
    """The three rules and a week of firings; returns counts (``rules``, ``firings``)."""
    if AutomationRule.objects.filter(organization=organization, name=WELCOME).exists():
        return {"rules": 0, "firings": 0}
    groups = _chinese(organization)
    if not groups:
        return {"rules": 0, "firings": 0}
    now = timezone.now()
    week_ago = now - timedelta(days=7)
    welcome = rule_create(
        organization=organization,
        by=staff_user,
        data={
            "name": WELCOME,
            "trigger": RuleTrigger.MEMBER_JOINED,
            "community_ids": [c.pk for c in groups],
            "enabled": True,
            "actions": [{"type": "send", "text": WELCOME_TEXT}],
        },
    )
    keyword = rule_create(
        organization=organization,
        by=staff_user,
        data={
            "name": KEYWORD,
            "trigger": RuleTrigger.KEYWORD,
            "config": {"keyword": "打卡规则", "cooldown_minutes": 30},
            "community_ids": [c.pk for c in groups],
            "enabled": True,
            "actions": [{"type": "send", "text": KEYWORD_TEXT}],
        },
    )
    rule_create(
        organization=organization,
        by=staff_user,
        data={
            "name": REENGAGE,
            "trigger": RuleTrigger.INACTIVE,
            "config": {"days": 14},
            "community_ids": [c.pk for c in groups],
            "enabled": False,
            "actions": [
                {"type": "checklist_item", "title": "私聊问候，问问最近在读什么"},
                {"type": "send", "text": "{member}，好久不见！下一场：{next_topic}"},
            ],
        },
    )
    # Switched on a week ago (their scans start there).
    AutomationRule.objects.filter(pk__in=[welcome.pk, keyword.pk]).update(
        updated_at=week_ago, created_at=week_ago
    )
    firings = 0
    joins = (
        ActivityEvent.objects.filter(
            community__in=groups,
            kind=ActivityKind.JOIN,
            occurred_at__gte=week_ago,
            occurred_at__lt=now - timedelta(minutes=5),
        )
        .select_related("member", "community")
        .order_by("-occurred_at")[:MAX_WELCOMES]
    )
    for event in joins:
        _sent(
            welcome,
            event.community,
            event.member,
            f"event:{event.pk}",
            WELCOME_TEXT,
            event.occurred_at + timedelta(seconds=3),
            ActionKind.WELCOME,
            staff_user,
        )
        firings += 1
    # A few auto-replies: members of the first groups asked for the check-in rules.
    for days_ago, community in zip((1, 3, 5), groups * 3, strict=False):
        membership = (
            Membership.objects.filter(community=community, status__in=PRESENT_STATUSES)
            .select_related("member")
            .order_by("pk")
            .first()
        )
        at = (now - timedelta(days=days_ago)).replace(second=0, microsecond=0)
        bucket = int(at.timestamp()) // (30 * 60)
        _sent(
            keyword,
            community,
            membership.member if membership else None,
            f"keyword:{community.pk}:{bucket}",
            KEYWORD_TEXT,
            at,
            ActionKind.AUTO_REPLY,
            staff_user,
        )
        firings += 1
    for rule in (welcome, keyword):
        last = RuleFiring.objects.filter(rule=rule).order_by("-fired_at").first()
        if last:
            AutomationRule.objects.filter(pk=rule.pk).update(last_fired_at=last.fired_at)
    return {"rules": 3, "firings": firings}
