"""The Actions list's filters (a GET form): a value that does not parse is left out, never
an error page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from automations.models import ActionKind
from automations.selectors.actions import TABS, ActionFilters
from communities.models import Community
from communities.validators import BoundedDateField


def _date_field(label) -> BoundedDateField:
    return BoundedDateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class ActionFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    community = forms.ChoiceField(label=_("Community"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    due_from = _date_field(pgettext_lazy("due date range", "Due from"))
    due_to = _date_field(pgettext_lazy("due date range", "Due until"))
    tab = forms.ChoiceField(
        required=False, choices=[(t, t) for t in TABS], widget=forms.HiddenInput
    )

    def __init__(self, data, *, communities: list[Community], **kwargs):
        super().__init__(data, **kwargs)
        self.communities = {c.slug: c for c in communities}
        self.fields["community"].choices = [
            ("", _("All communities")),
            *[(c.slug, c.name) for c in communities],
        ]
        self.fields["kind"].choices = [("", _("All kinds")), *ActionKind.choices]
        self.fields["q"].widget.attrs["placeholder"] = _("Title or text…")

    def filters(self) -> ActionFilters:
        self.is_valid()
        data = self.cleaned_data
        due_from, due_to = data.get("due_from"), data.get("due_to")
        if due_from and due_to and due_from > due_to:
            due_from, due_to = due_to, due_from
        return ActionFilters(
            tab=data.get("tab") or "all",
            community=self.communities.get(data.get("community") or ""),
            kind=data.get("kind") or "",
            due_from=due_from,
            due_to=due_to,
            search=(data.get("q") or "").strip(),
        )
