"""Automation rules' writes: create and edit (validated as a whole, nothing written on
bad input), switch on and off, delete. The engine is ``automations.rules``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.models import AutomationRule, Outlet, RuleTrigger
from automations.placeholders import fill
from automations.platforms import get_platform
from automations.platforms.base import Destination, Message
from automations.rules import matching
from automations.rules.effects import ACTION_TYPES
from automations.rules.spec import MEMBER_TRIGGERS, RuleSpec
from communities.models import Community, Organization
from members.models import Tag, Tier

MAX_ACTIONS = 10
MAX_POINTS = 10_000
# A member's name as long as most are, to check a message's length with ``{member}``.
SAMPLE_MEMBER = "M" * 24


def _trigger_config(trigger: str, config: dict) -> dict:
    if trigger == RuleTrigger.KEYWORD:
        return matching.check_config(config)
    if trigger == RuleTrigger.INACTIVE:
        try:
            days = int(config.get("days") or 0)
        except (TypeError, ValueError):
            days = 0
        if not 1 <= days <= 365:
            raise ValidationError({"days": _("Enter a number of days from 1 to 365.")})
        return {"days": days}
    return {}


def _text_problems(text: str, communities: list[Community]) -> list[str]:
    """The platforms' own checks of the filled text, for each community's outlet."""
    outlets = Outlet.objects.filter(community__in=communities, disabled_at__isnull=True).order_by(
        "community_id", "pk"
    )
    first: dict[int, Outlet] = {}
    for outlet in outlets:
        first.setdefault(outlet.community_id, outlet)
    problems = []
    now = timezone.now()
    for community in communities:
        outlet = first.get(community.pk)
        if outlet is None:
            continue
        filled = fill(text, community=community, at=now, member_name=SAMPLE_MEMBER)
        found = get_platform(outlet.platform).check(
            Message(text=filled),
            Destination(
                url=outlet.url, secret=outlet.secret, token=outlet.token, chat_id=outlet.chat_id
            ),
        )
        problems += [
            _("%(community)s, through %(platform)s: %(problem)s")
            % {
                "community": community.name,
                "platform": outlet.get_platform_display(),
                "problem": problem,
            }
            for problem in found
        ]
    return problems


def _actions(organization: Organization, actions: list, communities: list[Community]) -> list:
    if not actions:
        raise ValidationError({"actions": _("Add at least one action.")})
    if len(actions) > MAX_ACTIONS:
        raise ValidationError(
            {"actions": _("A rule has at most %(limit)s actions.") % {"limit": MAX_ACTIONS}}
        )
    cleaned, errors = [], []
    for number, action in enumerate(actions, start=1):
        kind = (action or {}).get("type")

        def problem(message: str, number: int = number) -> None:
            errors.append(
                _("Action %(number)s: %(problem)s") % {"number": number, "problem": message}
            )

        if kind not in ACTION_TYPES:
            problem(_("choose what it does."))
        elif kind == "send":
            text = (action.get("text") or "").strip()
            if not text:
                problem(_("enter the message to send."))
            else:
                for found in _text_problems(text, communities):
                    problem(found)
            cleaned.append({"type": kind, "text": text})
        elif kind == "notify":
            cleaned.append({"type": kind})
        elif kind == "points":
            try:
                points = int(action.get("points") or 0)
            except (TypeError, ValueError):
                points = 0
            if points == 0 or abs(points) > MAX_POINTS:
                problem(
                    _("points are a whole number other than 0, at most %(limit)s either way.")
                    % {"limit": MAX_POINTS}
                )
            cleaned.append({"type": kind, "points": points})
        elif kind == "tag":
            try:
                tag_id = int(action.get("tag_id") or 0)
            except (TypeError, ValueError):
                tag_id = 0
            if not Tag.objects.filter(organization=organization, pk=tag_id).exists():
                problem(_("choose one of the organisation's tags."))
            cleaned.append({"type": kind, "tag_id": tag_id})
        elif kind == "checklist_item":
            title = (action.get("title") or "").strip()[:200]
            if not title:
                problem(_("enter the task's title."))
            cleaned.append({"type": kind, "title": title})
    if errors:
        raise ValidationError({"actions": errors})
    return cleaned


def _ids(values) -> list[int]:
    out = []
    for value in values or []:
        try:
            out.append(int(value))
        except (TypeError, ValueError):
            continue
    return sorted(set(out))


def rule_clean(*, organization: Organization, data: dict) -> dict:
    """``data`` (name, trigger, config, community_ids, conditions, actions) checked as a
    whole; the cleaned values, or a ValidationError naming every field at fault."""
    errors: dict[str, list] = {}

    def collect(error: ValidationError) -> None:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)

    name = (data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Give the rule a name.")]
    trigger = data.get("trigger")
    config = {}
    if trigger not in RuleTrigger.values:
        errors["trigger"] = [_("Choose what makes the rule fire.")]
    else:
        try:
            config = _trigger_config(trigger, data.get("config") or {})
        except ValidationError as error:
            collect(error)
    in_org = Community.objects.filter(organization=organization)
    community_ids = _ids(data.get("community_ids"))
    chosen = list(in_org.filter(pk__in=community_ids).order_by("pk"))
    if len(chosen) != len(community_ids):
        errors["communities"] = [_("Choose communities of this organisation.")]
    scope = chosen or list(in_org.filter(archived=False).order_by("pk"))
    conditions = data.get("conditions") or {}
    tier_ids = _ids(conditions.get("tier_ids"))
    tag_ids = _ids(conditions.get("tag_ids"))
    if Tier.objects.filter(pk__in=tier_ids, community__organization=organization).count() != len(
        tier_ids
    ):
        errors["tiers"] = [_("Choose tiers of this organisation's communities.")]
    if Tag.objects.filter(pk__in=tag_ids, organization=organization).count() != len(tag_ids):
        errors["tags"] = [_("Choose tags of this organisation.")]
    if (tier_ids or tag_ids) and trigger in RuleTrigger.values and trigger not in MEMBER_TRIGGERS:
        errors.setdefault("tags", []).append(
            _("Tier and tag conditions need a trigger about a member.")
        )
    try:
        actions = _actions(organization, data.get("actions") or [], scope)
    except ValidationError as error:
        collect(error)
        actions = []
    if errors:
        raise ValidationError(errors)
    return {
        "name": name[:120],
        "trigger": trigger,
        "trigger_config": config,
        "community_ids": [c.pk for c in chosen],
        "conditions": {
            "tier_ids": tier_ids,
            "tier_at_least": bool(conditions.get("tier_at_least")) and bool(tier_ids),
            "tag_ids": tag_ids,
        },
        "actions": actions,
    }


def rule_spec(*, organization: Organization, data: dict) -> RuleSpec:
    """An unsaved rule for the form's dry-run (validated like a save)."""
    cleaned = rule_clean(organization=organization, data=data)
    return RuleSpec(
        organization=organization,
        name=cleaned["name"],
        trigger=cleaned["trigger"],
        config=cleaned["trigger_config"],
        community_ids=cleaned["community_ids"],
        conditions=cleaned["conditions"],
        actions=cleaned["actions"],
    )


@transaction.atomic
def rule_create(*, organization: Organization, data: dict, by=None) -> AutomationRule:
    cleaned = rule_clean(organization=organization, data=data)
    community_ids = cleaned.pop("community_ids")
    rule = AutomationRule.objects.create(
        organization=organization, created_by=by, enabled=bool(data.get("enabled")), **cleaned
    )
    rule.communities.set(community_ids)
    return rule


@transaction.atomic
def rule_update(*, rule: AutomationRule, data: dict) -> AutomationRule:
    cleaned = rule_clean(organization=rule.organization, data=data)
    community_ids = cleaned.pop("community_ids")
    for field, value in cleaned.items():
        setattr(rule, field, value)
    rule.updated_at = timezone.now()
    rule.save(update_fields=[*cleaned, "updated_at"])
    rule.communities.set(community_ids)
    return rule


def rule_set_enabled(*, rule: AutomationRule, enabled: bool) -> AutomationRule:
    """Switch a rule on or off. Switching on starts its scan now: rows from before it was
    switched on (a tier change last week) never make it fire."""
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.updated_at = timezone.now()
        rule.save(update_fields=["enabled", "updated_at"])
    return rule


def rule_delete(*, rule: AutomationRule) -> None:
    rule.delete()
