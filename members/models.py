"""People in the groups, and the pyramid they form (用户金字塔).

A ``Member`` is one person across the organisation's communities; a ``Membership`` is that
person in one community, with a tier, roles, a squad and a points balance. Ledgers (points,
deposits) are append-only: a correction is a new entry, never an edit.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Organization, Penalty, Platform, Rule


class TagKind(models.TextChoices):
    INTEREST = "interest", _("Interest")
    INDUSTRY = "industry", _("Industry")
    REGION = "region", _("Region")
    AGE_BAND = "age_band", _("Age band")
    OTHER = "other", _("Other")


class Tag(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="tags", verbose_name=_("organisation")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=TagKind.choices)
    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "name"], name="tag_unique_per_org"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    """One person, across all the organisation's communities."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="members",
        verbose_name=_("organisation"),
    )
    display_name = models.CharField(_("display name"), max_length=120)
    tags = models.ManyToManyField(Tag, blank=True, related_name="members", verbose_name=_("tags"))
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    # Set by members.privacy.member_erase: the row stays (figures count it), the person is gone.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["display_name", "id"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        indexes = [models.Index(fields=["organization", "display_name"])]

    def __str__(self) -> str:
        return self.display_name


class PlatformHandle(models.Model):
    """How a member is known on a chat platform (a WeChat id, a Telegram user id…)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation")
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="handles", verbose_name=_("member")
    )
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    external_id = models.CharField(_("platform id"), max_length=200)

    class Meta:
        ordering = ["platform", "external_id"]
        verbose_name = _("platform handle")
        verbose_name_plural = _("platform handles")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "platform", "external_id"],
                name="handle_unique_per_org",
                violation_error_message=_("Another member already has this platform id."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()}: {self.external_id}"


class Tier(models.Model):
    """One step of a community's ladder; rank 1 is the bottom of the pyramid."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="tiers", verbose_name=_("community")
    )
    rank = models.PositiveSmallIntegerField(_("rank"))
    name = models.CharField(_("name"), max_length=60)
    min_points = models.PositiveIntegerField(_("minimum points"), default=0)
    min_active_days_30 = models.PositiveSmallIntegerField(
        _("minimum active days in the last 30"), default=0
    )
    min_tenure_days = models.PositiveIntegerField(_("minimum tenure (days)"), default=0)

    class Meta:
        ordering = ["community", "rank"]
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        constraints = [
            models.UniqueConstraint(fields=["community", "rank"], name="tier_rank_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Squad(models.Model):
    """A small group inside a community (小组), members keeping each other going."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="squads", verbose_name=_("community")
    )
    name = models.CharField(_("name"), max_length=60)
    leader = models.ForeignKey(
        Member,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_squads",
        verbose_name=_("leader"),
    )

    class Meta:
        ordering = ["community", "name"]
        verbose_name = _("squad")
        verbose_name_plural = _("squads")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "name"],
                name="squad_name_unique",
                violation_error_message=_("This community already has a squad of that name."),
            )
        ]

    def __str__(self) -> str:
        return self.name


class MembershipStatus(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    ACTIVE = "active", _("Active")
    LURKER = "lurker", _("Lurker")
    LEFT = "left", _("Left")
    REMOVED = "removed", _("Removed")


# Statuses of people who are in the group (counted in the pyramid).
PRESENT_STATUSES = (MembershipStatus.ACTIVE, MembershipStatus.LURKER)


class MemberRole(models.TextChoices):
    OWNER = "owner", _("Group owner (群主)")
    ADMIN = "admin", _("Admin (管理员)")
    KOL = "kol", _("Opinion leader (KOL)")
    CORE = "core", _("Core elite (骨干)")
    EXPERT = "expert", _("Hidden expert (隐藏大佬)")
    PET = "pet", _("Team pet (团宠)")
    GUEST = "guest", _("Guest speaker (嘉宾)")
    SQUAD_LEADER = "squad_leader", _("Squad leader (小组长)")
    MEMBER = "member", _("Member")
    LURKER = "lurker", _("Lurker (潜水党)")


class Membership(models.Model):
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("community")
    )
    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("member")
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("tier"),
    )
    tier_set_by_staff = models.BooleanField(
        _("tier set by staff"),
        default=False,
        help_text=_("The nightly promotion never changes a tier that staff set."),
    )
    # Since when the member no longer qualifies for their tier (demotion grace period).
    below_tier_since = models.DateField(null=True, blank=True, editable=False)
    squad = models.ForeignKey(
        Squad,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("squad"),
    )
    # Cached sum of the points ledger, kept by members.services.points_add.
    points_balance = models.IntegerField(_("points"), default=0, editable=False)
    # Kept current by ingestion (through a members service), for "inactive for N days".
    last_active_at = models.DateTimeField(_("last active"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["community", "member__display_name"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["community", "member"],
                name="membership_unique",
                violation_error_message=_("This person is already in this community."),
            )
        ]
        indexes = [
            models.Index(fields=["community", "status", "tier"]),
            models.Index(fields=["community", "last_active_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.community}"

    def clean(self) -> None:
        errors = {}
        if self.tier_id and self.tier.community_id != self.community_id:
            errors["tier"] = _("Choose a tier of this community.")
        if self.squad_id and self.squad.community_id != self.community_id:
            errors["squad"] = _("Choose a squad of this community.")
        if self.member_id and self.member.organization_id != self.community.organization_id:
            errors["member"] = _("This person belongs to another organisation.")
        if errors:
            raise ValidationError(errors)


class MembershipRole(models.Model):
    """A role a member holds in one community; a member may hold several."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="roles", verbose_name=_("membership")
    )
    role = models.CharField(_("role"), max_length=20, choices=MemberRole.choices)

    class Meta:
        ordering = ["role"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint(fields=["membership", "role"], name="membership_role_unique")
        ]

    def __str__(self) -> str:
        return self.get_role_display()


class TierChange(models.Model):
    """Why a member moved up or down the ladder: promotion, demotion or staff."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="tier_changes"
    )
    from_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=300)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")

    def __str__(self) -> str:
        return f"{self.from_tier} → {self.to_tier}"


class PointsEntry(models.Model):
    """One line of the points ledger. Never edited: a correction is a new entry."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="points_entries"
    )
    delta = models.IntegerField(_("points"))
    reason = models.CharField(_("reason"), max_length=300)
    rule = models.ForeignKey(
        Rule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rule"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.reason}"


class DepositKind(models.TextChoices):
    HELD = "held", _("Held")
    REFUNDED = "refunded", _("Refunded")
    FORFEITED = "forfeited", _("Forfeited")


class DepositEntry(models.Model):
    """Commitment deposit ledger (决心金): held, then refunded or forfeited."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="deposit_entries"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DepositKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deposit entry")
        verbose_name_plural = _("deposit entries")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="deposit_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class Violation(models.Model):
    """A broken rule: the evidence, the strike it counts as, and what was done."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="violations")
    rule = models.ForeignKey(
        Rule, on_delete=models.PROTECT, related_name="violations", verbose_name=_("rule")
    )
    evidence = models.TextField(_("evidence"))
    strike = models.PositiveIntegerField(_("strike"))
    action = models.CharField(_("action taken"), max_length=20, choices=Penalty.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("violation")
        verbose_name_plural = _("violations")

    def __str__(self) -> str:
        return f"{self.rule} #{self.strike}"


class QuestionKind(models.TextChoices):
    TEXT = "text", _("Free text")
    CHOICE = "choice", _("One choice")
    MULTIPLE = "multiple", _("Several choices")


class ApplicationQuestion(models.Model):
    """One question of a community's entry questionnaire (入群门槛)."""

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="questions", verbose_name=_("community")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=QuestionKind.choices)
    prompt = models.CharField(_("question"), max_length=300)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    tag_kind = models.CharField(
        _("answers become tags"),
        max_length=20,
        choices=TagKind.choices,
        blank=True,
        help_text=_("On approval, the answers are added to the member as tags of this kind."),
    )

    class Meta:
        ordering = ["community", "position", "id"]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return self.prompt

    def clean(self) -> None:
        if self.kind != QuestionKind.TEXT and len(self.choices or []) < 2:
            raise ValidationError({"choices": _("A choice question needs at least two choices.")})


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Application(models.Model):
    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="applications",
        verbose_name=_("community"),
    )
    display_name = models.CharField(_("display name"), max_length=120)
    platform = models.CharField(_("platform"), max_length=20, choices=Platform.choices)
    external_id = models.CharField(_("platform id"), max_length=200)
    # {"<question id>": "answer"} or a list of answers for a multiple-choice question.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.PENDING,
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    decision_note = models.CharField(_("reason"), max_length=300, blank=True)
    membership = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="applications",
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        indexes = [models.Index(fields=["community", "status"])]

    def __str__(self) -> str:
        return f"{self.display_name} → {self.community}"


class ApplicationLink(models.Model):
    """A community's public application link (and its QR code, to paste into a traffic
    group): applicants fill in the questionnaire themselves, without an account, and their
    answers wait in the review queue. The key in the address is what makes the page
    findable; a new key makes the old link and every QR code of it stop working, and a
    link switched off says the community takes no applications this way."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="application_link", primary_key=True
    )
    key = models.CharField(max_length=32, unique=True)
    enabled = models.BooleanField(_("open"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("application link")
        verbose_name_plural = _("application links")

    def __str__(self) -> str:
        return str(self.community)
