from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = _("Checklists")

    def ready(self) -> None:
        from activities.calendar.hooks import register_after_entry_change
        from checklists.access import RESOLVERS
        from communities.permissions import URL_OBJECT_RESOLVERS

        URL_OBJECT_RESOLVERS.update(RESOLVERS)
        # Activity runs follow their occurrences: scheduled, moved, cancelled.
        register_after_entry_change("checklists.activity_runs", _sync_activity_runs)
        from checklists import (
            landing,  # noqa: F401
            panels,  # noqa: F401  (the community page's checklist panel)
        )


def _sync_activity_runs(entry) -> None:
    from checklists.services.runs import activity_runs_sync

    activity_runs_sync(entry=entry)
