"""Tenants, the staff who work in them, and the communities (chat groups) they run."""

import zoneinfo
from datetime import date
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in to CommunityOps (staff). Chat-group members are not users."""

    must_change_password = models.BooleanField(
        _("must change password"),
        default=False,
        help_text=_("Set when an owner creates the account with a temporary password."),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Organization(models.Model):
    """The tenant: every community, member and figure belongs to exactly one."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="CNY",
        help_text=_("ISO 4217 code used for commitment deposits, e.g. CNY, USD, SGD."),
    )
    time_zone = models.CharField(
        _("default time zone"),
        max_length=64,
        default="Asia/Shanghai",
        help_text=_("New communities start in this time zone."),
    )
    language = models.CharField(
        _("default language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="zh-hans",
        help_text=_("The language of e-mails to people whose own language is not known."),
    )
    keep_message_text = models.BooleanField(
        _("keep message text"),
        default=True,
        help_text=_(
            "Store what members wrote, for keyword rules. Off: only who did what and when "
            "is kept; the text is dropped as soon as an event is processed."
        ),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    OPERATOR = "operator", _("Operator")
    MANAGER = "manager", _("Manager")
    MODERATOR = "moderator", _("Moderator")


class Staff(models.Model):
    """A user's place in one organisation: the role, and for moderators their groups."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="staff", verbose_name=_("organisation")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_roles",
        verbose_name=_("user"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    communities = models.ManyToManyField(
        "Community",
        blank=True,
        related_name="assigned_staff",
        verbose_name=_("assigned communities"),
        help_text=_("The communities a moderator works on; other roles see them all."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Deactivated staff keep their record and history; the permission module and the API
    # refuse them from the next request on.
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    # Kept by communities.notifications, so the layout's badge costs no query.
    unread_notifications = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["organization__name", "user__username"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="staff_unique_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} · {self.get_role_display()}"


class Platform(models.TextChoices):
    WECHAT = "wechat", _("WeChat")
    WECOM = "wecom", _("WeCom")
    QQ = "qq", _("QQ")
    TELEGRAM = "telegram", _("Telegram")
    DISCORD = "discord", _("Discord")
    SLACK = "slack", _("Slack")
    WHATSAPP = "whatsapp", _("WhatsApp")
    FEISHU = "feishu", _("Feishu")
    OFFLINE = "offline", _("Offline")
    OTHER = "other", _("Other")


class FunnelRole(models.TextChoices):
    """What a group is for in the programme's funnel (社群矩阵, AIDASS)."""

    TRAFFIC = "traffic", _("Traffic (引流)")
    CONVERSION = "conversion", _("Conversion (转化)")
    FAN = "fan", _("Fans / after-sale (粉丝)")
    FLASH = "flash", _("Flash campaign (快闪)")
    INTEREST = "interest", _("Interest")
    LEARNING = "learning", _("Learning")
    RESOURCE = "resource", _("Resource")
    CAMP = "camp", _("Training camp (训练营)")
    LOCAL = "local", _("Local")


# Groups that run for a fixed time and are finished after their end date.
TIME_BOXED_ROLES = frozenset({FunnelRole.FLASH, FunnelRole.CAMP})


class AnnouncementLanguage(models.TextChoices):
    CHINESE = "zh-hans", _("Simplified Chinese")
    ENGLISH = "en", _("English")


class Programme(models.Model):
    """A set of groups run together: a community matrix (社群矩阵)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="programmes",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                name="programme_name_unique_per_org",
                violation_error_message=_(
                    "This organisation already has a programme of that name."
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name


# Offered first, named in the user's language: where most groups run their day.
COMMON_TIME_ZONES = [
    ("Asia/Shanghai", _("Beijing time")),
    ("Asia/Hong_Kong", _("Hong Kong")),
    ("Asia/Macau", _("Macau")),
    ("Asia/Taipei", _("Taipei")),
    ("Asia/Singapore", _("Singapore")),
    ("Asia/Kuala_Lumpur", _("Kuala Lumpur")),
    ("Asia/Bangkok", _("Bangkok")),
    ("Asia/Tokyo", _("Tokyo")),
    ("Asia/Seoul", _("Seoul")),
    ("Asia/Dubai", _("Dubai")),
    ("Australia/Sydney", _("Sydney")),
    ("Europe/London", _("London")),
    ("Europe/Berlin", _("Berlin")),
    ("Europe/Paris", _("Paris")),
    ("America/New_York", _("New York")),
    ("America/Los_Angeles", _("Los Angeles")),
    ("America/Toronto", _("Toronto")),
    ("America/Vancouver", _("Vancouver")),
    ("UTC", _("Coordinated Universal Time")),
]


@cache
def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The form's choices: the common zones as "Beijing time (Asia/Shanghai)", then every
    other zone by its name. Lazy labels, so each request sees its own language."""
    common = [(zone, format_lazy("{} ({})", name, zone)) for zone, name in COMMON_TIME_ZONES]
    others = sorted(zoneinfo.available_timezones() - {zone for zone, _name in COMMON_TIME_ZONES})
    return [
        (_("Common time zones"), common),
        (_("All time zones"), [(zone, zone) for zone in others]),
    ]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class Community(models.Model):
    """One chat group (or an offline circle) that the organisation runs."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="communities",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(
        _("slug"),
        max_length=60,
        help_text=_("Short name used in addresses and commands, e.g. “reading-club”."),
    )
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=settings.DEFAULT_COMMUNITY_TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("Days and weeks of this community's figures are counted in this zone."),
    )
    created_on = models.DateField(
        _("created on"),
        default=timezone.localdate,
        help_text=_("When the group was created on its platform."),
    )
    archived = models.BooleanField(
        _("archived"),
        default=False,
        help_text=_("Archived communities are hidden from lists and dashboards."),
    )
    programme = models.ForeignKey(
        Programme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communities",
        verbose_name=_("programme"),
    )

    # Positioning (社群定位)
    goal = models.CharField(
        _("goal"),
        max_length=200,
        blank=True,
        help_text=_("The concrete shared goal (目标感), e.g. “read 50 books a year together”."),
    )
    funnel_role = models.CharField(
        _("funnel role"), max_length=20, choices=FunnelRole.choices, blank=True
    )
    why = models.TextField(_("why build it"), blank=True)
    what = models.TextField(_("what value members get"), blank=True)
    where = models.TextField(_("where it lives"), blank=True)
    who = models.TextField(_("who the members are"), blank=True)
    when = models.TextField(_("when it starts and how long it lives"), blank=True)
    how = models.TextField(_("how it pays back"), blank=True)
    capacity = models.PositiveIntegerField(
        _("target size"),
        null=True,
        blank=True,
        help_text=_("How many members fit the goal: too few is dull, too many feel unseen."),
    )
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(
        _("end date"),
        null=True,
        blank=True,
        help_text=_("Flash groups and training camps only: after this day the group is finished."),
    )

    # Rules (群规): the behaviours are Rule rows; these are the announcement's other parts.
    announcement_language = models.CharField(
        _("announcement language"),
        max_length=10,
        choices=AnnouncementLanguage.choices,
        default=AnnouncementLanguage.CHINESE,
    )
    value_statement = models.TextField(
        _("value"),
        blank=True,
        help_text=_("What members gain here; the announcement opens with it."),
    )
    entry_standard = models.TextField(_("entry standard"), blank=True)
    vision = models.TextField(_("vision"), blank=True)

    # Tier ladder behaviour (see members.services.membership_promote).
    demotion_enabled = models.BooleanField(
        _("demote members who stop qualifying"),
        default=False,
        help_text=_("Staff-set tiers are never changed automatically."),
    )
    demotion_grace_days = models.PositiveIntegerField(_("demotion grace period (days)"), default=14)

    added_at = models.DateTimeField(_("added at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("community")
        verbose_name_plural = _("communities")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "slug"],
                name="community_slug_unique_per_org",
                violation_error_message=_(
                    "Another community of this organisation already uses this slug."
                ),
            )
        ]
        indexes = [models.Index(fields=["organization", "archived", "name"])]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if self.end_date and self.funnel_role not in TIME_BOXED_ROLES:
            errors["end_date"] = _("Only flash groups and training camps have an end date.")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end date is before the start date.")
        if (
            self.programme_id
            and self.organization_id
            and self.programme.organization_id != self.organization_id
        ):
            errors["programme"] = _("Choose a programme of this organisation.")
        if errors:
            raise ValidationError(errors)

    def local_today(self) -> date:
        return timezone.localdate(timezone=zoneinfo.ZoneInfo(self.time_zone))

    @property
    def is_finished(self) -> bool:
        """A flash group or camp whose end date has passed (in its own time zone)."""
        return bool(self.end_date) and self.end_date < self.local_today()


class RuleKind(models.TextChoices):
    ENCOURAGED = "encouraged", _("Encouraged")
    FORBIDDEN = "forbidden", _("Forbidden")


class Penalty(models.TextChoices):
    WARNING = "warning", _("Warning")
    DEDUCTION = "deduction", _("Points deduction")
    MUTE = "mute", _("Mute")
    REMOVAL = "removal", _("Removal")


class Rule(models.Model):
    """One behaviour in a community's rules: encouraged (earns points) or forbidden."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="rules", verbose_name=_("community")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RuleKind.choices)
    title = models.CharField(_("behaviour"), max_length=200)
    points = models.PositiveIntegerField(
        _("points"),
        default=0,
        help_text=_("Earned for an encouraged behaviour; deducted for a forbidden one."),
    )
    penalty = models.CharField(_("penalty"), max_length=20, choices=Penalty.choices, blank=True)
    strikes_to_removal = models.PositiveIntegerField(
        _("strikes before removal"),
        null=True,
        blank=True,
        help_text=_("The violation that reaches this count removes the member. Empty: never."),
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["community", "kind", "position", "id"]
        verbose_name = _("rule")
        verbose_name_plural = _("rules")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.kind == RuleKind.FORBIDDEN and not self.penalty:
            raise ValidationError({"penalty": _("A forbidden behaviour needs a penalty.")})
        if self.kind == RuleKind.ENCOURAGED and (self.penalty or self.strikes_to_removal):
            raise ValidationError(_("An encouraged behaviour has no penalty."))


class Connector(models.Model):
    """A chat bot's door into the webhook API: one per bot and community.

    The secret signs requests (HMAC-SHA256), so it is kept as is; it is shown to staff
    once, when it is made. Rotation keeps the previous secret valid for a grace period so
    that a bot can be re-configured without losing events.
    """

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="connectors", verbose_name=_("community")
    )
    public_id = models.CharField(_("connector id"), max_length=32, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=80)
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    secret = models.CharField(max_length=128, editable=False)
    previous_secret = models.CharField(max_length=128, blank=True, editable=False)
    previous_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    rotated_at = models.DateTimeField(_("secret rotated at"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["community", "name", "id"]
        verbose_name = _("connector")
        verbose_name_plural = _("connectors")

    def __str__(self) -> str:
        return self.name

    def valid_secrets(self, now) -> list[str]:
        if self.revoked_at:
            return []
        secrets = [self.secret]
        if self.previous_secret and self.previous_valid_until and now < self.previous_valid_until:
            secrets.append(self.previous_secret)
        return secrets


class ApiToken(models.Model):
    """A key for scripts and BI tools reading the metrics API, acting as one staff member.

    Only a SHA-256 digest of the key is stored; the key is shown once, when it is made.
    """

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("staff")
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("key starts with"), max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Invitation(models.Model):
    """A one-time link that lets a person join an organisation with a role.

    Only the digest of the link's token is stored; the link is shown (or mailed) once."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="invitations",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    communities = models.ManyToManyField(
        "Community", blank=True, related_name="+", verbose_name=_("communities")
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accepted by"),
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} · {self.organization}"

    def usable(self, now) -> bool:
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class StaffAction(models.TextChoices):
    ORGANIZATION_CREATED = "organization_created", _("created the organisation")
    INVITED = "invited", _("invited")
    INVITATION_REVOKED = "invitation_revoked", _("revoked an invitation")
    INVITATION_ACCEPTED = "invitation_accepted", _("accepted an invitation")
    ACCOUNT_CREATED = "account_created", _("created an account")
    ROLE_CHANGED = "role_changed", _("changed the role")
    COMMUNITIES_ASSIGNED = "communities_assigned", _("changed the assigned communities")
    DEACTIVATED = "deactivated", _("deactivated")
    REACTIVATED = "reactivated", _("reactivated")
    RULES_CHANGED = "rules_changed", _("changed the rules")
    TIERS_CHANGED = "tiers_changed", _("changed the tiers")
    CONNECTOR_CHANGED = "connector_changed", _("changed a connector")
    MEMBER_EXPORTED = "member_exported", _("exported a member's data")
    MEMBER_ERASED = "member_erased", _("erased a member's data")
    MEMBERS_MERGED = "members_merged", _("merged two members")


class StaffLogEntry(models.Model):
    """Who did what to whom: append-only (written by ``staff_log_record``, never changed)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="log", verbose_name=_("organisation")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    action = models.CharField(_("action"), max_length=30, choices=StaffAction.choices)
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("whom"),
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    # What changed, in plain words for the log page (e.g. "operator → manager", an e-mail).
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("staff log entry")
        verbose_name_plural = _("staff log")
        indexes = [models.Index(fields=["organization", "-at"], name="stafflog_org_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.get_action_display()}"


class Notification(models.Model):
    """Something a staff member should look at (an overdue checklist item …), listed in
    the layout with a count badge until marked as read.

    The text is a translatable English message (marked with ``gettext_noop`` where it is
    written) and its parameters, rendered in the reader's language when shown.
    """

    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("staff")
    )
    message = models.CharField(max_length=300)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True)
    # Set by the writer so one thing is announced to one person once ("overdue:item:12").
    key = models.CharField(max_length=120)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["staff", "key"], name="notification_once_per_key")
        ]
        indexes = [models.Index(fields=["staff", "read_at"])]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        from django.utils.translation import gettext

        try:
            return gettext(self.message) % self.params
        except (KeyError, TypeError, ValueError):
            return gettext(self.message)
