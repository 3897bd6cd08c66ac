"""Forms of the occurrence's participation section and of a community's calendar rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.calendar.models import CalendarRules, Response
from communities.forms import ServiceValidatedModelForm
from communities.models import Community, RuleKind
from communities.validators import database_id


class AnswerForm(forms.Form):
    """Staff record a member's answer: one of the people on the list, and what they said."""

    CLEAR = "clear"

    membership = forms.TypedChoiceField(
        label=_("Member"),
        coerce=database_id,
        error_messages={"invalid_choice": _("Choose someone invited to this occurrence.")},
    )
    response = forms.ChoiceField(
        label=_("Answer"),
        choices=[
            (Response.GOING, Response.GOING.label),
            (Response.MAYBE, Response.MAYBE.label),
            (Response.DECLINED, Response.DECLINED.label),
            (CLEAR, _("Take off the list")),
        ],
    )

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._memberships = {p.membership.pk: p.membership for p in people}
        self.fields["membership"].choices = [
            ("", "—"),
            *(
                (p.membership.pk, f"{p.membership.member} · {p.membership.community.name}")
                for p in people
            ),
        ]

    def clean_membership(self):
        membership = self._memberships.get(self.cleaned_data["membership"])
        if membership is None:
            raise forms.ValidationError(_("Choose someone invited to this occurrence."))
        return membership


class CalendarRulesForm(ServiceValidatedModelForm):
    class Meta:
        model = CalendarRules
        fields = ["attendance_rule", "no_show_limit", "no_show_rule"]

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        rules = community.rules.order_by("position", "id")
        self.fields["attendance_rule"].queryset = rules.filter(kind=RuleKind.ENCOURAGED)
        self.fields["attendance_rule"].empty_label = _("No points")
        self.fields["attendance_rule"].help_text = _(
            "An encouraged behaviour of this community's rules; each attendance earns its "
            "points once."
        )
        self.fields["no_show_rule"].queryset = rules.filter(kind=RuleKind.FORBIDDEN)
        self.fields["no_show_rule"].empty_label = _("None")
        self.fields["no_show_rule"].help_text = _(
            "A forbidden behaviour: said going, did not come. Its penalty applies."
        )
