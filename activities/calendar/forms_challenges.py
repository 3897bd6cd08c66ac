"""Forms of the check-in challenge pages (the writes are in ``challenges.py``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from activities.calendar.challenges import MAX_DAYS
from activities.calendar.models import ChallengeParticipant
from communities.models import Community, RuleKind
from communities.validators import BoundedDateField, BoundedModelMultipleChoiceField
from members.models import Membership, MembershipStatus


class ChallengeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    start_date = BoundedDateField(
        label=_("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    days = forms.IntegerField(label=_("Days"), min_value=1, max_value=MAX_DAYS, initial=21)
    deadline = forms.TimeField(
        label=_("Daily deadline"),
        initial="22:00",
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In the community's time zone. A chat message after it counts for no day."),
    )
    max_missed_days = forms.IntegerField(
        label=_("Missed days allowed"), min_value=0, max_value=MAX_DAYS, initial=0
    )
    deposit = forms.DecimalField(
        label=_("Commitment deposit"),
        required=False,
        max_digits=10,
        decimal_places=2,
        help_text=_("Held when a member joins; refunded if they make it, forfeited if not."),
    )
    keyword = forms.CharField(
        label=_("Check-in keyword"),
        max_length=60,
        required=False,
        initial="#打卡",
        help_text=_(
            "A message containing it (any case, full-width or half-width) checks the sender "
            "in for that day. Empty: only staff tick check-ins."
        ),
    )
    reward_rule = forms.ModelChoiceField(
        label=_("Those who make it earn the points of"),
        queryset=None,
        required=False,
    )

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reward_rule"].queryset = community.rules.filter(kind=RuleKind.ENCOURAGED)


class ParticipantsForm(forms.Form):
    memberships = BoundedModelMultipleChoiceField(
        label=_("Members"),
        queryset=Membership.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )

    def __init__(self, *args, challenge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["memberships"].queryset = (
            Membership.objects.filter(
                community_id=challenge.community_id,
                status__in=[MembershipStatus.ACTIVE, MembershipStatus.LURKER],
            )
            .exclude(pk__in=challenge.participants.values("membership_id"))
            .select_related("member")
            .order_by("member__display_name", "pk")
        )
        self.fields["memberships"].label_from_instance = lambda m: m.member.display_name


def _participant_field(challenge) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=ChallengeParticipant.objects.filter(challenge=challenge).select_related(
            "membership__member", "deposit_held"
        )
    )


class CheckInForm(forms.Form):
    day = BoundedDateField()
    checked = forms.BooleanField(required=False)

    def __init__(self, *args, challenge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"] = _participant_field(challenge)


class RemoveParticipantForm(forms.Form):
    def __init__(self, *args, challenge, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participant"] = _participant_field(challenge)
