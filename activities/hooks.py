"""What higher apps do after an import, or after live events arrive, without activities
importing them.

Dependencies run one way (analytics → activities → members → communities), yet an import
must leave the dashboards fresh: ``manage.py import_events`` exits and ``export_metrics``
right after it should read the new figures, and the Imports page should not say 100 %
while the rollups still show the old numbers. So a higher app registers a callback in
its ``AppConfig.ready`` (analytics: refresh the rollups of the days the import touched,
``analytics.apps``), and the import calls whatever is registered, once it has committed:

    from activities.hooks import register_after_import
    register_after_import("analytics.rollups", refresh)  # refresh(community, days)

``communities.panels`` is the registry of what higher apps add to a *community's pages*;
this one is about a step of the import itself, so it lives with the import. With nothing
registered an import just writes the log and marks ``TouchedDay`` rows, which beat's
``analytics.refresh_touched`` drains within a minute, as before.

A callback gets the community and the set of local days the import touched (empty when
nothing was written). A callback that fails is logged and does not undo the import: the
marks are still there for beat's next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from communities.models import Community

logger = logging.getLogger(__name__)

AfterImport = Callable[[Community, set[date]], object]

_AFTER_IMPORT: dict[str, AfterImport] = {}


def register_after_import(key: str, callback: AfterImport) -> None:
    """Add (or, under the same key, replace) a step run after every successful import."""
    _AFTER_IMPORT[key] = callback


def after_import(*, community: Community, days: set[date]) -> None:
    """Run the registered steps for an import that has committed."""
    for key, callback in sorted(_AFTER_IMPORT.items()):
        try:
            callback(community, days)
        except Exception:
            logger.exception("After-import step %s failed for community %s", key, community.pk)


# --- Live events ------------------------------------------------------------------------
#
# Automations (welcome messages, keyword auto-replies, the spam guard) react to what
# happens *now*, never to history: an import of the same messages must not welcome
# anybody. So only the webhook calls these callbacks, once its events have committed, with
# the events it wrote for the first time (a payload posted twice is called once) that
# happened at most ``LIVE_EVENT_MINUTES`` ago. Each ``LiveEvent`` carries the message text
# as it arrived, even when the organisation keeps no message text in the log.

LIVE_EVENT_MINUTES = 10


@dataclass(frozen=True)
class LiveEvent:
    event_id: int  # the ActivityEvent row
    member_id: int
    kind: str
    occurred_at: datetime
    text: str


AfterLiveEvents = Callable[[Community, list[LiveEvent]], object]

_AFTER_LIVE: dict[str, AfterLiveEvents] = {}


def register_after_live_events(key: str, callback: AfterLiveEvents) -> None:
    """Add (or, under the same key, replace) a step run after live events were written."""
    _AFTER_LIVE[key] = callback


def wants_live_events() -> bool:
    return bool(_AFTER_LIVE)


def after_live_events(*, community: Community, events: list[LiveEvent]) -> None:
    """Run the registered steps for live events that have committed (each step's failure
    is logged; it never undoes the webhook's write)."""
    if not events:
        return
    for key, callback in sorted(_AFTER_LIVE.items()):
        try:
            callback(community, events)
        except Exception:
            logger.exception("After-live-events step %s failed for community %s", key, community.pk)
