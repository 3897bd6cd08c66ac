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

import codecs
import csv
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

import ijson
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy, pgettext


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
    # One message of a JSON file, and one text anywhere in it: what the parser holds at once.
    max_json_message_bytes: int = 4 * 1024 * 1024
    max_json_text_bytes: int = 1024 * 1024
    # Each of a Slack export's channels.json and users.json.
    max_metadata_bytes: int = 100 * 1024 * 1024
    max_problems: int = 100

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_zip_entries=settings.IMPORT_MAX_ZIP_ENTRIES,
            max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
            max_json_depth=settings.IMPORT_MAX_JSON_DEPTH,
            max_json_message_bytes=settings.IMPORT_MAX_JSON_MESSAGE_BYTES,
            max_json_text_bytes=settings.IMPORT_MAX_JSON_TEXT_BYTES,
            max_metadata_bytes=settings.IMPORT_MAX_METADATA_BYTES,
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
    events_read: int = 0  # good or bad: none at all means the file had nothing to import
    # Rows or lines read and deliberately left out, by reason (a ``SKIP_LABELS`` code):
    # {"pat": 3, "recall": 2}. One dict update per skipped row.
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        """Count a row or line that is not imported, and is not a problem either."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def problem(self, where: str, message: str) -> None:
        """Record a bad row; the import will write nothing. Keeps the first N in full."""
        self.problem_count += 1
        if len(self.problems) < self.limits.max_problems:
            self.problems.append(Problem(str(where), str(message)))

    def progress(self, fraction: float) -> None:
        if self.on_progress is not None:
            self.on_progress(min(max(fraction, 0.0), 1.0))


# --- Skipped rows -----------------------------------------------------------------------

# What importers leave out on purpose, by reason code (stored in ImportRun.skipped, so
# codes are never renamed): "<count> <what>", singular or plural by the count.
SKIP_LABELS: dict[str, Any] = {
    "pat": ngettext_lazy("%(count)s pat", "%(count)s pats", "count"),
    "recall": ngettext_lazy("%(count)s recall", "%(count)s recalls", "count"),
    "system": ngettext_lazy("%(count)s system message", "%(count)s system messages", "count"),
    "bot": ngettext_lazy("%(count)s bot message", "%(count)s bot messages", "count"),
    "you": ngettext_lazy(
        "%(count)s line about you (the exporting account)",
        "%(count)s lines about you (the exporting account)",
        "count",
    ),
    "deleted_account": ngettext_lazy(
        "%(count)s deleted account", "%(count)s deleted accounts", "count"
    ),
    "no_author": ngettext_lazy(
        "%(count)s message without an author", "%(count)s messages without an author", "count"
    ),
    "other_type": ngettext_lazy(
        "%(count)s item of a type that is not activity",
        "%(count)s items of types that are not activity",
        "count",
    ),
    "blank": ngettext_lazy("%(count)s blank line", "%(count)s blank lines", "count"),
    "unknown_speaker": ngettext_lazy(
        "%(count)s message by an unknown speaker", "%(count)s messages by unknown speakers", "count"
    ),
    "other_chat": ngettext_lazy(
        "%(count)s row of another chat", "%(count)s rows of other chats", "count"
    ),
}
_OTHER_SKIPPED = ngettext_lazy("%(count)s other row", "%(count)s other rows", "count")


def skipped_labels(skipped: dict[str, int]) -> list[str]:
    """``{"pat": 3, "recall": 2}`` → ``["3 pats", "2 recalls"]`` in the active language,
    most frequent first (codes in ``SKIP_LABELS`` order on a tie)."""
    order = {code: index for index, code in enumerate(SKIP_LABELS)}
    labels = []
    for code, count in sorted(
        skipped.items(), key=lambda item: (-item[1], order.get(item[0], len(order)))
    ):
        if count > 0:
            labels.append(SKIP_LABELS.get(code, _OTHER_SKIPPED) % {"count": count})
    return labels


def skipped_summary(skipped: dict[str, int]) -> str:
    """ "3 pats and 2 recalls skipped", or "" when nothing was."""
    labels = skipped_labels(skipped)
    if not labels:
        return ""
    if len(labels) > 1:
        # "3 pats, 2 recalls and 1 system message": separator and "and" are translated
        # (Chinese joins with 、 and 和, without spaces).
        head = pgettext("list separator", ", ").join(labels[:-1])
        labels = [_("%(items)s and %(last)s") % {"items": head, "last": labels[-1]}]
    return _("%(list)s skipped") % {"list": labels[0]}


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


# --- Text encodings ---------------------------------------------------------------------

# A text export (CSV) is UTF-8, with or without a byte-order mark, or GB18030 (GBK is a
# subset: a CSV re-saved in Excel on a Chinese Windows). The encoding is chosen once, on
# the first ``SNIFF_BYTES`` of the file, then the whole file is streamed in it:
#   - a NUL byte in the head means "neither": text never holds one, while UTF-16 (Excel's
#     "Unicode Text") holds one in every ASCII character and binary files are full of them;
#   - a UTF-8 byte-order mark: UTF-8 (the mark is dropped, so the first column's name is
#     clean);
#   - strict UTF-8 decodes the head: UTF-8;
#   - strict UTF-8 fails, but only after ``_UTF8_EVIDENCE`` well-formed multi-byte
#     characters: UTF-8 with a damaged byte (GBK text passes as UTF-8 that long by chance
#     almost never), so the damage is reported on its line instead of the file being
#     read, garbled, as GB18030;
#   - strict GB18030 decodes the head: GB18030;
#   - otherwise "neither": the file is rejected, naming the encodings tried.
# GB18030 decodes almost any byte sequence, so "neither" is mostly the NUL rule; invalid
# sequences under both codecs (a lone 0x80 or 0xFF, a lead byte before a comma or a
# newline) are the rest. If the chosen encoding fails later in the file, that line is a
# problem and the import writes nothing (all or nothing).
SNIFF_BYTES = 64 * 1024
_UTF8_EVIDENCE = 8
_UTF8_BOM = b"\xef\xbb\xbf"
ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "gb18030": "GB18030 (GBK)"}


def not_text_message() -> str:
    return _(
        "This file is not text in UTF-8 or GB18030 (GBK): both were tried (UTF-8 with or "
        "without a byte-order mark, then GB18030). UTF-16 (“Unicode Text”) and binary files "
        "cannot be imported; save the file as “CSV UTF-8” and import it again."
    )


def _decodes(codec: str, head: bytes, final: bool) -> int | None:
    """``None`` if ``head`` decodes strictly (a character cut off at the end of the head
    is fine unless ``final``), else the offset of the first byte that does not."""
    try:
        codecs.getincrementaldecoder(codec)("strict").decode(head, final)
    except UnicodeDecodeError as error:
        return error.start
    return None


def sniff_encoding(head: bytes, *, final: bool) -> str:
    """The codec to read a text file starting with ``head`` in (``final``: ``head`` is
    the whole file); ``ImportRejected`` if it is neither UTF-8 nor GB18030 text."""
    if b"\x00" in head:
        raise ImportRejected(not_text_message())
    if head.startswith(_UTF8_BOM):
        return "utf-8-sig"
    bad = _decodes("utf-8", head, final)
    if bad is None:
        return "utf-8"
    # Well-formed multi-byte characters before the first bad byte (lead bytes 0xC2-0xF4).
    if sum(1 for byte in head[:bad] if byte >= 0xC2) >= _UTF8_EVIDENCE:
        return "utf-8"
    if _decodes("gb18030", head, final) is None:
        return "gb18030"
    raise ImportRejected(not_text_message())


class _HeadFirst(io.RawIOBase):
    """The bytes already read for sniffing, then the rest of ``reader``."""

    def __init__(self, head: bytes, reader: ProgressReader):
        super().__init__()
        self._head = memoryview(head)
        self.reader = reader

    def readinto(self, buffer) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        return self.reader.readinto(buffer)

    def readable(self) -> bool:
        return True


def text_stream(reader: ProgressReader) -> io.TextIOWrapper:
    """``reader`` as text in the encoding its head shows (``sniff_encoding``; a UTF-8
    byte-order mark is dropped), newlines left to csv. Streams: only the head is read
    ahead. Raises ``ImportRejected`` if the file is neither UTF-8 nor GB18030 text."""
    head = b""
    while len(head) < SNIFF_BYTES:
        chunk = reader.read(SNIFF_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    encoding = sniff_encoding(head, final=len(head) < SNIFF_BYTES)
    return io.TextIOWrapper(
        io.BufferedReader(_HeadFirst(head, reader)), encoding=encoding, newline=""
    )


def undecodable(text: io.TextIOWrapper, ctx: ImportContext) -> None:
    """Record, as a problem (so the import writes nothing), that ``text`` (from
    ``text_stream``) met bytes its encoding cannot decode, on the line they are on: found
    by reading the file again from the start, only on this failure path."""
    name = ENCODING_NAMES.get(text.encoding, text.encoding)
    message = _("This line is not %(encoding)s text, the encoding the start of the file is in.") % {
        "encoding": name
    }
    source = getattr(getattr(text.buffer.raw, "reader", None), "_raw", None)
    if source is not None and source.seekable():
        source.seek(0)
        decoder = codecs.getincrementaldecoder(text.encoding)("strict")
        number = 0
        try:
            for line in source:  # bytes up to b"\n", never inside a UTF-8/GB18030 character
                number += 1
                decoder.decode(line)
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            ctx.problem(line_at(number), message)
            return
    ctx.problem("", message)


@contextmanager
def open_text(path, ctx: ImportContext) -> Iterator[io.TextIOWrapper]:
    """``path`` as text (UTF-8 or GB18030, see ``text_stream``), streamed, reporting
    progress to ``ctx``."""
    with open(path, "rb") as raw:
        yield text_stream(ProgressReader(raw, file_size(path), ctx))


def csv_events(
    path,
    ctx: ImportContext,
    *,
    columns: Callable[[list[str] | None], dict[str, int]],
    rows: Callable[[Iterator[list[str]], dict[str, int], ImportContext], Iterator[IncomingEvent]],
) -> Iterator[IncomingEvent]:
    """A CSV-shaped export: ``columns`` reads the header row, ``rows`` turns the records
    into events; a file that is not text (``text_stream``) or not CSV is rejected whole,
    naming the line. A line the file's encoding cannot decode is a problem (the import
    writes nothing) and reading stops there."""
    with open_text(path, ctx) as text:
        reader = csv.reader(text)
        try:
            header = columns(next(reader, None))
            yield from rows(reader, header, ctx)
        except UnicodeDecodeError:
            undecodable(text, ctx)
            return
        except csv.Error as error:
            raise ImportRejected(csv_unreadable(reader.line_num, error)) from error
    ctx.progress(1.0)


def row_misfits(
    row: list[str],
    width: int,
    where: str,
    ctx: ImportContext,
    *,
    shown_width: int | None = None,
    exact: bool = False,
) -> bool:
    """Record a row with fewer cells than the columns read need (``exact``: other than
    ``width``) as a problem, naming the header's width (``shown_width``, by default
    ``width``); returns whether it did. Blank rows are the caller's to skip first."""
    if len(row) == width or (len(row) > width and not exact):
        return False
    ctx.problem(
        where,
        _("This row has %(count)s cells; the header has %(width)s.")
        % {"count": len(row), "width": shown_width or width},
    )
    return True


