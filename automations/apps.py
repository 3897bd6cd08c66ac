from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationsConfig(AppConfig):
    name = "automations"
    verbose_name = _("Automations")

    def ready(self) -> None:
        from automations.access import RESOLVERS
        from communities.permissions import URL_OBJECT_RESOLVERS

        URL_OBJECT_RESOLVERS.update(RESOLVERS)
        from automations.rules.access import RESOLVERS as RULE_RESOLVERS

        URL_OBJECT_RESOLVERS.update(RULE_RESOLVERS)
        from activities.calendar.hooks import register_after_entry_change
        from activities.hooks import register_after_live_events
        from automations import panels  # noqa: F401  (the community pages' outlets link)

        # Event announcements follow their occurrences: made, moved, cancelled.
        register_after_entry_change("automations.announcements", _sync_announcements)
        # The spam guard reads live messages (the webhook's, never an import's).
        register_after_live_events("automations.spam_guard", _spam_guard)
        # Welcome messages and keyword auto-replies: automation rules on live events.
        register_after_live_events("automations.rules", _rules_on_live_events)


def _sync_announcements(entry) -> None:
    from automations.services.announcements import announcements_sync

    announcements_sync(entry=entry)


def _spam_guard(community, events) -> None:
    from automations.services.spam import spam_check

    spam_check(community=community, events=events)


def _rules_on_live_events(community, events) -> None:
    from automations.rules.engine import on_live_events

    on_live_events(community, events)
