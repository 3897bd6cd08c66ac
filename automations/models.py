"""What must be sent, when, and what became of each send (docs/architecture.md, "Act").

- An ``Outlet`` is a community's way *out*: a chat platform's robot or bot that CommunityOps
  posts to (the inbound bots' keys are ``communities.Connector``). Its credentials are
  kept server-side and never shown again once saved (the pages show their last characters).
- A ``ScheduledAction`` is the source of truth for something to send at a time, to one or
  more communities: the database decides what is due, Celery only carries it. Beat ticks
  the dispatcher every few seconds; it claims due actions transactionally and writes one
  ``Delivery`` per community.
- A ``Delivery`` is written with its idempotency key *before* its request and moves
  pending → sending → sent | rejected | failed | unknown. A worker that is handed it again
  reads the row first: never two sends of one delivery, and a request whose answer never
  came is *unknown* (shown to staff with "mark as sent" and "send again"), not retried
  blindly — except through a platform that honours the idempotency key.
"""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Organization


class OutletPlatform(models.TextChoices):
    WEBHOOK = "webhook", _("Generic JSON webhook")
    SLACK = "slack", _("Slack incoming webhook")
    DISCORD = "discord", _("Discord webhook")
    TELEGRAM = "telegram", _("Telegram bot")
    WECOM = "wecom", _("WeCom group robot (企业微信群机器人)")
    FEISHU = "feishu", _("Feishu / Lark custom bot")
    DINGTALK = "dingtalk", _("DingTalk custom robot (钉钉)")


