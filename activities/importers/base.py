"""What every chat-export importer shares: the event it yields, the context it reads,
and the streaming helpers (JSON, zip) that keep memory flat and refuse hostile files.

An importer is a module with a ``FORMAT`` code, a ``PLATFORM`` (whose ids its member keys
are, or ``None`` for "the community's platform") and a generator function
``events(path, ctx)`` that yields ``IncomingEvent``s in file order. It never touches the
database: member matching and bulk writing are done once, for all formats, by
``activities.services.ingest_events``.

A row the importer cannot read is reported with ``ctx.problem(where, message)`` and
skipped; the import then writes nothing (all or nothing) and shows every problem. A file
that breaks a limit or is not the format at all raises ``ImportRejected``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

import ijson
from django.conf import settings
from django.utils.translation import gettext as _


@dataclass(frozen=True, slots=True)
class IncomingEvent:
    external_id: str  # unique within (community, source); the platform's message id
    kind: str  # an activities.models.ActivityKind value
    occurred_at: datetime  # aware
    member_key: str  # the person's id on the platform (or their name, if it has no ids)
    member_name: str = ""
    text: str = ""


class ImportRejected(Exception):
    """The file as a whole cannot be imported (wrong format, over a limit)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    max_zip_entries: int
    max_uncompressed_bytes: int
    max_json_depth: int
    max_problems: int = 100

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_zip_entries=settings.IMPORT_MAX_ZIP_ENTRIES,
            max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
            max_json_depth=settings.IMPORT_MAX_JSON_DEPTH,
        )


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # "line 12", "general/2016-01-01.json, message 3" — already translated
    message: str


@dataclass
class ImportContext:
    """What an importer may know about where its events go."""

    time_zone: ZoneInfo  # the community's: naive times in a file are read in it
    source_name: str = ""  # the chat / channel to import from a multi-chat export
    limits: Limits = field(default_factory=Limits.from_settings)
    on_progress: Callable[[float], None] | None = None
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0

    def problem(self, where: str, message: str) -> None:
        """Record a bad row; the import will write nothing. Keeps the first N in full."""
        self.problem_count += 1
        if len(self.problems) < self.limits.max_problems:
            self.problems.append(Problem(str(where), str(message)))

    def progress(self, fraction: float) -> None:
        if self.on_progress is not None:
            self.on_progress(min(max(fraction, 0.0), 1.0))


# --- Small helpers ----------------------------------------------------------------------


def line_at(number: int) -> str:
    return _("line %(number)s") % {"number": number}


def row_at(number: int) -> str:
    return _("row %(number)s") % {"number": number}


