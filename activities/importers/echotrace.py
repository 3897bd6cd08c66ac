"""WeChat 4.0 chat history as an Excel workbook (.xlsx), as written by EchoTrace
(github.com/ycccccccy/echotrace, ``lib/services/chat_export_service.dart``,
``exportToExcel``; labels from ``lib/models/message.dart``).

What the exporter writes (Syncfusion XlsIO, every value a text cell but 序号): one sheet
``聊天记录``, and a second ``头像索引`` (avatars) that is not read.

- Row 1 ``会话信息``; row 2 ``微信ID`` <the chat's wxid> ``昵称`` <nickname> ``备注``
  <remark>; row 3 empty; row 4 the header ``序号, 时间, 发送者昵称, 发送者微信ID,
  发送者备注, 发送者身份, 消息类型, 内容``; the messages from row 5. Older versions wrote
  only ``序号, 时间, 发送者, 消息类型, 内容`` in row 1; both are read (the header is looked
  for in the first rows).
- ``时间``: ``YYYY-MM-DD HH:MM:SS`` from ``DateTime.fromMillisecondsSinceEpoch`` — the
  exporting computer's local time, without a zone: read in the community's time zone (or
  the form's). A file re-saved in Excel may hold real date cells: read the same way.
- ``发送者身份`` is "我" for the exporting account's messages (whose 发送者微信ID is the
  account's wxid), the speaker's display name in a group ("群成员" when unknown), and the
  chat's name for a private chat's other side and for system lines, whose 发送者微信ID is
  the chat's own.
- ``消息类型``: 文本消息, 图片消息, 语音消息, 名片消息, 视频消息, 动画表情, 位置消息,
  通话消息, 系统消息, 引用消息, 卡片式链接, 图文消息, 小程序分享, 音乐卡片, 红包卡片,
  聊天记录合并转发, 拍一拍消息, 转账卡片, 视频号直播卡片, 文件消息, 未知类型(<n>).
  ``内容`` is the exporter's reading: the text, "[图片]", a quote's own words, "[链接]
  <title>", a recall as "撤回了一条消息"…

Reading it:

- Member: ``发送者微信ID`` (a wxid), else the name. The exporting account is keyed by its
  wxid when the file gives it, else ``"self"`` (as the MemoTrace importer), named by
  ``发送者昵称`` or "我". Named by ``发送者昵称``, else ``发送者身份``, else ``发送者备注``. A
  message with no wxid and only "群成员" for a name, or carrying the group's own wxid, has
  no known speaker and is skipped (``no_author``).
- Kind: text, image, voice, card, video, sticker and location are messages (only text
  keeps its content); 引用消息 is a reply; links, articles, mini programs, music, files,
  red packets, transfers, merged chat records and live cards are posts (keeping 内容);
  系统消息 lines announcing joins, removals and leaves are read as the MemoTrace importer
  reads them; pats, recalls, other system lines, calls and unknown types are skipped by
  reason.
- External id: a digest of the chat's wxid, 时间, the sender, 消息类型, 内容 and how many
  identical rows came before it in the same second (序号 is only the row's place in one
  export), so a later, overlapping export adds nothing twice.
- Limits: an .xlsx is a zip. Before the workbook is opened, its entry count and declared
  unpacked size are checked against ``IMPORT_MAX_ZIP_ENTRIES`` and
  ``IMPORT_MAX_UNCOMPRESSED_BYTES`` (Python's zip reader never unpacks past a declared size:
  a lying entry fails its CRC check), and the shared strings, which the reader holds in
  memory, against ``IMPORT_MAX_METADATA_BYTES``. The sheet is streamed with openpyxl's
  read-only mode, one row at a time.

Rows are numbered as Excel shows them.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from datetime import datetime

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    Limits,
    row_at,
    stable_id,
)

# The MemoTrace importer's reading of system lines: WeChat 4.0 writes the same texts.
from activities.importers.wechat import SELF, _system, _system_reason
from activities.models import ActivityKind

FORMAT = "echotrace"
PLATFORM = "wechat"

SHEET = "聊天记录"
COLUMNS = (
    "序号",
    "时间",
    "发送者昵称",
    "发送者微信ID",
    "发送者备注",
    "发送者身份",
    "消息类型",
    "内容",
)
OLD_COLUMNS = ("序号", "时间", "发送者", "消息类型", "内容")
REQUIRED = ("时间", "消息类型", "内容")
SENDER_COLUMNS = ("发送者身份", "发送者")  # one of them
ME = "我"
UNKNOWN_MEMBER = "群成员"
HEADER_ROWS = 20  # the header is looked for in this many rows
MAX_NAMES = 100_000
SHARED_STRINGS = "xl/sharedStrings.xml"
PROGRESS_EVERY = 5_000  # rows

_MESSAGES = frozenset(
    {"文本消息", "图片消息", "语音消息", "名片消息", "视频消息", "动画表情", "位置消息"}
)
_POSTS = frozenset(
    {
        "卡片式链接",
        "图文消息",
        "小程序分享",
        "音乐卡片",
        "红包卡片",
        "聊天记录合并转发",
        "转账卡片",
        "视频号直播卡片",
        "文件消息",
    }
)


# --- Opening the workbook ---------------------------------------------------------------


def _not_a_workbook() -> ImportRejected:
    return ImportRejected(_("This is not an Excel workbook (.xlsx) that can be read."))


def check_limits(path, limits: Limits) -> None:
    """Refuse an .xlsx (a zip) over the limits before any reader unpacks it."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise _not_a_workbook() from error
    if len(infos) > limits.max_zip_entries:
        raise ImportRejected(
            _("This Excel file holds %(count)s parts; the limit is %(limit)s.")
            % {"count": len(infos), "limit": limits.max_zip_entries}
        )
    if sum(info.file_size for info in infos) > limits.max_uncompressed_bytes:
        raise ImportRejected(
            _("Unpacked, this Excel file would exceed %(limit)s MB.")
            % {"limit": limits.max_uncompressed_bytes // (1024 * 1024)}
        )
    strings = next((info for info in infos if info.filename == SHARED_STRINGS), None)
    if strings is not None and strings.file_size > limits.max_metadata_bytes:
        raise ImportRejected(
            _("The texts of this Excel file take more than %(limit)s unpacked.")
            % {"limit": filesizeformat(limits.max_metadata_bytes)}
        )


def _rows_of(path, ctx: ImportContext) -> Iterator[tuple]:
    """The cells of the chat sheet, row by row, streamed (openpyxl read-only mode);
    progress by the share of the sheet's rows read, when the sheet says how many."""
    from openpyxl import load_workbook  # only imports of an .xlsx need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Workbook contains no default style"
            workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a broken file
        raise _not_a_workbook() from error
    try:
        names = workbook.sheetnames
        sheet = workbook[SHEET] if SHEET in names else workbook.worksheets[0]
        total = sheet.max_row or 0
        try:
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                if total and number % PROGRESS_EVERY == 0:
                    ctx.progress(number / total)
                yield row
        except (KeyError, ValueError, TypeError, zipfile.BadZipFile, OSError) as error:
            raise _not_a_workbook() from error
    finally:
        workbook.close()


# --- Rows -------------------------------------------------------------------------------


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _header(rows: Iterator[tuple]) -> tuple[dict[str, int], str, int]:
    """(column → index, the chat's wxid, the header's row number) from the first rows."""
    chat = ""
    for number in range(1, HEADER_ROWS + 1):
        row = next(rows, None)
        if row is None:
            break
        cells = [_text(value) for value in row]
        if cells and cells[0] == "微信ID" and len(cells) > 1:
            chat = cells[1]
        if all(name in cells for name in REQUIRED) and any(n in cells for n in SENDER_COLUMNS):
            found = {}
            for index, name in enumerate(cells):
                found.setdefault(name, index)
            return found, chat, number
    raise ImportRejected(
        _(
            "This is not an EchoTrace chat export (.xlsx): none of its first %(rows)s rows "
            "names the columns %(expected)s."
        )
        % {"rows": HEADER_ROWS, "expected": ", ".join(COLUMNS)}
    )


def _when(value, ctx: ImportContext) -> datetime | None:
    if isinstance(value, datetime):
        when = value
    else:
        try:  # "YYYY-MM-DD HH:MM:SS", as the exporter writes it
            when = datetime.fromisoformat(_text(value))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=ctx.time_zone)
    return when if 1 < when.year < 9999 else None


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    check_limits(path, ctx.limits)
    rows = _rows_of(path, ctx)
    c, chat, number = _header(rows)
    yield from _events(rows, c, chat, number, ctx)
    ctx.progress(1.0)


