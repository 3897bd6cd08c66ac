"""Writes of the activities app: imports, webhook batches and manual entries.

All three end in ``activities.ingest.ingest_events``: there is one way into the log.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from activities import hooks
from activities.hooks import after_import
from activities.importers import get_importer
from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    Problem,
    skipped_summary,
)
from activities.importers.recognition import recognise
from activities.ingest import IngestResult, fit_event, ingest_events
from activities.models import ActivityEvent, EventSource, ImportFormat, ImportRun, ImportStatus
from communities.models import Community, Connector
from communities.services import connector_seen
from communities.validators import validate_date_in_range
from members.models import Membership

logger = logging.getLogger(__name__)

PROGRESS_KEY = "activities:import-progress:{}"
# When the worker last reported (Unix seconds). In the cache, like the percent: the import
# runs in one transaction, so a column written by the worker would not be seen until the
# end. The reaper (imports_reap_stale) reads it; without it, started_at stands in.
HEARTBEAT_KEY = "activities:import-heartbeat:{}"
HEARTBEAT_EVERY_SECONDS = 30


class _Rollback(Exception):
    """Raised inside the import transaction when the file had problems."""


@dataclass
class ImportOutcome:
    result: IngestResult = field(default_factory=IngestResult)
    problems: list[Problem] = field(default_factory=list)
    rows_rejected: int = 0
    # Rows or lines left out on purpose, by reason code: {"pat": 3, "recall": 2}
    # (activities.importers.base.SKIP_LABELS).
    skipped: dict[str, int] = field(default_factory=dict)
    # The format read: the one asked for, or the one recognised for "auto".
    format: str = ""

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
    original_name: str = "",
    time_zone: str = "",
) -> ImportOutcome:
    """Import one export file into ``community``: everything, or nothing and the reasons.

    ``format`` may be ``"auto"``: the importer is chosen from the file (``recognition``;
    the outcome says which). Times written without a zone are read in ``time_zone``, by
    default the community's.
    """
    ctx = ImportContext(
        time_zone=ZoneInfo(time_zone or community.time_zone),
        source_name=source_name.strip(),
        on_progress=on_progress,
    )
    outcome = ImportOutcome(format=format)
    try:
        if format == ImportFormat.AUTO:
            outcome.format = format = recognise(path, original_name)
        importer = get_importer(format)
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
                message = _(
                    "The file holds nothing to import: no messages, reactions, joins or "
                    "leaves of people (bots and system messages are skipped)."
                )
                if summary := skipped_summary(ctx.skipped):
                    message = _("%(message)s %(skipped)s.") % {
                        "message": message,
                        "skipped": summary,
                    }
                raise ImportRejected(message)
    except _Rollback:
        outcome.result = IngestResult()
        outcome.problems = ctx.problems
        outcome.rows_rejected = ctx.problem_count
    except ImportRejected as rejected:
        outcome.result = IngestResult()
        outcome.problems = [Problem("", rejected.message)]
    outcome.skipped = dict(ctx.skipped)
    return outcome


def import_refresh_figures(*, community: Community, outcome: ImportOutcome) -> None:
    """After a successful import (committed), the steps higher apps registered in
    ``activities.hooks``: analytics refreshes the rollups of the days it touched, so the
    dashboards and ``export_metrics`` show it at once rather than at beat's next tick.
    Not part of ``import_file``, so that the ingest benchmark measures ingestion alone."""
    if outcome.ok and outcome.result.days_touched:
        after_import(community=community, days=set(outcome.result.days_touched))


# --- Import runs (uploads processed by a worker) ----------------------------------------


def import_create(
    *,
    community: Community,
    format: str,
    upload: UploadedFile,
    source_name: str = "",
    time_zone: str = "",
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
        time_zone=time_zone,
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
    import_heartbeat_set(run_id=run_id)


def import_heartbeat_set(*, run_id: int) -> None:
    cache.set(HEARTBEAT_KEY.format(run_id), time.time(), timeout=24 * 3600)


def import_execute(*, run_id: int) -> ImportRun | None:
    """The worker's side: read the stored file, ingest it, record the outcome."""
    run = ImportRun.objects.select_related("community__organization").filter(pk=run_id).first()
    if run is None or run.status != ImportStatus.QUEUED:
        return run  # already handled (a redelivered task): never import twice
    run.status = ImportStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    import_progress_set(run_id=run.pk, percent=0)

    last = [0, time.monotonic()]  # percent and time last reported

    def on_progress(fraction: float) -> None:
        percent = min(int(fraction * 100), 99)
        if percent > last[0]:
            last[0], last[1] = percent, time.monotonic()
            import_progress_set(run_id=run.pk, percent=percent)
        elif time.monotonic() - last[1] > HEARTBEAT_EVERY_SECONDS:
            # A slow stretch without a new percent: still alive for the reaper.
            last[1] = time.monotonic()
            import_heartbeat_set(run_id=run.pk)

    with translation.override(run.language):
        try:
            outcome = import_file(
                community=run.community,
                format=run.format,
                path=run.file.path,
                source_name=run.source_name,
                on_progress=on_progress,
                original_name=run.original_name,
                time_zone=run.time_zone,
            )
        except Exception:
            logger.exception("Import %s failed", run.pk)
            outcome = ImportOutcome(
                problems=[Problem("", _("The import stopped on an unexpected error."))]
            )
    if outcome.ok:
        # Before the page says 100 %: the dashboards already show what was imported.
        import_heartbeat_set(run_id=run.pk)
        import_refresh_figures(community=run.community, outcome=outcome)
    result = outcome.result
    run.status = ImportStatus.SUCCEEDED if outcome.ok else ImportStatus.FAILED
    if outcome.format and outcome.format != ImportFormat.AUTO:
        run.format = outcome.format  # what "recognise the format" found
    run.events_created = result.events_created
    run.duplicates_skipped = result.duplicates_skipped
    run.members_created = result.members_created
    run.rows_rejected = outcome.rows_rejected
    run.skipped = outcome.skipped
    run.problems = [{"where": p.where, "message": p.message} for p in outcome.problems]
    run.finished_at = timezone.now()
    # Not the file: if the reaper took this run for dead and "Try again" handed the file
    # to a new run meanwhile, that run owns it now. (The outcome is the truth: a run
    # reaped by mistake that then finished says so.)
    run.save(update_fields=[*_OUTCOME_FIELDS, "format", "status", "finished_at"])
    import_progress_set(run_id=run.pk, percent=100)
    # The export held members' messages: keep it no longer than it takes to read it.
    if run.file and ImportRun.objects.filter(pk=run.pk, file=run.file.name).exists():
        run.file.delete(save=True)
    return run


