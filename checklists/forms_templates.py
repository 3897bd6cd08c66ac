"""Forms of the template pages (the writes are in ``services/templates.py`` and
``services/runs.py``; these only parse what the pages send)."""

from __future__ import annotations

from django import forms
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from activities.calendar.models import EntryKind
from checklists import builtin as builtins
from checklists.models import (
    ALL_WEEKDAYS,
    MANUAL_PHASES,
    DueAnchor,
    InputKind,
    ItemRole,
    Phase,
    SopItem,
    SopTemplate,
)
from communities.models import AnnouncementLanguage, Community, Role, Staff
from communities.permissions import communities_for
from communities.validators import BoundedDateField

# What an item's offset is typed in, in minutes.
UNITS = {"minutes": 1, "hours": 60, "days": 24 * 60}
MAX_OFFSET_DAYS = 90  # no run lasts longer (SopTemplate.duration_days)
# ISO weekday digits with Django's own short names (translated by Django).
WEEKDAY_CHOICES = [(str(day + 1), WEEKDAYS_ABBR[day]) for day in range(7)]
# The anchors a run of each phase has (due.check_item_timing refuses the others).
RUN_ANCHORS = frozenset({DueAnchor.CLOCK, DueAnchor.RUN_START})
ANCHORS_BY_PHASE = {
    **dict.fromkeys(MANUAL_PHASES, RUN_ANCHORS),
    Phase.DAILY: RUN_ANCHORS,
    Phase.ACTIVITY: frozenset(
        {DueAnchor.CLOCK, DueAnchor.OCCURRENCE_START, DueAnchor.OCCURRENCE_END}
    ),
}
# The staff roles who work runs (managers only read).
ASSIGNABLE_ROLES = (Role.OWNER, Role.OPERATOR, Role.MODERATOR)


class TemplateCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    phase = forms.ChoiceField(label=_("Phase"), choices=Phase.choices)
    language = forms.ChoiceField(
        label=_("Language"), choices=AnnouncementLanguage.choices, initial="zh-hans"
    )


class TemplateForm(forms.Form):
    """A template's settings; which ones depends on its phase."""

    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=AnnouncementLanguage.choices,
        help_text=_("The language its items and messages are written in."),
    )
    duration_days = forms.IntegerField(
        label=_("Run length (days)"),
        min_value=1,
        max_value=MAX_OFFSET_DAYS,
        help_text=_("A run started by hand lasts this many days; its items fall due within it."),
    )
    entry_kinds = forms.MultipleChoiceField(
        label=_("Activity kinds"),
        choices=EntryKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Occurrences of these calendar kinds get a run in the communities using it."),
    )

    def __init__(self, *args, template: SopTemplate, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "name": template.name,
                "description": template.description,
                "language": template.language,
                "duration_days": template.duration_days,
                "entry_kinds": template.kinds,
            },
        )
        super().__init__(*args, **kwargs)
        if template.phase not in MANUAL_PHASES:
            del self.fields["duration_days"]
        if template.phase != Phase.ACTIVITY:
            del self.fields["entry_kinds"]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        if "entry_kinds" in data:
            data["entry_kinds"] = ",".join(data["entry_kinds"])
        return data


def split_offset(minutes: int) -> tuple[int, str, str]:
    """``offset_minutes`` as (amount, unit, direction) in the largest whole unit."""
    direction = "before" if minutes < 0 else "after"
    minutes = abs(minutes)
    for unit in ("days", "hours"):
        if minutes and minutes % UNITS[unit] == 0:
            return minutes // UNITS[unit], unit, direction
    return minutes, "minutes", direction


