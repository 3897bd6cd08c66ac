"""Automation rules' pages: the list (with presets), the form (the chosen trigger's
settings and the action rows swapped in place by htmx, a dry-run of the unsaved rule), a
rule's page (recent firings, its dry-run), switching on and off, deleting.

Reading needs ``VIEW_COMMUNITIES``; building and switching needs ``MANAGE_COMMUNITIES``;
another organisation's rule is a 404 (automations/rules/access.py)."""

from __future__ import annotations

import time

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from automations.forms_rules import (
    ACTION_LABELS,
    RuleForm,
    action_rows,
    actions_from_post,
    form_initial,
)
from automations.models import AutomationRule, RuleFiring
from automations.placeholders import PLACEHOLDERS
from automations.rules.dry_run import dry_run
from automations.rules.presets import PRESET_LABELS, preset
from automations.rules.spec import LIVE_TRIGGERS, RuleSpec
from automations.services import rules as services
from communities.forms import add_service_error
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members.models import Tag

LIST = "automations/rules.html"
FORM = "automations/rule_form.html"
DETAIL = "automations/rule.html"
RECENT_FIRINGS = 50


def trigger_words(rule) -> str:
    """The trigger in words, with its settings (“A message matched “打卡规则” …”)."""
    config = rule.trigger_config or {}
    words = rule.get_trigger_display()
    if rule.trigger == "keyword" and config.get("keyword"):
        words += _(": “%(keyword)s”") % {"keyword": config["keyword"]}
        if config.get("cooldown_minutes"):
            words += _(" (once per %(minutes)s minutes per group)") % {
                "minutes": config["cooldown_minutes"]
            }
    elif rule.trigger == "inactive":
        words += _(": %(days)s days") % {"days": config.get("days", 14)}
    return words


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def rules(request: HtmxHttpRequest) -> HttpResponse:
    rows = list(
        AutomationRule.objects.filter(organization_id=request.staff.organization_id)
        .prefetch_related("communities")
        .order_by("name", "pk")
    )
    for rule in rows:
        rule.trigger_words = trigger_words(rule)
    return render(
        request,
        LIST,
        {
            "nav": "actions",
            "rows": rows,
            "presets": PRESET_LABELS,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


def _tags(request) -> list[Tag]:
    return list(Tag.objects.filter(organization_id=request.staff.organization_id))


def _form_page(request, form, actions, *, rule=None, action_errors=(), result=None, status=200):
    return render(
        request,
        FORM,
        {
            "nav": "actions",
            "rule": rule,
            "form": form,
            "actions": action_rows(actions),
            "next_action": len(actions),
            "action_labels": ACTION_LABELS,
            "action_errors": list(action_errors),
            "tags": _tags(request),
            "result": result,
            "live_trigger": form.trigger in LIVE_TRIGGERS,
            "placeholders": [("{" + name + "}", meaning) for name, meaning in PLACEHOLDERS.items()],
        },
        status=status,
    )


def _partial_get(request, form) -> HttpResponse | None:
    """The htmx swaps of the form: one trigger's settings, or a new action row."""
    if not request.htmx:
        return None
    if "remove" in request.GET:  # the row is removed in the page (hx-swap="delete")
        return HttpResponse("")
    if "add_action" in request.GET:
        kind = request.GET.get("add_action")
        if kind not in ACTION_LABELS:
            kind = "send"
        # A number no row of the page has: the rows are read in their order, not by it.
        n = time.time_ns() // 1000 % 1_000_000_000
        return render(
            request,
            f"{FORM}#action-row",
            {
                "row": {"n": n, "type": kind, "label": ACTION_LABELS[kind]},
                "tags": _tags(request),
                "here": request.path,
            },
        )
    if request.htmx.target == "trigger-settings":
        return render(request, f"{FORM}#trigger-settings", {"form": form})
    return None


def _submit(request, form, *, rule=None) -> HttpResponse:
    """POST of the form: a dry-run of the unsaved rule, or the save — or, without
    JavaScript, an action row added or removed (the page again, nothing written)."""
    if "add_action" in request.POST or "remove_action" in request.POST:
        actions = actions_from_post(request.POST, without=request.POST.get("remove_action"))
        if request.POST.get("add_action") in ACTION_LABELS:
            actions.append({"type": request.POST["add_action"]})
        return _form_page(request, form, actions, rule=rule)
    actions = actions_from_post(request.POST)
    is_dry_run = "dry_run" in request.POST
    data = form.data_for_service() if form.is_valid() else None
    action_errors: list[str] = []
    result = None
    if data is not None:
        data["actions"] = actions
        organization = request.staff.organization
        try:
            if is_dry_run:
                spec = services.rule_spec(organization=organization, data=data)
                result = dry_run(spec)
            elif rule is None:
                rule = services.rule_create(organization=organization, data=data, by=request.user)
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
                return redirect("automations:rule", rule_id=rule.pk)
            else:
                services.rule_update(rule=rule, data=data)
                messages.success(request, _("Rule “%(name)s” saved.") % {"name": rule.name})
                return redirect("automations:rule", rule_id=rule.pk)
        except ValidationError as error:
            found = error.message_dict
            action_errors = found.pop("actions", [])
            add_service_error(form, ValidationError(found) if found else ValidationError([]))
    if is_dry_run and request.htmx:
        return render(
            request,
            f"{FORM}#dry-run",
            {
                "result": result,
                "form": form,
                "action_errors": action_errors,
                "show_errors": True,
                "live_trigger": form.trigger in LIVE_TRIGGERS,
            },
        )
    return _form_page(request, form, actions, rule=rule, action_errors=action_errors, result=result)


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def rule_new(request: HtmxHttpRequest) -> HttpResponse:
    organization = request.staff.organization
    if request.method == "POST":
        return _submit(request, RuleForm(request.POST, organization=organization))
    initial, actions = preset(request.GET.get("preset", "")) or ({}, [{"type": "send", "text": ""}])
    trigger = request.GET.get("trigger") or initial.get("trigger")
    form = RuleForm(initial=initial, organization=organization, trigger=trigger)
    return _partial_get(request, form) or _form_page(request, form, actions)


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def rule_edit(request: HtmxHttpRequest, rule: AutomationRule) -> HttpResponse:
    organization = request.staff.organization
    if request.method == "POST":
        return _submit(request, RuleForm(request.POST, organization=organization), rule=rule)
    trigger = request.GET.get("trigger") or rule.trigger
    form = RuleForm(initial=form_initial(rule), organization=organization, trigger=trigger)
    return _partial_get(request, form) or _form_page(request, form, rule.actions, rule=rule)


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def rule(request: HtmxHttpRequest, rule: AutomationRule) -> HttpResponse:
    firings = list(
        RuleFiring.objects.filter(rule=rule).select_related("community", "member")[:RECENT_FIRINGS]
    )
    rule.trigger_words = trigger_words(rule)
    return render(
        request,
        DETAIL,
        {
            "nav": "actions",
            "rule": rule,
            "communities": list(rule.communities.all()),
            "firings": firings,
            "action_labels": ACTION_LABELS,
            "actions": action_rows(rule.actions or []),
            "tags": {t.pk: t for t in _tags(request)},
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
            "live_trigger": rule.trigger in LIVE_TRIGGERS,
        },
    )


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def rule_dry_run(request: HtmxHttpRequest, rule: AutomationRule) -> HttpResponse:
    result = dry_run(RuleSpec.of(rule))
    context = {
        "nav": "actions",
        "rule": rule,
        "result": result,
        "live_trigger": rule.trigger in LIVE_TRIGGERS,
    }
    return render(request, f"{DETAIL}#dry-run" if request.htmx else DETAIL, context)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def rule_toggle(request: HtmxHttpRequest, rule: AutomationRule) -> HttpResponse:
    services.rule_set_enabled(rule=rule, enabled=not rule.enabled)
    if request.htmx:
        rule.trigger_words = trigger_words(rule)
        return render(request, f"{LIST}#rule-row", {"rule": rule, "can_manage": True})
    if rule.enabled:
        messages.success(request, _("Rule “%(name)s” switched on.") % {"name": rule.name})
    else:
        messages.success(request, _("Rule “%(name)s” switched off.") % {"name": rule.name})
    if request.POST.get("next") == "rule":
        return redirect("automations:rule", rule_id=rule.pk)
    return redirect("automations:rules")


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def rule_delete(request: HtmxHttpRequest, rule: AutomationRule) -> HttpResponse:
    name = rule.name
    services.rule_delete(rule=rule)
    messages.success(request, _("Rule “%(name)s” deleted.") % {"name": name})
    return redirect("automations:rules")
