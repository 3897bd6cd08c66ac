"""WhatsApp "Export chat": the text file (``_chat.txt`` / ``WhatsApp Chat with ….txt``)
or the ``.zip`` the phone shares, which holds that file (``_chat.txt`` on iOS, ``WhatsApp
Chat with ….txt`` on Android) and, "with media", the photos and voice notes, which are
ignored. The zip is opened with ``SafeZip`` (entry count, unpacked bytes counted while
reading); the chat text is unpacked once to a temporary file and read like an upload.

Lines start with a timestamp, either Android style (``12/31/20, 9:41 PM - Alice: hi``,
``31/12/2020, 21:41 - Alice: hi``) or iOS style (``[31/12/2020, 21:41:05] Alice: hi``);
``2020-12-31 21:41`` (year first) is read too. A line without a timestamp continues the
message before it. Times are wall-clock times of the exporting phone: read in the
community's zone.

Date order: the export writes dates in the phone's locale without saying which order.
A first pass over the file decides, once for the whole file: a first field above 12 on
any line means day-first; otherwise a second field above 12 means month-first; with no
evidence either way (all days ≤ 12) we assume day-first, the order of most locales.
Two-digit years are 20xx.

Members have no ids in these exports: the key is the display name, or the phone number
as written. System lines (joins, leaves, adds, removals; English and Chinese) become
membership events; other system lines (encryption notice, subject changes, …) are skipped
and counted by reason in ``ctx.skipped`` ("system"; "you" for a join or removal of the
exporting account, whose name the file does not give; "blank" for blank lines before the
first message).

iOS writes system lines as ``<group name>: \u200e<text>``, but the first line (the
encryption notice) sometimes comes without the mark: "Pokemon Chat: Messages and calls
are end-to-end encrypted…". That notice is never a member's message; its "sender" is the
chat's name, and later unmarked lines "from" that name that read as system lines (joins,
subject changes, …) are taken as such.

"You" (the exporting account) is never named in the file: "Alice added you", "You
left". The import form's "Chat or channel" field (``ctx.source_name``) may give the
exporting user's name in the chat (as their own messages are signed); then those lines
are that member's join or leave. Without it they are counted as skipped ("you").
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime

from django.utils.translation import gettext as _

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    ProgressReader,
    SafeZip,
    file_size,
    line_at,
    make_aware,
    stable_id,
)
from activities.models import ActivityKind

FORMAT = "whatsapp"
PLATFORM = "whatsapp"

# Direction marks WhatsApp sprinkles around names, phone numbers and system texts.
_MARKS = "\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

_STAMP = re.compile(
    r"\[?(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4})[,，]?\s+"
    r"(?P<pre>上午|下午)?\s*(?P<h>\d{1,2})[:.](?P<m>\d{2})(?:[:.](?P<s>\d{2}))?"
    r"(?:\s*(?P<post>[AaPp]\.?\s?[Mm]\.?|上午|下午))?"
    r"(?:\]\s*|\s+-\s+)(?P<body>.*)"
)
_DATE_PARTS = re.compile(r"[./-]")

# System lines that are not membership: checked first, so "changed the subject from
# "Bob added Carol"" is not read as an add. ``[^:]*`` keeps it off ordinary messages.
_NOT_ACTIVITY = re.compile(
    r"(?:Messages and calls are end-to-end encrypted|Messages to this group are now secured"
    r"|消息和通话已进行端到端加密"
    r"|[^:]*? (?:created group|changed the subject|changed this group's|changed the group"
    r"|deleted this group's|创建了群组|更改了|修改了))"
)
_JOIN, _LEAVE, _REMOVED = ActivityKind.JOIN, ActivityKind.LEAVE, ActivityKind.REMOVED
_SYSTEM = [  # (pattern, kind); "who" may be a list of names
    (r"(?P<who>.+?) joined (?:using this group['’]s invite link|from the community)", _JOIN),
    (r"(?P<who>.+?) (?:已)?通过此群组的邀请链接加入(?:了)?", _JOIN),
    (r"(?P<who>.+?) (?:were|was) added", _JOIN),  # "You were added" (older exports)
    (r"(?P<who>.+?) left", _LEAVE),
    (r"(?P<who>.+?) ?(?:已退出|退出了)(?:群组)?", _LEAVE),
    (r".+? added (?P<who>.+)", _JOIN),
    (r".+? ?(?:添加了|已添加) ?(?P<who>.+)", _JOIN),
    (r".+? removed (?P<who>.+)", _REMOVED),
    (r"(?P<who>.+?) was removed", _REMOVED),
    (r".+? ?(?:移除了|已移除) ?(?P<who>.+)", _REMOVED),
]
_SYSTEM = [(re.compile(pattern), kind) for pattern, kind in _SYSTEM]
# The encryption notice, the first line of every export (English, Chinese).
_ENCRYPTION = re.compile(
    r"(?:Messages and calls are end-to-end encrypted|Messages to this group are now secured"
    r"|消息和通话已进行端到端加密)"
)
_NAME_LIST = re.compile(r"\s*(?:,\s*and\s+|,|，|、|\s+and\s+|\s+和\s+)\s*")
# The person who exported the chat appears as "You": the file never says who that is.
_YOU = frozenset({"you", "You", "你", "您"})


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    if not zipfile.is_zipfile(path):
        yield from _text_events(path, ctx)
        return
    with tempfile.TemporaryDirectory(prefix="whatsapp-") as folder:
        chat = os.path.join(folder, "chat.txt")
        with SafeZip(path, ctx.limits) as archive:
            name = _chat_entry(archive.names)
            try:
                with archive.open(name) as source, open(chat, "wb") as target:
                    shutil.copyfileobj(source, target, 1 << 16)
            except (zipfile.BadZipFile, zlib.error, EOFError) as error:
                raise ImportRejected(
                    _("The archive is damaged: a file in it cannot be unpacked.")
                ) from error
        yield from _text_events(chat, ctx)


def _chat_entry(names: list[str]) -> str:
    """The chat's text file in an "Export chat" zip: ``_chat.txt`` (iOS), else the one
    ``.txt`` file (Android names it ``WhatsApp Chat with <chat>.txt``, in the phone's
    language); media files are ignored."""
    texts = [n for n in names if n.lower().endswith(".txt") and not n.startswith("__MACOSX/")]
    for wanted in (
        [n for n in texts if os.path.basename(n) == "_chat.txt"],
        [n for n in texts if os.path.basename(n).startswith("WhatsApp")],
        texts,
    ):
        if len(wanted) == 1:
            return wanted[0]
        if wanted:
            break
    raise ImportRejected(
        _(
            "This zip is not a WhatsApp chat export: it should hold one chat text file "
            "(_chat.txt or WhatsApp Chat with ….txt); text files in it: %(count)s."
        )
        % {"count": len(texts)}
    )


def _text_events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    day_first = _survey(path)
    occurrences: dict[tuple, int] = {}
    last_stamp = None
    pending: tuple | None = None  # (time, first line's text, continuation lines)
    state = _State(you=_clean(ctx.source_name))

    def finish(entry) -> Iterator[IncomingEvent]:
        nonlocal last_stamp
        when, body, more = entry
        if when != last_stamp:  # identical lines can only share a timestamp
            occurrences.clear()
            last_stamp = when
        aware = make_aware(when, ctx.time_zone)
        yield from _read(when, aware, body, more, occurrences, ctx, state)

    with open(path, "rb") as raw:
        reader = ProgressReader(raw, file_size(path), ctx)
        for number, data in enumerate(_lines(reader), start=1):
            try:
                line = data.decode().rstrip("\r\n")
            except UnicodeDecodeError:
                ctx.problem(line_at(number), _("The line is not UTF-8 text."))
                continue
            match = _STAMP.fullmatch(line.lstrip(_MARKS))
            if match is None:
                if pending is not None:
                    pending[2].append(line)
                elif not line.strip(_MARKS + " \t"):
                    ctx.skip("blank")
                continue  # else: the rest of an unreadable message (a problem already)
            if pending is not None:
                yield from finish(pending)
                pending = None
            when = _time(match, day_first)
            if when is None:
                ctx.problem(
                    line_at(number),
                    _("The date or time at the start of the line cannot be read."),
                )
                continue
            pending = (when, match["body"], [])
        if pending is not None:
            yield from finish(pending)
    ctx.progress(1.0)


def _survey(path) -> bool:
    """First pass: reject what is not an export; return whether dates are day-first."""
    month_first = False
    with open(path, "rb") as raw:
        first = True
        for data in _lines(raw):
            line = data.decode(errors="replace").strip().lstrip(_MARKS)
            if not line:
                continue
            match = _STAMP.fullmatch(line)
            if first and match is None:
                raise ImportRejected(
                    _(
                        "This is not a WhatsApp chat export: its first line does not start "
                        'with a date and time, like "31/12/2020, 21:41 - Alice: hello".'
                    )
                )
            first = False
            if match is None:
                continue
            a, b, _year = (int(part) for part in _DATE_PARTS.split(match["date"]))
            if match["date"][:4].isdigit():  # year first: no ambiguity
                continue
            if 12 < a <= 31 and b <= 12:
                return True  # one unambiguous day-first date settles it
            if 12 < b <= 31 and a <= 12:
                month_first = True
    if first:
        raise ImportRejected(_("This file is empty."))
    return not month_first


class _State:
    """What one file teaches as it is read: the group's name, the exporting user's."""

    def __init__(self, you: str):
        self.you = you
        self.group: str | None = None  # the "sender" of the encryption notice
        self.first = True  # before the first entry (where that notice is)


def _time(match: re.Match, day_first: bool) -> datetime | None:
    a, b, c = _DATE_PARTS.split(match["date"])
    if len(a) == 4:
        year, month, day = int(a), int(b), int(c)
    else:
        day, month = (int(a), int(b)) if day_first else (int(b), int(a))
        year = int(c) + 2000 if len(c) == 2 else int(c) if len(c) == 4 else 0  # 0: invalid
    hour = int(match["h"])
    marker = (match["pre"] or match["post"] or "").replace(".", "").replace(" ", "").lower()
    if marker:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if marker in ("pm", "下午") else 0)
    minute, second = int(match["m"]), int(match["s"] or 0)
    try:
        # Naive on purpose: the caller reads it in the community's zone.
        return datetime(year, month, day, hour, minute, second)  # noqa: DTZ001
    except ValueError:
        return None


def _read(
    when: datetime,
    aware: datetime,
    body: str,
    more: list[str],
    occurrences: dict,
    ctx: ImportContext,
    state: _State,
) -> Iterator[IncomingEvent]:
    """The events of one entry: a message, a membership line, or nothing (counted in
    ``ctx.skipped``: "system", or "you" for a line about the exporting account)."""
    body = body.lstrip(_MARKS)
    if _NOT_ACTIVITY.match(body):
        ctx.skip("system")
        return
    sender, colon, text = body.partition(": ")
    first, state.first = state.first, False
    if colon and first and _ENCRYPTION.match(text.lstrip(_MARKS)):
        state.group = _clean(sender)  # iOS: "<group name>: Messages and calls are …"
    # iOS writes system lines as "<group name>: \u200e<text>"; people cannot type the mark.
    # Unmarked lines "from" the group's name are system lines when they read as one (in a
    # one-to-one chat that "name" is the other person's, whose messages stay messages).
    if not colon:
        system = body
    elif text.startswith("\u200e") or (state.group and _clean(sender) == state.group):
        system = text
    else:
        system = None
    if system is not None:
        system = system.strip(_MARKS + " ")
        if _NOT_ACTIVITY.match(system):
            ctx.skip("system")
            return
        for pattern, kind in _SYSTEM:
            if found := pattern.fullmatch(system):
                seen = _count(occurrences, (body,))
                for index, name in enumerate(_NAME_LIST.split(found["who"])):
                    name = _clean(name)
                    if name in _YOU:
                        name = state.you
                        if not name:
                            # The file never says who "you" is: reported, not a member.
                            ctx.skip("you")
                            continue
                    if name:
                        key = stable_id("whatsapp", when.isoformat(), body, seen, index)
                        yield IncomingEvent(key, kind, aware, name, name)
                return
        if not colon:
            ctx.skip("system")
            return  # another system line: nothing to count
    sender = _clean(sender)
    text = "\n".join([text.lstrip(_MARKS), *more])
    seen = _count(occurrences, (sender, text))
    key = stable_id("whatsapp", when.isoformat(), sender, text, seen)
    yield IncomingEvent(key, ActivityKind.MESSAGE, aware, sender, sender, text)


def _count(occurrences: dict, key: tuple) -> int:
    """How many identical entries came before this one at the same timestamp."""
    occurrences[key] = occurrences.get(key, -1) + 1
    return occurrences[key]


def _clean(name: str) -> str:
    return name.strip(_MARKS + " \t")


def _lines(raw) -> Iterator[bytes]:
    """Split a binary stream into lines without holding more than one line."""
    pending: list[bytes] = []
    while chunk := raw.read(1 << 16):
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            pending.append(chunk[start:end])
            yield b"".join(pending)
            pending, start = [], end + 1
        pending.append(chunk[start:])
    if any(pending):
        yield b"".join(pending)


def recognise(head) -> str | None:
    """WhatsApp's "Export chat": a .txt whose lines start with a date and time, or the zip
    the phone shares (``_chat.txt`` or ``WhatsApp Chat with ….txt``)."""
    if head.zip_names:
        texts = [n for n in head.zip_names if n.lower().endswith(".txt")]
        if not texts:
            return _("no chat .txt in the zip")
    text = head.text
    if text is None:
        return _("not a text file")
    lines = [line.strip(_MARKS + " ") for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return _("no lines")
    stamped = sum(1 for line in lines if _STAMP.match(line))
    if stamped * 2 >= len(lines):
        return None
    return _("lines do not start with a date and time")
