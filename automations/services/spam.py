"""The spam guard: live messages of a community checked for links, phone numbers, ad words
and floods; a hit records a violation of the community's spam rule (whose penalty the
rules define) and tells the community's moderators and the operators.

Called with the webhook's new events after they committed (``activities.hooks``,
registered in ``AutomationsConfig.ready``): never for an import. Each event is judged once:
its ``SpamHit`` row (``event_id`` unique) is written in the same transaction as the
violation, so an event handed over twice records nothing the second time.

What counts (kept modest on purpose: a guard that flags ordinary talk gets switched off):

- *links*: ``http://`` / ``https://`` addresses, ``www.`` names, common short-link hosts
  (``SHORT_LINK_HOSTS``), and the WeChat-style "add me" ads (``加V``, ``加微信``, ``加vx``,
  ``+V``: ``CONTACT_ADS``);
- *phone numbers*: mainland Chinese mobile numbers (11 digits, ``1[3-9]``…) and
  international ones (``+`` and 8–15 digits), spaces and dashes inside allowed;
- *ad words*: the community's list, compared after NFKC normalisation and case folding
  (full-width ``ＶＸ`` is ``vx``);
- *flood*: ``flood_messages`` messages by the member within ``flood_seconds``, counted from
  the event log (this one included); a flood is counted once: the next one needs as many
  messages again after it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from activities.hooks import LiveEvent
from activities.models import ActivityEvent, ActivityKind
from automations.models import CommunityAutomation, SpamHit
from automations.selectors.recipients import moderators_and_operators
from communities.models import Community
from communities.notifications import notify
from members.models import Member, Membership
from members.services import violation_record

CHECKED_KINDS = frozenset({ActivityKind.MESSAGE, ActivityKind.REPLY, ActivityKind.POST})

SHORT_LINK_HOSTS = (
    "t.cn",
    "url.cn",
    "dwz.cn",
    "suo.im",
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "is.gd",
    "t.me",
)
CONTACT_ADS = ("加v", "加微信", "加微", "加vx", "加wx", "+v", "加q", "加qq", "私聊加")

LINK = re.compile(
    r"https?://\S+|\bwww\.[a-z0-9-]+\.[a-z]{2,}\S*|\b(?:"
    + "|".join(re.escape(host) for host in SHORT_LINK_HOSTS)
    + r")/\S+",
    re.IGNORECASE,
)
# Digits may be split by spaces or dashes ("138 0013 8000", "+49 30-1234567").
CHINESE_MOBILE = re.compile(r"(?<![\d+])1[3-9](?:[ -]?\d){9}(?!\d)")
INTERNATIONAL = re.compile(r"(?<![\d+])\+\d(?:[ -]?\d){7,14}(?!\d)")

# What a hit says, by reason (the order the notice lists them in).
REASONS = {
    "link": gettext_noop("a link"),
    "phone": gettext_noop("a phone number"),
    "word": gettext_noop("an ad word"),
    "flood": gettext_noop("a flood of messages"),
}
MAX_EXCERPT = 200


def normalized(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


def ad_words(options: CommunityAutomation) -> list[str]:
    return [
        normalized(line.strip()) for line in (options.spam_words or "").splitlines() if line.strip()
    ]


def content_reasons(text: str, options: CommunityAutomation) -> list[str]:
    """What in ``text`` is spam under ``options`` (no flood: that needs the log)."""
    folded = normalized(text)
    reasons = []
    if options.spam_links and (LINK.search(folded) or any(ad in folded for ad in CONTACT_ADS)):
        reasons.append("link")
    if options.spam_phones and (CHINESE_MOBILE.search(folded) or INTERNATIONAL.search(folded)):
        reasons.append("phone")
    if any(word in folded for word in ad_words(options)):
        reasons.append("word")
    return reasons


def _flooding(community: Community, event: LiveEvent, options: CommunityAutomation) -> bool:
    if not (options.flood_messages and options.flood_seconds):
        return False
    since = event.occurred_at - timedelta(seconds=options.flood_seconds)
    last = (
        SpamHit.objects.filter(
            community=community,
            member_id=event.member_id,
            flood=True,
            occurred_at__gt=since,
            occurred_at__lte=event.occurred_at,
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )
    events = ActivityEvent.objects.filter(
        community=community,
        member_id=event.member_id,
        kind__in=CHECKED_KINDS,
        occurred_at__lte=event.occurred_at,
    )
    events = events.filter(occurred_at__gt=last) if last else events.filter(occurred_at__gt=since)
    return events.count() >= options.flood_messages


def spam_check(*, community: Community, events: list[LiveEvent]) -> list[SpamHit]:
    """Judge ``events`` (live, committed) of ``community``; returns the hits made now."""
    checked = [event for event in events if event.kind in CHECKED_KINDS]
    if not checked:
        return []
    options = CommunityAutomation.objects.filter(community=community, spam_enabled=True).first()
    if options is None:
        return []
    rule = options.spam_rule
    hits = []
    recipients = None
    for event in sorted(checked, key=lambda e: (e.occurred_at, e.event_id)):
        reasons = content_reasons(event.text, options)
        if _flooding(community, event, options):
            reasons.append("flood")
        if not reasons:
            continue
        if recipients is None:
            recipients = moderators_and_operators(community)
        hit = _record(community, event, reasons, rule, recipients)
        if hit is not None:
            hits.append(hit)
    return hits


def _evidence(community: Community, event: LiveEvent, reasons: list[str]) -> tuple[str, str]:
    with translation.override(community.organization.language):
        separator = "、" if translation.get_language().startswith("zh") else ", "
        found = separator.join(_(REASONS[reason]) for reason in reasons)
        evidence = _("Spam guard: %(found)s in a message at %(when)s.") % {
            "found": found,
            # The community's own clock, as its pages show times.
            "when": f"{event.occurred_at.astimezone(ZoneInfo(community.time_zone)):%Y-%m-%d %H:%M}",
        }
        # The message itself only where the organisation keeps message text.
        if community.organization.keep_message_text and event.text.strip():
            excerpt = event.text.strip()
            if len(excerpt) > MAX_EXCERPT:
                excerpt = excerpt[: MAX_EXCERPT - 1] + "…"
            evidence += "\n" + excerpt
        return evidence, found


def _record(community, event, reasons, rule, recipients) -> SpamHit | None:
    evidence, found = _evidence(community, event, reasons)
    member = Member.objects.filter(pk=event.member_id).only("pk", "display_name").first()
    try:
        with transaction.atomic():
            hit = SpamHit.objects.create(
                event_id=event.event_id,
                community=community,
                member=member,
                occurred_at=event.occurred_at,
                reasons=reasons,
                flood="flood" in reasons,
            )
            violation = None
            membership = Membership.objects.filter(
                community=community, member_id=event.member_id
            ).first()
            if rule is not None and membership is not None:
                try:
                    with transaction.atomic():
                        violation = violation_record(
                            membership=membership, rule=rule, evidence=evidence
                        )
                except ValidationError:
                    violation = None  # the rule is no longer a forbidden one of the community
            if violation is not None:
                hit.violation = violation
                hit.save(update_fields=["violation"])
            _notify(community, event, member, found, violation, recipients)
    except IntegrityError:
        return None  # judged before: this event was handed over again
    return hit


def _notify(community, event, member, found, violation, recipients) -> None:
    name = member.display_name if member else "?"
    params = {"community": community.name, "member": name, "found": found}
    if violation is not None:
        with translation.override(community.organization.language):
            params["penalty"] = str(violation.get_action_display())
        message = gettext_noop(
            "Spam in %(community)s from %(member)s (%(found)s): violation recorded, %(penalty)s."
        )
    else:
        message = gettext_noop(
            "Possible spam in %(community)s from %(member)s (%(found)s). "
            "No spam rule is set, so nothing was recorded."
        )
    url = (
        reverse("members:profile", args=[member.pk])
        if member is not None
        else reverse("communities:detail", kwargs={"community_slug": community.slug})
    )
    notify(
        recipients=recipients,
        message=message,
        subject=gettext_noop("Spam in %(community)s"),
        params=params,
        url=url,
        key=f"spam:{event.event_id}",
    )
