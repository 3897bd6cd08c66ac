from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Platform, Rule, RuleKind
from communities.validators import (
    BoundedDateField,
    BoundedModelMultipleChoiceField,
    database_id,
)
from members.models import (
    DepositKind,
    MemberRole,
    MembershipStatus,
    Squad,
    Tag,
    TagKind,
    Tier,
)
from members.selectors import EVERYONE, MemberFilters

PAGE_SIZE = 50

SORT_CHOICES = [
    ("name", _("Name")),
    ("-points", _("Most points")),
    ("-tier", _("Highest tier")),
    ("-joined", _("Newest")),
    ("last_active", _("Longest inactive")),
]


class MemberFilterForm(forms.Form):
    """The members list's filters. Tier and squad choices follow the chosen community."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    community = forms.ChoiceField(label=_("Community"), required=False)
    tier = forms.TypedChoiceField(
        label=_("Tier"), required=False, coerce=database_id, empty_value=None
    )
    squad = forms.TypedChoiceField(
        label=_("Squad"), required=False, coerce=database_id, empty_value=None
    )
    role = forms.ChoiceField(label=_("Role"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    tag = forms.TypedChoiceField(
        label=_("Tag"), required=False, coerce=database_id, empty_value=None
    )
    inactive = forms.IntegerField(
        label=_("Inactive for at least (days)"), required=False, min_value=0, max_value=3650
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, data, *, communities: list[Community], tags: list[Tag], **kwargs):
        super().__init__(data, **kwargs)
        self.communities = {c.slug: c for c in communities}
        everything = [("", _("All"))]
        self.fields["community"].choices = [
            ("", _("All communities")),
            *[(c.slug, c.name) for c in communities],
        ]
        self.fields["role"].choices = everything + list(MemberRole.choices)
        # The default is "members of a community" as every page counts them (active and
        # lurking: members.models.PRESENT_STATUSES); everyone else is one choice away.
        self.fields["status"].choices = [
            ("", _("Current members (active, lurking)")),
            (EVERYONE, _("Everyone (also applicants, left, removed)")),
            *MembershipStatus.choices,
        ]
        self.fields["tag"].choices = everything + [
            (t.pk, f"{t.get_kind_display()}: {t.name}") for t in tags
        ]
        self.fields["q"].widget.attrs["placeholder"] = _("Name or platform id…")
        community = self.communities.get((data or {}).get("community", ""))
        self.selected_community = community
        tiers = list(community.tiers.order_by("rank")) if community else []
        squads = list(community.squads.all()) if community else []
        self.tiers, self.squads = tiers, squads
        self.fields["tier"].choices = everything + [(t.pk, t.name) for t in tiers]
        self.fields["squad"].choices = everything + [(s.pk, s.name) for s in squads]

    @property
    def current_members(self) -> bool:
        """Whether the list shows the community's members (the default population)."""
        return not (self.cleaned_data.get("status") if self.is_valid() else "")

    def filters(self) -> MemberFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return MemberFilters(
            community=self.communities.get(data.get("community") or ""),
            tier_id=data.get("tier"),
            squad_id=data.get("squad"),
            role=data.get("role") or "",
            status=data.get("status") or "",
            tag_id=data.get("tag"),
            inactive_days=data.get("inactive"),
            search=(data.get("q") or "").strip(),
            sort=data.get("sort") or "name",
        )


class BulkAction(models.TextChoices):
    TAG = "tag", _("Add a tag")
    MOVE_TIER = "move_tier", _("Move to tier")
    ASSIGN_SQUAD = "assign_squad", _("Put in squad")


