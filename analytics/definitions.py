"""One catalogue of what each indicator means, in a line, for the pages and the API.

Every figure the API exports has an entry here, keyed by its API name, with its label and a
one-line definition written from docs/metrics.md (which stays the full contract). The
pages show the line in an info popover beside the figure (``{% definition "dau" %}``,
analytics/templatetags/definitions.py), and the OpenAPI description uses the same line
(``analytics.openapi``), so a definition is written once, in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Definition:
    label: str
    text: str


def _with_settings(text, **names):
    """A lazy text whose %(name)s placeholders are filled from settings when shown."""

    def fill() -> str:
        return str(text) % {key: getattr(settings, name) for key, name in names.items()}

    return lazy(fill, str)()


DEFINITIONS: dict[str, Definition] = {
    "members": Definition(
        _("Members"),
        _(
            "People in the group on the day: active or lurking, not applicants, not those who "
            "left or were removed."
        ),
    ),
    "dau": Definition(_("DAU"), _("Members with at least one activity event on the day.")),
    "wau": Definition(_("WAU"), _("Distinct members active in the 7 days ending on the day.")),
    "mau": Definition(_("MAU"), _("Distinct members active in the 30 days ending on the day.")),
    "stickiness": Definition(
        _("Stickiness"),
        _("The mean daily active members of the last 30 days ÷ the day's MAU."),
    ),
    "interaction_frequency": Definition(
        _("Interaction frequency"),
        _("Activity events of the last 30 days ÷ the sum of those days' DAUs."),
    ),
    "events_30": Definition(
        _("Events (30 days)"), _("Activity events in the 30 days ending on the day.")
    ),
    "mainstream": Definition(
        _("Mainstream members"),
        _with_settings(
            _("Members active on at least %(days)s of the 30 days ending on the day."),
            days="ANALYTICS_MAINSTREAM_MIN_DAYS",
        ),
    ),
    "mainstream_share": Definition(
        _("Mainstream share"), _("Mainstream members ÷ members on the day.")
    ),
    "activity": Definition(
        _("Activity"),
        _("Per day, week or month: the activity events and the members active in it."),
    ),
    "retention": Definition(
        _("Cohort retention"),
        _(
            "Of the members who joined in a week, the share active k weeks later; those who "
            "left stay counted."
        ),
    ),
    "retention_week_4": Definition(
        _("Week-4 retention"),
        _("Of the members who joined in a week, the share active 4 weeks later, all cohorts."),
    ),
    "lifecycle": Definition(
        _("Member lifecycle"),
        _(
            "Each week's active members as new, returning or resurrecting, and last week's "
            "active members who went dormant."
        ),
    ),
    "stage": Definition(
        _("Stage"),
        _(
            "Budding, growth, active, decline or dormant, from the last 28 days' events, "
            "members and weekly active members; the first rule that holds wins."
        ),
    ),
    "activation": Definition(
        _("First-month activation"),
        _with_settings(
            _(
                "Activated when at least %(members)s members were active on %(days)s or more "
                "days in the group's first 30 days."
            ),
            members="ANALYTICS_ACTIVATION_MIN_MEMBERS",
            days="ANALYTICS_ACTIVATION_MIN_DAYS",
        ),
    ),
    "silence": Definition(
        _("Silence"),
        _with_settings(
            _("No activity event for more than %(hours)s hours."), hours="ANALYTICS_SILENCE_HOURS"
        ),
    ),
    "action_power": Definition(
        _("Action power"),
        _(
            "How many of those invited take part when the group is called to act: events "
            "with attendance and check-in challenge days."
        ),
    ),
    "action_index": Definition(
        _("Action index"),
        _("The mean of participants ÷ invited over the calls to action of the last 30 days."),
    ),
    "community_value": Definition(
        _("Community value"), _("Members on the day × the action index.")
    ),
    "check_in_completion": Definition(
        _("Check-in completion"),
        _(
            "Check-ins recorded ÷ participants × elapsed days, over the challenges running "
            "on the day."
        ),
    ),
    "sop_completion": Definition(
        _("SOP completion"),
        _("Checklist items done on time ÷ items due, over the 30 days ending on the day."),
    ),
    "indicators": Definition(
        _("Core indicators"),
        _("The figures of the day reported: members, active members, stickiness, mainstream."),
    ),
}


def definition(key: str) -> Definition:
    return DEFINITIONS[key]
