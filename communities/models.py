"""Tenants, the staff who work in them, and the communities (chat groups) they run."""

import zoneinfo
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person who signs in to CommunityOps (staff). Chat-group members are not users."""

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")


class Organization(models.Model):
    """The tenant: every community, member and figure belongs to exactly one."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
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


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


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
