"""WeChat chat history as written by PyWxDump's "export CSV" (xaoyaoo/PyWxDump,
``pywxdump/api/export/exportCSV.py``): one CSV file, or a zip of the parts of one.

What the exporter does (read from its source): it pages through the chat's rows of the PC
client's ``MSG`` table, 5,000 at a time, ordered by ``CreateTime``, and writes each page to
``<chat id>_<start>_<end>.csv`` (``wxid_abc_0_5000.csv``, ``…_5000_10000.csv``, …; UTF-8
without a byte-order mark, ``csv.QUOTE_MINIMAL``) with the header ``id, MsgSvrID, type_name,
is_sender, talker, room_name, msg, src, CreateTime``, and a ``users.json`` beside them
(``{wxid: {"wxid", "nickname", "remark", …}}``, the contacts among the speakers) in some
versions. Per row (``pywxdump/db/dbMSG.py``, ``get_msg_detail``):

- ``id``: the row's number in the chat (``ROW_NUMBER() OVER (ORDER BY CreateTime)``);
  ``MsgSvrID``: WeChat's server id of the message, the external id here
  (``pwx:<room_name>:<MsgSvrID>``), so a second import adds nothing. A row without one
  (empty or 0) gets a hash of its cells and its occurrence (``stable_id``);
- ``type_name``: a Chinese label of (Type, SubType) from ``type_converter``
  (``pywxdump/db/utils/common_utils.py``): 文本, 图片, 语音, 视频, 动画表情, 位置, 文件,
  (分享)卡片式链接, 引用回复, 拍一拍, 系统通知, 消息撤回1, 邀请加群 …; older versions
  (``pywxdump/analyzer/utils.py``) wrote 带有引用的文本消息, 卡片式链接, 分享的小程序,
  地图信息 … — both sets are read;
- ``is_sender`` 1 for the exporting account; then ``talker`` is "我" (or the account's
  wxid where the version passes ``my_talker``); otherwise, in a group, the speaker's wxid
  (from ``BytesExtra``; "未知" when it was not found, "系统" for an official account), and
  in a private chat the other person's wxid (= ``room_name``);
- ``room_name``: the chat's id (``…@chatroom`` for a group, a wxid for a private chat);
- ``msg``: the text for 文本; a placeholder (图片, 视频, 语音时长：…) for media; the title,
  description and a link for shared cards; the reply's own text then ``\\n\\n[引用]…`` the
  quoted one for a reply; the raw ``StrContent`` of system rows: plain text
  (``"张三"邀请"李四"加入了群聊``) or ``<sysmsg type="sysmsgtemplate">`` XML;
- ``CreateTime``: ``time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))``, the
  exporting computer's local time, read in the community's time zone (``ctx.time_zone``);
  a Unix time left as digits (seconds or milliseconds) is read as such.

Reading it, as ``wechat.py`` reads MemoTrace: text, image, voice, video, stickers, location
and cards are messages (only text keeps its content); quoted replies are replies (their
own text kept); files, links, mini programs, notes, transfers and the rest of the app
messages (Type 49) are posts (their title kept); pats are skipped as "pat", recalls as
"recall"; system rows that announce joins (invitation, QR code; plain text or the
``sysmsgtemplate`` XML, which also gives the wxids) become ``join`` for each person named,
removals ``removed``, "X"退出了群聊 ``leave``, the other system rows are skipped as
"system"; calls, friend requests and unknown types as "other_type"; a speaker PyWxDump
could not name ("未知") as "no_author".

Members are keyed by wxid, named by ``users.json`` when the zip holds it (nickname, else
remark), else by the wxid; the exporting account is keyed by its wxid when the file gives
it, else ``"self"`` (as ``wechat.py``), named "我". People named only in a plain-text
system line are keyed by the wxid ``users.json`` gives that name, else by the name.

A zip is one import: its ``.csv`` entries are the parts, read in their numeric order
(``…_5000_10000.csv`` before ``…_10000_15000.csv``), each sniffed for its encoding; other
entries (``users.json``, media) are not parts. Every part must be a PyWxDump CSV, or the
import is refused naming the entry. If the parts hold several chats, the chat to import
is asked for (``ctx.source_name``: its ``room_name``), as for a Telegram account export.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import os
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from activities.importers.base import (
    ENCODING_NAMES,
    ImportContext,
    ImportRejected,
    IncomingEvent,
    SafeZip,
    csv_events,
    csv_unreadable,
    row_at,
    row_misfits,
    stable_id,
    text_stream,
)
from activities.models import ActivityKind

FORMAT = "pywxdump"
PLATFORM = "wechat"

COLUMNS = (
    "id", "MsgSvrID", "type_name", "is_sender", "talker", "room_name", "msg", "src", "CreateTime",
)  # fmt: skip
REQUIRED = COLUMNS
SELF = "self"
SELF_NAME = "我"  # what PyWxDump writes as the exporting account's talker
UNKNOWN_TALKER = "未知"
SYSTEM_TALKER = "系统"
MAX_NAMES = 100_000
MAX_ROOMS_LISTED = 20
# A part's name as the exporter writes it: <chat id>_<first row>_<end>.csv
_PART_NAME = re.compile(r"_(\d+)_(\d+)\.csv$", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+)")

MESSAGE, REPLY, POST = ActivityKind.MESSAGE.value, ActivityKind.REPLY.value, ActivityKind.POST.value
JOIN, LEAVE, REMOVED = ActivityKind.JOIN.value, ActivityKind.LEAVE.value, ActivityKind.REMOVED.value
TEXT, SYSTEM = "text", "system"  # pseudo kinds: a text message, a system row to read

# type_name → what it is. Current labels (common_utils.type_converter) and older ones
# (analyzer/utils.get_type_name). 49-family labels not listed are posts when they start
# with "(分享)"; anything else unknown is "other_type".
_KINDS: dict[str, str] = {
    "文本": TEXT,
    **dict.fromkeys(
        ("图片", "语音", "视频", "动画表情", "表情", "位置", "地图信息", "推荐公众号",
         "用户上传的GIF表情", "用户上传的 GIF 表情"),
        MESSAGE,
    ),
    **dict.fromkeys(("引用回复", "带有引用的文本消息"), REPLY),
    **dict.fromkeys(
        ("文件", "文件(猜)", "粘贴的文本", "类似文字消息而不一样的消息", "卡片式链接",
         "游戏相关", "位置共享", "合并转发的聊天记录", "分享的小程序", "分享收藏夹", "接龙",
         "视频号直播或直播回放", "视频号直播或直播回放等", "群公告", "转账", "转账消息",
         "赠送红包封面", "微信红包", "未知-49,15"),
        POST,
    ),
    "拍一拍": "pat",
    **dict.fromkeys(("系统通知", "邀请加群", "邀请入群"), SYSTEM),
    **dict.fromkeys(("撤回消息", "消息撤回"), "recall"),
}  # fmt: skip

# System lines (plain text): the same join / removal / leave lines as wechat.py reads.
_Q = '["“”]'
_N = f'{_Q}[^"“”]+{_Q}'  # a quoted name
_SYSTEM = [
    (re.compile(rf"^(?:{_N}|你)\s*邀请\s*(?P<who>.+?)\s*加入了群聊"), JOIN),
    (re.compile(rf"^(?P<who>{_N})\s*通过.*二维码加入群聊"), JOIN),
    (re.compile(r"^(?P<who>你)通过扫描二维码加入群聊"), JOIN),
    (re.compile(r"^.+? invited (?P<who>.+?) to (?:the|a) group chat"), JOIN),
    (re.compile(rf"^(?P<who>{_N}) joined (?:the )?group chat via"), JOIN),
    (re.compile(r"^(?P<who>You)'ve joined the group chat via QR Code"), JOIN),
    (re.compile(rf"^你将\s*(?P<who>{_N})\s*移出了群聊"), REMOVED),
    (re.compile(rf"^(?P<who>你)被{_N}移出群聊"), REMOVED),
    (re.compile(rf"^(?P<who>{_N})被.*移出了?群聊"), REMOVED),
    (re.compile(rf"^You removed (?P<who>{_N}) from the group chat"), REMOVED),
    (re.compile(r"^(?P<who>You) were removed from the group chat"), REMOVED),
    (re.compile(rf"^(?P<who>{_N})\s*退出了群聊"), LEAVE),
]
_ME = re.compile(r"^(?:你|you)(?:\s*(?:和|and)\s*|$)", re.IGNORECASE)
_QUOTED = re.compile(f'{_Q}([^"“”]+){_Q}')
_SPLIT = re.compile(r"、|, ")

# <sysmsg type="sysmsgtemplate">: the template names its links ("$names$", "$adder$"), each
# link lists members with their wxid (username) and nickname.
_TEMPLATE = re.compile(r"<template>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</template>", re.DOTALL)
_LINK = re.compile(r'<link\s+name="(\w+)"[^>]*>(.*?)</link>', re.DOTALL)
_MEMBER = re.compile(r"<member>(.*?)</member>", re.DOTALL)
_FIELD = {
    name: re.compile(rf"<{name}>\s*(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?\s*</{name}>", re.DOTALL)
    for name in ("username", "nickname")
}
_PLACEHOLDER = re.compile(r"\$(\w+)\$")
_SELF_JOINS = ("邀请你", "你通过扫描", "You've joined", "invited you")


@dataclass
class _Chat:
    """Which chat's rows are imported: ``wanted`` (a room_name) once known; ``explicit``
    when it was asked for or chosen among several, so other chats' rows are left out."""

    wanted: str | None = None
    explicit: bool = False
    others: set[str] = field(default_factory=set)
    found: bool = False  # a row of the wanted chat was read


