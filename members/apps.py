from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self) -> None:
        from communities.permissions import URL_OBJECT_RESOLVERS
        from members.access import RESOLVERS

        URL_OBJECT_RESOLVERS.update(RESOLVERS)
        from members import panels  # noqa: F401  (registers the panels and the ladder step)