class Outlet(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="outlets", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=80)
    platform = models.CharField(_("platform"), max_length=20, choices=OutletPlatform.choices)
    # Credentials: written once, never rendered back (``hint`` shows their end).
    url = models.CharField(_("webhook or API address"), max_length=2000)
    secret = models.CharField(_("signing secret"), max_length=256, blank=True)
    token = models.CharField(_("bot token"), max_length=256, blank=True)
    chat_id = models.CharField(_("chat id"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    # The platform's answer to the last test message, as staff saw it.
    last_test_at = models.DateTimeField(null=True, blank=True)
    last_test_result = models.CharField(max_length=20, blank=True)
    last_test_detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["community", "name", "pk"]
        verbose_name = _("outlet")
        verbose_name_plural = _("outlets")

    def __str__(self) -> str:
        return self.name


class ActionKind(models.TextChoices):
    BROADCAST = "broadcast", _("Broadcast")
    ANNOUNCEMENT = "announcement", _("Event announcement")
    CHECKLIST = "checklist", _("Checklist message")
    WELCOME = "welcome", _("Welcome message")
    AUTO_REPLY = "auto_reply", _("Keyword auto-reply")
    NUDGE = "nudge", _("Silence nudge")
    TEST = "test", _("Test message")


class ActionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Upcoming")
    DISPATCHED = "dispatched", _("Dispatched")  # deliveries written; see their states
    MISSED = "missed", _("Missed")  # its time passed while nothing ran, beyond the grace
    CANCELLED = "cancelled", _("Cancelled")


class ScheduledAction(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="scheduled_actions"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ActionKind.choices)
    text = models.TextField(_("text"))
    markdown = models.BooleanField(_("markdown"), default=False)
    due_at = models.DateTimeField(_("due at"))
    status = models.CharField(
        _("status"), max_length=12, choices=ActionStatus.choices, default=ActionStatus.SCHEDULED
    )
    communities = models.ManyToManyField(
        Community, related_name="scheduled_actions", verbose_name=_("communities")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    # What the action is shown as in lists ("Weekly digest", the event's title …).
    title = models.CharField(_("title"), max_length=200, blank=True)
    # Where a generated action came from; each is made once (see ``source_key``).
    # SET_NULL, not CASCADE: deleting a broadcast keeps the record of what it sent
    # (broadcast_delete removes its upcoming actions first).
    broadcast = models.ForeignKey(
        "Broadcast", on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    # An event announcement's calendar entry (the occurrence is in ``source_key``:
    # occurrences are expanded from the entry's rule and have no row of their own).
    entry = models.ForeignKey(
        "activities.CalendarEntry",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    rule = models.ForeignKey(
        "AutomationRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="scheduled_actions",
    )
    # A generated action's identity ("broadcast:12:20261201T0900:Europe/Berlin",
    # "announce:88-20261201T120000Z:day-before", "rule:5:event:1234"): one row per key
    # and organization, so two beats, a retried hook or a webhook posted twice make one
    # action, not two.
    source_key = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-due_at", "-pk"]
        verbose_name = _("scheduled action")
        verbose_name_plural = _("scheduled actions")
        indexes = [
            models.Index(fields=["due_at"], name="action_due", condition=Q(status="scheduled"))
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "source_key"],
                condition=~Q(source_key=""),
                name="action_source_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.due_at:%Y-%m-%d %H:%M}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    REJECTED = "rejected", _("Rejected")  # the platform refused it: not retried
    FAILED = "failed", _("Failed")  # retries used up
    UNKNOWN = "unknown", _("Unknown")  # sent, no answer: staff decide
    # Not sent on purpose (a broadcast's "skip a quiet group", "never the same text twice").
    SKIPPED = "skipped", _("Skipped")


TERMINAL_STATES = frozenset(
    {
        DeliveryState.SENT,
        DeliveryState.REJECTED,
        DeliveryState.FAILED,
        DeliveryState.UNKNOWN,
        DeliveryState.SKIPPED,
    }
)


def _new_key() -> str:
    return uuid.uuid4().hex


class Delivery(models.Model):
    action = models.ForeignKey(ScheduledAction, on_delete=models.CASCADE, related_name="deliveries")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    outlet = models.ForeignKey(
        Outlet, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    idempotency_key = models.CharField(max_length=64, unique=True, default=_new_key)
    state = models.CharField(
        _("state"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # When the connector's pace let it go (a reservation made once, kept across retries).
    slot_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("platform's status"), null=True, blank=True)
    detail = models.CharField(_("platform's answer"), max_length=500, blank=True)
    message_id = models.CharField(_("message id"), max_length=100, blank=True)
    # The text as sent to this community (placeholders filled); blank: the action's text.
    text = models.TextField(_("text"), blank=True)
    # Staff's decision on an unknown delivery ("mark as sent"), recorded.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["action", "community__name", "pk"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            # One delivery of an action per community.
            models.UniqueConstraint(fields=["action", "community"], name="delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="delivery_pending", condition=Q(state="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} → {self.community}: {self.get_state_display()}"


class DeliveryAttempt(models.Model):
    """One request of a delivery and what the platform answered (the retries' record)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.outcome} {self.at:%H:%M:%S}"


class Broadcast(models.Model):
    """定时群发: a text to one or many communities, once or on a recurrence.

    The time is local wall-clock time, placed in *each community's* zone: 09:00 is 09:00 in
    Berlin and 09:00 in Shanghai, across daylight-saving changes. Its occurrences become
    ``ScheduledAction`` rows a little ahead of time (one per occurrence and zone), made
    once each (``ScheduledAction.source_key``); the action rows decide what is sent.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="broadcasts"
    )
    name = models.CharField(_("name"), max_length=120)
    text = models.TextField(_("text"))
    markdown = models.BooleanField(_("markdown"), default=False)
    communities = models.ManyToManyField(
        Community, related_name="broadcasts", verbose_name=_("communities")
    )
    start_date = models.DateField(_("first day"))
    at_time = models.TimeField(_("local time"))
    # RFC 5545 RRULE ("FREQ=DAILY"); blank: once. Never more often than hourly.
    rrule = models.CharField(_("repeat rule"), max_length=400, blank=True)
    skip_if_quiet = models.BooleanField(
        _("skip a group with no activity since the last broadcast there"), default=False
    )
    no_repeat = models.BooleanField(
        _("never send the same text twice in a row to one group"), default=True
    )
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")

    def __str__(self) -> str:
        return self.name


def evening() -> time:
    """The day-before announcement's default local time, 20:00 (a callable: a fixed time
    default is what Django's check W161 warns about)."""
    return time(20, 0)


class CommunityAutomation(models.Model):
    """A community's own settings for what is sent or guarded automatically: event
    announcements before its calendar occurrences, and the spam guard."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="automation", primary_key=True
    )
    # Event announcements (the calendar's announcement text).
    announce_day_before = models.BooleanField(_("announce the day before"), default=True)
    announce_day_before_at = models.TimeField(
        _("time of the day-before announcement"), default=evening
    )
    announce_minutes_before = models.PositiveSmallIntegerField(
        _("announce this many minutes before (empty: not)"), null=True, blank=True, default=30
    )
    # Silence nudge: a topic prompt posted after 24 hours without activity (blank: none).
    silence_prompt = models.TextField(_("topic prompt after a silent day"), blank=True)
    # Spam guard: what counts as spam in a live message, and the rule it breaks.
    spam_enabled = models.BooleanField(_("spam guard on"), default=False)
    spam_links = models.BooleanField(_("links are spam"), default=True)
    spam_phones = models.BooleanField(_("phone numbers are spam"), default=True)
    spam_words = models.TextField(_("ad words, one per line"), blank=True)
    flood_messages = models.PositiveSmallIntegerField(
        _("flood: this many messages"), null=True, blank=True, default=8
    )
    flood_seconds = models.PositiveSmallIntegerField(
        _("flood: within this many seconds"), null=True, blank=True, default=30
    )
    spam_rule = models.ForeignKey(
        "communities.Rule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rule a spam message breaks"),
    )
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("community automation settings")
        verbose_name_plural = _("community automation settings")

    def __str__(self) -> str:
        return str(self.community)


class RuleTrigger(models.TextChoices):
    MEMBER_JOINED = "member_joined", _("A member joined")
    KEYWORD = "keyword", _("A message matched a keyword")
    SILENCE = "silence", _("No activity for more than 24 hours")
    INACTIVE = "inactive", _("A member inactive for N days")
    CHECK_IN_MISSED = "check_in_missed", _("A check-in was missed")
    ITEM_OVERDUE = "item_overdue", _("A checklist item is overdue")
    TIER_CHANGED = "tier_changed", _("A member's tier changed")
    VIOLATION = "violation", _("A violation was recorded")


class AutomationRule(models.Model):
    """Trigger → conditions → actions, as data that staff build in a form.

    ``trigger_config``: ``{"keyword": "…", "regex": false, "cooldown_minutes": 10}`` for
    keywords, ``{"days": 14}`` for inactivity. ``conditions``: ``{"tier_ids": […],
    "tag_ids": […]}`` (communities are the M2M; none means every community).
    ``actions``: a list of ``{"type": "send", "text": "…"}``, ``{"type": "notify"}``,
    ``{"type": "points", "points": 5}``, ``{"type": "tag", "tag_id": 3}``,
    ``{"type": "checklist_item", "title": "…"}``. A rule fires once per thing that
    triggers it (``RuleFiring``), and a dry-run replays the last 7 days without acting.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="automation_rules"
    )
    name = models.CharField(_("name"), max_length=120)
    trigger = models.CharField(_("trigger"), max_length=20, choices=RuleTrigger.choices)
    trigger_config = models.JSONField(_("trigger settings"), default=dict, blank=True)
    communities = models.ManyToManyField(
        Community, blank=True, related_name="automation_rules", verbose_name=_("communities")
    )
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    actions = models.JSONField(_("actions"), default=list)
    enabled = models.BooleanField(_("switched on"), default=False)
    last_fired_at = models.DateTimeField(_("last fired"), null=True, blank=True)
    fire_count = models.PositiveIntegerField(_("times fired"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("automation rule")
        verbose_name_plural = _("automation rules")

    def __str__(self) -> str:
        return self.name


class RuleFiring(models.Model):
    """One time a rule fired, and what it did: once per (rule, key) — the key names what
    triggered it ("event:1234", "silence:7:2026-12-01T08:00", "item:55")."""

    rule = models.ForeignKey(AutomationRule, on_delete=models.CASCADE, related_name="firings")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    key = models.CharField(max_length=200)
    fired_at = models.DateTimeField(default=timezone.now)
    # What was done, in words staff read (one line per action).
    outcome = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-fired_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], name="rule_fires_once")]
        indexes = [models.Index(fields=["rule", "-fired_at"], name="rule_firing_recent")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.key}"


class SpamHit(models.Model):
    """The spam guard's verdict on one live event: made once per event (a callback handed
    the same event again records nothing), with what it found and the violation recorded
    for it (none when the community names no rule that spam breaks)."""

    event_id = models.BigIntegerField(unique=True)  # the activities.ActivityEvent row
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(
        "members.Member", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    occurred_at = models.DateTimeField()
    # What was found: "link", "phone", "word", "flood".
    reasons = models.JSONField(default=list)
    flood = models.BooleanField(default=False)  # a flood was counted here (the next starts after)
    violation = models.ForeignKey(
        "members.Violation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["community", "member", "-occurred_at"], name="spam_hit_member")
        ]

    def __str__(self) -> str:
        return f"{self.event_id} {','.join(self.reasons)}"
