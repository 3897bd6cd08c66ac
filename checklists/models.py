"""SOP templates (社群SOP) and the checklist runs made from them.

How it fits together, and why:

- A ``SopTemplate`` belongs to an organisation and has a *phase* (planning, setup, growth,
  daily maintenance, activity) and ordered ``SopItem`` rows. The five standard SOPs ship in
  code (``builtin.py``, in Chinese and English); an organisation copies one and edits it.
- A ``TemplateUse`` says that a community works with a template, and who is assigned its
  runs there: beat opens a daily template's run every local morning, and an activity
  template gets a run for each occurrence of the community's entries of its kinds.
- A ``ChecklistRun`` is a template applied to one community (and, for an activity, to one
  occurrence, keyed by the occurrence's original start like the calendar's exception rows).
  Its ``RunItem`` rows are *copies* of the template's items made when the run is created,
  with their due times computed in the community's time zone. That copy is the versioning:
  editing a template (its ``version`` goes up) never changes a run already created, and a
  run's history stays readable after the template changed or was deleted.
- Every tick and untick is an ``ItemTick`` row: who, when, what was entered.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activities.calendar.models import CalendarEntry
from communities.models import AnnouncementLanguage, Community, Organization, Staff


class Phase(models.TextChoices):
    PLANNING = "planning", _("Whole-process planning (规划)")
    SETUP = "setup", _("Setup (基础搭建)")
    GROWTH = "growth", _("Growth (增长)")
    DAILY = "daily", _("Daily maintenance (日常维护)")
    ACTIVITY = "activity", _("Activity (活动)")


# Phases whose runs someone starts by hand (daily runs come from beat, activity runs from
# the calendar).
MANUAL_PHASES = frozenset({Phase.PLANNING, Phase.SETUP, Phase.GROWTH})


class ItemRole(models.TextChoices):
    """Who does an item: a staff role, or a member role in the group."""

    OWNER = "owner", _("Owner")
    OPERATOR = "operator", _("Operator")
    MODERATOR = "moderator", _("Moderator")
    SQUAD_LEADER = "squad_leader", _("Squad leader")
    GUEST = "guest", _("Guest speaker")


class DueAnchor(models.TextChoices):
    """What an item's due time is measured from.

    ``clock``: a time of day (``due_time``) on the run's day plus ``offset_days``;
    the others: ``offset_minutes`` (negative is before) from the run's start or from the
    occurrence's start or end.
    """

    CLOCK = "clock", _("At a time of day")
    RUN_START = "run_start", _("From the run's start")
    OCCURRENCE_START = "occurrence_start", _("From the activity's start")
    OCCURRENCE_END = "occurrence_end", _("From the activity's end")


class InputKind(models.TextChoices):
    """What ticking an item asks for."""

    NONE = "none", _("Nothing")
    NOTE = "note", _("A note")
    LINK = "link", _("A link")
    NUMBER = "number", _("A number")
    CHOICE = "choice", _("A choice")


ALL_WEEKDAYS = "1234567"  # ISO weekdays, Monday = 1


class SopTemplate(models.Model):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="sop_templates",
        verbose_name=_("organisation"),
    )
    name = models.CharField(_("name"), max_length=120)
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=AnnouncementLanguage.choices,
        default=AnnouncementLanguage.CHINESE,
        help_text=_("The language its items and messages are written in."),
    )
    duration_days = models.PositiveSmallIntegerField(
        _("run length (days)"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text=_("Runs started by hand last this many days; their items fall due within it."),
    )
    entry_kinds = models.CharField(
        _("activity kinds"),
        max_length=200,
        blank=True,
        help_text=_("Activity templates: the calendar kinds whose occurrences get a run."),
    )
    # Goes up with every edit of the template or its items; a run records the one it copied.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # The built-in SOP it was copied from (builtin.py), if any.
    builtin_key = models.CharField(max_length=40, blank=True, editable=False)
    communities = models.ManyToManyField(
        Community,
        through="TemplateUse",
        related_name="sop_templates",
        verbose_name=_("communities"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["phase", "name"]
        verbose_name = _("SOP template")
        verbose_name_plural = _("SOP templates")

    def __str__(self) -> str:
        return self.name

    @property
    def kinds(self) -> list[str]:
        return [kind for kind in self.entry_kinds.split(",") if kind]


class ItemFields(models.Model):
    """What a template's item and its copy in a run share."""

    position = models.PositiveIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)
    role = models.CharField(
        _("done by"), max_length=20, choices=ItemRole.choices, default=ItemRole.MODERATOR
    )
    anchor = models.CharField(
        _("due"), max_length=20, choices=DueAnchor.choices, default=DueAnchor.CLOCK
    )
    due_time = models.TimeField(_("due time"), null=True, blank=True)
    offset_days = models.SmallIntegerField(_("day"), default=0)
    offset_minutes = models.IntegerField(_("offset (minutes)"), default=0)
    input_kind = models.CharField(
        _("asks for"), max_length=10, choices=InputKind.choices, default=InputKind.NONE
    )
    input_required = models.BooleanField(_("required"), default=True)
    # One option per line, for a choice.
    choices = models.TextField(_("options"), blank=True)
    message = models.TextField(
        _("message to post"),
        blank=True,
        help_text=_(
            "Posted in the group by the moderator. Placeholders: {community}, {date}, "
            "{next_topic}, {newcomers}."
        ),
    )

    class Meta:
        abstract = True

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class SopItem(ItemFields):
    template = models.ForeignKey(
        SopTemplate, on_delete=models.CASCADE, related_name="items", verbose_name=_("template")
    )
    weekdays = models.CharField(
        _("weekdays"),
        max_length=7,
        default=ALL_WEEKDAYS,
        help_text=_("Daily templates: the days of the week it applies on."),
    )

    class Meta:
        ordering = ["template", "position", "pk"]
        verbose_name = _("SOP item")
        verbose_name_plural = _("SOP items")

    def __str__(self) -> str:
        return self.title