def csv_unreadable(number: int, error: csv.Error) -> str:
    """Why line ``number`` is not CSV, in the user's words (the csv module's are English)."""
    place = {"number": number}
    if "field limit" in str(error):
        place["limit"] = filesizeformat(csv.field_size_limit())
        return _("Line %(number)s holds a field longer than %(limit)s.") % place
    return _("Line %(number)s cannot be read as CSV.") % place


# --- JSON -------------------------------------------------------------------------------

# A backslash escapes the byte after it, in a string or not: outside one it is invalid JSON
# that the parser refuses right there, so reading it as an escape changes nothing, and the
# fast and the exact scan then agree on every input.
# Outside strings: a run of anything but quotes, brackets and backslashes, then any number
# of escapes or complete strings, each followed by such a run. A string still open at the
# end of the chunk is not taken (the match backtracks to its opening quote).
_OUTSIDE_STRINGS = re.compile(
    rb'[^"\[\]{}\\]*(?:(?:\\[\s\S]|"[^"\\]*(?:\\[\s\S][^"\\]*)*")[^"\[\]{}\\]*)*'
)
_INSIDE_STRING = re.compile(rb'[^"\\]*(?:\\[\s\S][^"\\]*)*')
_ESCAPES = re.compile(rb"\\[\s\S]")
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'"\\[]{}')
_TO_PARENTHESES = bytes.maketrans(b"[]{}", b"()()")
_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))
_GUARD_CHUNK = 1 << 16  # also the longest string that is never measured: keep limits above
JSON_CONTAINER_EVENTS = frozenset({"start_map", "end_map", "start_array", "end_array", "map_key"})


