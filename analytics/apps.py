from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from activities.hooks import register_after_import
        from analytics import merge, panels  # noqa: F401  (member merges; settings panel)

        # An import leaves its community's rollups fresh before it reports success
        # (manage.py import_events, the Imports page's worker): activities.hooks.
        register_after_import("analytics.rollups", _refresh_after_import)
        # Staff's changes of who is in a community (an approval, a status set by hand, a
        # roster import) count on the dashboards at once, as on the members list.
        from members.hooks import register_after_membership_change

        register_after_membership_change("analytics.rollups", _refresh_after_membership_change)


def _refresh_after_import(community, days) -> None:
    from analytics.rollups import rollups_refresh_touched

    if days:
        rollups_refresh_touched(community=community)


def _refresh_after_membership_change(community_id, since) -> None:
    from analytics.rollups import rollups_refresh
    from communities.models import Community

    community = Community.objects.filter(pk=community_id).first()
    if community is not None and since <= community.local_today():
        rollups_refresh(community=community, days=[since])
