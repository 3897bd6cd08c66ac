"""The demo's outgoing messages (``manage.py seed_demo``): outlets, a week of sent
broadcasts and announcements with their deliveries (one failed, one unknown), recurring
broadcasts, automation rules that fired, and community settings. Each part is a module of
this package with a ``seed(organization, staff_user) -> dict`` function."""

from automations.demo import announcements, broadcasts, history, rules


def seed_automations(*, organization, staff_user) -> dict:
    """Every part, in the order they build on each other: the outlets and the week that
    went out, then the community settings and the calendar's upcoming announcements (made
    for the groups with an enabled outlet: after the outlets; an upcoming one the week
    already holds keeps its key), the recurring broadcasts, and the rules whose firings
    sent through those outlets."""
    week = history.seed(organization, staff_user)
    settings = announcements.seed(organization, staff_user)
    recurring = broadcasts.seed(organization, staff_user)
    fired = rules.seed(organization, staff_user)
    return {
        "outlets": week["outlets"],
        "actions": week["actions"],
        "announcements": settings["announcements"],
        "broadcasts": len(recurring["broadcasts"]),
        "rules": fired["rules"],
        "firings": fired["firings"],
        "spam_hits": settings["spam_hits"],
    }
