"""What higher apps do when a calendar entry changes, without the calendar importing them.

An activity SOP's checklist run hangs off an occurrence (checklists, above activities): it
is made when the occurrence is scheduled, moves when it moves and is cancelled with it. So
the checklists app registers a callback in its ``AppConfig.ready``:

    from activities.calendar.hooks import register_after_entry_change
    register_after_entry_change("checklists.activity_runs", sync)  # sync(entry)

and every write of ``services.py`` that creates, edits, splits or cancels an entry calls
``entry_changed(entry)``, which runs the callbacks once the transaction has committed (a
rolled-back edit calls nothing). A callback that fails is logged and does not undo the
edit; the checklists' hourly sync catches up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

AfterEntryChange = Callable[[object], object]

_AFTER_ENTRY_CHANGE: dict[str, AfterEntryChange] = {}


def register_after_entry_change(key: str, callback: AfterEntryChange) -> None:
    """Add (or, under the same key, replace) a step run after an entry changed."""
    _AFTER_ENTRY_CHANGE[key] = callback


def _run(entry_id: int) -> None:
    from activities.calendar.models import CalendarEntry

    entry = CalendarEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        return
    for key, callback in sorted(_AFTER_ENTRY_CHANGE.items()):
        try:
            callback(entry)
        except Exception:
            logger.exception("After-entry-change step %s failed for entry %s", key, entry_id)


def entry_changed(entry) -> None:
    """Call the registered steps for ``entry`` after the current transaction commits."""
    if _AFTER_ENTRY_CHANGE:
        transaction.on_commit(lambda: _run(entry.pk))
