"""What the automations app adds to lower apps' pages (registered from apps.py): the links
to a community's outgoing messages (its outlets) and to its automatic messages and spam
guard, for those who manage communities; and "Send to the group" on checklist items with a
message (``checklists.item_actions``); and on the overview, what answers a silent or
dormant community's alert (``analytics.alert_links``)."""

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from analytics.alert_links import AlertLink, register_alert_link
from automations.selectors.checklist_messages import checklist_send_contexts
from checklists.item_actions import ItemAction, register_item_action
from communities.models import Community
from communities.panels import Link, register_link
from communities.permissions import Capability, has_capability


def outlets_url(request: HttpRequest, community: Community) -> str | None:
    if not has_capability(getattr(request, "staff", None), Capability.MANAGE_COMMUNITIES):
        return None
    return reverse("automations:outlets", kwargs={"community_slug": community.slug})


register_link(Link(key="automations.outlets", label=_("Outgoing messages"), url=outlets_url))


def community_settings_url(request: HttpRequest, community: Community) -> str | None:
    if not has_capability(getattr(request, "staff", None), Capability.MANAGE_COMMUNITIES):
        return None
    return reverse("automations:community-settings", kwargs={"community_slug": community.slug})


register_link(
    Link(
        key="automations.community_settings",
        label=_("Automatic messages and spam guard"),
        url=community_settings_url,
        order=110,
    )
)


# "Send to the group" beside a checklist item's message (My checklists, the run page).
register_item_action(
    ItemAction(
        key="automations.checklist_send",
        template="automations/checklist_send.html",
        context=checklist_send_contexts,
    )
)


# The overview's silence alerts, answered: the community's topic prompt, or a broadcast.
def topic_prompt_url(request: HttpRequest, community: Community) -> str | None:
    url = community_settings_url(request, community)
    return f"{url}#silence" if url else None


def new_broadcast_url(request: HttpRequest, community: Community) -> str | None:
    if not has_capability(getattr(request, "staff", None), Capability.MANAGE_COMMUNITIES):
        return None
    try:
        return reverse("automations:broadcast-new")
    except NoReverseMatch:
        return None


register_alert_link(
    AlertLink(
        key="automations.topic_prompt",
        kinds=("silent", "dormant"),
        label=_("Set a topic prompt"),
        url=topic_prompt_url,
    )
)
register_alert_link(
    AlertLink(
        key="automations.broadcast",
        kinds=("silent", "dormant"),
        label=_("Send a broadcast"),
        url=new_broadcast_url,
        order=110,
    )
)
