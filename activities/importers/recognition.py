"""Which export a file is: "recognise the format", the import form's default.

Each importer module has ``recognise(head: FileHead) -> str | None``: ``None`` when the file
looks like its format, else a short translated phrase saying what it lacks ("no column
TalkerId"). ``recognise`` asks them in ``ORDER`` (most specific first: a WeChat header
before the generic CSV that any CSV with the right three columns would satisfy) and takes
the first that fits; when none does, the error names every format tried and what each
missed.

Recognition reads only the head of the file (``HEAD_BYTES``; a zip's names and the head of
one entry; the head of a .bz2's contents), so it costs the same whatever the file's size:
bench/ingest.py measures it against the import it precedes.
"""

from __future__ import annotations

import bz2
import csv
import io
import os
import zipfile
from dataclasses import dataclass
from functools import cached_property

from django.utils.translation import gettext as _

from activities.importers.base import ImportRejected, sniff_encoding

HEAD_BYTES = 64 * 1024
# Text-like entries of a zip whose head recognition reads (the first one, by name).
_TEXT_SUFFIXES = (".csv", ".txt", ".json")
_XLSX_TEXT = ("xl/sharedStrings.xml", "xl/worksheets/sheet1.xml")


@dataclass(frozen=True)
class FileHead:
    """What recognition may look at: the uploaded file's name, the first ``HEAD_BYTES``
    (of the contents, for a .bz2), and for a zip its entry names and the head of its first
    text entry (``entry``)."""

    name: str  # the file's name as uploaded, lower-cased
    data: bytes
    zip_names: tuple[str, ...] = ()
    entry: str = ""  # the zip entry ``data`` comes from
    complete: bool = False  # ``data`` is the whole (decompressed) file or entry
    compressed: str = ""  # "bz2" when ``data`` was decompressed from a .bz2

    @property
    def is_zip(self) -> bool:
        return bool(self.zip_names) or self.name.endswith(".zip")

    @cached_property
    def text(self) -> str | None:
        """``data`` decoded (UTF-8 with or without BOM, or GB18030), or None if binary."""
        if not self.data:
            return ""
        try:
            encoding = sniff_encoding(self.data, final=self.complete)
        except ImportRejected:
            return None
        return self.data.decode(encoding, errors="ignore").removeprefix("\ufeff")

    @cached_property
    def csv_header(self) -> list[str] | None:
        """The first row as CSV cells (stripped), or None if the head is not text."""
        text = self.text
        if text is None:
            return None
        line = text.split("\n", 1)[0].rstrip("\r")
        try:
            row = next(csv.reader(io.StringIO(line)), [])
        except csv.Error:
            return None
        return [cell.strip().removeprefix("\ufeff") for cell in row]

    def missing_columns(self, required) -> list[str]:
        header = set(self.csv_header or ())
        return [column for column in required if column not in header]


def csv_header_problem(head: FileHead, required) -> str | None:
    """The usual ``recognise`` of a CSV export: a text file (not a zip) whose header has
    every column in ``required``; else what it lacks."""
    if head.is_zip or head.csv_header is None:
        return _("not a CSV file")
    if missing := head.missing_columns(required):
        return _("no column %(columns)s") % {"columns": ", ".join(missing)}
    return None


def _read_head(stream, limit: int = HEAD_BYTES) -> tuple[bytes, bool]:
    data = b""
    while len(data) < limit:
        chunk = stream.read(limit - len(data))
        if not chunk:
            return data, True
        data += chunk
    return data, not stream.read(1)


def file_head(path: str | os.PathLike, original_name: str = "") -> FileHead:
    """Read what recognition needs from ``path`` (never more than a few HEAD_BYTES)."""
    name = (original_name or os.path.basename(str(path))).lower()
    with open(path, "rb") as raw:
        start, complete = _read_head(raw)
    if start.startswith(b"PK\x03\x04") or start.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as archive:
                infos = [info for info in archive.infolist() if not info.is_dir()]
                names = tuple(info.filename for info in infos[:10_000])
                text_entries = sorted(n for n in names if n.lower().endswith(_TEXT_SUFFIXES))
                if "xl/workbook.xml" in names:
                    # An Excel workbook (.xlsx): the header row's labels are at the head of
                    # its shared strings (or of its first sheet, for inline strings), cheaper
                    # than any workbook reader, which loads every shared string first.
                    text_entries = [n for n in _XLSX_TEXT if n in names]
                if text_entries:
                    with archive.open(text_entries[0]) as entry:
                        data, whole = _read_head(entry)
                    return FileHead(name, data, names, text_entries[0], whole)
                return FileHead(name, b"", names)
        except (zipfile.BadZipFile, OSError, RuntimeError):
            return FileHead(name, start, complete=complete)
    if start.startswith(b"BZh"):
        try:
            with bz2.open(path, "rb") as stream:
                data, whole = _read_head(stream)
            return FileHead(name, data, complete=whole, compressed="bz2")
        except (OSError, EOFError, ValueError):
            return FileHead(name, start, complete=complete)
    return FileHead(name, start, complete=complete)


def recognise(path: str | os.PathLike, original_name: str = "") -> str:
    """The format code of the export at ``path``; ``ImportRejected`` naming every format
    tried and what each missed when none fits."""
    from activities.importers import ORDER, get_importer
    from activities.models import ImportFormat

    head = file_head(path, original_name)
    misses = []
    for code in ORDER:
        reason = get_importer(code).recognise(head)
        if reason is None:
            return code
        misses.append(f"{ImportFormat(code).label}: {reason}")
    raise ImportRejected(
        _("The format was not recognised. Formats tried, and what each was missing: %(misses)s.")
        % {"misses": "; ".join(misses)}
    )
