"""The calendar entry's form: what, for whom, when (local date and time in a zone), how it
repeats (presets that become an RRULE, or a custom RRULE), who is invited.

The form only reads input; ``services.entry_create`` / ``entry_update`` check the whole
entry (a rule that fires too often, a capacity below those going) and the page shows
their errors on the fields (``communities.forms.add_service_error``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from activities.calendar import recurrence
from activities.calendar.models import CalendarEntry, EntryKind, InviteScope
from activities.calendar.services import Scope
from communities.models import Community, Staff, time_zone_choices
from communities.permissions import communities_for
from communities.validators import BoundedDateField, BoundedModelMultipleChoiceField
from members.models import Member, Membership, Squad, Tier

DAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_CHOICES = [(code, WEEKDAYS[i]) for i, code in enumerate(DAY_CODES)]


class Repeat:
    NONE = "none"
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"
    MONTHLY_DATE = "monthly_date"
    MONTHLY_NTH = "monthly_nth"
    CUSTOM = "custom"

    choices = [
        (NONE, _("Does not repeat")),
        (DAILY, _("Every day")),
        (WEEKDAYS, _("Every weekday (Monday to Friday)")),
        (WEEKLY, _("Weekly on the chosen days")),
        (MONTHLY_DATE, _("Monthly on this date")),
        (MONTHLY_NTH, _("Monthly on this weekday (such as the second Tuesday)")),
        (CUSTOM, _("Custom rule (RFC 5545 RRULE)")),
    ]


def nth_weekday_code(day: date) -> str:
    """ "2TU" for the second Tuesday of its month; "-1TU" for a fifth (so: the last)."""
    nth = (day.day - 1) // 7 + 1
    return f"{-1 if nth == 5 else nth}{DAY_CODES[day.weekday()]}"


def build_rrule(
    repeat: str,
    start_date: date,
    *,
    weekdays=(),
    custom: str = "",
    until: date | None = None,
    count: int | None = None,
) -> str:
    """The RRULE text of a preset (blank: does not repeat)."""
    if repeat == Repeat.NONE:
        return ""
    if repeat == Repeat.CUSTOM:
        text = (custom or "").strip()
        if text.upper().startswith("RRULE:"):
            text = text[6:]
    elif repeat == Repeat.DAILY:
        text = "FREQ=DAILY"
    elif repeat == Repeat.WEEKDAYS:
        text = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
    elif repeat == Repeat.WEEKLY:
        days = sorted(weekdays or [DAY_CODES[start_date.weekday()]], key=DAY_CODES.index)
        text = "FREQ=WEEKLY;BYDAY=" + ",".join(days)
    elif repeat == Repeat.MONTHLY_DATE:
        text = f"FREQ=MONTHLY;BYMONTHDAY={start_date.day}"
    elif repeat == Repeat.MONTHLY_NTH:
        text = f"FREQ=MONTHLY;BYDAY={nth_weekday_code(start_date)}"
    else:
        return ""
    upper = text.upper()
    if repeat != Repeat.CUSTOM or ("UNTIL=" not in upper and "COUNT=" not in upper):
        if until is not None:
            text += f";UNTIL={until:%Y%m%d}T235959"
        elif count:
            text += f";COUNT={count}"
    return text


def preset_of(rrule: str, start_date: date) -> dict:
    """The form's repeat fields for a stored rule (a rule no preset makes is "custom")."""
    if not rrule:
        return {"repeat": Repeat.NONE}
    parts = dict(p.partition("=")[::2] for p in rrule.upper().split(";") if p)
    until = parts.pop("UNTIL", None)
    count = parts.pop("COUNT", None)
    extra = {}
    if until and len(until) >= 8 and until[:8].isdigit():
        try:
            extra["until"] = date(int(until[:4]), int(until[4:6]), int(until[6:8]))
        except ValueError:
            return {"repeat": Repeat.CUSTOM, "rrule": rrule}
    elif count and count.isdigit():
        extra["count"] = int(count)
    core = ";".join(f"{k}={v}" for k, v in parts.items())
    for repeat in (Repeat.DAILY, Repeat.WEEKDAYS, Repeat.MONTHLY_DATE, Repeat.MONTHLY_NTH):
        if core == build_rrule(repeat, start_date):
            return {"repeat": repeat, **extra}
    if parts.get("FREQ") == "WEEKLY" and set(parts) <= {"FREQ", "BYDAY"}:
        days = [d for d in parts.get("BYDAY", DAY_CODES[start_date.weekday()]).split(",") if d]
        if all(d in DAY_CODES for d in days):
            return {"repeat": Repeat.WEEKLY, "weekdays": days, **extra}
    return {"repeat": Repeat.CUSTOM, "rrule": rrule}


class EntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EntryKind.choices, initial=EntryKind.TOPIC)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    communities = BoundedModelMultipleChoiceField(
        label=_("Communities"),
        queryset=Community.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A guest talk relayed to several groups is one entry for all of them."),
    )
    host_members = BoundedModelMultipleChoiceField(
        label=_("Hosts (members)"), queryset=Member.objects.none(), required=False
    )
    host_staff = BoundedModelMultipleChoiceField(
        label=_("Hosts (staff)"), queryset=get_user_model().objects.none(), required=False
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    link = forms.URLField(label=_("Link"), max_length=500, required=False, assume_scheme="https")
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        required=False,
        help_text=_("Empty: the first community's."),
    )
    start_date = BoundedDateField(
        label=_("Start date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    start_time = forms.TimeField(
        label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    end_date = BoundedDateField(
        label=_("End date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the start date."),
    )
    end_time = forms.TimeField(
        label=_("End time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    repeat = forms.ChoiceField(label=_("Repeats"), choices=Repeat.choices, initial=Repeat.NONE)
    weekdays = forms.MultipleChoiceField(
        label=_("On"),
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rrule = forms.CharField(
        label=_("Custom rule"),
        max_length=400,
        required=False,
        help_text=_("For example FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH (at most once an hour)."),
    )
    until = BoundedDateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    count = forms.IntegerField(
        label=_("Or this many times"), required=False, min_value=1, max_value=1000
    )
    invite_scope = forms.ChoiceField(
        label=_("Invited"), choices=InviteScope.choices, initial=InviteScope.MEMBERS
    )
    invite_tier = forms.ModelChoiceField(
        label=_("Tier and above"), queryset=Tier.objects.none(), required=False
    )
    invite_squad = forms.ModelChoiceField(
        label=_("Squad"), queryset=Squad.objects.none(), required=False
    )
    invite_picked = BoundedModelMultipleChoiceField(
        label=_("Hand-picked members"), queryset=Membership.objects.none(), required=False
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=_("Places per occurrence; beyond it, people join the waitlist. Empty: no limit."),
    )
    # Editing one occurrence of a series: which ones the change is for, and its own note.
    scope = forms.ChoiceField(
        label=_("Change"), choices=Scope.choices, initial=Scope.THIS, required=False
    )
    note = forms.CharField(
        label=_("Note for this occurrence"),
        max_length=300,
        required=False,
        help_text=_("Shown with this occurrence only, such as why it moved."),
    )

    def __init__(self, *args, staff: Staff, entry: CalendarEntry | None = None, **kwargs):
        self.staff = staff
        self.entry = entry
        super().__init__(*args, **kwargs)
        visible = communities_for(staff).filter(archived=False).order_by("name")
        self.fields["communities"].queryset = visible
        self.fields["host_members"].queryset = (
            Member.objects.filter(memberships__community__in=communities_for(staff))
            .distinct()
            .order_by("display_name")
        )
        self.fields["host_staff"].queryset = (
            get_user_model()
            .objects.filter(staff_roles__organization_id=staff.organization_id)
            .distinct()
            .order_by("username")
        )
        self.fields["invite_tier"].queryset = Tier.objects.filter(
            community__in=communities_for(staff)
        ).select_related("community")
        self.fields["invite_squad"].queryset = Squad.objects.filter(
            community__in=communities_for(staff)
        ).select_related("community")
        self.fields["invite_picked"].queryset = Membership.objects.filter(
            community__in=communities_for(staff)
        ).select_related("member", "community")
        self.fields["invite_tier"].label_from_instance = lambda t: f"{t.community} · {t}"
        self.fields["invite_squad"].label_from_instance = lambda s: f"{s.community} · {s}"
        self.fields["invite_picked"].label_from_instance = lambda m: (
            f"{m.member.display_name} · {m.community}"
        )
        if entry is None:
            self.fields["scope"].widget = forms.HiddenInput()

    @classmethod
    def initial_for(cls, entry: CalendarEntry, slot=None) -> dict:
        """The form's values for an entry (and one of its occurrences, when editing one)."""
        zone = ZoneInfo(entry.time_zone)
        start = recurrence.local_start(entry.start_date, entry.start_time)
        end = start + timedelta(minutes=entry.duration_minutes)
        initial = {
            "kind": entry.kind,
            "title": entry.title,
            "description": entry.description,
            "communities": list(entry.communities.all()),
            "host_members": list(entry.host_members.all()),
            "host_staff": list(entry.host_staff.all()),
            "place": entry.place,
            "link": entry.link,
            "time_zone": entry.time_zone,
            "start_date": start.date(),
            "start_time": start.time(),
            "end_date": end.date(),
            "end_time": end.time(),
            "invite_scope": entry.invite_scope,
            "invite_tier": entry.invite_tier_id,
            "invite_squad": entry.invite_squad_id,
            "invite_picked": list(entry.invite_picked.all()),
            "capacity": entry.capacity,
            **preset_of(entry.rrule, entry.start_date),
        }
        if slot is not None:
            local_start = slot.starts_at.astimezone(zone)
            local_end = slot.ends_at.astimezone(zone)
            initial.update(
                start_date=local_start.date(),
                start_time=local_start.time().replace(tzinfo=None),
                end_date=local_end.date(),
                end_time=local_end.time().replace(tzinfo=None),
                note=slot.note,
                scope=Scope.THIS if entry.rrule else Scope.ALL,
            )
        return initial

    def clean(self):
        data = super().clean()
        start_date, start_time = data.get("start_date"), data.get("start_time")
        end_time = data.get("end_time")
        if start_date and start_time and end_time:
            end_date = data.get("end_date") or start_date
            if datetime.combine(end_date, end_time) <= datetime.combine(start_date, start_time):
                self.add_error("end_time", _("The end is before the start."))
        if data.get("repeat") == Repeat.CUSTOM and not (data.get("rrule") or "").strip():
            self.add_error("rrule", _("Write a repeat rule, such as FREQ=WEEKLY;BYDAY=TU."))
        chosen = data.get("communities") or []
        hosts = data.get("host_members") or []
        if chosen and hosts:
            ids = {c.pk for c in chosen}
            members_of = set(
                Membership.objects.filter(member__in=hosts, community_id__in=ids).values_list(
                    "member_id", flat=True
                )
            )
            if any(h.pk not in members_of for h in hosts):
                self.add_error("host_members", _("Hosts must be members of its communities."))
        return data

    def rrule_text(self) -> str:
        data = self.cleaned_data
        return build_rrule(
            data.get("repeat") or Repeat.NONE,
            data["start_date"],
            weekdays=data.get("weekdays") or (),
            custom=data.get("rrule") or "",
            until=data.get("until"),
            count=data.get("count"),
        )

    def service_data(self) -> dict:
        """What ``entry_create`` / ``entry_update`` take as ``data``."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "title": data["title"],
            "description": data.get("description") or "",
            "place": data.get("place") or "",
            "link": data.get("link") or "",
            "time_zone": data.get("time_zone") or "",
            "start_date": data["start_date"],
            "start_time": data["start_time"].replace(second=0, microsecond=0),
            "end_date": data.get("end_date") or data["start_date"],
            "end_time": data["end_time"].replace(second=0, microsecond=0),
            "rrule": self.rrule_text(),
            "invite_scope": data["invite_scope"],
            "invite_tier": data.get("invite_tier"),
            "invite_squad": data.get("invite_squad"),
            "capacity": data.get("capacity"),
            "note": data.get("note") or "",
        }


class PreviewForm(forms.Form):
    """The parts of the entry form the live preview reads; anything missing: no preview."""

    start_date = BoundedDateField(required=False)
    start_time = forms.TimeField(required=False)
    repeat = forms.ChoiceField(choices=Repeat.choices, required=False)
    weekdays = forms.MultipleChoiceField(choices=WEEKDAY_CHOICES, required=False)
    rrule = forms.CharField(max_length=400, required=False)
    until = BoundedDateField(required=False)
    count = forms.IntegerField(required=False, min_value=1, max_value=1000)


class CancelForm(forms.Form):
    scope = forms.ChoiceField(label=_("Cancel"), choices=Scope.choices, initial=Scope.THIS)


class CalendarFilterForm(forms.Form):
    """The month/week/agenda filters and the date shown (bad values fall back to today)."""

    community = BoundedModelMultipleChoiceField(
        label=_("Communities"),
        queryset=Community.objects.none(),
        to_field_name="slug",
        required=False,
    )
    kind = forms.MultipleChoiceField(label=_("Kinds"), choices=EntryKind.choices, required=False)
    date = BoundedDateField(required=False)

    def __init__(self, *args, staff: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = communities_for(staff).order_by("name")
