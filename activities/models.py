"""The interaction-event log and the imports that fill it (docs/architecture.md §2 step 1).

``ActivityEvent`` is the one table that grows to tens of millions of rows, so it is kept
narrow: short codes for kind and source, a big-integer key, and only the indexes the
rollups need. Everything else (members, memberships) is resolved before a row is written.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Organization, validate_time_zone
from members.models import Member


class ActivityKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    REPLY = "reply", _("Reply")
    REACTION = "reaction", _("Reaction")
    CHECK_IN = "check_in", _("Check-in")
    POST = "post", _("Post or share")
    ATTEND = "attend", _("Attended an event")
    JOIN = "join", _("Joined")
    LEAVE = "leave", _("Left")
    REMOVED = "removed", _("Removed")


# docs/metrics.md: join, leave and removal are membership events, not activity.
MEMBERSHIP_KINDS = frozenset({ActivityKind.JOIN, ActivityKind.LEAVE, ActivityKind.REMOVED})
ACTIVITY_KINDS = frozenset(ActivityKind.values) - MEMBERSHIP_KINDS


class EventSource(models.TextChoices):
    IMPORT = "import", _("Import")
    WEBHOOK = "webhook", _("Webhook")
    MANUAL = "manual", _("Manual entry")


class ActivityEvent(models.Model):
    id = models.BigAutoField(primary_key=True)
    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="activity_events",
        verbose_name=_("community"),
        db_index=False,  # covered by the unique constraint and the time index below
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.CASCADE,
        related_name="activity_events",
        verbose_name=_("member"),
        db_index=False,  # covered by the (member, occurred_at) index
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    source = models.CharField(_("source"), max_length=10, choices=EventSource.choices)
    # The platform's message id, or a stable hash of the row when the source has none.
    external_id = models.CharField(_("external id"), max_length=200)
    # Kept for keyword rules; blank when the organisation drops message text.
    text = models.TextField(_("text"), blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("activity event")
        verbose_name_plural = _("activity events")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "source", "external_id"], name="activity_event_unique"
            )
        ]
        indexes = [
            # Rollups read one community's events over a range of days.
            models.Index(fields=["community", "occurred_at"], name="activity_comm_time"),
            # A member's history (profile page, per-member rollup corrections).
            models.Index(fields=["member", "occurred_at"], name="activity_member_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class TouchedDay(models.Model):
    """A (community, local day) whose events changed; analytics refreshes its rollups.

    Ingestion only marks; the analytics app picks the marks up and deletes them
    (docs/architecture.md §1: a lower app never calls a higher one).
    """

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "day"], name="touched_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.day}"


class ImportFormat(models.TextChoices):
    # The importer picks the format from the file (activities.importers.recognise).
    AUTO = "auto", _("Recognise the format from the file")
    CSV = "csv", _("Generic CSV")
    TELEGRAM = "telegram", _("Telegram Desktop export (JSON)")
    SLACK = "slack", _("Slack workspace export (zip)")
    DISCORD = "discord", _("DiscordChatExporter (JSON or CSV)")
    WHATSAPP = "whatsapp", _("WhatsApp chat export (.txt or .zip)")
    WECHAT = "wechat", _("WeChat: MemoTrace / WeChatMsg 2024 (CSV, one chat or all chats)")
    WXMANAGER = "wxmanager", _("WeChat: MemoTrace 2025 (CSV)")
    PYWXDUMP = "pywxdump", _("WeChat: PyWxDump (CSV, or a zip of its parts)")
    CHATLOG = "chatlog", _("WeChat: chatlog (CSV)")
    WECHAT_IOS = "wechat_ios", _("WeChat on iPhone: wechat-exporter (CSV or .csv.bz2)")
    ECHOTRACE = "echotrace", _("WeChat 4.0: EchoTrace (Excel .xlsx)")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ImportRun(models.Model):
    """One uploaded file and what became of it (the import history)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation")
    )
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="imports", verbose_name=_("community")
    )
    format = models.CharField(_("format"), max_length=10, choices=ImportFormat.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", blank=True)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    # Which chat or channel of a multi-chat export maps to this community.
    source_name = models.CharField(_("chat or channel"), max_length=200, blank=True)
    # Times written without a zone are read in this one; blank: the community's.
    time_zone = models.CharField(
        _("time zone of the file"), max_length=64, blank=True, validators=[validate_time_zone]
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    events_created = models.PositiveIntegerField(_("events created"), default=0)
    duplicates_skipped = models.PositiveIntegerField(_("duplicates skipped"), default=0)
    members_created = models.PositiveIntegerField(_("members created"), default=0)
    rows_rejected = models.PositiveIntegerField(_("rows rejected"), default=0)
    # Rows or lines left out on purpose, by reason code: {"pat": 3, "recall": 2}
    # (activities.importers.base.SKIP_LABELS gives their labels).
    skipped = models.JSONField(_("skipped"), default=dict, blank=True)
    # [{"where": "line 12", "message": "…"}], already in the uploader's language.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    language = models.CharField(max_length=10, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["organization", "-created_at"])]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED)


# The activity calendar's tables live in their own sub-package (activities/calendar/) and
# are registered with this app by being imported here.
from activities.calendar.models import (  # noqa: E402
    CalendarEntry,
    CalendarFeed,
    CalendarRules,
    Challenge,
    ChallengeParticipant,
    CheckIn,
    Occurrence,
    Participation,
)

__all__ = [
    "ActivityEvent",
    "CalendarEntry",
    "CalendarFeed",
    "CalendarRules",
    "Challenge",
    "ChallengeParticipant",
    "CheckIn",
    "ImportRun",
    "Occurrence",
    "Participation",
    "TouchedDay",
]
