"""The calendar's panel on a community's page: its next occurrences (registered from
activities/panels.py). Three queries whatever the number of entries (the selector's)."""

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from activities.calendar.selectors import community_next_occurrences
from communities.models import Community
from communities.panels import Panel, register_panel

NEXT_OCCURRENCES = 5


def next_occurrences_panel(request: HttpRequest, community: Community) -> dict:
    return {
        "community": community,
        "slots": community_next_occurrences(community, NEXT_OCCURRENCES),
        "calendar_url": f"{reverse('activities:calendar-agenda')}?"
        + urlencode({"community": community.slug}),
    }


register_panel(
    Panel(
        key="activities.calendar",
        template="activities/calendar/community_panel.html",
        context=next_occurrences_panel,
        order=40,
    )
)
