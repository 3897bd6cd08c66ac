"""What higher apps do when staff change who is in a community, without members
importing them.

The dashboards count "members of a community" from rollups (analytics, above members):
an approval, a status set by hand, a member added from the profile or a roster import
changes that count from some day on, and the figures must agree with the members list at
once, not after the night's rebuild. So analytics registers a callback in its
``AppConfig.ready``:

    from members.hooks import register_after_membership_change
    register_after_membership_change("analytics.rollups", refresh)  # refresh(community_id, since)

and every write of ``members.services`` that creates a membership or changes its status,
join or leave day calls ``membership_changed(community_id, since)``, which runs the
callbacks once the transaction has committed (a rolled-back write calls nothing).
Ingestion marks its own days (``activities.ingest``); it does not come through here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from django.db import transaction

logger = logging.getLogger(__name__)

AfterMembershipChange = Callable[[int, date], object]

_AFTER_CHANGE: dict[str, AfterMembershipChange] = {}


def register_after_membership_change(key: str, callback: AfterMembershipChange) -> None:
    """Add (or, under the same key, replace) a step run after memberships changed."""
    _AFTER_CHANGE[key] = callback


def _run(community_id: int, since: date) -> None:
    for key, callback in sorted(_AFTER_CHANGE.items()):
        try:
            callback(community_id, since)
        except Exception:
            logger.exception(
                "After-membership-change step %s failed for community %s", key, community_id
            )


def membership_changed(*, community_id: int, since: date) -> None:
    """Call the registered steps after the current transaction commits. A write of many
    memberships (a roster import) calls this once, with its earliest day."""
    if _AFTER_CHANGE:
        transaction.on_commit(lambda: _run(community_id, since))