_OUTCOME_FIELDS = [
    "events_created",
    "duplicates_skipped",
    "members_created",
    "rows_rejected",
    "skipped",
    "problems",
]


def imports_reap_stale(*, now: datetime | None = None) -> int:
    """Mark failed the running imports whose worker stopped reporting progress more than
    ``IMPORT_STALE_MINUTES`` ago (killed, out of memory, past its time limit). Nothing of
    theirs was written (an import is one transaction), and their file is still stored, so
    the import page offers to try again. Returns how many were marked; twice is once."""
    now = now or timezone.now()
    stale = timedelta(minutes=settings.IMPORT_STALE_MINUTES)
    reaped = 0
    for run in ImportRun.objects.filter(status=ImportStatus.RUNNING).only(
        "pk", "language", "started_at", "created_at"
    ):
        beat = cache.get(HEARTBEAT_KEY.format(run.pk))
        last = (
            datetime.fromtimestamp(beat, tz=UTC)
            if isinstance(beat, int | float)
            else run.started_at or run.created_at
        )
        if now - last <= stale:
            continue
        with translation.override(run.language):
            message = _(
                "The worker stopped while reading this file; nothing was imported. Try again."
            )
        reaped += ImportRun.objects.filter(pk=run.pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.FAILED,
            problems=[{"where": "", "message": message}],
            rows_rejected=0,
            finished_at=now,
        )
        logger.warning("Import %s stopped reporting progress at %s: marked failed", run.pk, last)
    return reaped


