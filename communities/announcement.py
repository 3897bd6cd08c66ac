"""The group announcement (群公告): the rules as a group owner pastes them into the chat.

Value first, as practitioners advise: what members gain, who the group is for, the
encouraged behaviours with their points, the forbidden ones with their penalties and
strike counts, how rewards and penalties work, and the vision last. Written in the
community's announcement language, whatever language the operator reads the page in.
Plain text: the page shows it in an (escaped) text area for copying.
"""

from collections.abc import Iterable

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from communities.models import Community, Penalty, Rule, RuleKind


def _heading(text: str) -> str:
    return pgettext("announcement heading", "[%(heading)s]") % {"heading": text}


def _encouraged_line(number: int, rule: Rule) -> str:
    if not rule.points:
        return f"{number}. {rule.title}"
    return ngettext(
        "%(number)d. %(title)s: +%(points)d point",
        "%(number)d. %(title)s: +%(points)d points",
        rule.points,
    ) % {"number": number, "title": rule.title, "points": rule.points}


def _forbidden_line(number: int, rule: Rule) -> str:
    consequences = [rule.get_penalty_display()] if rule.penalty else []
    if rule.points and rule.penalty in (Penalty.DEDUCTION, Penalty.REMOVAL):
        consequences.append(
            ngettext("%(points)d point deducted", "%(points)d points deducted", rule.points)
            % {"points": rule.points}
        )
    if rule.strikes_to_removal and rule.penalty != Penalty.REMOVAL:
        consequences.append(
            _("removed at violation no. %(count)d") % {"count": rule.strikes_to_removal}
        )
    line = f"{number}. {rule.title}"
    if consequences:
        separator = pgettext("announcement list separator", "; ")
        line = _("%(behaviour)s: %(consequences)s") % {
            "behaviour": line,
            "consequences": separator.join(consequences),
        }
    return line


def _penalties(encouraged: list[Rule], forbidden: list[Rule]) -> list[str]:
    lines = []
    if any(rule.points for rule in encouraged):
        lines.append(_("Points add up: the more you contribute, the higher your level here."))
    if forbidden:
        lines.append(_("Every violation is recorded as a strike, with the penalty listed above."))
    if any(r.penalty == Penalty.REMOVAL or r.strikes_to_removal for r in forbidden):
        lines.append(_("Whoever reaches the removal point leaves the group, without exception."))
    return lines


def announcement_sections(
    community: Community, rules: Iterable[Rule] | None = None
) -> list[tuple[str, str]]:
    """(heading, body) pairs of the announcement, in the community's announcement language."""
    rules = list(community.rules.all() if rules is None else rules)
    ordered = sorted(rules, key=lambda rule: (rule.position, rule.pk or 0))
    encouraged = [rule for rule in ordered if rule.kind == RuleKind.ENCOURAGED]
    forbidden = [rule for rule in ordered if rule.kind == RuleKind.FORBIDDEN]
    sections = []
    with translation.override(community.announcement_language):
        if community.value_statement.strip():
            sections.append((_("What you gain here"), community.value_statement.strip()))
        if community.entry_standard.strip():
            sections.append((_("Who this group is for"), community.entry_standard.strip()))
        if encouraged:
            lines = [_encouraged_line(n, rule) for n, rule in enumerate(encouraged, 1)]
            sections.append((_("Encouraged behaviours"), "\n".join(lines)))
        if forbidden:
            lines = [_forbidden_line(n, rule) for n, rule in enumerate(forbidden, 1)]
            sections.append((_("Forbidden behaviours"), "\n".join(lines)))
        if penalties := _penalties(encouraged, forbidden):
            sections.append((_("Rewards and penalties"), "\n".join(penalties)))
        if community.vision.strip():
            sections.append((_("Our vision"), community.vision.strip()))
        return [(_heading(heading), body) for heading, body in sections]


def announcement_text(community: Community, rules: Iterable[Rule] | None = None) -> str:
    """The whole announcement as plain text; empty when there is nothing to announce yet.

    Pass ``rules`` when they are already loaded, to save the query.
    """
    return "\n\n".join(
        f"{heading}\n{body}" for heading, body in announcement_sections(community, rules)
    )
