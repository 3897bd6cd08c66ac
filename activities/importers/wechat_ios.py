"""WeChat chat history from an iPhone backup, as CSV written by wechat-exporter
(github.com/12425/wechat-exporter), plain or compressed as ``.csv.bz2``.

What the exporter does (read from ``wechat-exporter.py``): for each chat table of the
phone's ``MM.sqlite`` it writes one CSV (UTF-8, no BOM; ``bz2.open(…, 'wt')`` when the
``compress`` setting is 1) with the header ``时刻,消息类型,消息方向,ID,微信号,昵称,显示名称,
内容`` (older versions: no ``ID`` column; some copies call the seventh column ``备注名``).

- ``时刻``: ``strftime('%Y-%m-%d %X', localtime(CreateTime))``, the exporting computer's
  local time without a zone, so it is read in the community's time zone (or the one the
  form gives). There is no message id and no Unix time.
- ``消息类型``: 文本, 图片, 语音, 名片, 视频, 表情, 位置, 链接 (app messages: links, files,
  quoted replies, pats…, the content is their XML), 邮件, 通话/语音通话/视频通话,
  系统消息 (Type 10000), 撤回的消息 (10002); an unknown type is written as its number.
- ``消息方向``: 发送 (sent by the exporting account) or 接收 (received).
- ``ID`` is the speaker's wxid (``userName``), ``微信号`` their self-chosen WeChat ID,
  ``昵称`` their nickname and ``显示名称`` the exporter's note for them. In a group the
  speaker is parsed from the ``wxid:\\n`` prefix of the content and looked up in the
  contacts; every field the lookup leaves empty falls back to the chat's own value — so a
  speaker who is not a contact has the group's name as ``昵称``, and the exporter's own
  messages and the system lines (which have no prefix) carry the chat's ID and names.

Reading it:

- Member: the exporting account for 发送 rows (key ``"self"`` as in the MemoTrace
  importer, named "我"); else ``ID`` (the wxid), else ``微信号``, else the name. The
  chat's own values are learnt from its first 发送 or 系统消息 row (one extra read of
  the file up to that row), so that a speaker's name equal to the chat's is known to be
  the fallback and not used; in a group, a 接收 row with the chat's own ID has no known
  speaker and is skipped (``no_author``). Named by ``昵称``, else ``显示名称``, else
  ``微信号``, else the ID.
- Kind: 文本 (keeps its text), 图片, 语音, 名片, 视频, 表情, 位置 are messages; 链接 is a
  post, a reply when its XML is a quote (``<type>57</type>``), a skipped pat when it is one
  (``<type>62</type>``); its ``<title>`` is kept. 系统消息 lines announcing joins, removals
  and leaves are read as the MemoTrace importer reads them (the same patterns); recalls,
  pats and the rest are skipped by reason, so are 撤回的消息 (recall), calls, mail and
  unknown types (``other_type``).
- External id: a digest of (时刻, 消息类型, 消息方向, ID, 内容) and how many identical rows
  came before it in the same second, so the same row gives the same id in a later,
  overlapping export and a second import adds nothing.
- Windows' line ends (rows ending in ``\r\r\n``, as the exporter's text-mode file writes
  them there) read like a Mac's: the empty records between rows are ignored and ``\r\n``
  inside a message is ``\n``, so both give the same events and ids.
- ``.csv.bz2`` is streamed; the decompressed bytes are counted against
  ``IMPORT_MAX_UNCOMPRESSED_BYTES`` while reading, so a bz2 bomb is refused.

Rows are numbered as a spreadsheet shows them (header = row 1).
"""

from __future__ import annotations

import bz2
import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from django.utils.translation import gettext as _

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    ProgressReader,
    csv_unreadable,
    file_size,
    line_at,
    row_at,
    row_misfits,
    stable_id,
    text_stream,
    undecodable,
)

# The MemoTrace importer's reading of system lines, app-message titles and revoke XML: the
# phone writes the same texts and XML as the PC client.
from activities.importers.wechat import SELF, _sysmsg_reason, _system, _system_reason, _title
from activities.models import ActivityKind

