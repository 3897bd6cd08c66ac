"""The demo's outgoing messages (``manage.py seed_demo``): outlets, a week of sent
broadcasts and announcements with their deliveries (one failed, one unknown), recurring
broadcasts, automation rules that fired, and community settings. Each part is a module of
this package with a ``seed(organization, staff_user) -> dict`` function."""
