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

    class Meta:
        ordering = ["-due_at", "-pk"]
        verbose_name = _("scheduled action")
        verbose_name_plural = _("scheduled actions")
        indexes = [
            models.Index(fields=["due_at"], name="action_due", condition=Q(status="scheduled"))
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


TERMINAL_STATES = frozenset(
    {DeliveryState.SENT, DeliveryState.REJECTED, DeliveryState.FAILED, DeliveryState.UNKNOWN}
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
