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

from activities.calendar.selectors import community_next_occurrences
from checklists.messages import _topic
from communities.models import Community
from members.models import PRESENT_STATUSES, Membership

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
) -> str:
    """``text`` with its placeholders filled for ``community`` at ``at`` (aware), in
    ``language`` (the organisation's by default). Queries only for what ``text`` uses:
    none for plain text, one or three for ``{members}`` / ``{next_topic}``."""
    names = used(text)
    if not names:
        return text
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
        if "members" in names:
            values["members"] = str(
                Membership.objects.filter(community=community, status__in=PRESENT_STATUSES).count()
            )
        if "next_topic" in names:
            upcoming = [
                slot
                for slot in community_next_occurrences(community, 5, now=at)
                if not slot.cancelled and slot.starts_at > at
            ]
            values["next_topic"] = (
                _topic(upcoming[0].title, upcoming[0].starts_at, zone)
                if upcoming
                else _("(nothing scheduled)")
            )
        return PLACEHOLDER.sub(lambda match: values.get(match.group(1), match.group(0)), text)
