from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from activities.access import RESOLVERS
        from communities.permissions import URL_OBJECT_RESOLVERS

        URL_OBJECT_RESOLVERS.update(RESOLVERS)
        # Registers its links and panels, and the events' part of members' privacy requests.
        from activities import panels, privacy  # noqa: F401
