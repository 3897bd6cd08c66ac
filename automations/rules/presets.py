"""Ready-made rules offered on the rules page, in the user's language."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automations.models import RuleTrigger

PRESET_LABELS = {
    "welcome": gettext_lazy("Welcome message"),
    "keyword": gettext_lazy("Keyword auto-reply"),
    "reengage": gettext_lazy("Re-engage inactive members (14 days)"),
    "silence": gettext_lazy("Silence nudge"),
}


def preset(name: str) -> tuple[dict, list[dict]] | None:
    """The form's initial values and actions of preset ``name``."""
    if name == "welcome":
        return {"name": _("Welcome message"), "trigger": RuleTrigger.MEMBER_JOINED}, [
            {
                "type": "send",
                "text": _(
                    "Welcome to {community}, {member}! Say hello and tell us what brought you here."
                ),
            }
        ]
    if name == "keyword":
        return {
            "name": _("Keyword auto-reply"),
            "trigger": RuleTrigger.KEYWORD,
            "keyword": _("check-in rules"),
            "cooldown_minutes": 10,
        }, [
            {
                "type": "send",
                "text": _(
                    "Check in once a day before the deadline: post your check-in word in the group."
                ),
            }
        ]
    if name == "reengage":
        return {
            "name": _("Re-engage inactive members (14 days)"),
            "trigger": RuleTrigger.INACTIVE,
            "days": 14,
        }, [
            {"type": "checklist_item", "title": _("Reach out to them in a private message")},
            {"type": "send", "text": _("We miss you, {member}! Next up: {next_topic}")},
        ]
    if name == "silence":
        return {"name": _("Silence nudge"), "trigger": RuleTrigger.SILENCE}, [
            {"type": "notify"},
            {
                "type": "send",
                "text": _("Quiet day! What are you reading this week? Next up: {next_topic}"),
            },
        ]
    return None
