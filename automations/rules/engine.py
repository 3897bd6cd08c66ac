"""Firing rules: once per (rule, candidate key), from live events and from beat's scan.

``fire`` writes the ``RuleFiring`` first — its unique (rule, key) is the lock: a repeated
scan, a second beat or a webhook posted twice finds the key taken and does nothing — and
then each action in its own savepoint, so one failing action is recorded in the firing's
outcome without undoing (or repeating) the others.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation

from activities.hooks import LiveEvent
from automations.models import AutomationRule, RuleFiring, RuleTrigger
from automations.rules import conditions, effects, triggers
from automations.rules.spec import LIVE_TRIGGERS, Candidate, RuleSpec
from communities.models import Community

logger = logging.getLogger(__name__)

# How far back beat's scan looks at most.
LOOKBACK = timedelta(days=7)


def fire(
    rule: AutomationRule,
    candidate: Candidate,
    *,
    spec: RuleSpec | None = None,
    context: conditions.Context | None = None,
    now: datetime | None = None,
) -> RuleFiring | None:
    """Fire ``rule`` for ``candidate`` unless it already fired for its key."""
    now = now or timezone.now()
    spec = spec or RuleSpec.of(rule)
    context = context or conditions.Context.load(spec, [candidate])
    with transaction.atomic():
        try:
            with transaction.atomic():
                firing = RuleFiring.objects.create(
                    rule=rule,
                    community=candidate.community,
                    member=candidate.member,
                    key=candidate.key[:200],
                    fired_at=now,
                )
        except IntegrityError:
            return None
        outcome = []
        with translation.override(rule.organization.language):
            for index, action in enumerate(spec.actions):
                try:
                    with transaction.atomic():
                        text = effects.apply(rule, spec, index, action, candidate, context, now)
                    outcome.append({"type": action.get("type"), "ok": True, "text": str(text)})
                except Exception as error:  # one action's failure must not undo the others
                    logger.exception("Rule %s action %s failed", rule.pk, index)
                    messages = getattr(error, "messages", None)
                    detail = " ".join(str(m) for m in messages) if messages else repr(error)
                    outcome.append({"type": action.get("type"), "ok": False, "text": detail[:300]})
        firing.outcome = outcome
        firing.save(update_fields=["outcome"])
        AutomationRule.objects.filter(pk=rule.pk).update(
            fire_count=F("fire_count") + 1, last_fired_at=now
        )
    return firing


def _cooled_down(rule: AutomationRule, spec: RuleSpec, candidate: Candidate) -> bool:
    """No reply within the cooldown before this one (the bucket key makes the race safe;
    this keeps two replies from straddling a bucket's edge)."""
    minutes = int(spec.config.get("cooldown_minutes") or 0)
    if spec.trigger != RuleTrigger.KEYWORD or minutes <= 0:
        return True
    return not RuleFiring.objects.filter(
        rule=rule,
        community=candidate.community,
        fired_at__gt=candidate.at - timedelta(minutes=minutes),
    ).exists()


def fire_all(
    rule: AutomationRule, found: list[Candidate], *, now: datetime | None = None
) -> list[RuleFiring]:
    """Fire ``rule`` for each candidate that passes its conditions and has not fired."""
    if not found:
        return []
    now = now or timezone.now()
    spec = RuleSpec.of(rule)
    taken = set(
        RuleFiring.objects.filter(rule=rule, key__in=[c.key for c in found]).values_list(
            "key", flat=True
        )
    )
    fresh = [c for c in found if c.key not in taken]
    context = conditions.Context.load(spec, fresh)
    fired = []
    for candidate in fresh:
        if candidate.key in taken or not conditions.passes(spec, candidate, context):
            continue
        if not _cooled_down(rule, spec, candidate):
            continue
        firing = fire(rule, candidate, spec=spec, context=context, now=now)
        taken.add(candidate.key)
        if firing is not None:
            fired.append(firing)
    return fired


def _enabled_rules(organization_id: int, trigger_in) -> list[AutomationRule]:
    return list(
        AutomationRule.objects.filter(
            organization_id=organization_id, enabled=True, trigger__in=trigger_in
        )
        .select_related("organization")
        .prefetch_related("communities")
        .order_by("pk")
    )


def on_live_events(
    community: Community, events: list[LiveEvent], *, now: datetime | None = None
) -> int:
    """The webhook's live events (activities.hooks): welcome and keyword rules fire."""
    fired = 0
    for rule in _enabled_rules(community.organization_id, LIVE_TRIGGERS):
        found = triggers.live_candidates(RuleSpec.of(rule), community, events)
        fired += len(fire_all(rule, found, now=now))
    return fired


def scan_window(rule: AutomationRule, now: datetime) -> tuple[datetime, datetime]:
    """Since the rule was switched on (its last change), at most ``LOOKBACK``."""
    since = rule.updated_at or now - LOOKBACK
    return max(since, now - LOOKBACK), now


def run_rules(*, now: datetime | None = None) -> int:
    """Beat's scan: every enabled rule whose trigger is not live-only, fired for what
    happened in its window. Returns how many firings were made."""
    now = now or timezone.now()
    rules = (
        AutomationRule.objects.filter(enabled=True)
        .exclude(trigger__in=LIVE_TRIGGERS)
        .select_related("organization")
        .prefetch_related("communities")
        .order_by("pk")
    )
    fired = 0
    for rule in rules:
        start, end = scan_window(rule, now)
        try:
            spec = RuleSpec.of(rule)
            spec.fresh_only = True
            found = triggers.candidates(spec, start, end)
            fired += len(fire_all(rule, found, now=now))
        except Exception:
            logger.exception("Automation rule %s failed to scan", rule.pk)
    return fired