FORMAT = "wechat_ios"
PLATFORM = "wechat"

COLUMNS = ("时刻", "消息类型", "消息方向", "ID", "微信号", "昵称", "显示名称", "内容")
# The seventh column's other name, and the columns every version has.
REMARK_COLUMNS = ("显示名称", "备注名")
REQUIRED = ("时刻", "消息类型", "消息方向", "微信号", "昵称", "内容")
SENT, RECEIVED = "发送", "接收"
SELF_NAME = "我"  # how WeChat names the exporting account to itself
MAX_NAMES = 100_000
BZ2_MAGIC = b"BZh"

_MESSAGES = frozenset({"文本", "图片", "语音", "名片", "视频", "表情", "位置"})
_APP_TYPE = re.compile(r"<type>\s*(\d+)\s*</type>")
# Old versions (no ID column) left a non-contact's ``wxid:\n`` prefix on the content.
_PREFIX = re.compile(r"^([A-Za-z0-9_\-.@]{2,64}):\n")

# --- Reading the bytes ------------------------------------------------------------------


def _too_big(limit: int) -> ImportRejected:
    return ImportRejected(
        _("Unpacked, the .bz2 file would exceed %(limit)s MB.") % {"limit": limit // (1024 * 1024)}
    )


def _damaged() -> ImportRejected:
    return ImportRejected(
        _("This .bz2 file is damaged or cut off: it cannot be unpacked to the end.")
    )


class _Unpacked(io.RawIOBase):
    """The contents of a .bz2 file, streamed; refuses to unpack more than ``limit`` bytes
    (counted as they come, whatever the file claims) and reports progress from the share
    of the compressed file read."""

    def __init__(self, raw, ctx: ImportContext, *, every: int = 1 << 20):
        super().__init__()
        self._raw = raw
        self._bz2 = bz2.BZ2File(raw)
        self._ctx = ctx
        self._limit = ctx.limits.max_uncompressed_bytes
        self._total = max(file_size(raw.name), 1)
        self._every = every
        self._next = every
        self.unpacked = 0

    def readinto(self, buffer) -> int:
        view = memoryview(buffer)[: 1 << 20]  # bounded: one call never unpacks much
        try:
            count = self._bz2.readinto(view)
        except (OSError, EOFError, ValueError) as error:
            raise _damaged() from error
        self.unpacked += count
        if self.unpacked > self._limit:
            raise _too_big(self._limit)
        if self.unpacked >= self._next:
            self._next = self.unpacked + self._every
            self._ctx.progress(self._raw.tell() / self._total)
        return count

    def readable(self) -> bool:
        return True


def _is_bz2(path) -> bool:
    with open(path, "rb") as raw:
        return raw.read(3) == BZ2_MAGIC


@contextmanager
def _open_text(path, ctx: ImportContext, compressed: bool) -> Iterator[io.TextIOWrapper]:
    with open(path, "rb") as raw:
        source = _Unpacked(raw, ctx) if compressed else ProgressReader(raw, file_size(path), ctx)
        yield text_stream(source)


def _undecodable_bz2(path, text: io.TextIOWrapper, ctx: ImportContext) -> None:
    """``base.undecodable`` for a .bz2: the line the bad bytes are on, unpacking again."""
    message = _("This line is not %(encoding)s text, the encoding the start of the file is in.") % {
        "encoding": "GB18030 (GBK)" if text.encoding == "gb18030" else "UTF-8"
    }
    decoder = codecs.getincrementaldecoder(text.encoding)("strict")
    number = 0
    with open(path, "rb") as raw:
        lines = io.BufferedReader(_Unpacked(raw, ctx))
        try:
            for line in lines:
                number += 1
                decoder.decode(line)
        except UnicodeDecodeError:
            ctx.problem(line_at(number), message)
            return
    ctx.problem("", message)


def _records(path, ctx: ImportContext, handle: Callable[[Iterator[list[str]]], Iterator]):
    """``handle(rows)`` over the CSV records of ``path`` (plain or .bz2), with the base
    importers' rules: not text or not CSV is rejected whole, an undecodable line is a
    numbered problem and reading stops there."""
    compressed = _is_bz2(path)
    with _open_text(path, ctx, compressed) as text:
        reader = csv.reader(text)
        try:
            yield from handle(reader)
        except UnicodeDecodeError:
            if compressed:
                _undecodable_bz2(path, text, ctx)
            else:
                undecodable(text, ctx)
        except csv.Error as error:
            raise ImportRejected(csv_unreadable(reader.line_num, error)) from error


# --- Columns ----------------------------------------------------------------------------


def _columns(header: list[str] | None) -> dict[str, int]:
    names = [name.strip().removeprefix("\ufeff") for name in header or ()]
    missing = [name for name in REQUIRED if name not in names]
    remark = next((name for name in REMARK_COLUMNS if name in names), None)
    if remark is None:
        missing.append(REMARK_COLUMNS[0])
    if missing:
        raise ImportRejected(
            _(
                "This is not a WeChat chat export from an iPhone (CSV from wechat-exporter): "
                "the first row must name the columns %(expected)s. Missing: %(missing)s."
            )
            % {"expected": ",".join(COLUMNS), "missing": ", ".join(missing)}
        )
    found = {name: names.index(name) for name in COLUMNS if name in names}
    found["显示名称"] = names.index(remark)
    return found


class _Chat:
    """The chat's own ID and names: what the exporter writes for rows without a speaker
    (the account's own messages, system lines), and the fallback of a speaker's empty
    fields."""

    def __init__(self, values: tuple[str, str, str, str] | None = None):
        self.known = values is not None
        self.id, self.alias, self.nickname, self.remark = values or ("", "", "", "")
        self.group = self.known and (self.id.endswith("@chatroom") or not self.id)


def _cell(row: list[str], index: int | None) -> str:
    return row[index].strip() if index is not None and index < len(row) else ""


def _chat(path, ctx: ImportContext) -> _Chat:
    """Read up to the first row the exporter filled with the chat's own values."""
    found: list[_Chat] = []

    def first(reader) -> Iterator:
        c = _columns(next(reader, None))
        for row in reader:
            direction = _cell(row, c["消息方向"])
            if direction == SENT or _cell(row, c["消息类型"]) == "系统消息":
                values = (
                    _cell(row, c.get("ID")),
                    _cell(row, c["微信号"]),
                    _cell(row, c["昵称"]),
                    _cell(row, c["显示名称"]),
                )
                found.append(_Chat(values))
                return
        yield from ()

    quiet = ImportContext(time_zone=ctx.time_zone, limits=ctx.limits)
    for _event in _records(path, quiet, first):
        pass
    return found[0] if found else _Chat()


# --- Rows -------------------------------------------------------------------------------


def _when(value: str, ctx: ImportContext) -> datetime | None:
    try:  # "YYYY-MM-DD HH:MM:SS" (``%X`` in the C locale)
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ctx.time_zone)
    return when if 1 < when.year < 9999 else None


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    chat = _chat(path, ctx)
    yield from _records(path, ctx, lambda reader: _rows(reader, chat, ctx))
    ctx.progress(1.0)


