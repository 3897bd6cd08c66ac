"""The automation rule form: the fixed fields (name, trigger, communities, conditions),
the chosen trigger's settings only, and the list of actions as numbered rows
(``action-<n>-type``, ``-text``, ``-points``, ``-tag_id``, ``-title``) that htmx adds and
removes in place. The service checks the whole rule (automations/services/rules.py)."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from automations.models import AutomationRule, RuleTrigger
from communities.models import Community, Organization
from communities.validators import BoundedModelMultipleChoiceField
from members.models import Tag, Tier

ACTION_LABELS = {
    "send": _("Send a message through the community's outlet"),
    "notify": _("Notify the community's staff"),
    "points": _("Add points to the member"),
    "tag": _("Tag the member"),
    "checklist_item": _("Give the moderators a task"),
}
_ROW = re.compile(r"^action-(\d{1,9})-type$")


class TierChoice(BoundedModelMultipleChoiceField):
    def label_from_instance(self, tier: Tier) -> str:
        return f"{tier.community.name} · {tier.name}"


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    trigger = forms.ChoiceField(label=_("It fires when"), choices=RuleTrigger.choices)
    keyword = forms.CharField(
        label=_("Keyword or regular expression"),
        max_length=300,
        required=False,
        help_text=_(
            "Found anywhere in a message; full-width and half-width, upper and lower case alike."
        ),
    )
    regex = forms.BooleanField(label=_("It is a regular expression"), required=False)
    cooldown_minutes = forms.IntegerField(
        label=_("Cooldown per group (minutes)"),
        min_value=0,
        max_value=10080,
        initial=10,
        required=False,
        help_text=_("No second reply in the same group within this time (0: reply every time)."),
    )
    days = forms.IntegerField(
        label=_("Inactive for (days)"), min_value=1, max_value=365, initial=14, required=False
    )
    communities = BoundedModelMultipleChoiceField(
        label=_("Communities"),
        queryset=Community.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every community of the organisation."),
    )
    tiers = TierChoice(
        label=_("Only members of these tiers"),
        queryset=Tier.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    tier_at_least = forms.BooleanField(label=_("… or of a higher tier"), required=False)
    tags = BoundedModelMultipleChoiceField(
        label=_("Only members with any of these tags"),
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_(
            "The analytics drill-down's “tag these members” puts a retention cell or a "
            "lifecycle bar's members under a tag: choose it here to re-engage them."
        ),
    )
    enabled = forms.BooleanField(label=_("Switched on"), required=False)

    def __init__(self, *args, organization: Organization, trigger: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["communities"].queryset = Community.objects.filter(
            organization=organization, archived=False
        ).order_by("name")
        self.fields["tiers"].queryset = (
            Tier.objects.filter(community__organization=organization, community__archived=False)
            .select_related("community")
            .order_by("community__name", "rank")
        )
        self.fields["tags"].queryset = Tag.objects.filter(organization=organization)
        chosen = self.data.get("trigger") if self.is_bound else trigger
        if chosen not in RuleTrigger.values:
            chosen = trigger if trigger in RuleTrigger.values else RuleTrigger.MEMBER_JOINED
        self.trigger = chosen
        self.fields["trigger"].initial = chosen

    def settings_fields(self) -> list:
        names = {
            RuleTrigger.KEYWORD: ["keyword", "regex", "cooldown_minutes"],
            RuleTrigger.INACTIVE: ["days"],
        }.get(self.trigger, [])
        return [self[name] for name in names]

    def condition_fields(self) -> list:
        return [self[name] for name in ("communities", "tiers", "tier_at_least", "tags")]

    def data_for_service(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "trigger": data["trigger"],
            "config": {
                "keyword": data.get("keyword") or "",
                "regex": data.get("regex") or False,
                "cooldown_minutes": data.get("cooldown_minutes") or 0,
                "days": data.get("days") or 0,
            },
            "community_ids": [c.pk for c in data["communities"]],
            "conditions": {
                "tier_ids": [t.pk for t in data["tiers"]],
                "tier_at_least": data.get("tier_at_least") or False,
                "tag_ids": [t.pk for t in data["tags"]],
            },
            "enabled": data.get("enabled") or False,
        }


def form_initial(rule: AutomationRule) -> dict:
    config = rule.trigger_config or {}
    conditions = rule.conditions or {}
    return {
        "name": rule.name,
        "trigger": rule.trigger,
        "keyword": config.get("keyword", ""),
        "regex": config.get("regex", False),
        "cooldown_minutes": config.get("cooldown_minutes", 10),
        "days": config.get("days", 14),
        "communities": [c.pk for c in rule.communities.all()],
        "tiers": conditions.get("tier_ids", []),
        "tier_at_least": conditions.get("tier_at_least", False),
        "tags": conditions.get("tag_ids", []),
        "enabled": rule.enabled,
    }


def actions_from_post(data, *, without: str | None = None) -> list[dict]:
    """The action rows in the order the page lists them (a browser posts the fields in
    document order; the rows' numbers only keep them apart)."""
    numbers = [int(m.group(1)) for key in data if (m := _ROW.match(key)) and m.group(1) != without]
    actions = []
    for n in numbers:
        kind = data.get(f"action-{n}-type", "")
        action = {"type": kind}
        if kind == "send":
            action["text"] = data.get(f"action-{n}-text", "")
        elif kind == "points":
            action["points"] = data.get(f"action-{n}-points", "")
        elif kind == "tag":
            action["tag_id"] = data.get(f"action-{n}-tag_id", "")
        elif kind == "checklist_item":
            action["title"] = data.get(f"action-{n}-title", "")
        actions.append(action)
    return actions


def action_rows(actions: list[dict]) -> list[dict]:
    """Rows for the template: each action with its number and its label."""
    return [
        {"n": n, "label": ACTION_LABELS.get(a.get("type"), ""), **a} for n, a in enumerate(actions)
    ]
