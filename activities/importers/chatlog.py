"""WeChat chat history as CSV, as served by chatlog (github.com/sjzar/chatlog):
``GET /api/v1/chatlog?talker=…&time=…&format=csv``.

What chatlog writes (``internal/chatlog/http/route.go``, ``internal/model/message.go``
``Message.CSV`` and ``PlainTextContent``, ``message_v3.go``, ``message_v4.go``,
``mediamessage.go``): Go's ``encoding/csv`` (UTF-8, no BOM), header
``Time,SenderName,Sender,TalkerName,Talker,Content``, one row per message:

- Time: ``2006-01-02 15:04:05`` in the local time of the computer chatlog ran on, no zone;
- Sender: the speaker's wxid (``wxid_…`` or an old custom id), ``系统消息`` on system rows;
  empty on the exporting user's own messages in a one-to-one chat (WeChat 3); SenderName:
  their name (empty on system rows);
- Talker: the chat — a wxid or a group id ``…@chatroom``; TalkerName its name. One file
  may hold several chats (``talker=a,b``);
- Content: the text for a text message, else a placeholder: ``![图片](http://host/image/…)``,
  ``[语音](…)``, ``[名片]``, ``![视频](…)``, ``[动画表情]``, ``[位置|…]``, ``[链接|title](url)``,
  ``[文件|title](…)``, ``[合并转发|…]``, ``[笔记]``, ``[小程序|…]``, ``[视频号|…]``,
  ``[群公告]``, ``[音乐|…]``, ``[转账|…]``, ``[红包]``, ``[语音通话]``, ``[分享]``; a quoted
  reply is ``> [引用]\\n<reply>`` or the quoted message as ``> `` lines then the reply; a pat
  is its template (``"${wxid_a}" 拍了拍 "${wxid_b}"``) or title; a system row is the line
  with each person written ``nickname(wxid)`` when WeChat sent it as a template
  (``"张三(wxid_a)"邀请"李四(wxid_b)"加入了群聊``), else the plain line; an unknown type is
  ``Type: <n> Content: …``. Some forks add a first column ``MessageID`` (the message's
  sequence number), or write ``IsSelf``, ``Type`` and ``TypeDesc`` as well; MessageID and
  Type (with SubType) are read when present.

Reading it:

- The chat: when the file holds several Talkers, the import form's "Chat or channel"
  field names the one to import (its TalkerName or Talker id), as for Telegram; chats are
  never mixed. Rows of other chats are not counted.
- Member: Sender (the wxid), named by SenderName. An empty Sender is the exporting
  account (WeChat 3 leaves it empty on one's own messages in a one-to-one chat), keyed
  ``self``. In system lines a person
  written ``name(wxid)`` is keyed by that wxid, a bare name by the wxid of a speaker of
  that name seen earlier in the file, else the name; "你" (the exporting account) is
  skipped ("you"), since chatlog's CSV does not say who that is.
- Kind: text, image, voice, video, sticker, card and location are messages (only text
  keeps its content); quotes are replies (keeping the reply's words); links, files,
  forwarded chats, notes, mini programs, channels videos, announcements and music are
  posts (a link keeps its title); pats are skipped ("pat"); transfers, red packets, calls
  and unknown types are skipped ("other_type"). System rows: joins, removals and leaves
  as in ``wechat.py``; recalls, pats and the rest skipped by reason.
- External id: ``cl:<Talker>:<MessageID>`` when the file has MessageID, else a hash of
  the chat, time, sender and content, numbered when the same second holds identical rows
  (two identical stickers): the same export imported twice adds nothing.

Rows are numbered as a spreadsheet shows them (header = row 1).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    csv_events,
    make_aware,
    open_text,
    row_at,
    row_misfits,
    stable_id,
)
from activities.importers.recognition import csv_header_problem
from activities.importers.wechat import _SYSTEM, _names, _system_reason
from activities.models import ActivityKind

FORMAT = "chatlog"
PLATFORM = "wechat"

COLUMNS = ("Time", "SenderName", "Sender", "TalkerName", "Talker", "Content")
OPTIONAL = ("MessageID", "Type", "SubType")
SYSTEM_SENDER = "系统消息"
SELF = "self"
MAX_NAMES = 100_000
HEADER_WIDTH = "*"  # in the column map: how many columns the header names
MAX_CHATS = 10_000

_MESSAGE = ActivityKind.MESSAGE.value
_REPLY = ActivityKind.REPLY.value
_POST = ActivityKind.POST.value

# PlainTextContent's placeholders, by prefix → kind or skip reason.
_PREFIXES = (
    ("![图片](", _MESSAGE),
    ("[图片]", _MESSAGE),
    ("[语音]", _MESSAGE),
    ("[语音](", _MESSAGE),
    ("[名片]", _MESSAGE),
    ("![视频](", _MESSAGE),
    ("[视频]", _MESSAGE),
    ("![动画表情](", _MESSAGE),
    ("[动画表情]", _MESSAGE),
    ("[GIF表情]", _MESSAGE),
    ("[位置|", _MESSAGE),
    ("[链接|", _POST),
    ("[文件|", _POST),
    ("[合并转发", _POST),
    ("[笔记", _POST),
    ("[小程序", _POST),
    ("[视频号", _POST),
    ("[群公告]", _POST),
    ("[音乐|", _POST),
    ("[分享", _POST),
    ("[转账|", "skip:other_type"),
    ("[红包]", "skip:other_type"),
    ("[红包封面]", "skip:other_type"),
    ("[语音通话]", "skip:other_type"),
)
_WHOLE = {"[引用]": _REPLY}
_UNKNOWN_TYPE = re.compile(r"^Type: \d+ Content: ")
# A quoted message's header line, as PlainText writes it: "> name(wxid) 01-02 15:04:05".
_QUOTED_HEADER = re.compile(r"^> .* \d\d-\d\d \d\d:\d\d:\d\d$")
_PAT = re.compile(
    r'^(?:"?\$\{[^}]+\}"?|我|你|"[^"]+"|「[^」]+」)\s*拍了拍\s*'
    r'(?:"?\$\{[^}]+\}"?|我|你|自己|"[^"]+"|「[^」]+」)'
)
_LINK_TITLE = re.compile(r"^\[链接\|(.*)\]\((.*)\)$", re.DOTALL)
_NAME_ID = re.compile(r"^(?P<name>.*)\((?P<id>[^()]+)\)$")
# The numeric Type column of the forks that write it: type → kind (49 by SubType).
_TYPE_KINDS = {"1": _MESSAGE, "3": _MESSAGE, "34": _MESSAGE, "42": _MESSAGE, "43": _MESSAGE,
               "47": _MESSAGE, "48": _MESSAGE}  # fmt: skip
_SHARE_KINDS = {"57": _REPLY, "62": "skip:pat", "2000": "skip:other_type",
                "2001": "skip:other_type", "2003": "skip:other_type"}  # fmt: skip


@dataclass(frozen=True)
class _Chat:
    talker: str
    name: str


def _columns(header: list[str] | None) -> dict[str, int]:
    names = [name.strip().removeprefix("\ufeff") for name in header or ()]
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise ImportRejected(
            _(
                "This is not a chatlog export (CSV): the first row must name the columns "
                "%(expected)s. Missing: %(missing)s."
            )
            % {"expected": ",".join(COLUMNS), "missing": ", ".join(missing)}
        )
    columns = {name: names.index(name) for name in COLUMNS + OPTIONAL if name in names}
    return columns | {HEADER_WIDTH: len(names)}


def _list_chats(path, ctx: ImportContext) -> list[_Chat]:
    """First pass: the chats (Talkers) in the file, in order of first appearance."""
    chats: dict[str, str] = {}
    with open_text(path, ImportContext(time_zone=ctx.time_zone, limits=ctx.limits)) as text:
        reader = csv.reader(text)
        try:
            c = _columns(next(reader, None))
            i_talker, i_name = c["Talker"], c["TalkerName"]
            for row in reader:
                if len(row) > max(i_talker, i_name):
                    talker = row[i_talker].strip()
                    if talker and talker not in chats and len(chats) < MAX_CHATS:
                        chats[talker] = row[i_name].strip()
        except (csv.Error, UnicodeDecodeError):
            pass  # the second pass reports it, on its line
    return [_Chat(talker, name) for talker, name in chats.items()]


def _choose_chat(chats: list[_Chat], source_name: str) -> str | None:
    """The Talker to import (``None``: the file has at most one)."""
    if len(chats) <= 1:
        return None
    groups = [chat for chat in chats if chat.talker.endswith("@chatroom")] or chats
    names = ", ".join(chat.name or chat.talker for chat in groups)
    if not source_name:
        raise ImportRejected(
            _("This export holds several chats; enter the one to import. Group chats: %(names)s")
            % {"names": names}
        )
    matches = [chat for chat in chats if source_name in (chat.name, chat.talker)]
    if len(matches) == 1:
        return matches[0].talker
    if not matches:
        raise ImportRejected(
            _("This export has no chat named %(name)s. Group chats: %(names)s")
            % {"name": source_name, "names": names}
        )
    raise ImportRejected(
        _("Several chats are named %(name)s; enter the chat's id instead: %(ids)s")
        % {"name": source_name, "ids": ", ".join(chat.talker for chat in matches)}
    )


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    wanted = _choose_chat(_list_chats(path, ctx), ctx.source_name.strip())
    return csv_events(
        path,
        ctx,
        columns=_columns,
        rows=lambda reader, c, ctx: _rows(reader, c, ctx, wanted),
    )


def _classify(content: str, type_: str, sub: str) -> str:
    """A kind, ``"system"``-free: a kind value or ``"skip:<reason>"``."""
    if type_:
        if type_ in _TYPE_KINDS:
            return _TYPE_KINDS[type_]
        if type_ == "49":
            return _SHARE_KINDS.get(sub, _POST)
        if type_ != "10000":
            return "skip:other_type"
    stripped = content.strip()
    if stripped in _WHOLE:
        return _WHOLE[stripped]
    if content.startswith("> ") and "\n" in content:
        first = content.split("\n", 1)[0]
        if first == "> [引用]" or _QUOTED_HEADER.match(first):
            return _REPLY
    for prefix, kind in _PREFIXES:
        if content.startswith(prefix):
            return kind
    if _UNKNOWN_TYPE.match(content):
        return "skip:other_type"
    if _PAT.match(stripped):
        return "skip:pat"
    return _MESSAGE


def _text(kind: str, content: str) -> str:
    if kind == _REPLY:  # the quoted message's lines start with "> "; the rest is the reply
        own = "\n".join(line for line in content.split("\n") if not line.startswith("> "))
        return "" if own.strip() == "[引用]" else own.strip()
    if kind == _POST and (link := _LINK_TITLE.match(content)):
        return link.group(1)
    return ""


def _rows(reader, c: dict[str, int], ctx: ImportContext, wanted: str | None):
    width = max(c[name] for name in COLUMNS) + 1
    header_width = c[HEADER_WIDTH]
    i_id = c.get("MessageID")
    i_type, i_sub = c.get("Type"), c.get("SubType")
    ids: dict[str, str] = {}  # SenderName → Sender
    same_second: dict[tuple, int] = {}
    second = ""
    number = 1
    for row in reader:
        number += 1
        if not any(cell.strip() for cell in row):
            ctx.skip("blank")
            continue
        if row_misfits(row, width, row_at(number), ctx, shown_width=header_width):
            continue
        talker = row[c["Talker"]].strip()
        if wanted is not None and talker != wanted:
            continue  # another chat of the file
        local = row[c["Time"]].strip()
        try:
            when = make_aware(datetime.fromisoformat(local), ctx.time_zone)
        except ValueError:
            ctx.problem(
                row_at(number),
                _("Time “%(value)s” is not a date and time (YYYY-MM-DD HH:MM:SS).")
                % {"value": local[:40]},
            )
            continue
        sender = row[c["Sender"]].strip()
        name = row[c["SenderName"]].strip()
        content = row[c["Content"]]
        message_id = _cell(row, i_id)
        if message_id:
            base_id = f"cl:{talker}:{message_id}"
        else:
            if local != second:
                second, same_second = local, {}
            parts = (talker, local, sender, content)
            seen = same_second.get(parts, 0)
            same_second[parts] = seen + 1
            base_id = stable_id("cl", *parts, seen)

        type_ = _cell(row, i_type)
        if sender == SYSTEM_SENDER or type_ == "10000":
            yield from _system(content.strip(), base_id, when, ids, ctx)
            continue
        kind = _classify(content, type_, _cell(row, i_sub))
        if kind.startswith("skip:"):
            ctx.skip(kind[5:])
            continue
        if not sender:  # the exporting account's own message in a one-to-one chat
            sender = SELF
        if name and sender != SELF and (name in ids or len(ids) < MAX_NAMES):
            ids[name] = sender
        body = content if kind == _MESSAGE and _is_text(content, type_) else _text(kind, content)
        yield IncomingEvent(base_id, kind, when, sender, name or sender, body)


def _cell(row: list[str], index: int | None) -> str:
    """An optional column's cell, "" when the file has no such column or the row is short."""
    return row[index].strip() if index is not None and index < len(row) else ""


def _is_text(content: str, type_: str) -> bool:
    if type_:
        return type_ == "1"
    return not any(content.startswith(prefix) for prefix, _kind in _PREFIXES)


def _system(
    content: str, base_id: str, when: datetime, ids: dict[str, str], ctx: ImportContext
) -> Iterator[IncomingEvent]:
    for pattern, kind in _SYSTEM:
        if match := pattern.match(content):
            names = _names(match["who"])
            if not names:
                break
            yielded = 0
            for name in names:
                if name is None:
                    ctx.skip("you")
                    continue
                if person := _NAME_ID.match(name):
                    name, key = person["name"].strip(), person["id"].strip()
                else:
                    key = ids.get(name, name)
                external_id = base_id if yielded == 0 else f"{base_id}:{yielded}"
                yielded += 1
                yield IncomingEvent(external_id, kind, when, key, name or key, content)
            return
    ctx.skip(_system_reason(content))


def recognise(head) -> str | None:
    """chatlog: its header (Time, SenderName, Sender, TalkerName, Talker, Content)."""
    return csv_header_problem(head, COLUMNS)