@dataclass
class _State:
    names: dict[str, str]  # wxid → name (users.json)
    ids: dict[str, str]  # name → wxid (users.json, inverted)
    chat: _Chat
    self_key: str = SELF
    occurrences: dict[str, int] = field(default_factory=dict)


# --- Entry point ------------------------------------------------------------------------


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    if not zipfile.is_zipfile(path):
        chat = _Chat(ctx.source_name.strip() or None, bool(ctx.source_name.strip()))
        state = _State({}, {}, chat)
        yield from csv_events(
            path,
            ctx,
            columns=_columns,
            rows=lambda reader, c, ctx: _rows(reader, c, ctx, state, row_at),
        )
        _check_chat_found(state, ctx)
        return
    with SafeZip(path, ctx.limits) as archive:
        try:
            yield from _zip_events(path, archive, ctx)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise ImportRejected(
                _("The archive is damaged: a file in it cannot be unpacked.")
            ) from error


def _columns(header: list[str] | None, entry: str = "") -> dict[str, int]:
    names = [name.strip().removeprefix("\ufeff") for name in header or ()]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        place = {"expected": ", ".join(COLUMNS), "missing": ", ".join(missing), "entry": entry}
        if entry:
            raise ImportRejected(
                _(
                    "%(entry)s in the archive is not a part of a PyWxDump CSV export: its "
                    "first row must name the columns %(expected)s. Missing: %(missing)s."
                )
                % place
            )
        raise ImportRejected(
            _(
                "This is not a PyWxDump CSV export: the first row must name the columns "
                "%(expected)s. Missing: %(missing)s."
            )
            % place
        )
    return {name: names.index(name) for name in COLUMNS}