def _rows(reader, chat: _Chat, ctx: ImportContext) -> Iterator[IncomingEvent]:
    c = _columns(next(reader, None))
    width = max(c.values()) + 1
    i_id = c.get("ID")
    ids: dict[str, str] = {}  # display name → key of the latest speaker with that name
    second, seen = "", {}  # identical rows within the current 时刻
    number = 1
    for row in reader:
        number += 1
        if not row:
            # On Windows the exporter's text-mode file ends rows in "\r\r\n": csv reads an
            # empty record after each. Not a line of the chat, so not counted.
            continue
        if len(row) < width and not any(cell.strip() for cell in row):
            ctx.skip("blank")
            continue
        if row_misfits(row, width, row_at(number), ctx):
            continue
        local = row[c["时刻"]].strip()
        when = _when(local, ctx)
        if when is None:
            ctx.problem(
                row_at(number),
                _("时刻 “%(value)s” is not a date and time (YYYY-MM-DD HH:MM:SS).")
                % {"value": local[:40]},
            )
            continue
        direction = row[c["消息方向"]].strip()
        if direction not in (SENT, RECEIVED):
            ctx.problem(
                row_at(number),
                _("消息方向 “%(value)s” is neither 发送 (sent) nor 接收 (received).")
                % {"value": direction[:40]},
            )
            continue
        type_ = row[c["消息类型"]].strip()
        content = row[c["内容"]].replace("\r\n", "\n")  # Windows' line breaks, as on a Mac
        uid = _cell(row, i_id)
        if local != second:
            second, seen = local, {}
        key = (type_, direction, uid, content)
        repeat = seen[key] = seen.get(key, -1) + 1
        external_id = stable_id("wechat_ios", local, type_, direction, uid, content, repeat)

        if type_ == "系统消息":
            content = content.strip()
            if not (yield from _system(content, external_id, when, ids, SELF)):
                ctx.skip(_system_reason(content))
            continue
        if type_ == "撤回的消息":
            ctx.skip(_sysmsg_reason(content.strip()))
            continue
        if type_ not in _MESSAGES and type_ != "链接":
            ctx.skip("other_type")  # calls, mail, types the exporter wrote as a number
            continue

        if direction == SENT:
            member, name = SELF, SELF_NAME
        else:
            speaker = _speaker(row, c, uid, content, chat)
            if speaker is None:
                ctx.skip("no_author")
                continue
            member, name, content = speaker
            for known in {name, _clean(row[c["显示名称"]].strip(), chat.remark, uid, chat)}:
                if known and (known in ids or len(ids) < MAX_NAMES):
                    ids[known] = member

        if type_ != "链接":
            kind, body = ActivityKind.MESSAGE.value, content if type_ == "文本" else ""
        else:
            app = _APP_TYPE.search(content)
            app_type = app[1] if app else ""
            if app_type == "62":
                ctx.skip("pat")
                continue
            kind = ActivityKind.REPLY.value if app_type == "57" else ActivityKind.POST.value
            body = _title(content.strip())
        yield IncomingEvent(external_id, kind, when, member, name or member, body)