class ItemForm(forms.Form):
    """An item of a template: the offset is typed as a number, a unit and before/after
    (``offset_minutes`` for the service); the day as the run's day number for runs
    started by hand, as days before (negative) or after the activity's day for activity
    runs; weekdays only for daily templates."""

    title = forms.CharField(label=_("Title"), max_length=200)
    guidance = forms.CharField(
        label=_("Guidance"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What a new moderator needs to know to do it well."),
    )
    role = forms.ChoiceField(label=_("Done by"), choices=ItemRole.choices)
    anchor = forms.ChoiceField(label=_("Due"), choices=DueAnchor.choices)
    due_time = forms.TimeField(
        label=_("Due time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("For “At a time of day”, in the community's time zone."),
    )
    day = forms.IntegerField(label=_("Day"), required=False)
    offset_amount = forms.IntegerField(
        label=_("Offset"),
        required=False,
        min_value=0,
        max_value=MAX_OFFSET_DAYS * UNITS["days"],
        initial=0,
    )
    offset_unit = forms.ChoiceField(
        label=_("Unit"),
        choices=[("minutes", _("minutes")), ("hours", _("hours")), ("days", _("days"))],
        initial="minutes",
    )
    offset_direction = forms.ChoiceField(
        label=_("Before or after"),
        choices=[("after", _("after")), ("before", _("before"))],
        initial="after",
    )
    weekdays = forms.MultipleChoiceField(
        label=_("Weekdays"),
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The days of the week it applies on."),
    )
    input_kind = forms.ChoiceField(label=_("Asks for"), choices=InputKind.choices)
    input_required = forms.BooleanField(label=_("Required when ticking"), required=False)
    choices = forms.CharField(
        label=_("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a choice: one option per line, at least two."),
    )
    message = forms.CharField(
        label=_("Message to post"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Posted in the group by the moderator, in the template's language; the "
            "placeholders below are filled in for each run."
        ),
    )

    def __init__(self, *args, template: SopTemplate, item: SopItem | None = None, **kwargs):
        self.template = template
        if item is not None:
            amount, unit, direction = split_offset(item.offset_minutes)
            initial = {
                "title": item.title,
                "guidance": item.guidance,
                "role": item.role,
                "anchor": item.anchor,
                "due_time": item.due_time,
                "offset_amount": amount,
                "offset_unit": unit,
                "offset_direction": direction,
                "weekdays": list(item.weekdays),
                "input_kind": item.input_kind,
                "input_required": item.input_required,
                "choices": item.choices,
                "message": item.message,
                "day": item.offset_days,
            }
        else:
            initial = {"input_required": True, "weekdays": list(ALL_WEEKDAYS), "day": 0}
        if template.phase in MANUAL_PHASES:
            initial["day"] += 1
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        if template.phase in MANUAL_PHASES:
            self.fields["day"] = forms.IntegerField(
                label=_("Day of the run"),
                required=False,
                min_value=1,
                max_value=MAX_OFFSET_DAYS,
                help_text=_("For “At a time of day”: 1 is the day the run starts."),
            )
        elif template.phase == Phase.ACTIVITY:
            self.fields["day"] = forms.IntegerField(
                label=_("Days from the activity's day"),
                required=False,
                min_value=-MAX_OFFSET_DAYS,
                max_value=MAX_OFFSET_DAYS,
                help_text=_(
                    "For “At a time of day”: 0 is the activity's day, −1 the day before, "
                    "1 the day after."
                ),
            )
        else:
            del self.fields["day"]
        if template.phase != Phase.DAILY:
            del self.fields["weekdays"]
        allowed = ANCHORS_BY_PHASE.get(template.phase, frozenset(DueAnchor.values))
        self.fields["anchor"].choices = [
            (value, label) for value, label in DueAnchor.choices if value in allowed
        ]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        amount = data.pop("offset_amount") or 0
        unit = data.pop("offset_unit")
        direction = data.pop("offset_direction")
        data["offset_minutes"] = amount * UNITS[unit] * (-1 if direction == "before" else 1)
        day = data.pop("day", None) or 0
        if self.template.phase in MANUAL_PHASES:
            day = max(day - 1, 0) if day else 0
        data["offset_days"] = day
        if "weekdays" in data:
            data["weekdays"] = "".join(data["weekdays"])
        data["choices"] = "\n".join(
            line.strip() for line in data["choices"].splitlines() if line.strip()
        )
        return data

    @staticmethod
    def field_for(name: str) -> str:
        """The form's field for a name the service's errors use."""
        return {"offset_minutes": "offset_amount", "offset_days": "day"}.get(name, name)


class CopyBuiltinForm(forms.Form):
    key = forms.ChoiceField(choices=[(builtin.key, builtin.key) for builtin in builtins.BUILTINS])
    language = forms.ChoiceField(
        label=_("Language of the copy"), choices=AnnouncementLanguage.choices
    )


class MoveForm(forms.Form):
    """Move an item one place (``direction``) or to a position (drag and drop)."""

    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")], required=False)
    position = forms.IntegerField(min_value=1, max_value=10_000, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("direction") and not data.get("position"):
            raise forms.ValidationError(_("Say where to move it."))
        return data


def _assignee_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Assignee"),
        queryset=Staff.objects.none(),
        required=False,
        empty_label=_("First assigned moderator"),
    )


def assignable_staff(organization_id: int):
    return (
        Staff.objects.filter(
            organization_id=organization_id,
            deactivated_at__isnull=True,
            role__in=ASSIGNABLE_ROLES,
        )
        .select_related("user")
        .order_by("user__username")
    )


class _CommunityAndAssigneeForm(forms.Form):
    """A community the staff may see and, optionally, who gets its runs: an owner or
    operator, or a moderator assigned to that community."""

    community = forms.ModelChoiceField(
        label=_("Community"), queryset=Community.objects.none(), to_field_name="slug"
    )

    def __init__(self, *args, staff: Staff, with_assignee: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(staff).filter(archived=False)
        if with_assignee:
            self.fields["assignee"] = _assignee_field()
            self.fields["assignee"].queryset = assignable_staff(staff.organization_id)
            self.fields["assignee"].label_from_instance = lambda member: (
                f"{member.user.get_username()} · {member.get_role_display()}"
            )

    def clean(self):
        data = super().clean()
        community, assignee = data.get("community"), data.get("assignee")
        if (
            community is not None
            and assignee is not None
            and assignee.role == Role.MODERATOR
            and not assignee.communities.filter(pk=community.pk).exists()
        ):
            self.add_error(
                "assignee",
                _("%(name)s is not assigned to %(community)s.")
                % {"name": assignee.user.get_username(), "community": community.name},
            )
        return data


class TemplateUseForm(_CommunityAndAssigneeForm):
    pass


class TemplateUseRemoveForm(_CommunityAndAssigneeForm):
    def __init__(self, *args, template: SopTemplate, staff: Staff, **kwargs):
        super().__init__(*args, staff=staff, with_assignee=False, **kwargs)
        self.fields["community"].queryset = Community.objects.filter(
            organization_id=template.organization_id, sop_uses__template=template
        )


class RunStartForm(_CommunityAndAssigneeForm):
    pass


class PreviewForm(forms.Form):
    """The preview's query: a community (slug) and a day; odd values fall back."""

    community = forms.ModelChoiceField(
        label=_("Community"),
        queryset=Community.objects.none(),
        to_field_name="slug",
        required=False,
        empty_label=None,
    )
    day = BoundedDateField(
        label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, staff: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(staff).filter(archived=False)