def _check_chat_found(state: _State, ctx: ImportContext) -> None:
    chat = state.chat
    if chat.explicit and not chat.found and chat.others:
        # Asked for a chat the file does not hold (the rows were all another chat's).
        raise ImportRejected(
            _("This export has no chat %(name)s. Chats in it: %(names)s")
            % {"name": chat.wanted, "names": _listed(chat.others)}
        )


def _listed(rooms) -> str:
    rooms = sorted(rooms)
    text = ", ".join(rooms[:MAX_ROOMS_LISTED])
    return text + (", …" if len(rooms) > MAX_ROOMS_LISTED else "")


# --- Zip of parts -----------------------------------------------------------------------


def _part_order(name: str) -> tuple:
    """Numeric order of the parts: ``x_5000_10000.csv`` before ``x_10000_15000.csv``."""
    return tuple(int(piece) if piece.isdigit() else piece for piece in _DIGITS.split(name))


def _part_names(names: list[str]) -> list[str]:
    parts = [
        name
        for name in names
        if name.lower().endswith(".csv")
        and not name.startswith("__MACOSX/")
        and not os.path.basename(name).startswith("._")
    ]
    return sorted(parts, key=_part_order)


class _PartReader(io.RawIOBase):
    """A zip entry's bytes, reporting the share of all parts read to ``ctx.progress``
    (``done`` bytes of ``total`` before this entry; no reports when ``total`` is 0, as
    for the first pass over the parts' heads)."""

    def __init__(self, source, ctx: ImportContext, done: int, total: int):
        super().__init__()
        self._source = source
        self._ctx = ctx
        self._done = done
        self._total = total
        self._next = 1 << 20 if total else float("inf")
        self.position = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self.position += len(chunk)
        if self.position >= self._next:
            self._next = self.position + (1 << 20)
            self._ctx.progress((self._done + self.position) / self._total)
        return chunk

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def readable(self) -> bool:
        return True