def stable_id(*parts: object) -> str:
    """An id for a row whose source has none: the same row always gives the same id."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode(), digest_size=16)
    return "h:" + digest.hexdigest()


def make_aware(value: datetime, tz: ZoneInfo) -> datetime:
    """A naive time is read in ``tz`` (the community's zone); an aware one is kept."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=tz)
    return value


def file_size(path: str | os.PathLike) -> int:
    return os.path.getsize(path)


class ProgressReader(io.RawIOBase):
    """A binary file that reports the share read to ``ctx.progress`` as it goes.

    A real ``io`` stream, so it can sit under ``io.TextIOWrapper`` (``open_text``)."""

    def __init__(self, raw: IO[bytes], total: int, ctx: ImportContext, *, every: int = 1 << 20):
        super().__init__()
        self._raw = raw
        self._total = max(total, 1)
        self._ctx = ctx
        self._every = every
        self._next = every
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self.position += len(chunk)
        if self.position >= self._next:
            self._next = self.position + self._every
            self._ctx.progress(self.position / self._total)
        return chunk

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def readable(self) -> bool:
        return True


def text_stream(reader: ProgressReader) -> io.TextIOWrapper:
    """UTF-8 text over ``reader`` (a byte-order mark is dropped), newlines left to csv."""
    return io.TextIOWrapper(io.BufferedReader(reader), encoding="utf-8-sig", newline="")


@contextmanager
def open_text(path, ctx: ImportContext) -> Iterator[io.TextIOWrapper]:
    """``path`` as UTF-8 text, streamed, reporting progress to ``ctx``."""
    with open(path, "rb") as raw:
        yield text_stream(ProgressReader(raw, file_size(path), ctx))


def csv_events(
    path,
    ctx: ImportContext,
    *,
    columns: Callable[[list[str] | None], dict[str, int]],
    rows: Callable[[Iterator[list[str]], dict[str, int], ImportContext], Iterator[IncomingEvent]],
    not_utf8: str,
) -> Iterator[IncomingEvent]:
    """A CSV-shaped export: ``columns`` reads the header row, ``rows`` turns the records
    into events; a file that is not UTF-8 (``not_utf8`` says what was expected) or not
    CSV is rejected whole, naming the line."""
    with open_text(path, ctx) as text:
        reader = csv.reader(text)
        try:
            header = columns(next(reader, None))
            yield from rows(reader, header, ctx)
        except UnicodeDecodeError as error:
            raise ImportRejected(not_utf8) from error
        except csv.Error as error:
            raise ImportRejected(
                _("Line %(number)s cannot be read as CSV (%(error)s).")
                % {"number": reader.line_num, "error": str(error)[:200]}
            ) from error
    ctx.progress(1.0)


# --- JSON -------------------------------------------------------------------------------


def json_stream(
    raw: IO[bytes], *, items: set[str], scalars: set[str] = frozenset(), limits: Limits
) -> Iterator[tuple[str, Any]]:
    """Stream a JSON document: yield ``(prefix, object)`` for every complete value at an
    ``items`` prefix (ijson notation, e.g. ``"messages.item"``) and ``(prefix, value)``
    for scalars at a ``scalars`` prefix, in document order. Nothing else is kept in
    memory. Nesting deeper than ``limits.max_json_depth`` or malformed JSON raises
    ``ImportRejected``.
    """
    depth = 0
    builder: ijson.ObjectBuilder | None = None
    building_prefix = ""
    builder_depth = 0
    try:
        for prefix, event, value in ijson.parse(raw, use_float=True):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > limits.max_json_depth:
                    raise ImportRejected(
                        _("The file nests deeper than %(limit)s levels.")
                        % {"limit": limits.max_json_depth}
                    )
            elif event in ("end_map", "end_array"):
                depth -= 1
            if builder is not None:
                builder.event(event, value)
                if depth < builder_depth:
                    yield building_prefix, builder.value
                    builder = None
                continue
            if prefix in items:
                if event in ("start_map", "start_array"):
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                    building_prefix = prefix
                    builder_depth = depth
                elif event not in ("map_key", "end_map", "end_array"):
                    yield prefix, value
            elif prefix in scalars and event not in (
                "map_key",
                "start_map",
                "start_array",
                "end_map",
                "end_array",
            ):
                yield prefix, value
    except ijson.JSONError as error:
        raise ImportRejected(
            _("This is not valid JSON (%(error)s).") % {"error": str(error).splitlines()[0][:200]}
        ) from error


# --- Zip --------------------------------------------------------------------------------


class SafeZip:
    """A zip archive opened with limits: entry count, total uncompressed size (counted
    while reading, not trusted from the headers), no absolute or ``..`` names."""

    def __init__(self, path: str | os.PathLike, limits: Limits):
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise ImportRejected(_("This is not a zip archive.")) from error
        self._limits = limits
        infos = self._zip.infolist()
        if len(infos) > limits.max_zip_entries:
            raise ImportRejected(
                _("The archive holds %(count)s files; the limit is %(limit)s.")
                % {"count": len(infos), "limit": limits.max_zip_entries}
            )
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_uncompressed_bytes:
            raise self._too_big()
        self._read = 0
        self.names = [info.filename for info in infos if not info.is_dir()]

    def _too_big(self) -> ImportRejected:
        return ImportRejected(
            _("Unpacked, the archive would exceed %(limit)s MB.")
            % {"limit": self._limits.max_uncompressed_bytes // (1024 * 1024)}
        )

    def open(self, name: str) -> _CountingEntry:
        return _CountingEntry(self, self._zip.open(name))

    def _count(self, size: int) -> None:
        self._read += size
        if self._read > self._limits.max_uncompressed_bytes:
            raise self._too_big()

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _CountingEntry:
    def __init__(self, archive: SafeZip, raw: IO[bytes]):
        self._archive = archive
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        # Read in bounded chunks so a lying header cannot make one read() explode.
        chunk = self._raw.read(1 << 16 if size is None or size < 0 else min(size, 1 << 20))
        self._archive._count(len(chunk))
        return chunk

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _CountingEntry:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_all(entry: _CountingEntry) -> bytes:
    parts = []
    while chunk := entry.read(1 << 16):
        parts.append(chunk)
    return b"".join(parts)
