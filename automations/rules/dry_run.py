"""What a rule would have done over the last days, against the real log, writing nothing.

For the live-only triggers (member joined, keyword) the dry-run reads the event log of
every source — imports too — so it shows what *would* have fired had those events arrived
live; once switched on, the rule reacts only to the webhook's live events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone, translation

from automations.models import RuleFiring, RuleTrigger
from automations.rules import conditions, effects, triggers
from automations.rules.spec import Candidate, RuleSpec

MAX_ROWS = 200


@dataclass
class DryRunRow:
    candidate: Candidate
    actions: list[str]
    already_fired: bool


@dataclass
class DryRun:
    rows: list[DryRunRow]
    candidates: int  # before the conditions
    start: datetime
    end: datetime
    truncated: bool
    # A keyword rule's dry-run reads the log's text, which this organisation does not keep.
    no_text: bool = False


def dry_run(spec: RuleSpec, *, now: datetime | None = None, days: int = 7) -> DryRun:
    end = now or timezone.now()
    start = end - timedelta(days=days)
    found = triggers.candidates(spec, start, end)
    context = conditions.Context.load(spec, found)
    passing = [c for c in found if conditions.passes(spec, c, context)]
    # The cooldown as the live path would apply it: one reply per community and bucket.
    seen_keys: set[str] = set()
    kept = []
    for candidate in passing:
        if candidate.key in seen_keys:
            continue
        seen_keys.add(candidate.key)
        kept.append(candidate)
    fired = set()
    if spec.pk is not None and kept:
        fired = set(
            RuleFiring.objects.filter(
                rule_id=spec.pk, key__in=[c.key for c in kept[:MAX_ROWS]]
            ).values_list("key", flat=True)
        )
    rows = []
    with translation.override(translation.get_language()):
        for candidate in kept[:MAX_ROWS]:
            lines = [
                str(effects.describe(spec, action, candidate, context, candidate.at))
                for action in spec.actions
            ]
            rows.append(DryRunRow(candidate, lines, candidate.key in fired))
    return DryRun(
        rows=rows,
        candidates=len(found),
        start=start,
        end=end,
        truncated=len(kept) > MAX_ROWS,
        no_text=spec.trigger == RuleTrigger.KEYWORD and not spec.organization.keep_message_text,
    )