def _characters(data: bytes) -> int:
    """Characters in UTF-8 ``data`` (continuation bytes do not start one)."""
    return len(data) if data.isascii() else len(data.translate(None, _UTF8_CONTINUATION))


class JsonGuard:
    """A JSON byte stream that refuses a hostile shape before any parser sees its bytes.

    Every chunk is scanned as it is read: nesting is tracked outside strings (escapes
    honoured) and the length of each string is measured, and ``ImportRejected`` is raised
    the moment the depth passes ``limits.max_json_depth``, a string passes
    ``limits.max_json_text_bytes`` or (with ``max_bytes``) the stream passes its size.
    This is what keeps the parser flat: ijson's C backend turns a whole chunk into events
    before anyone can look at them, each event carrying a prefix as long as the nesting,
    so a 200 KB file of ``[`` took 10 GB before the first event could be checked.

    It also knows the line and column of any byte of the chunk it handed on last, which is
    the chunk a parser error is in (``parse_error``).
    """

    def __init__(
        self,
        raw: IO[bytes],
        limits: Limits,
        *,
        max_bytes: int | None = None,
        too_large: str = "",
    ):
        self._raw = raw
        self._max_depth = limits.max_json_depth
        self._max_string = limits.max_json_text_bytes
        self._max_bytes = max_bytes
        self._too_large = too_large
        self.position = 0  # bytes handed on
        self._depth = 0
        self._string_start: int | None = None  # offset of the open string's quote
        self._string_where = (0, 0)
        self._escape = False  # the last chunk ended on a backslash inside a string
        self._chunk = b""  # the chunk handed on last, starting at offset _chunk_start
        self._chunk_start = 0
        self._lines = 0  # newlines before _chunk
        self._column = 0  # characters between the last of them and _chunk

    def read(self, size: int | None = -1) -> bytes:
        if size == 0:
            return b""
        wanted = _GUARD_CHUNK if size is None or size < 0 else min(size, _GUARD_CHUNK)
        chunk = self._raw.read(wanted)
        self._advance(chunk)
        if not chunk:
            return chunk
        if self._max_bytes is not None and self.position > self._max_bytes:
            raise ImportRejected(self._too_large)
        self._scan(chunk)
        return chunk

    def readable(self) -> bool:
        return True

    @property
    def line(self) -> int:
        """The line the last chunk starts on."""
        return self._lines + 1

    def where(self, offset: int) -> tuple[int, int]:
        """Line and column (from 1; columns count characters) of byte ``offset`` of the
        stream, which must lie in the chunk handed on last."""
        head = self._chunk[: max(0, offset - self._chunk_start)]
        newline = head.rfind(b"\n")
        if newline < 0:
            return self._lines + 1, self._column + _characters(head) + 1
        return self._lines + head.count(b"\n") + 1, _characters(head[newline + 1 :]) + 1

    def _advance(self, chunk: bytes) -> None:
        previous = self._chunk
        newline = previous.rfind(b"\n")
        if newline < 0:
            self._column += _characters(previous)
        else:
            self._lines += previous.count(b"\n")
            self._column = _characters(previous[newline + 1 :])
        self._chunk, self._chunk_start = chunk, self.position
        self.position += len(chunk)

    def _scan(self, chunk: bytes) -> None:
        pos = 0
        if self._escape:  # the byte the previous chunk's last backslash escapes
            self._escape, pos = False, 1
        if self._string_start is not None:
            pos = self._string_end(chunk, pos)
            if pos is None:
                return
        if not self._skim(chunk, pos):
            self._walk(chunk, pos)

    def _string_end(self, chunk: bytes, pos: int) -> int | None:
        """Inside a string at ``pos``: the position after its closing quote, or ``None``
        when it goes on past this chunk."""
        end = len(chunk)
        pos = _INSIDE_STRING.match(chunk, pos).end()
        if pos < end and chunk[pos] == 0x22:
            self._check_string(self._chunk_start + pos + 1)
            self._string_start = None
            return pos + 1
        self._escape = pos < end  # stopped on a backslash: the chunk's last byte
        self._check_string(self._chunk_start + end)
        return None

    def _skim(self, chunk: bytes, pos: int) -> bool:
        """The fast way through ``chunk[pos:]`` (outside a string at ``pos``), in a few
        passes of C: drop escapes, keep quotes and brackets, drop what the quotes enclose,
        then bound the deepest point by peeling matched pairs. ``False`` when that bound
        passes the limit: then ``_walk`` finds out exactly, and where."""
        text = chunk[pos:]
        if b"\\" in text:
            text = _ESCAPES.sub(b"", text)
        parts = text.translate(None, _NOT_STRUCTURAL).split(b'"')
        skeleton = b"".join(parts[::2]).translate(_TO_PARENTHESES, b"\\")
        budget = self._max_depth - self._depth
        nesting = 0  # height of the matched pairs: each pass peels one level
        while b"()" in skeleton:
            nesting += 1
            if nesting > budget:
                return False
            skeleton = skeleton.replace(b"()", b"")
        closing = skeleton.count(b")")  # what is left reads ")))((("
        opening = len(skeleton) - closing
        if opening + nesting > budget:
            return False
        self._depth = max(self._depth - closing, 0) + opening
        # Escapes were paired off from the left: a backslash left over is the chunk's last
        # byte, and escapes the next chunk's first.
        self._escape = text.endswith(b"\\")
        if len(parts) % 2 == 0:  # an odd number of quotes: the last string goes on
            quote = len(chunk)
            while True:  # the last quote that no backslash escapes opens it
                quote = chunk.rfind(b'"', pos, quote)
                before = quote
                while before > pos and chunk[before - 1] == 0x5C:
                    before -= 1
                if (quote - before) % 2 == 0:
                    break
            self._open_string(quote)
            self._check_string(self._chunk_start + len(chunk))
        return True

    def _walk(self, chunk: bytes, pos: int) -> None:
        """The exact way through ``chunk[pos:]``: bracket by bracket."""
        end = len(chunk)
        while pos < end:
            if self._string_start is not None:
                pos = self._string_end(chunk, pos)
                if pos is None:
                    return
                continue
            pos = _OUTSIDE_STRINGS.match(chunk, pos).end()
            if pos == end:
                return
            byte = chunk[pos]
            if byte == 0x5C:  # a backslash, the chunk's last byte
                self._escape = True
                return
            if byte == 0x22:  # '"': a string that goes on past this chunk
                self._open_string(pos)
            elif byte in b"[{":
                self._depth += 1
                if self._depth > self._max_depth:
                    line, column = self.where(self._chunk_start + pos)
                    raise ImportRejected(
                        _(
                            "The file nests deeper than %(limit)s levels "
                            "(line %(line)s, column %(column)s)."
                        )
                        % {"limit": self._max_depth, "line": line, "column": column}
                    )
            elif self._depth:
                self._depth -= 1
            pos += 1

    def _open_string(self, pos: int) -> None:
        self._string_start = self._chunk_start + pos
        self._string_where = self.where(self._string_start)

    def _check_string(self, offset: int) -> None:
        if offset - self._string_start > self._max_string:
            line, column = self._string_where
            raise ImportRejected(
                _(
                    "A single text in the file is longer than %(limit)s "
                    "(line %(line)s, column %(column)s)."
                )
                % {"limit": filesizeformat(self._max_string), "line": line, "column": column}
            )

    def parse_error(self, error: ijson.JSONError) -> str:
        """What a parser error means, in the user's words, and where it is."""
        text = error.args[0] if error.args else b""
        if isinstance(text, str):
            text = text.encode("utf-8", "replace")
        first, _newline, rest = text.partition(b"\n")
        if b"premature EOF" in first or b"Incomplete JSON" in first:
            return _("The file ends before its JSON is complete: it may have been cut off.")
        offset = self._error_offset(rest.partition(b"\n")[0])
        if offset is None:
            return _("This is not valid JSON (near line %(line)s).") % {"line": self.line}
        line, column = self.where(self._chunk_start + offset)
        place = {"line": line, "column": column}
        if b"UTF8" in first:
            return _("The text is not UTF-8 (line %(line)s, column %(column)s).") % place
        if b"trailing garbage" in first:
            return (
                _(
                    "There is more text after the end of the JSON "
                    "(line %(line)s, column %(column)s)."
                )
                % place
            )
        return _("This is not valid JSON (line %(line)s, column %(column)s).") % place

    def _error_offset(self, context: bytes) -> int | None:
        """The offset in the last chunk of yajl's error, from the excerpt its message shows:
        the chunk with line breaks as spaces, from 30 bytes before the error to 30 after,
        padded so that the error falls in column 41 (yajl_render_error_string)."""
        flat = self._chunk.replace(b"\n", b" ").replace(b"\r", b" ")

        def excerpt(offset: int) -> bytes:
            padding = b" " * (40 - offset if offset < 30 else 10)
            return padding + flat[max(offset - 30, 0) : offset + 30]

        for offset in range(min(30, len(flat) + 1)):
            if excerpt(offset) == context:
                return offset
        found = flat.find(context[10:]) if len(context) > 10 else -1
        while found >= 0:
            if excerpt(found + 30) == context:
                return found + 30
            found = flat.find(context[10:], found + 1)
        return None