def _events(rows, c: dict[str, int], chat: str, number: int, ctx) -> Iterator[IncomingEvent]:
    def cell(row, name) -> str:
        index = c.get(name)
        return _text(row[index]) if index is not None and index < len(row) else ""

    group = chat.endswith("@chatroom")
    ids: dict[str, str] = {}  # display name → key of the latest speaker with that name
    self_key = SELF
    second, seen = "", {}
    for row in rows:
        number += 1
        if not any(value is not None and _text(value) for value in row):
            ctx.skip("blank")
            continue
        raw_time = row[c["时间"]] if c["时间"] < len(row) else None
        when = _when(raw_time, ctx)
        if when is None:
            ctx.problem(
                row_at(number),
                _("时间 “%(value)s” is not a date and time (YYYY-MM-DD HH:MM:SS).")
                % {"value": _text(raw_time)[:40]},
            )
            continue
        type_ = cell(row, "消息类型")
        content = cell(row, "内容")
        wxid = cell(row, "发送者微信ID")
        role = cell(row, "发送者身份") or cell(row, "发送者")
        nickname, remark = cell(row, "发送者昵称"), cell(row, "发送者备注")
        moment = when.isoformat()
        if moment != second:
            second, seen = moment, {}
        key = (type_, wxid or role, content)
        repeat = seen[key] = seen.get(key, -1) + 1
        external_id = stable_id("echotrace", chat, moment, wxid or role, type_, content, repeat)

        if type_ == "系统消息":
            if not (yield from _system(content, external_id, when, ids, self_key)):
                ctx.skip(_system_reason(content))
            continue
        if type_ == "拍一拍消息":
            ctx.skip("pat")
            continue
        if type_ not in _MESSAGES and type_ not in _POSTS and type_ != "引用消息":
            ctx.skip("other_type")  # calls, 未知类型(…)
            continue

        if role == ME:
            member = self_key = wxid or self_key
            name = nickname or ME
        else:
            if group and wxid == chat:
                ctx.skip("no_author")  # put on the group itself: no speaker known
                continue
            names = [n for n in (nickname, role, remark) if n and n != UNKNOWN_MEMBER]
            name = names[0] if names else ""
            member = wxid or name
            if not member:
                ctx.skip("no_author")
                continue
            for known in names:
                if known in ids or len(ids) < MAX_NAMES:
                    ids[known] = member

        if type_ == "引用消息":
            kind, body = ActivityKind.REPLY.value, content
        elif type_ in _POSTS:
            kind, body = ActivityKind.POST.value, content
        else:
            kind, body = ActivityKind.MESSAGE.value, content if type_ == "文本消息" else ""
        yield IncomingEvent(external_id, kind, when, member, name or member, body)


# --- Recognition ------------------------------------------------------------------------


def recognise(head) -> str | None:
    """An .xlsx whose head (its shared strings, ``file_head``) has EchoTrace's labels."""
    if "xl/workbook.xml" not in head.zip_names:
        return _("not an Excel workbook (.xlsx)")
    text = head.text or ""
    missing = [name for name in REQUIRED if f">{name}<" not in text]
    if not any(f">{name}<" in text for name in SENDER_COLUMNS):
        missing.append(SENDER_COLUMNS[0])
    if missing:
        return _("no column %(columns)s") % {"columns": ", ".join(missing)}
    return None
