"""The placeholders of every text CommunityOps posts by itself (broadcasts, rules'
messages, welcome messages), filled per community at the time of sending.

- ``{community}``: the community's name;
- ``{date}``: the local day of the send, in the language's date format;
- ``{weekday}``: its local weekday;
- ``{next_topic}``: the community's next occurrence that has not started (title, local
  weekday and time), or "(nothing scheduled)";
- ``{member}``: the member a rule or welcome message is about ("" elsewhere);
- ``{members}``: how many members the community has (active and lurking).

Only these names are replaced, with one regex: any other brace (``{x}``, a lone ``{``)
stays as written, so a text can never fail to render. ``PLACEHOLDERS`` lists them for the
forms' help text.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from activities.calendar.selectors import (
    communities_next_occurrences,
    community_next_occurrences,
)
from checklists.messages import _topic
from communities.models import Community
from members.selectors import community_member_counts

PLACEHOLDERS = {
    "community": gettext_lazy("the community's name"),
    "date": gettext_lazy("the local date of the send"),
    "weekday": gettext_lazy("its weekday"),
    "next_topic": gettext_lazy("the next event: title, weekday and time"),
    "member": gettext_lazy("the member it is about (welcome messages and rules)"),
    "members": gettext_lazy("how many members the community has"),
}
PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def used(text: str) -> set[str]:
    """The placeholder names ``text`` uses."""
    return {match.group(1) for match in PLACEHOLDER.finditer(text or "")}


def fill(
    text: str,
    *,
    community: Community,
    at: datetime,
    member_name: str = "",
    language: str | None = None,
    known: dict | None = None,
) -> str:
    """``text`` with its placeholders filled for ``community`` at ``at`` (aware), in
    ``language`` (the organisation's by default). Queries only for what ``text`` uses:
    none for plain text, one or three for ``{members}`` / ``{next_topic}``, none for the
    values given in ``known`` (``fill_many`` looks them up for many communities at once)."""
    names = used(text)
    if not names:
        return text
    known = known or {}
    zone = ZoneInfo(community.time_zone)
    local = at.astimezone(zone)
    language = language or community.organization.language
    with translation.override(language):
        values = {
            "community": community.name,
            "date": formats.date_format(local.date(), "DATE_FORMAT"),
            "weekday": formats.date_format(local.date(), "l"),
            "member": member_name,
        }
        if "members" in known:
            values["members"] = known["members"]
        elif "members" in names:
            counts = community_member_counts(community_ids=[community.pk])
            values["members"] = str(counts.get(community.pk, 0))
        if "next_topic" in names:
            slots = known.get("next_topic_slots")
            if slots is None:
                slots = community_next_occurrences(community, 5, now=at)
            upcoming = [slot for slot in slots if not slot.cancelled and slot.starts_at > at]
            values["next_topic"] = (
                _topic(upcoming[0].title, upcoming[0].starts_at, zone)
                if upcoming
                else _("(nothing scheduled)")
            )
        return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)


def fill_many(text: str, *, communities: list[Community], at: datetime) -> dict[int, str]:
    """``text`` filled for each community (by id), with ``{members}`` and ``{next_topic}``
    looked up for all of them at once: at most four queries whatever their number."""
    names = used(text)
    if not names:
        return {community.pk: text for community in communities}
    counts: dict[int, int] = {}
    if "members" in names:
        counts = community_member_counts(community_ids=[c.pk for c in communities])
    slots = communities_next_occurrences(communities, 5, now=at) if "next_topic" in names else {}
    filled = {}
    for community in communities:
        known: dict = {}
        if "members" in names:
            known["members"] = str(counts.get(community.pk, 0))
        if "next_topic" in names:
            known["next_topic_slots"] = slots.get(community.pk, [])
        filled[community.pk] = fill(text, community=community, at=at, known=known)
    return filled