class TemplateUse(models.Model):
    """A community works with a template; its runs there go to ``assignee`` (or, when
    empty, to the community's first assigned moderator)."""

    template = models.ForeignKey(SopTemplate, on_delete=models.CASCADE, related_name="uses")
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="sop_uses")
    # Denormalised from the template, so the database holds "one daily template each".
    phase = models.CharField(max_length=12, choices=Phase.choices, editable=False)
    assignee = models.ForeignKey(
        Staff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("template in use")
        verbose_name_plural = _("templates in use")
        constraints = [
            models.UniqueConstraint(fields=["template", "community"], name="template_use_unique"),
            models.UniqueConstraint(
                fields=["community"],
                condition=Q(phase="daily"),
                name="template_use_one_daily",
                violation_error_message=_("This community already uses a daily template."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} · {self.community}"


class ChecklistRun(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="checklist_runs"
    )
    community = models.ForeignKey(
        Community,
        on_delete=models.CASCADE,
        related_name="checklist_runs",
        verbose_name=_("community"),
    )
    template = models.ForeignKey(
        SopTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("template"),
    )
    # What the template was when the run was made: its history outlives edits.
    name = models.CharField(_("name"), max_length=120)
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices)
    template_version = models.PositiveIntegerField(_("template version"), default=1)
    language = models.CharField(_("language"), max_length=10, choices=AnnouncementLanguage.choices)
    # The run's local day in the community's time zone (daily: that day; activity: the
    # occurrence's start day; by hand: the day it was started).
    day = models.DateField(_("day"))
    starts_at = models.DateTimeField(_("starts at"))
    # It shows on My checklists from ``opens_at``; after ``closes_at`` (the end of the local
    # day of its last due item) only staff who may correct it can tick it.
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    # Activity runs: the occurrence (the entry and the start its rule gave it, like the
    # calendar's exception rows) and where it is now.
    entry = models.ForeignKey(
        CalendarEntry,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checklist_runs",
        verbose_name=_("activity"),
    )
    original_start = models.DateTimeField(null=True, blank=True)
    occurrence_starts_at = models.DateTimeField(null=True, blank=True)
    occurrence_ends_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        Staff,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="checklist_runs",
        verbose_name=_("assignee"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-day", "community__name", "pk"]
        verbose_name = _("checklist run")
        verbose_name_plural = _("checklist runs")
        constraints = [
            # Exactly one daily run per community and local day, however often beat runs.
            models.UniqueConstraint(
                fields=["community", "day"],
                condition=Q(phase="daily"),
                name="checklist_run_one_daily",
            ),
            models.UniqueConstraint(
                fields=["community", "template", "entry", "original_start"],
                condition=Q(entry__isnull=False),
                name="checklist_run_one_per_occurrence",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "closes_at"]),
            models.Index(fields=["community", "day"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} · {self.community} · {self.day}"


class RunItem(ItemFields):
    run = models.ForeignKey(ChecklistRun, on_delete=models.CASCADE, related_name="items")
    due_at = models.DateTimeField(_("due at"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    value = models.TextField(_("entered"), blank=True)
    # Set when the overdue notice went out, so each item is announced once.
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position", "pk"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        indexes = [
            models.Index(fields=["due_at"], name="runitem_due_open", condition=Q(done_at=None))
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def on_time(self) -> bool:
        return self.done_at is not None and self.done_at <= self.due_at


class TickAction(models.TextChoices):
    TICK = "tick", _("Ticked")
    UNTICK = "untick", _("Unticked")


class ItemTick(models.Model):
    """The audit trail: every tick and untick of a run's item."""

    item = models.ForeignKey(RunItem, on_delete=models.CASCADE, related_name="ticks")
    action = models.CharField(max_length=8, choices=TickAction.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    value = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("tick")
        verbose_name_plural = _("ticks")

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.item} · {self.at:%Y-%m-%d %H:%M}"
