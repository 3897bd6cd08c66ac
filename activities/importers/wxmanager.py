"""WeChat chat history as CSV, as written by MemoTrace 2025 (留痕, the ``wxManager`` rewrite
of LC044/WeChatMsg) and its forks.

What the exporter writes (``exporter/exporter_csv.py``, ``wxManager/model/message.py``):
one chat per file (``聊天记录/<chat>(<chat wxid>)/<chat>.csv``), UTF-8 with a BOM, header
``消息ID,类型,发送人,时间,内容,备注,昵称,更多信息``, one row per message:

- 消息ID: the message's server id (``MsgSvrID`` / ``server_id``), unique across WeChat;
- 类型: a Chinese label (``MessageType.name``): 文本, 图片, 语音, 视频, 表情包, 位置分享,
  个人/公众号名片, 企业微信名片, 引用消息, 文件, 分享链接, 小程序, 音乐分享, 视频号,
  合并转发的聊天记录, 收藏笔记, 拍一拍, 系统消息, 红包, 转账, 音视频通话, 未知类型;
- 发送人: the speaker's display name (their contact remark, else nickname) — not a wxid.
  The exporting user's own messages carry their own name; nothing in the row marks them.
  System rows have an empty 发送人 (WeChat 3) or a contact's name (WeChat 4);
- 时间: the exporting computer's local time, ``YYYY-MM-DD HH:MM:SS``;
- 内容: ``to_text()``: the text for 文本; ``<reply>\\n引用：<name>: <quoted>`` for 引用消息;
  ``【图片】``, ``【语音】<transcript>``, ``【分享链接】\\n标题：…`` and so on for the rest;
  the system line itself for 系统消息 ('"张三"邀请"李四"加入了群聊', '"李四" 撤回了一条消息');
- 备注, 昵称: the speaker's remark and nickname (in a group, usually 发送人 again);
- 更多信息: the literal ``more``.

Some forks add ``wxid`` (the speaker's id) and ``群昵称`` (their name in the group).

Reading it:

- Member: the ``wxid`` column when the file has one, or 发送人 when it is itself a wxid
  (``wxid_…``); otherwise **the display name is the key** (the 2025 exporter writes no
  ids), so someone who renames themselves between two exports becomes a second member
  (the members page offers to merge them). Named by 群昵称, else 发送人, else 昵称.
- Kind: 文本 (keeps its text), 图片, 语音, 视频, 表情包, 位置(分享), 名片 are messages;
  引用消息 is a reply (keeps the reply's own text); 文件, 分享链接, 小程序, 音乐分享, 视频号,
  合并转发, 收藏笔记 are posts (a link keeps its title); 拍一拍 is skipped ("pat"); red
  packets, transfers, calls and unknown types are skipped ("other_type").
- 系统消息: joins (invitations, QR codes), removals and leaves become join / removed /
  leave for each person named (the patterns of ``wechat.py``); recalls (撤回), pats
  (拍了拍) and the rest are skipped by reason. "你" (the exporting account) is never
  named: the import form's "Chat or channel" field may give the exporting user's name as
  their messages show it, and then "你" is that member; without it such a line is skipped
  ("you").
- External id: ``wxm:<消息ID>``; a row with no id (or 0) gets a hash of its time, type,
  sender and content, numbered when the same second holds identical rows. A second import
  of the same (or an overlapping) export adds nothing.

Rows are numbered as a spreadsheet shows them (header = row 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from django.utils.translation import gettext as _

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    csv_events,
    make_aware,
    row_at,
    row_misfits,
    stable_id,
)
from activities.importers.recognition import csv_header_problem
from activities.importers.wechat import _SYSTEM, _names, _system_reason
from activities.models import ActivityKind

FORMAT = "wxmanager"
PLATFORM = "wechat"

COLUMNS = ("消息ID", "类型", "发送人", "时间", "内容", "备注", "昵称", "更多信息")
REQUIRED = ("消息ID", "类型", "发送人", "时间", "内容")
OPTIONAL = ("备注", "昵称", "wxid", "群昵称")
MAX_NAMES = 100_000
HEADER_WIDTH = "*"  # in the column map: how many columns the header names

_MESSAGE = ActivityKind.MESSAGE.value
_REPLY = ActivityKind.REPLY.value
_POST = ActivityKind.POST.value
_SYSTEM_LABEL = "系统消息"

# 类型 → kind, or a skip reason (str starting with "skip:").
_KINDS = {
    "文本": _MESSAGE,
    "图片": _MESSAGE,
    "语音": _MESSAGE,
    "视频": _MESSAGE,
    "表情包": _MESSAGE,
    "位置分享": _MESSAGE,
    "位置": _MESSAGE,
    "个人/公众号名片": _MESSAGE,
    "企业微信名片": _MESSAGE,
    "名片": _MESSAGE,
    "引用消息": _REPLY,
    "文件": _POST,
    "分享链接": _POST,
    "链接": _POST,
    "分享": _POST,
    "小程序": _POST,
    "音乐分享": _POST,
    "视频号": _POST,
    "合并转发的聊天记录": _POST,
    "收藏笔记": _POST,
}
_SKIPPED_TYPES = {"拍一拍": "pat"}  # everything else unknown: "other_type"
_WXID = re.compile(r"^wxid_[A-Za-z0-9_-]{4,}$")
_QUOTE = "\n引用："
_LINK_TITLE = re.compile(r"^标题：(.*)$", re.MULTILINE)


def _columns(header: list[str] | None) -> dict[str, int]:
    names = [name.strip().removeprefix("\ufeff") for name in header or ()]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise ImportRejected(
            _(
                "This is not a MemoTrace 2025 chat export (CSV): the first row must name the "
                "columns %(expected)s. Missing: %(missing)s."
            )
            % {"expected": ",".join(COLUMNS), "missing": ", ".join(missing)}
        )
    columns = {name: names.index(name) for name in REQUIRED + OPTIONAL if name in names}
    return columns | {HEADER_WIDTH: len(names)}


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    return csv_events(path, ctx, columns=_columns, rows=_rows)


def _text(label: str, kind: str, content: str) -> str:
    """What an event keeps of 内容: a text's words, a reply's own words, a link's title."""
    if label == "文本":
        return content
    if kind == _REPLY:
        return content.split(_QUOTE, 1)[0]
    if kind == _POST and (title := _LINK_TITLE.search(content)):
        return title.group(1).strip()
    return ""


