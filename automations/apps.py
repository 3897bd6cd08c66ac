from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = _("Automations")

    def ready(self) -> None:
        from automations.access import RESOLVERS
        from communities.permissions import URL_OBJECT_RESOLVERS

        URL_OBJECT_RESOLVERS.update(RESOLVERS)
        from automations import panels  # noqa: F401  (the community pages' outlets link)
