"""What the activities app adds to lower apps' pages, which cannot import it (docs/architecture.md).

Registered with ``communities.panels`` when the app is ready (ActivitiesConfig.ready):
the import link on a community's pages, how a bot uses a connector (the webhook is this
app's), and manual activity entry among each membership's forms on a member's profile.
None of them queries the database.
"""

from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from activities.forms import ActivityEntryForm
from communities.models import Community
from communities.panels import CONNECTORS_PAGE, Link, Panel, register_link, register_panel
from communities.permissions import Capability, has_capability
from members.models import Membership
from members.panels import MEMBERSHIP_FORMS


def imports_url(request: HttpRequest, community: Community) -> str | None:
    if not has_capability(request.staff, Capability.MANAGE_COMMUNITIES):
        return None
    return f"{reverse('activities:imports')}?{urlencode({'community': community.slug})}"


def webhook_panel(request: HttpRequest, community: Community) -> dict:
    endpoint = reverse("activities:api-ingest", kwargs={"connector_id": "CONNECTOR_ID"})
    return {"endpoint_example": request.build_absolute_uri(endpoint)}


def entry_form_panel(request: HttpRequest, membership: Membership) -> dict | None:
    # Recording activity takes what the record view takes (activities.views.record_activity).
    if not has_capability(request.staff, Capability.MANAGE_COMMUNITIES):
        return None
    return {"membership": membership, "form": ActivityEntryForm(prefix=f"a{membership.pk}")}


def challenges_url(request: HttpRequest, community: Community) -> str:
    return reverse("activities:challenge-list", kwargs={"community_slug": community.slug})


def calendar_rules_url(request: HttpRequest, community: Community) -> str | None:
    if not has_capability(request.staff, Capability.MANAGE_COMMUNITIES):
        return None
    return reverse("activities:calendar-rules", kwargs={"community_slug": community.slug})


register_link(Link(key="activities.imports", label=_("Import chat history"), url=imports_url))
register_link(Link(key="activities.challenges", label=_("Check-in challenges"), url=challenges_url))
register_link(
    Link(key="activities.calendar-rules", label=_("Calendar rules"), url=calendar_rules_url)
)
register_panel(
    Panel(
        key="activities.webhook",
        template="activities/panels/webhook.html",
        context=webhook_panel,
        place=CONNECTORS_PAGE,
    )
)
register_panel(
    Panel(
        key="activities.entry",
        template="activities/entry_form.html",
        context=entry_form_panel,
        place=MEMBERSHIP_FORMS,
    )
)

# The calendar's panel (its next occurrences) on the community page.
from activities.calendar import panels as _calendar_panels  # noqa: E402, F401