def _rows(reader, c: dict[str, int], ctx: ImportContext) -> Iterator[IncomingEvent]:
    width = max(c[name] for name in REQUIRED) + 1
    header_width = c[HEADER_WIDTH]
    i_wxid, i_group_name, i_nick = c.get("wxid"), c.get("群昵称"), c.get("昵称")
    you = ctx.source_name.strip()
    ids: dict[str, str] = {}  # display name → wxid (files with a wxid column)
    same_second: dict[tuple, int] = {}  # rows without an id, within the current second
    second = ""
    number = 1
    for row in reader:
        number += 1
        if not any(cell.strip() for cell in row):
            ctx.skip("blank")
            continue
        if row_misfits(row, width, row_at(number), ctx, shown_width=header_width):
            continue
        label = row[c["类型"]].strip()
        kind = _KINDS.get(label)
        if kind is None and label != _SYSTEM_LABEL:
            ctx.skip(_SKIPPED_TYPES.get(label, "other_type"))
            continue
        local = row[c["时间"]].strip()
        try:
            when = make_aware(datetime.fromisoformat(local), ctx.time_zone)
        except ValueError:
            ctx.problem(
                row_at(number),
                _("时间 “%(value)s” is not a date and time (YYYY-MM-DD HH:MM:SS).")
                % {"value": local[:40]},
            )
            continue
        content = row[c["内容"]]
        sender = row[c["发送人"]].strip()
        message_id = row[c["消息ID"]].strip()
        if message_id and message_id != "0":
            base_id = f"wxm:{message_id}"
        else:
            if local != second:
                second, same_second = local, {}
            parts = (local, label, sender, content)
            seen = same_second.get(parts, 0)
            same_second[parts] = seen + 1
            base_id = stable_id("wxm", *parts, seen)

        if label == _SYSTEM_LABEL:
            yield from _system(content.strip(), base_id, when, ids, you, ctx)
            continue

        wxid = _cell(row, i_wxid)
        if not wxid and _WXID.match(sender):
            wxid = sender
        group_name = _cell(row, i_group_name)
        nick = _cell(row, i_nick)
        name = group_name or (sender if sender != wxid else "") or nick
        key = wxid or name
        if not key:
            ctx.problem(row_at(number), _("发送人 is empty, so the speaker is unknown."))
            continue
        if wxid:
            for known in (name, sender, nick):
                if known and known != wxid and (known in ids or len(ids) < MAX_NAMES):
                    ids[known] = wxid
        yield IncomingEvent(base_id, kind, when, key, name or key, _text(label, kind, content))


def _cell(row: list[str], index: int | None) -> str:
    """An optional column's cell, "" when the file has no such column or the row is short."""
    return row[index].strip() if index is not None and index < len(row) else ""


def _system(
    content: str,
    base_id: str,
    when: datetime,
    ids: dict[str, str],
    you: str,
    ctx: ImportContext,
) -> Iterator[IncomingEvent]:
    """Join / removal / leave events for the people a system line names; the other system
    lines (recalls, pats, red packets, renames) are counted as skipped."""
    for pattern, kind in _SYSTEM:
        if match := pattern.match(content):
            names = _names(match["who"])
            if not names:
                break
            yielded = 0
            for name in names:
                if name is None:
                    if not you:
                        ctx.skip("you")
                        continue
                    name = you
                key = ids.get(name, name)
                external_id = base_id if yielded == 0 else f"{base_id}:{yielded}"
                yielded += 1
                yield IncomingEvent(external_id, kind, when, key, name, content)
            return
    ctx.skip(_system_reason(content))


def recognise(head) -> str | None:
    """MemoTrace 2025 (wxManager): its Chinese header."""
    return csv_header_problem(head, REQUIRED)