def _open_part(archive: SafeZip, name: str, ctx: ImportContext, done: int = 0, total: int = 0):
    entry = archive.open(name)
    try:
        return entry, text_stream(_PartReader(entry, ctx, done, total))
    except ImportRejected as rejected:
        entry.close()
        raise ImportRejected(f"{name}: {rejected.message}") from rejected


def _survey(archive: SafeZip, parts: list[str], ctx: ImportContext) -> dict[str, str]:
    """First pass: every part's header checked, and the chat of each (its first row's
    room_name; "" for a part with no rows). Reads only the head of each part."""
    rooms = {}
    for name in parts:
        entry, text = _open_part(archive, name, ctx)
        with entry:
            reader = csv.reader(text)
            try:
                c = _columns(next(reader, None), name)
                first = next(reader, None)
            except UnicodeDecodeError:
                rooms[name] = ""  # reported, with its row, when the part is read
                continue
            except csv.Error as error:
                raise ImportRejected(f"{name}: {csv_unreadable(reader.line_num, error)}") from error
        index = c["room_name"]
        rooms[name] = first[index].strip() if first and len(first) > index else ""
    return rooms


def _choose(rooms: set[str], source_name: str) -> str:
    groups = sorted(room for room in rooms if room.endswith("@chatroom"))
    if source_name:
        if source_name in rooms:
            return source_name
        raise ImportRejected(
            _("This export has no chat %(name)s. Chats in it: %(names)s")
            % {"name": source_name, "names": _listed(rooms)}
        )
    if len(rooms) == 1:
        return next(iter(rooms))
    if len(groups) == 1:
        return groups[0]
    raise ImportRejected(
        _(
            "This export holds several chats; enter the one to import (its room_name). "
            "Chats: %(names)s"
        )
        % {"names": _listed(rooms)}
    )


