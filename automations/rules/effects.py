"""What a rule's actions do, and (for the dry-run) what they would do.

``actions`` is a list of:

- ``{"type": "send", "text": "…"}``: a message through the community's outlet — a
  ``ScheduledAction`` due now (the dispatcher sends it within seconds), made once per
  firing and action (``source_key``), its text filled for the community and the member;
- ``{"type": "notify"}``: the community's assigned staff and the operators are notified;
- ``{"type": "points", "points": 5}``: points for the member, the reason naming the rule;
- ``{"type": "tag", "tag_id": 3}``: a tag for the member;
- ``{"type": "checklist_item", "title": "…"}``: a task for the people who look after the
  member: the checklists app has no ad-hoc item outside a template's run, so the task is
  a notification to the community's moderators (operators when it has none) naming the
  member and their squad's leader, linked to the member's page.

Each effect returns one outcome line staff read on the rule's page.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from automations.models import ActionKind, AutomationRule, RuleTrigger, ScheduledAction
from automations.placeholders import fill
from automations.rules.conditions import Context
from automations.rules.spec import Candidate, RuleSpec
from communities.models import Role, Staff
from communities.notifications import notify
from members.models import Tag
from members.services import members_tag, points_add

KIND_BY_TRIGGER = {
    RuleTrigger.MEMBER_JOINED: ActionKind.WELCOME,
    RuleTrigger.KEYWORD: ActionKind.AUTO_REPLY,
    RuleTrigger.SILENCE: ActionKind.NUDGE,
}
ACTION_TYPES = ("send", "notify", "points", "tag", "checklist_item")


def member_name(candidate: Candidate) -> str:
    return candidate.member.display_name if candidate.member else ""


def message_text(action: dict, candidate: Candidate, now: datetime) -> str:
    return fill(
        action.get("text") or "",
        community=candidate.community,
        at=now,
        member_name=member_name(candidate),
    )


def _staff_for(candidate: Candidate, *, moderators_only: bool = False) -> list[Staff]:
    assigned = candidate.community.assigned_staff.filter(deactivated_at__isnull=True)
    if moderators_only:
        moderators = list(assigned.filter(role=Role.MODERATOR).select_related("user"))
        if moderators:
            return moderators
    operators = Staff.objects.filter(
        organization_id=candidate.community.organization_id,
        role=Role.OPERATOR,
        deactivated_at__isnull=True,
    )
    people = {s.pk: s for s in operators.select_related("user", "organization")}
    if not moderators_only:
        people.update({s.pk: s for s in assigned.select_related("user", "organization")})
    return list(people.values())


def _about(candidate: Candidate) -> str:
    parts = [member_name(candidate), candidate.evidence]
    return " · ".join(p for p in parts if p) or candidate.community.name


def _tag(spec: RuleSpec, action: dict) -> Tag | None:
    return Tag.objects.filter(organization=spec.organization, pk=action.get("tag_id")).first()


def _leader_note(candidate: Candidate, context: Context) -> str:
    membership = context.membership(candidate)
    leader = membership.squad.leader if membership and membership.squad_id else None
    if leader is None:
        return ""
    return _("squad “%(squad)s”, leader %(leader)s") % {
        "squad": membership.squad.name,
        "leader": leader.display_name,
    }


def describe(
    spec: RuleSpec, action: dict, candidate: Candidate, context: Context, now: datetime
) -> str:
    """What ``action`` would do for ``candidate``, in words (writes nothing)."""
    kind = action.get("type")
    if kind == "send":
        return _("Send to %(community)s: %(text)s") % {
            "community": candidate.community.name,
            "text": message_text(action, candidate, now),
        }
    if kind == "notify":
        return _("Notify %(count)s staff: %(about)s") % {
            "count": len(_staff_for(candidate)),
            "about": _about(candidate),
        }
    membership = context.membership(candidate)
    if kind in {"points", "tag"} and membership is None:
        return _("Nothing: no member to act on.")
    if kind == "points":
        return _("%(points)+d points for %(member)s") % {
            "points": int(action.get("points") or 0),
            "member": member_name(candidate),
        }
    if kind == "tag":
        tag = _tag(spec, action)
        return _("Tag %(member)s with “%(tag)s”") % {
            "member": member_name(candidate),
            "tag": tag.name if tag else "?",
        }
    if kind == "checklist_item":
        note = _leader_note(candidate, context)
        return _("Task for the moderators: %(title)s — %(about)s%(leader)s") % {
            "title": action.get("title") or "",
            "about": _about(candidate),
            "leader": f" ({note})" if note else "",
        }
    return _("Unknown action.")


def apply(
    rule: AutomationRule,
    spec: RuleSpec,
    index: int,
    action: dict,
    candidate: Candidate,
    context: Context,
    now: datetime,
) -> str:
    """Do ``action`` for ``candidate``; returns the outcome line. Raises on failure."""
    kind = action.get("type")
    key = f"rule:{rule.pk}:{candidate.key}:{index}"
    if kind == "send":
        text = message_text(action, candidate, now)
        scheduled, created = ScheduledAction.objects.get_or_create(
            organization=rule.organization,
            source_key=key[:200],
            defaults={
                "kind": KIND_BY_TRIGGER.get(rule.trigger, ActionKind.BROADCAST),
                "text": text,
                "due_at": now,
                "rule": rule,
                "title": rule.name[:200],
            },
        )
        if created:
            scheduled.communities.set([candidate.community])
        return _("Message to %(community)s queued: %(text)s") % {
            "community": candidate.community.name,
            "text": scheduled.text[:200],
        }
    if kind == "notify":
        recipients = _staff_for(candidate)
        notify(
            recipients=recipients,
            message=gettext_noop("Automation rule “%(rule)s” in %(community)s: %(about)s"),
            params={
                "rule": rule.name,
                "community": candidate.community.name,
                "about": _about(candidate),
            },
            url=reverse("automations:rule", args=[rule.pk]),
            key=key,
        )
        return _("%(count)s staff notified.") % {"count": len(recipients)}
    if kind == "checklist_item":
        recipients = _staff_for(candidate, moderators_only=True)
        note = _leader_note(candidate, context)
        notify(
            recipients=recipients,
            message=gettext_noop(
                "Task from rule “%(rule)s” in %(community)s: %(title)s — %(about)s"
            ),
            params={
                "rule": rule.name,
                "community": candidate.community.name,
                "title": action.get("title") or "",
                "about": _about(candidate) + (f" ({note})" if note else ""),
            },
            url=(
                reverse("members:profile", args=[candidate.member.pk])
                if candidate.member
                else reverse("automations:rule", args=[rule.pk])
            ),
            key=key,
        )
        return _("Task sent to %(count)s staff.") % {"count": len(recipients)}
    membership = context.membership(candidate)
    if membership is None:
        return _("Nothing: no member to act on.")
    if kind == "points":
        delta = int(action.get("points") or 0)
        points_add(
            membership=membership,
            delta=delta,
            reason=(_("Automation rule “%(name)s”") % {"name": rule.name})[:300],
        )
        return _("%(points)+d points for %(member)s") % {
            "points": delta,
            "member": member_name(candidate),
        }
    if kind == "tag":
        tag = _tag(spec, action)
        if tag is None:
            raise ValidationError(_("The tag no longer exists."))
        members_tag(memberships=[membership], tag=tag)
        return _("Tagged %(member)s with “%(tag)s”") % {
            "member": member_name(candidate),
            "tag": tag.name,
        }
    raise ValidationError(_("Unknown action."))


def in_language(organization, function, *args):
    with translation.override(organization.language):
        return function(*args)
