"""What every page's layout needs: the navigation, the organisation and the user's role."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from communities.permissions import Capability, current_staff, has_capability, staff_roles


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Promise
    url_name: str
    capability: Capability


NAVIGATION = (
    NavItem("overview", _("Overview"), "overview", Capability.VIEW_COMMUNITIES),
    NavItem("communities", _("Communities"), "communities:list", Capability.VIEW_COMMUNITIES),
    NavItem("members", _("Members"), "members:list", Capability.VIEW_COMMUNITIES),
    NavItem("calendar", _("Calendar"), "activities:calendar", Capability.VIEW_COMMUNITIES),
    NavItem("checklists", _("Checklists"), "checklists:mine", Capability.VIEW_COMMUNITIES),
    NavItem("actions", _("Actions"), "automations:actions", Capability.VIEW_COMMUNITIES),
    NavItem("analytics", _("Analytics"), "analytics:home", Capability.VIEW_ANALYTICS),
    NavItem("imports", _("Imports"), "activities:imports", Capability.MANAGE_COMMUNITIES),
    NavItem("settings", _("Settings"), "settings", Capability.VIEW_COMMUNITIES),
)


def layout(request) -> dict:
    staff = current_staff(request)
    if staff is None:
        return {"current_staff": None, "nav_items": []}
    return {
        "current_staff": staff,
        "current_organization": staff.organization,
        "other_organizations": [
            s.organization
            for s in staff_roles(request)
            if s.organization_id != staff.organization_id
        ],
        "nav_items": [
            {"key": item.key, "label": item.label, "url": reverse(item.url_name)}
            for item in NAVIGATION
            if has_capability(staff, item.capability)
        ],
    }
