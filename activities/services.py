"""Writes of the activities app: imports, webhook batches and manual entries.

All three end in ``activities.ingest.ingest_events``: there is one way into the log.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from activities.importers import get_importer
from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    Problem,
)
from activities.ingest import IngestResult, ingest_events
from activities.models import EventSource, ImportRun, ImportStatus
from communities.models import Community, Connector
from communities.services import connector_seen
from communities.validators import validate_date_in_range
from members.models import Membership

logger = logging.getLogger(__name__)

PROGRESS_KEY = "activities:import-progress:{}"


class _Rollback(Exception):
    """Raised inside the import transaction when the file had problems."""


@dataclass
class ImportOutcome:
    result: IngestResult = field(default_factory=IngestResult)
    problems: list[Problem] = field(default_factory=list)
    rows_rejected: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _stop_writing_after_problem(events: Iterable[IncomingEvent], ctx: ImportContext) -> Iterator:
    """Once a row is bad nothing will be kept, so stop feeding the writer but read on:
    the operator sees every problem of the file at once."""
    for event in events:
        ctx.events_read += 1
        if not ctx.problem_count:
            yield event


def import_file(
    *,
    community: Community,
    format: str,
    path: str | os.PathLike,
    source_name: str = "",
    on_progress: Callable[[float], None] | None = None,
) -> ImportOutcome:
    """Import one export file into ``community``: everything, or nothing and the reasons."""
    importer = get_importer(format)
    ctx = ImportContext(
        time_zone=ZoneInfo(community.time_zone),
        source_name=source_name.strip(),
        on_progress=on_progress,
    )
    outcome = ImportOutcome()
    try:
        with transaction.atomic():
            outcome.result = ingest_events(
                community=community,
                source=EventSource.IMPORT,
                events=_stop_writing_after_problem(importer.events(path, ctx), ctx),
                platform=importer.PLATFORM,
            )
            if ctx.problem_count:
                raise _Rollback
            if not ctx.events_read:
                raise ImportRejected(
                    _(
                        "The file holds nothing to import: no messages, reactions, joins or "
                        "leaves of people (bots and system messages are skipped)."
                    )
                )
    except _Rollback:
        outcome.result = IngestResult()
        outcome.problems = ctx.problems
        outcome.rows_rejected = ctx.problem_count
    except ImportRejected as rejected:
        outcome.result = IngestResult()
        outcome.problems = [Problem("", rejected.message)]
    return outcome


# --- Import runs (uploads processed by a worker) ----------------------------------------


def import_create(
    *,
    community: Community,
    format: str,
    upload: UploadedFile,
    source_name: str = "",
    by,
    language: str,
    enqueue: bool = True,
) -> ImportRun:
    run = ImportRun(
        organization=community.organization,
        community=community,
        format=format,
        original_name=os.path.basename(upload.name or "upload")[:255],
        size=upload.size or 0,
        source_name=source_name.strip(),
        created_by=by,
        language=language,
    )
    run.file.save(f"{uuid.uuid4().hex}-{run.original_name}"[:100], upload, save=False)
    run.full_clean(exclude=["file"])
    run.save()
    if enqueue:
        from activities.tasks import run_import_task

        transaction.on_commit(lambda: run_import_task.delay(run.pk))
    return run


def import_progress_set(*, run_id: int, percent: int) -> None:
    cache.set(PROGRESS_KEY.format(run_id), percent, timeout=24 * 3600)


def import_execute(*, run_id: int) -> ImportRun | None:
    """The worker's side: read the stored file, ingest it, record the outcome."""
    run = ImportRun.objects.select_related("community__organization").filter(pk=run_id).first()
    if run is None or run.status != ImportStatus.QUEUED:
        return run  # already handled (a redelivered task): never import twice
    run.status = ImportStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    import_progress_set(run_id=run.pk, percent=0)

    last = [0]

    def on_progress(fraction: float) -> None:
        percent = min(int(fraction * 100), 99)
        if percent > last[0]:
            last[0] = percent
            import_progress_set(run_id=run.pk, percent=percent)

    with translation.override(run.language):
        try:
            outcome = import_file(
                community=run.community,
                format=run.format,
                path=run.file.path,
                source_name=run.source_name,
                on_progress=on_progress,
            )
        except Exception:
            logger.exception("Import %s failed", run.pk)
            outcome = ImportOutcome(
                problems=[Problem("", _("The import stopped on an unexpected error."))]
            )
    result = outcome.result
    run.status = ImportStatus.SUCCEEDED if outcome.ok else ImportStatus.FAILED
    run.events_created = result.events_created
    run.duplicates_skipped = result.duplicates_skipped
    run.members_created = result.members_created
    run.rows_rejected = outcome.rows_rejected
    run.problems = [{"where": p.where, "message": p.message} for p in outcome.problems]
    run.finished_at = timezone.now()
    run.save()
    import_progress_set(run_id=run.pk, percent=100)
    # The export held members' messages: keep it no longer than it takes to read it.
    run.file.delete(save=True)
    return run


# --- Webhook ----------------------------------------------------------------------------


def webhook_ingest(*, connector: Connector, events: list[IncomingEvent]) -> IngestResult:
    result = ingest_events(
        community=connector.community,
        source=EventSource.WEBHOOK,
        events=events,
        platform=connector.platform,
    )
    connector_seen(connector=connector)
    return result


# --- Manual entry -----------------------------------------------------------------------


def manual_event_record(
    *, membership: Membership, kind: str, occurred_at: datetime, note: str = ""
) -> IngestResult:
    """Staff record something a member did (attended an offline meetup, a check-in)."""
    if occurred_at > timezone.now():
        raise ValidationError({"occurred_at": _("This is in the future.")})
    try:
        validate_date_in_range(occurred_at)
    except ValidationError as error:
        raise ValidationError({"occurred_at": error}) from None
    community = membership.community
    # The member is known already; no platform id is needed to find them.
    key = f"member:{membership.member_id}"
    return ingest_events(
        community=community,
        source=EventSource.MANUAL,
        events=[
            IncomingEvent(
                external_id=uuid.uuid4().hex,
                kind=kind,
                occurred_at=occurred_at,
                member_key=key,
                member_name=membership.member.display_name,
                text=note,
            )
        ],
        known_members={key: membership.member_id},
    )
