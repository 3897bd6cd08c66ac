"""The broadcast form: what (name, text, markdown), to whom (communities the staff member
sees), when (first day, local time, a repeat preset or a custom RRULE), and the two
options. The form only reads input; ``services.broadcasts`` checks the whole broadcast."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.calendar.forms import WEEKDAY_CHOICES, build_rrule, preset_of
from automations.models import Broadcast
from automations.placeholders import PLACEHOLDERS
from communities.models import Community, Staff
from communities.permissions import communities_for
from communities.validators import BoundedDateField, BoundedModelMultipleChoiceField


class Repeat:
    NONE = "none"
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"
    CUSTOM = "custom"

    choices = [
        (NONE, _("Once")),
        (DAILY, _("Every day")),
        (WEEKDAYS, _("Every weekday (Monday to Friday)")),
        (WEEKLY, _("Weekly on the chosen days")),
        (CUSTOM, _("Custom rule (RFC 5545 RRULE)")),
    ]


class BroadcastForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=120,
        help_text=_("How staff find it in lists, e.g. “Morning greeting”. Not sent."),
    )
    communities = BoundedModelMultipleChoiceField(
        label=_("Communities"),
        queryset=Community.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each is sent the text at the local time in its own time zone."),
    )
    start_date = BoundedDateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    at_time = forms.TimeField(
        label=_("Local time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    repeat = forms.ChoiceField(label=_("Repeats"), choices=Repeat.choices, initial=Repeat.DAILY)
    weekdays = forms.MultipleChoiceField(
        label=_("On (weekly)"),
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rrule = forms.CharField(
        label=_("Custom rule"),
        max_length=400,
        required=False,
        help_text=_("For example FREQ=WEEKLY;INTERVAL=2;BYDAY=MO (at most once an hour)."),
    )
    text = forms.CharField(
        label=_("Text"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    markdown = forms.BooleanField(label=_("Send as markdown"), required=False)
    skip_if_quiet = forms.BooleanField(
        label=_("Skip a group with no activity since the last broadcast there"),
        required=False,
        help_text=_("No talking into an empty room."),
    )
    no_repeat = forms.BooleanField(
        label=_("Never send the same text twice in a row to one group"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, staff: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.staff = staff
        self.fields["communities"].queryset = (
            communities_for(staff).filter(archived=False).order_by("name")
        )

    @staticmethod
    def placeholders() -> list[tuple[str, str]]:
        return [("{" + name + "}", meaning) for name, meaning in PLACEHOLDERS.items()]

    @classmethod
    def initial_for(cls, broadcast: Broadcast) -> dict:
        preset = preset_of(broadcast.rrule, broadcast.start_date)
        if preset.get("repeat") not in dict(Repeat.choices) or set(preset) - {
            "repeat",
            "weekdays",
        }:
            preset = {"repeat": Repeat.CUSTOM, "rrule": broadcast.rrule}
        return {
            "name": broadcast.name,
            "communities": list(broadcast.communities.all()),
            "start_date": broadcast.start_date,
            "at_time": broadcast.at_time,
            "text": broadcast.text,
            "markdown": broadcast.markdown,
            "skip_if_quiet": broadcast.skip_if_quiet,
            "no_repeat": broadcast.no_repeat,
            **preset,
        }

    def clean(self):
        data = super().clean()
        if data.get("repeat") == Repeat.CUSTOM and not (data.get("rrule") or "").strip():
            self.add_error("rrule", _("Write a repeat rule, such as FREQ=WEEKLY;BYDAY=MO."))
        return data

    def rrule_text(self) -> str:
        data = self.cleaned_data
        return build_rrule(
            data.get("repeat") or Repeat.NONE,
            data["start_date"],
            weekdays=data.get("weekdays") or (),
            custom=data.get("rrule") or "",
        )

    def service_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "text": data["text"],
            "markdown": bool(data.get("markdown")),
            "communities": list(data["communities"]),
            "start_date": data["start_date"],
            "at_time": data["at_time"],
            "rrule": self.rrule_text(),
            "skip_if_quiet": bool(data.get("skip_if_quiet")),
            "no_repeat": bool(data.get("no_repeat")),
        }


class PreviewForm(forms.Form):
    """The parts of the broadcast form the preview reads; what is missing: no preview."""

    communities = BoundedModelMultipleChoiceField(queryset=Community.objects.none(), required=False)
    start_date = BoundedDateField(required=False)
    at_time = forms.TimeField(required=False)
    repeat = forms.ChoiceField(choices=Repeat.choices, required=False)
    weekdays = forms.MultipleChoiceField(choices=WEEKDAY_CHOICES, required=False)
    rrule = forms.CharField(max_length=400, required=False)
    text = forms.CharField(max_length=20000, required=False, strip=False)
    markdown = forms.BooleanField(required=False)

    def __init__(self, *args, staff: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communities"].queryset = communities_for(staff).filter(archived=False)