class BulkForm(forms.Form):
    """One action on the ticked memberships. Tier and squad need one community chosen.

    Takes the chosen community's tiers and squads already loaded (the filter form has
    them), so rendering the list does not query them twice.
    """

    action = forms.ChoiceField(label=_("Action"), choices=BulkAction.choices)
    memberships = forms.TypedMultipleChoiceField(coerce=database_id, required=True)
    tag_kind = forms.ChoiceField(
        label=_("Tag kind"), choices=TagKind.choices, initial=TagKind.OTHER, required=False
    )
    tag_name = forms.CharField(label=_("Tag"), max_length=60, required=False)
    tier = forms.TypedChoiceField(
        label=_("Tier"), required=False, coerce=database_id, empty_value=None
    )
    squad = forms.TypedChoiceField(
        label=_("Squad"), required=False, coerce=database_id, empty_value=None
    )

    def __init__(self, *args, tiers: list[Tier] = (), squads: list[Squad] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["memberships"].error_messages["required"] = _("Tick at least one member.")
        # Any id is accepted here; the view keeps only those the user may act on.
        self.fields["memberships"].valid_value = lambda value: True
        self.tiers = {tier.pk: tier for tier in tiers}
        self.squads = {squad.pk: squad for squad in squads}
        self.fields["tier"].choices = [("", "—"), *[(t.pk, t.name) for t in tiers]]
        self.fields["squad"].choices = [("", "—"), *[(s.pk, s.name) for s in squads]]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        data["tier"] = self.tiers.get(data.get("tier"))
        data["squad"] = self.squads.get(data.get("squad"))
        if action == BulkAction.TAG and not (data.get("tag_name") or "").strip():
            self.add_error("tag_name", _("Name the tag to add."))
        if action == BulkAction.MOVE_TIER and not data["tier"]:
            self.add_error("tier", _("Choose a community first, then a tier."))
        if action == BulkAction.ASSIGN_SQUAD and not data["squad"]:
            self.add_error("squad", _("Choose a community first, then a squad."))
        return data


# --- Forms on the member profile ---------------------------------------------------------


class RuleSelect(forms.Select):
    """Each rule's option carries its points and title: choosing a rule fills in the points
    and the reason (static/js/app.js, ``data-fills-points``); both stay editable."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        rule = getattr(value, "instance", None)
        if rule is not None:
            option["attrs"]["data-points"] = rule.points
            option["attrs"]["data-title"] = rule.title
        return option


class PointsForm(forms.Form):
    rule = forms.ModelChoiceField(
        label=_("Rule"),
        queryset=Rule.objects.none(),
        required=False,
        widget=RuleSelect(attrs={"data-fills-points": ""}),
        help_text=_("Choosing a rule fills in its points and reason."),
    )
    delta = forms.IntegerField(label=_("Points (+/−)"), min_value=-100000, max_value=100000)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = community.rules.filter(kind=RuleKind.ENCOURAGED)


class ViolationForm(forms.Form):
    rule = forms.ModelChoiceField(label=_("Rule broken"), queryset=Rule.objects.none())
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = community.rules.filter(kind=RuleKind.FORBIDDEN)


class DepositForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=DepositKind.choices)
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, max_digits=10, decimal_places=2)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(
        label=_("Roles"),
        choices=MemberRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class TierForm(forms.Form):
    tier = forms.ModelChoiceField(label=_("Tier"), queryset=Tier.objects.none())

    def __init__(self, *args, community: Community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].queryset = community.tiers.order_by("rank")


class MemberForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=120)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    tags = BoundedModelMultipleChoiceField(
        label=_("Tags"),
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tags"].queryset = Tag.objects.filter(organization=organization)


class AddMemberForm(forms.Form):
    community = forms.ChoiceField(label=_("Community"))
    display_name = forms.CharField(label=_("Display name"), max_length=120)
    platform = forms.ChoiceField(label=_("Platform"), required=False)
    external_id = forms.CharField(label=_("Platform id"), max_length=200, required=False)
    joined_on = BoundedDateField(
        label=_("Joined on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, communities: list[Community], **kwargs):
        super().__init__(*args, **kwargs)
        self.communities = {c.slug: c for c in communities}
        self.fields["community"].choices = [(c.slug, c.name) for c in communities]
        self.fields["platform"].choices = [("", "—"), *Platform.choices]

    def clean_community(self):
        return self.communities[self.cleaned_data["community"]]

    def clean(self):
        data = super().clean()
        if bool(data.get("platform")) != bool((data.get("external_id") or "").strip()):
            raise forms.ValidationError(
                _("Give both the platform and the platform id, or neither.")
            )
        return data
