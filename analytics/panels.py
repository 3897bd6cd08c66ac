"""What the analytics app adds to lower apps' pages, which cannot import it (docs/architecture.md):
the metrics API's section of the organisation's settings (registered by AnalyticsConfig.ready)."""

from django.http import HttpRequest

from communities.models import Organization
from communities.panels import SETTINGS_PAGE, Panel, register_panel
from communities.permissions import Capability, has_capability


def api_settings_panel(request: HttpRequest, organization: Organization) -> dict | None:
    # A token can do what VIEW_ANALYTICS allows, so that is who may have one.
    if not has_capability(request.staff, Capability.VIEW_ANALYTICS):
        return None
    return {"organization": organization}


register_panel(
    Panel(
        key="analytics.api",
        template="analytics/panels/api_settings.html",
        context=api_settings_panel,
        place=SETTINGS_PAGE,
    )
)