def _clean(value: str, chat_value: str, uid: str, chat: _Chat) -> str:
    """A speaker's field, or "" when it is only the chat's value the exporter fell back to."""
    if chat.known and chat.group and uid != chat.id and value == chat_value:
        return ""
    return value


def _speaker(row, c, uid: str, content: str, chat: _Chat) -> tuple[str, str, str] | None:
    """(member key, name, content) of a received row, or None if the speaker is unknown."""
    fields = tuple(row[c[name]].strip() for name in ("微信号", "昵称", "显示名称"))
    if "ID" not in c:
        # An old export: a row holds the speaker's contact entry whole, or else the chat's
        # own, and then a speaker who is not a contact kept the ``wxid:\n`` prefix (a
        # private chat's other side has no prefix: the chat is that person).
        chats = not chat.known or fields == (chat.alias, chat.nickname, chat.remark)
        if chats and (prefix := _PREFIX.match(content)):
            return prefix[1], prefix[1], content[prefix.end() :]
        alias, nickname, remark = fields
    elif chat.known and chat.group and uid == chat.id:
        return None  # the group itself: no speaker
    else:
        chat_fields = (chat.alias, chat.nickname, chat.remark)
        alias, nickname, remark = (
            _clean(value, mine, uid, chat) for value, mine in zip(fields, chat_fields, strict=True)
        )
    name = nickname or remark or alias or uid
    member = uid or alias or name
    if not member:
        return None
    return member, name, content


# --- Recognition ------------------------------------------------------------------------


def recognise(head) -> str | None:
    """wechat-exporter's header, in a .csv or (unpacked by ``file_head``) a .csv.bz2."""
    if head.is_zip or head.csv_header is None:
        return _("not a CSV file")
    missing = head.missing_columns(REQUIRED)
    if not any(name in (head.csv_header or ()) for name in REMARK_COLUMNS):
        missing.append(REMARK_COLUMNS[0])
    if missing:
        return _("no column %(columns)s") % {"columns": ", ".join(missing)}
    return None