def import_can_retry(run: ImportRun) -> bool:
    """A failed run whose file is still stored (a worker died before reading it to the
    end; a file that was read is deleted, and then only a new upload can try again)."""
    return (
        run.status == ImportStatus.FAILED
        and bool(run.file)
        and run.file.storage.exists(run.file.name)
    )


def import_retry(*, run: ImportRun, by, language: str, enqueue: bool = True) -> ImportRun:
    """ "Try again": a new run from the failed run's stored file, queued for a worker. The
    failed run stays in the history as it was (with why it failed), handing its file to
    the new run, so the file has one owner and a late worker of the old run cannot
    delete it."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().select_related("community").get(pk=run.pk)
        if not import_can_retry(run):
            raise ValidationError(
                _("This import's file is no longer stored; upload the file again.")
            )
        if run.community.archived:
            raise ValidationError(_("The community is archived; nothing can be imported into it."))
        retry = ImportRun.objects.create(
            organization=run.organization,
            community=run.community,
            format=run.format,
            file=run.file.name,
            original_name=run.original_name,
            size=run.size,
            source_name=run.source_name,
            time_zone=run.time_zone,
            created_by=by,
            language=language,
        )
        ImportRun.objects.filter(pk=run.pk).update(file="")
        if enqueue:
            from activities.tasks import run_import_task

            transaction.on_commit(lambda: run_import_task.delay(retry.pk))
    return retry


# --- Webhook ----------------------------------------------------------------------------


def webhook_ingest(*, connector: Connector, events: list[IncomingEvent]) -> IngestResult:
    """Write a webhook's events; then hand the ones that are new and recent to the steps
    that react to live events (``activities.hooks.after_live_events``), after commit."""
    live = hooks.wants_live_events()
    # Rows above this id were written after this point: a payload posted again (its
    # events already stored) hands nothing on.
    before = (ActivityEvent.objects.aggregate(top=Max("id"))["top"] or 0) if live else 0
    with transaction.atomic():
        result = ingest_events(
            community=connector.community,
            source=EventSource.WEBHOOK,
            events=events,
            platform=connector.platform,
        )
        connector_seen(connector=connector)
        if live and result.events_created:
            fresh = _live_events(connector.community, events, after_id=before)
            transaction.on_commit(
                lambda: hooks.after_live_events(community=connector.community, events=fresh)
            )
    return result


def _live_events(community: Community, events: list[IncomingEvent], *, after_id: int) -> list:
    """The events this webhook call wrote for the first time and that happened within
    ``LIVE_EVENT_MINUTES``, with their text as it arrived (one query)."""
    cutoff = timezone.now() - timedelta(minutes=hooks.LIVE_EVENT_MINUTES)
    recent = {fit_event(e).external_id: e for e in events if e.occurred_at >= cutoff}
    if not recent:
        return []
    rows = (
        ActivityEvent.objects.filter(
            community=community,
            source=EventSource.WEBHOOK,
            external_id__in=list(recent),
            pk__gt=after_id,
        )
        .order_by("occurred_at", "pk")
        .values_list("pk", "external_id", "member_id", "kind", "occurred_at")
    )
    return [
        hooks.LiveEvent(
            event_id=pk,
            member_id=member_id,
            kind=kind,
            occurred_at=occurred_at,
            text=recent[external_id].text,
        )
        for pk, external_id, member_id, kind, occurred_at in rows
    ]


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
