"""The demo's community automation settings, upcoming event announcements and one catch of
the spam guard (``manage.py seed_demo``).

- Settings (``CommunityAutomation``) through ``community_automation_update``: the spam guard
  on in the Chinese reading group (links, phone numbers, a few ad words, a flood of 8
  messages in 30 s) against its forbidden behaviour 「发广告…」; a silence prompt in the
  early risers' camp; English groups announce the day before at 19:00 and 60 minutes
  before; the rest keep the defaults (20:00 the day before, 30 minutes before).
- The demo calendar's announcements of the next 15 days, planned by
  ``announcements_sync_all`` exactly as the hourly task does (for the groups with an
  outlet: run it after the outlets' demo, ``automations.demo.history``).
- Three days ago an ad posted to the reading group through its bot: the event in the log
  (as the webhook writes it) and the guard's verdict on it — the ``SpamHit``, the violation
  of 「发广告…」 with its penalty, the notice to the moderators — made by the guard itself.

Idempotent: settings are set to the same values, the announcements are made once each, and
the ad is one event (its external id) judged once.
"""

from __future__ import annotations

from datetime import time, timedelta

from django.utils import timezone

from activities.hooks import LiveEvent
from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityEvent, EventSource
from automations.models import SpamHit
from automations.services.announcements import announcements_sync_all
from automations.services.community_settings import community_automation_update
from automations.services.spam import spam_check
from communities.models import Community, Organization, RuleKind
from members.models import PRESENT_STATUSES, Membership

SPAM_GROUP = "reading-50"
PROMPT_GROUP = "early-risers-camp"
ENGLISH = {"shanghai-runners", "design-guild", "sg-founders"}
AD_WORDS = "代购\n兼职日结\n刷单\n免费领取"
PROMPT = "早上好，{community}！今天{weekday}，你几点起的床？说说今天最想完成的一件事吧。"
AD_TEXT = (
    "兼职日结，在家动动手指每天300+，免费领取资料，加微信 wx_fuli888 或戳 https://t.cn/A6xq9Zk"
)
AD_ID = "demo-spam-1"


def _forbidden_ad_rule(community: Community):
    rules = community.rules.filter(kind=RuleKind.FORBIDDEN).order_by("position", "pk")
    return next(
        (rule for rule in rules if "广告" in rule.title or "advertis" in rule.title.lower()),
        None,
    )


def _settings(communities: dict[str, Community]) -> int:
    made = 0
    spam = communities.get(SPAM_GROUP)
    if spam is not None:
        community_automation_update(
            community=spam,
            data={
                "spam_enabled": True,
                "spam_links": True,
                "spam_phones": True,
                "spam_words": AD_WORDS,
                "flood_messages": 8,
                "flood_seconds": 30,
                "spam_rule": _forbidden_ad_rule(spam),
            },
        )
        made += 1
    prompt = communities.get(PROMPT_GROUP)
    if prompt is not None:
        community_automation_update(community=prompt, data={"silence_prompt": PROMPT})
        made += 1
    for slug in sorted(ENGLISH & set(communities)):
        community_automation_update(
            community=communities[slug],
            data={"announce_day_before_at": time(19, 0), "announce_minutes_before": 60},
        )
        made += 1
    return made


def _spam_catch(community: Community) -> int:
    """The ad of three days ago and the guard's verdict on it (once)."""
    event = ActivityEvent.objects.filter(
        community=community, source=EventSource.WEBHOOK, external_id=AD_ID
    ).first()
    if event is None:
        # A member with no violation yet (the demo's history gave some members strikes).
        membership = (
            Membership.objects.filter(community=community, status__in=PRESENT_STATUSES)
            .filter(violations__isnull=True)
            .select_related("member")
            .order_by("-joined_on", "pk")
            .first()
        )
        if membership is None:
            return 0
        when = (timezone.now() - timedelta(days=3)).replace(hour=12, minute=47, second=5)
        key = f"demo-member-{membership.member_id}"
        ingest_events(
            community=community,
            source=EventSource.WEBHOOK,
            events=[
                IncomingEvent(
                    external_id=AD_ID,
                    kind="message",
                    occurred_at=when,
                    member_key=key,
                    member_name=membership.member.display_name,
                    text=AD_TEXT,
                )
            ],
            known_members={key: membership.member_id},
        )
        event = ActivityEvent.objects.get(
            community=community, source=EventSource.WEBHOOK, external_id=AD_ID
        )
    if SpamHit.objects.filter(event_id=event.pk).exists():
        return 0
    live = LiveEvent(event.pk, event.member_id, event.kind, event.occurred_at, AD_TEXT)
    return len(spam_check(community=community, events=[live]))


def seed(organization: Organization, staff_user) -> dict:
    """Settings, upcoming announcements and the spam catch; returns what was made."""
    communities = {
        community.slug: community
        for community in organization.communities.filter(archived=False).select_related(
            "organization"
        )
    }
    settings_made = _settings(communities)
    announcements = announcements_sync_all()
    spam = _spam_catch(communities[SPAM_GROUP]) if SPAM_GROUP in communities else 0
    return {"settings": settings_made, "announcements": announcements, "spam_hits": spam}