def json_parse(guard: JsonGuard) -> Iterator[tuple[str, str, Any]]:
    """ijson's ``(prefix, event, value)`` events over ``guard``; malformed JSON raises
    ``ImportRejected`` saying what is wrong and where."""
    try:
        yield from ijson.parse(guard, use_float=True)
    except ijson.JSONError as error:
        raise ImportRejected(guard.parse_error(error)) from error


def json_stream(
    raw: IO[bytes] | JsonGuard,
    *,
    items: set[str],
    scalars: set[str] = frozenset(),
    limits: Limits,
) -> Iterator[tuple[str, Any]]:
    """Stream a JSON document: yield ``(prefix, object)`` for every complete value at an
    ``items`` prefix (ijson notation, e.g. ``"messages.item"``) and ``(prefix, value)``
    for scalars at a ``scalars`` prefix, in document order. Nothing else is kept in
    memory. The bytes go through a ``JsonGuard`` (nesting, text length); an item larger
    than ``limits.max_json_message_bytes`` or malformed JSON raises ``ImportRejected``.
    """
    guard = raw if isinstance(raw, JsonGuard) else JsonGuard(raw, limits)
    depth = 0
    builder: ijson.ObjectBuilder | None = None
    building_prefix = ""
    builder_depth = 0
    building_from = building_line = 0
    for prefix, event, value in json_parse(guard):
        if event in ("start_map", "start_array"):
            depth += 1
        elif event in ("end_map", "end_array"):
            depth -= 1
        if builder is not None:
            builder.event(event, value)
            if depth < builder_depth:
                yield building_prefix, builder.value
                builder = None
            elif guard.position - building_from > limits.max_json_message_bytes:
                raise ImportRejected(
                    _("A single message in the file is larger than %(limit)s (near line %(line)s).")
                    % {
                        "limit": filesizeformat(limits.max_json_message_bytes),
                        "line": building_line,
                    }
                )
            continue
        if prefix in items:
            if event in ("start_map", "start_array"):
                builder = ijson.ObjectBuilder()
                builder.event(event, value)
                building_prefix = prefix
                builder_depth = depth
                building_from, building_line = guard.position, guard.line
            elif event not in ("map_key", "end_map", "end_array"):
                yield prefix, value
        elif prefix in scalars and event not in JSON_CONTAINER_EVENTS:
            yield prefix, value


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

    def size(self, name: str) -> int:
        """What the header says ``name`` unpacks to (a liar is caught while reading)."""
        return self._zip.getinfo(name).file_size

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
