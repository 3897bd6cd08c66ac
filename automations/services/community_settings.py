"""A community's automation settings (``CommunityAutomation``): its event announcements,
its silence prompt and its spam guard. One write path, all or nothing; a change of the
announcements re-plans the community's upcoming ones once it has committed."""

from __future__ import annotations

from datetime import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.models import CommunityAutomation
from communities.models import Community, Rule, RuleKind

FIELDS = (
    "announce_day_before",
    "announce_day_before_at",
    "announce_minutes_before",
    "silence_prompt",
    "spam_enabled",
    "spam_links",
    "spam_phones",
    "spam_words",
    "flood_messages",
    "flood_seconds",
    "spam_rule",
)
ANNOUNCEMENT_FIELDS = ("announce_day_before", "announce_day_before_at", "announce_minutes_before")
MAX_MINUTES_BEFORE = 24 * 60
FLOOD_SECONDS = (5, 3600)
FLOOD_MESSAGES = (2, 200)
MAX_WORDS = 200
MAX_WORD_LENGTH = 50
MAX_PROMPT = 1000


def community_automation_get(*, community: Community) -> CommunityAutomation:
    """The community's settings, or the defaults (unsaved) when it has none yet."""
    return CommunityAutomation.objects.filter(community=community).first() or CommunityAutomation(
        community=community
    )


def _words(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _validate(community: Community, values: dict) -> dict:
    errors: dict[str, list[str]] = {}

    def error(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    minutes = values["announce_minutes_before"]
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES_BEFORE:
        error(
            "announce_minutes_before",
            _("Choose between 1 and %(most)s minutes, or leave it empty.")
            % {"most": MAX_MINUTES_BEFORE},
        )
    if values["announce_day_before"] and not isinstance(values["announce_day_before_at"], time):
        error("announce_day_before_at", _("Choose the time of the day-before announcement."))
    if len(values["silence_prompt"]) > MAX_PROMPT:
        error(
            "silence_prompt",
            _("Keep the prompt under %(most)s characters.") % {"most": MAX_PROMPT},
        )
    messages, seconds = values["flood_messages"], values["flood_seconds"]
    if (messages is None) != (seconds is None):
        error(
            "flood_seconds",
            _("Give both the number of messages and the seconds, or leave both empty."),
        )
    if seconds is not None and not FLOOD_SECONDS[0] <= seconds <= FLOOD_SECONDS[1]:
        error(
            "flood_seconds",
            _("Choose between %(least)s and %(most)s seconds.")
            % {"least": FLOOD_SECONDS[0], "most": FLOOD_SECONDS[1]},
        )
    if messages is not None and not FLOOD_MESSAGES[0] <= messages <= FLOOD_MESSAGES[1]:
        error(
            "flood_messages",
            _("Choose between %(least)s and %(most)s messages.")
            % {"least": FLOOD_MESSAGES[0], "most": FLOOD_MESSAGES[1]},
        )
    words = _words(values["spam_words"])
    if len(words) > MAX_WORDS:
        error("spam_words", _("List at most %(most)s ad words.") % {"most": MAX_WORDS})
    if any(len(word) > MAX_WORD_LENGTH for word in words):
        error(
            "spam_words",
            _("Keep each ad word under %(most)s characters.") % {"most": MAX_WORD_LENGTH},
        )
    rule = values["spam_rule"]
    if rule is not None and (
        not isinstance(rule, Rule)
        or rule.community_id != community.pk
        or rule.kind != RuleKind.FORBIDDEN
    ):
        error("spam_rule", _("Choose one of this community's forbidden behaviours."))
    if errors:
        raise ValidationError(errors)
    values["spam_words"] = "\n".join(dict.fromkeys(words))
    values["silence_prompt"] = values["silence_prompt"].strip()
    return values


def community_automation_update(*, community: Community, data: dict) -> CommunityAutomation:
    """Save the community's settings from ``data`` (the names in ``FIELDS``; those left out
    keep their value). Raises ``ValidationError`` and writes nothing on bad input."""
    with transaction.atomic():
        settings = CommunityAutomation.objects.select_for_update().filter(
            community=community
        ).first() or CommunityAutomation(community=community)
        before = {name: getattr(settings, name) for name in ANNOUNCEMENT_FIELDS}
        values = {name: data.get(name, getattr(settings, name)) for name in FIELDS}
        if values["announce_day_before_at"] is None and not values["announce_day_before"]:
            values["announce_day_before_at"] = settings.announce_day_before_at
        values["silence_prompt"] = values["silence_prompt"] or ""
        values["spam_words"] = values["spam_words"] or ""
        values = _validate(community, values)
        for name, value in values.items():
            setattr(settings, name, value)
        settings.updated_at = timezone.now()
        settings.full_clean()
        settings.save()
        if before != {name: getattr(settings, name) for name in ANNOUNCEMENT_FIELDS}:
            transaction.on_commit(lambda: _resync(community))
    return settings


def _resync(community: Community) -> None:
    from automations.services.announcements import announcements_sync_community

    announcements_sync_community(community=community)