def _users(archive: SafeZip, ctx: ImportContext) -> dict[str, str]:
    """wxid → name from the ``users.json`` PyWxDump writes beside the parts, if any."""
    found = [n for n in archive.names if os.path.basename(n).lower() == "users.json"]
    if len(found) != 1 or archive.size(found[0]) > ctx.limits.max_metadata_bytes:
        return {}
    with archive.open(found[0]) as entry:
        data = b"".join(iter(lambda: entry.read(1 << 16), b""))
    try:
        users = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return {}
    names = {}
    if isinstance(users, dict):
        for wxid, user in users.items():
            if isinstance(user, dict) and len(names) < MAX_NAMES:
                name = user.get("nickname") or user.get("remark")
                if isinstance(name, str) and name.strip():
                    names[str(wxid)] = name.strip()
    return names


def _zip_events(path, archive: SafeZip, ctx: ImportContext) -> Iterator[IncomingEvent]:
    parts = _part_names(archive.names)
    if not parts:
        raise ImportRejected(
            _(
                "This zip holds no CSV file: a PyWxDump export is one or more files named "
                "<chat>_<from>_<to>.csv."
            )
        )
    # The first pass has its own count of unpacked bytes: reading the heads twice must not
    # spend the limit that the parts' whole contents are held to.
    with SafeZip(path, ctx.limits) as heads:
        rooms = _survey(heads, parts, ctx)
    source_name = ctx.source_name.strip()
    known = {room for room in rooms.values() if room}
    wanted = _choose(known, source_name) if known else None
    chosen = [name for name in parts if rooms[name] in (wanted, "")]
    names = _users(archive, ctx)
    ids: dict[str, str] = {}
    for wxid, name in names.items():
        ids.setdefault(name, wxid)
    state = _State(names, ids, _Chat(wanted, explicit=bool(source_name) or len(known) > 1))
    total = sum(archive.size(name) for name in chosen)
    done = 0
    for name in chosen:
        entry, text = _open_part(archive, name, ctx, done, total)
        with entry:
            reader = csv.reader(text)
            try:
                c = _columns(next(reader, None), name)
                yield from _rows(reader, c, ctx, state, _where(name))
            except UnicodeDecodeError:
                _undecodable(path, name, text.encoding, ctx)
            except csv.Error as error:
                raise ImportRejected(f"{name}: {csv_unreadable(reader.line_num, error)}") from error
        done += archive.size(name)
    ctx.progress(1.0)


