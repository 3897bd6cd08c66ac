"""Generic CSV: one activity per row, for exports from any tool a spreadsheet can reshape.

Header (any order, names case-insensitive): ``occurred_at``, ``kind`` and ``member_id`` are
required; ``member_name``, ``external_id`` and ``text`` are optional. Any other named
column rejects the file, so a typo (``ocurred_at``) is not silently ignored; columns with
an empty name (the trailing commas spreadsheets leave) are ignored.

Per row:

- ``occurred_at``: ISO 8601 date and time. With an offset or ``Z`` it is that instant;
  without, it is read in the community's time zone. A date alone is a problem (the day
  would depend on a guessed hour).
- ``kind``: an ``ActivityKind`` value (case-insensitive).
- ``member_id``: the person's id, 1–200 characters. ``member_name`` defaults to it.
- ``external_id``: at most 200 characters. An id that repeats (in the file or in the log)
  is one event: the repeats are counted as duplicates skipped, exactly as on a re-import.
  No set of ids seen is kept, so memory stays flat whatever the file's size.
- Without an ``external_id`` the id is ``stable_id(occurred_at as written, kind,
  member_id, text)``, so re-importing the same file adds nothing. **Identical rows without
  an id are one event** (the repeat is a duplicate skipped). Such rows are far more often
  the same event exported twice (overlapping exports pasted together) than two events in
  the same instant with the same text; a file that needs both must give ids.

Rows are numbered as a spreadsheet shows them: the header is row 1, and a record whose
quoted text spans several lines is still one row. Blank lines count as (skipped) rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    csv_events,
    row_at,
    row_misfits,
    stable_id,
)
from activities.importers.recognition import csv_header_problem
from activities.models import ActivityKind

FORMAT = "csv"
PLATFORM = None

REQUIRED = ("occurred_at", "kind", "member_id")
OPTIONAL = ("member_name", "external_id", "text")
MAX_ID = 200
KINDS = frozenset(ActivityKind.values)


def _expected() -> str:
    return ", ".join(REQUIRED + OPTIONAL)


def _columns(header: list[str] | None) -> dict[str, int]:
    """Column name → index, or ImportRejected naming what is wrong and what is expected."""
    if not header:
        raise ImportRejected(
            _("The file is empty; the first row must name the columns: %(expected)s.")
            % {"expected": _expected()}
        )
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name and name not in REQUIRED + OPTIONAL]
    missing = [name for name in REQUIRED if name not in names]
    if unknown or missing:
        raise ImportRejected(
            _(
                "This is not an activity CSV: the first row must name the columns "
                "%(expected)s (%(required)s are required). Unknown: %(unknown)s. "
                "Missing: %(missing)s."
            )
            % {
                "expected": _expected(),
                "required": ", ".join(REQUIRED),
                "unknown": ", ".join(f"“{name[:40]}”" for name in unknown[:5]) or "-",
                "missing": ", ".join(missing) or "-",
            }
        )
    named = [name for name in names if name]  # unnamed (empty) columns are ignored
    if len(set(named)) != len(named):
        raise ImportRejected(
            _("A column appears twice in the first row; expected each of %(expected)s once.")
            % {"expected": _expected()}
        )
    columns = {name: index for index, name in enumerate(names) if name}
    columns[""] = len(names)  # the row width
    return columns


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    return csv_events(
        path,
        ctx,
        columns=_columns,
        rows=_rows,
    )


def _rows(reader, columns: dict[str, int], ctx: ImportContext) -> Iterator[IncomingEvent]:
    width = columns[""]
    i_at, i_kind, i_member = columns["occurred_at"], columns["kind"], columns["member_id"]
    i_name = columns.get("member_name", -1)
    i_ext = columns.get("external_id", -1)
    i_text = columns.get("text", -1)
    tz = ctx.time_zone
    number = 1
    for row in reader:
        number += 1
        if not row:
            ctx.skip("blank")
            continue
        if row_misfits(row, width, row_at(number), ctx, exact=True):
            continue
        ok = True
        at = row[i_at].strip()
        occurred_at = _parse_time(at, tz)
        if occurred_at is None:
            ok = False
            ctx.problem(
                row_at(number),
                _(
                    "“%(value)s” is not a date and time; use ISO 8601, "
                    "e.g. 2026-11-20T21:03:00+08:00."
                )
                % {"value": at[:60]},
            )
        kind = row[i_kind]
        if kind not in KINDS:
            kind = kind.strip().lower()
            if kind not in KINDS:
                ok = False
                ctx.problem(
                    row_at(number),
                    _("“%(value)s” is not a kind of activity; use one of: %(kinds)s.")
                    % {"value": row[i_kind][:60], "kinds": ", ".join(ActivityKind.values)},
                )
        member = row[i_member].strip()
        if not member or len(member) > MAX_ID:
            ok = False
            ctx.problem(
                row_at(number),
                _("member_id must be 1 to %(max)s characters; this one has %(count)s.")
                % {"max": MAX_ID, "count": len(member)},
            )
        body = row[i_text] if i_text >= 0 else ""
        external_id = row[i_ext].strip() if i_ext >= 0 else ""
        if len(external_id) > MAX_ID:
            ok = False
            ctx.problem(
                row_at(number),
                _("external_id must be at most %(max)s characters; this one has %(count)s.")
                % {"max": MAX_ID, "count": len(external_id)},
            )
        elif not external_id and ok:
            external_id = stable_id(at, kind, member, body)
        if not ok:
            continue
        name = row[i_name].strip() if i_name >= 0 else ""
        yield IncomingEvent(external_id, kind, occurred_at, member, name or member, body)


def _parse_time(value: str, tz: ZoneInfo) -> datetime | None:
    """An aware datetime, or None if ``value`` is not an ISO 8601 date and time."""
    # fromisoformat also takes a bare date ("2026-11-20", "20261120", "2026-W47-5"), all
    # at most 10 characters; anything with a time of day is longer.
    if len(value) <= 10:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if not 1 < parsed.year < 9999:  # years 1 and 9999 may leave the range in UTC
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=tz)
    return parsed


def recognise(head) -> str | None:
    """Our own CSV: a header with the required columns (any order)."""
    return csv_header_problem(head, REQUIRED)
