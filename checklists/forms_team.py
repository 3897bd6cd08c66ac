"""Forms of the team view: the date range and filters (a query string), and reassigning a
run (a post). They parse, nothing more."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from checklists.models import Phase
from checklists.selectors.completion import WINDOW_DAYS
from checklists.selectors.team import ASSIGNABLE_ROLES
from communities.models import Community, Staff
from communities.validators import DateRangeFormMixin, date_in_range


class TeamFilterForm(DateRangeFormMixin, forms.Form):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD&community=SLUG&phase=PHASE``; empty means the
    default: the ``WINDOW_DAYS`` days ending ``today`` (the organisation's local day),
    every community, every phase. ``from`` is a Python keyword: the date fields are added
    in ``__init__``."""

    community = forms.ChoiceField(label=_("Community"), required=False)
    phase = forms.ChoiceField(label=_("Template phase"), required=False)

    def __init__(self, data=None, *, today: date, communities: list[Community], **kwargs):
        super().__init__(_with_defaults(data or {}, today), **kwargs)
        self.communities = {community.slug: community for community in communities}
        self.add_range_fields()
        self.fields["community"].choices = [
            ("", _("All communities")),
            *((community.slug, community.name) for community in communities),
        ]
        self.fields["phase"].choices = [("", _("All phases")), *Phase.choices]
        self.order_fields(["from", "to", "community", "phase"])

    @property
    def chosen_community(self) -> Community | None:
        return self.communities.get(self.cleaned_data.get("community") or "")

    @property
    def chosen_phase(self) -> str | None:
        return self.cleaned_data.get("phase") or None

    def query(self) -> dict[str, str]:
        """The cleaned filters as query parameters, for links that keep them."""
        query = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.chosen_community is not None:
            query["community"] = self.chosen_community.slug
        if self.chosen_phase:
            query["phase"] = self.chosen_phase
        return query


def _with_defaults(data, today: date) -> dict[str, str]:
    """The query string with its blank dates filled: the inputs then show the range in use."""
    values = {name: (data.get(name) or "").strip() for name in ("from", "to", "community", "phase")}
    if not values["to"]:
        values["to"] = today.isoformat()
    if not values["from"]:
        try:
            end = date.fromisoformat(values["to"])
        except ValueError:
            end = today
        if not date_in_range(end):  # refused by the field; no default to step back from
            end = today
        values["from"] = (end - timedelta(days=WINDOW_DAYS - 1)).isoformat()
    return values


class ReassignForm(forms.Form):
    """Who a run goes to (empty: nobody); where to go back to without JavaScript.

    Any working staff member of the organisation is accepted here, so that the service
    says why one cannot take the run (a moderator not assigned to its community)."""

    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=Staff.objects.none(), required=False
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = Staff.objects.filter(
            organization_id=organization_id, role__in=ASSIGNABLE_ROLES
        ).select_related("user")