def _undecodable(path, name: str, encoding: str, ctx: ImportContext) -> None:
    """Record on its line that part ``name`` met bytes its encoding cannot decode: found by
    reading the entry again from its start, up to that line (only on this failure path)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    number, budget = 1, ctx.limits.max_uncompressed_bytes
    with zipfile.ZipFile(path) as archive, archive.open(name) as entry:
        try:
            # Lines in bounded pieces (a line may be long), never more than the limit.
            for piece in iter(lambda: entry.readline(1 << 16), b""):
                decoder.decode(piece)
                number += piece.endswith(b"\n")
                budget -= len(piece)
                if budget < 0:
                    break
            decoder.decode(b"", True)
        except UnicodeDecodeError:
            pass
    ctx.problem(
        _("%(entry)s, line %(number)s") % {"entry": name, "number": number},
        _("This line is not %(encoding)s text, the encoding the start of the file is in.")
        % {"encoding": ENCODING_NAMES.get(encoding, encoding)},
    )


def _where(entry: str):
    def where(number: int) -> str:
        return _("%(entry)s, row %(number)s") % {"entry": entry, "number": number}

    return where


# --- Rows -------------------------------------------------------------------------------


def _time(value: str, ctx: ImportContext) -> datetime | None:
    if value.isdigit():
        seconds = int(value)
        try:
            when = datetime.fromtimestamp(seconds / 1000 if seconds > 10**11 else seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        try:
            when = datetime.fromisoformat(value.replace("/", "-"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=ctx.time_zone)
    return when if 1 < when.year < 9999 else None


def _kind(type_name: str) -> str:
    kind = _KINDS.get(type_name)
    if kind is not None:
        return kind
    if type_name.startswith("(分享)"):
        return POST
    if type_name.startswith("消息撤回"):
        return "recall"
    return "other_type"


def _rows(
    reader, c: dict[str, int], ctx: ImportContext, state: _State, where
) -> Iterator[IncomingEvent]:
    i_svr, i_type, i_sender, i_talker, i_room, i_msg, i_time = (
        c["MsgSvrID"], c["type_name"], c["is_sender"], c["talker"], c["room_name"],
        c["msg"], c["CreateTime"],
    )  # fmt: skip
    width = max(c.values()) + 1
    chat, names = state.chat, state.names
    kinds = _KINDS
    number = 1
    for row in reader:
        number += 1
        if not row:
            ctx.skip("blank")
            continue
        if row_misfits(row, width, where(number), ctx):
            continue
        room = row[i_room].strip()
        if room != chat.wanted:
            if chat.wanted is None:
                chat.wanted = room
            elif chat.explicit:
                if len(chat.others) < MAX_NAMES:
                    chat.others.add(room)
                ctx.skip("other_chat")
                continue
            else:
                raise ImportRejected(
                    _(
                        "This file holds more than one chat (room_name %(first)s and "
                        "%(second)s); enter the one to import."
                    )
                    % {"first": chat.wanted, "second": room}
                )
        chat.found = True
        type_name = row[i_type].strip()
        kind = kinds.get(type_name) or _kind(type_name)
        if kind in ("pat", "recall", "other_type"):
            ctx.skip(kind)
            continue
        created = row[i_time].strip()
        when = _time(created, ctx)
        if when is None:
            ctx.problem(
                where(number),
                _("CreateTime “%(value)s” is not a date and time (YYYY-MM-DD HH:MM:SS).")
                % {"value": created[:40]},
            )
            continue
        server_id = row[i_svr].strip()
        msg = row[i_msg]
        talker = row[i_talker].strip()
        if server_id and server_id != "0":
            base_id = f"pwx:{room}:{server_id}"
        else:
            base_id = stable_id("pywxdump", room, created, type_name, talker, msg)
            seen = state.occurrences.get(base_id, 0)
            if len(state.occurrences) < MAX_NAMES:
                state.occurrences[base_id] = seen + 1
            if seen:
                base_id = f"{base_id}:{seen}"

        if kind == SYSTEM:
            if not (yield from _system(msg.strip(), base_id, when, state)):
                ctx.skip(_system_reason(msg))
            continue

        if row[i_sender].strip() == "1":
            if talker and talker not in (SELF_NAME, UNKNOWN_TALKER):
                state.self_key = talker
            key, name = state.self_key, SELF_NAME
        elif not talker or talker == UNKNOWN_TALKER:
            ctx.skip("no_author")
            continue
        elif talker == SYSTEM_TALKER:
            ctx.skip("system")
            continue
        else:
            key, name = talker, names.get(talker, talker)

        if kind == TEXT:
            kind, body = MESSAGE, msg
        elif kind == REPLY:
            body = msg.split("\n\n[引用]", 1)[0]
        elif kind == POST:
            body = msg.split("\n", 1)[0].strip()
            if body == type_name or body.startswith("<"):
                body = ""
        else:
            body = ""
        yield IncomingEvent(base_id, kind, when, key, name, body)


def _names(who: str) -> list[str | None]:
    """``"李四、王五"``, ``你和"李四"``, ``you and "Bob"`` → the names; None stands for the
    exporting account ("你", "you")."""
    names: list[str | None] = []
    who = who.strip()
    if me := _ME.match(who):
        names.append(None)
        who = who[me.end() :]
    for part in _QUOTED.findall(who) or ([who] if who else []):
        names.extend(name.strip() for name in _SPLIT.split(part) if name.strip())
    return names


def _field(name: str, xml: str) -> str:
    match = _FIELD[name].search(xml)
    return html.unescape(match[1]).strip() if match else ""


def _template_people(content: str) -> tuple[str, list[tuple[str, str] | None]] | None:
    """``(kind, people)`` of a ``sysmsgtemplate`` join or removal, else None: people are
    ``(wxid, nickname)``, or None for the exporting account ("…邀请你加入了群聊")."""
    template = _TEMPLATE.search(content)
    if template is None:
        return None
    text = template[1]
    if (
        "加入了群聊" in text
        or "加入群聊" in text
        or "joined" in text
        or "to the group chat" in text
    ):
        kind = JOIN
        if any(mark in text for mark in _SELF_JOINS):
            return kind, [None]
        placeholders = _PLACEHOLDER.findall(text)
        link = "adder" if "adder" in placeholders else "names"
    elif "移出" in text or "removed" in text:
        kind = REMOVED
        before = _PLACEHOLDER.findall(text.split("移出", 1)[0])
        if not before:
            return kind, [None] if text.startswith("你被") else []
        link = before[-1]
    else:
        return None
    links = dict(_LINK.findall(content))
    people = [
        (_field("username", member), _field("nickname", member))
        for member in _MEMBER.findall(links.get(link, ""))
    ]
    return kind, [(wxid, name) for wxid, name in people if wxid or name]


def _learn_names(content: str, state: _State) -> None:
    """A system XML names everyone it links (inviter, invited) with wxid and nickname:
    remembered, so their messages are named and later plain-text lines find the wxid."""
    for member in _MEMBER.findall(content):
        wxid, name = _field("username", member), _field("nickname", member)
        if wxid and name and len(state.names) < MAX_NAMES:
            state.names.setdefault(wxid, name)
            state.ids.setdefault(name, wxid)


def _system(content: str, base_id: str, when: datetime, state: _State):
    """Join / removal / leave events for the people a system row names. Returns whether
    the row was a membership line (``yield from`` hands the value back)."""
    if content.startswith("<") or "<sysmsg" in content[:200]:
        found = _template_people(content)
        if found is None:
            return False
        kind, people = found
        _learn_names(content, state)
        for index, person in enumerate(people):
            external_id = base_id if index == 0 else f"{base_id}:{index}"
            if person is None:
                key, name = state.self_key, SELF_NAME
            else:
                wxid, name = person
                key = wxid or state.ids.get(name, name)
                name = name or state.names.get(key, key)
            yield IncomingEvent(external_id, kind, when, key, name, "")
        return bool(people)
    for pattern, kind in _SYSTEM:
        if match := pattern.match(content):
            names = _names(match["who"])
            for index, name in enumerate(names):
                key = state.self_key if name is None else state.ids.get(name, name)
                external_id = base_id if index == 0 else f"{base_id}:{index}"
                yield IncomingEvent(
                    external_id, kind, when, key, SELF_NAME if name is None else name, content
                )
            return bool(names)
    return False


def _system_reason(content: str) -> str:
    if "拍了拍" in content or " patted " in content or 'type="pat"' in content[:120]:
        return "pat"
    if (
        "撤回了一条消息" in content
        or " recalled a message" in content
        or "revokemsg" in content[:120]
    ):
        return "recall"
    return "system"


# --- Recognition ------------------------------------------------------------------------


def recognise(head) -> str | None:
    """A PyWxDump CSV (its nine columns), or a zip whose first CSV part has them (or,
    when the zip's first text entry is not a CSV, whose every CSV is named like a part)."""
    if head.is_zip:
        parts = [n for n in head.zip_names if n.lower().endswith(".csv")]
        if not parts:
            return _("no CSV file in the zip")
        if not head.entry.lower().endswith(".csv"):
            if all(_PART_NAME.search(n) for n in parts):
                return None
            return _("no CSV part named <chat>_<from>_<to>.csv")
    if head.csv_header is None:
        return _("not a CSV file")
    if missing := head.missing_columns(REQUIRED):
        return _("no column %(columns)s") % {"columns": ", ".join(missing)}
    return None
