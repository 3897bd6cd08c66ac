"""Forms of the analytics pages: they parse query strings and posts, nothing more."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from analytics.metrics import STAGES
from analytics.rollups import COHORT_WEEKS, monday
from analytics.selectors import DEFAULT_OVERVIEW_SORT, OVERVIEW_SORTS, OverviewFilters
from communities.models import FunnelRole, Platform, Programme, Staff
from communities.validators import BoundedDateField, DateRangeFormMixin, database_id, date_in_range
from members.models import Tag

# --- Overview and portfolio: filters of the list of communities -----------------------------


def _programme_choices(staff: Staff) -> list[tuple[str, str]]:
    programmes = Programme.objects.filter(organization_id=staff.organization_id).order_by("name")
    return [("", _("All programmes")), *((str(p.pk), p.name) for p in programmes)]


class PortfolioFilterForm(forms.Form):
    """``?programme=ID``: the organisation's programmes (one query for the choices)."""

    programme = forms.TypedChoiceField(
        label=_("Programme"), required=False, coerce=database_id, empty_value=None
    )

    def __init__(self, *args, staff: Staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = _programme_choices(staff)

    def _cleaned(self) -> dict:
        """The valid parameters; an invalid one counts as not given."""
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    @property
    def programme_id(self) -> int | None:
        return self._cleaned().get("programme")


class OverviewFilterForm(PortfolioFilterForm):
    """``?programme=&platform=&funnel_role=&stage=&sort=``; anything invalid is ignored."""

    platform = forms.ChoiceField(label=_("Platform"), required=False)
    funnel_role = forms.ChoiceField(label=_("Funnel role"), required=False)
    stage = forms.ChoiceField(label=_("Stage"), required=False)
    sort = forms.ChoiceField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = [("", _("All platforms")), *Platform.choices]
        self.fields["funnel_role"].choices = [("", _("All funnel roles")), *FunnelRole.choices]
        self.fields["stage"].choices = [("", _("All stages")), *STAGES.items()]
        self.fields["sort"].choices = [
            (f"{sign}{key}", key) for key in OVERVIEW_SORTS for sign in ("", "-")
        ]

    def filters(self) -> OverviewFilters:
        data = self._cleaned()
        return OverviewFilters(
            programme_id=data.get("programme"),
            platform=data.get("platform") or "",
            funnel_role=data.get("funnel_role") or "",
            stage=data.get("stage") or "",
            sort=data.get("sort") or DEFAULT_OVERVIEW_SORT,
        )


# --- Community analytics page: the date range ----------------------------------------------

DEFAULT_RANGE_DAYS = 90
DEFAULT_INTERVAL = "week"

INTERVAL_CHOICES = [("day", _("Day")), ("week", _("Week")), ("month", _("Month"))]


class RangeForm(DateRangeFormMixin, forms.Form):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD&interval=day|week|month``; empty means the default.

    Default: the 90 days ending ``today`` (the community's local day), by week. The
    parameter ``from`` is a Python keyword, so the fields are added in ``__init__``.
    """

    interval = forms.ChoiceField(label=_("Interval"), choices=INTERVAL_CHOICES)

    def __init__(self, data=None, *, today: date, **kwargs):
        if data is not None:
            data = _with_range_defaults(data, today)
        super().__init__(data, **kwargs)
        self.today = today
        self.add_range_fields()
        self.order_fields(["from", "to", "interval"])

    @property
    def chosen_interval(self) -> str:
        return self.cleaned_data["interval"]

    def query(self) -> dict[str, str]:
        """The cleaned range as query parameters, for links that keep it."""
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "interval": self.chosen_interval,
        }


def _with_range_defaults(data, today: date) -> dict[str, str]:
    """The query string with its blanks filled: the inputs then show the range in use."""
    values = {name: (data.get(name) or "").strip() for name in ("from", "to", "interval")}
    if not values["to"]:
        values["to"] = today.isoformat()
    if not values["from"]:
        try:
            end = date.fromisoformat(values["to"])
        except ValueError:
            end = today
        if not date_in_range(end):  # refused by the field; no default to step back from
            end = today
        values["from"] = (end - timedelta(days=DEFAULT_RANGE_DAYS - 1)).isoformat()
    values["interval"] = values["interval"] or DEFAULT_INTERVAL
    return values


# --- Drill-down: which members a chart cell or bar stands for --------------------------------

LIFECYCLE_GROUPS = ("new", "returning", "resurrecting", "dormant")
LIFECYCLE_GROUP_CHOICES = [
    ("new", _("New")),
    ("returning", _("Returning")),
    ("resurrecting", _("Resurrecting")),
    ("dormant", _("Dormant")),
]


class DrilldownForm(forms.Form):
    """Either a retention cell (``cohort`` and optionally ``offset``) or a lifecycle bar
    (``week`` and ``group``). Dates are moved back to their week's Monday."""

    cohort = BoundedDateField(label=_("Cohort week"), required=False, input_formats=["%Y-%m-%d"])
    offset = forms.IntegerField(
        label=_("Weeks after joining"), required=False, min_value=0, max_value=COHORT_WEEKS
    )
    week = BoundedDateField(label=_("Week"), required=False, input_formats=["%Y-%m-%d"])
    group = forms.ChoiceField(label=_("Group"), required=False, choices=LIFECYCLE_GROUP_CHOICES)

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        cohort, week = cleaned.get("cohort"), cleaned.get("week")
        if cohort and week:
            raise forms.ValidationError(
                _("Choose either a cohort or a lifecycle week, not both."), code="both"
            )
        if cohort:
            cleaned["cohort"] = monday(cohort)
        elif week:
            if not cleaned.get("group"):
                raise forms.ValidationError(_("Choose a lifecycle group."), code="group")
            cleaned["week"] = monday(week)
        elif cleaned.get("offset") is not None or cleaned.get("group"):
            raise forms.ValidationError(
                _("A week offset needs a cohort and a group needs a week."), code="incomplete"
            )
        return cleaned

    @property
    def is_empty(self) -> bool:
        """Valid, and asks for nothing (the page without a selection)."""
        return not (self.cleaned_data.get("cohort") or self.cleaned_data.get("week"))

    def selection_query(self) -> dict[str, str]:
        data = self.cleaned_data
        if data.get("cohort"):
            query = {"cohort": data["cohort"].isoformat()}
            if data.get("offset") is not None:
                query["offset"] = str(data["offset"])
            return query
        if data.get("week"):
            return {"week": data["week"].isoformat(), "group": data["group"]}
        return {}


class TagMembersForm(DrilldownForm):
    """Tag the members of a drill-down selection (sent again, recomputed on the server)."""

    name = forms.CharField(
        label=_("Tag"),
        max_length=Tag._meta.get_field("name").max_length,
        help_text=_("A tag of kind “other”, created if it does not exist yet."),
    )

    def clean(self):
        cleaned = super().clean()
        if not self.errors and self.is_empty:
            raise forms.ValidationError(_("Choose the members to tag first."), code="empty")
        return cleaned

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the tag a name."), code="blank")
        return name
