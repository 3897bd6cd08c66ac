"""WeChat chat history as CSV, as written by MemoTrace / WeChatMsg (留痕) and the tools that
copy its layout.

What the exporters do (read from their source): they select ``localId, TalkerId, Type,
SubType, IsSender, CreateTime, Status, StrContent`` from the PC client's ``MSG`` table, add
``StrTime = strftime('%Y-%m-%d %H:%M:%S', CreateTime, 'unixepoch', 'localtime')`` (the
exporting computer's clock) and, for the speaker, ``Remark`` (the exporter's note for
them), ``NickName`` and ``Sender`` (their wxid, parsed from ``BytesExtra``); the file is
UTF-8 with a BOM. ``TalkerId`` is the chat's row number in the local database, not a wxid,
and ``localId`` is only unique within one database file, hence the external id
``wx:<TalkerId>:<localId>:<CreateTime>``.

Reading it:

- Time: ``CreateTime`` is Unix seconds (milliseconds if it is that large), an instant.
  When it is empty or not a number, ``StrTime`` is read in the community's time zone.
- Member: ``Sender``; named by ``NickName``, else ``Remark``. A row with ``IsSender=1``
  is the exporting account itself, still a member: its ``Sender`` when the exporter wrote
  one, else the key ``"self"`` (also used for "你"/"you" in system lines before any own
  message with a wxid was seen).
- Kind: Type 1 text, 3 image, 34 voice, 42 card, 43 and 62 video, 47 sticker, 48
  location are messages (only text keeps its content); 49 (link, file, mini program…) is
  a post, with SubType 57 (a quoted reply) a reply and SubType 62 (a pat) skipped; their
  ``<title>`` is kept as text when ``StrContent`` holds the XML. Type 10000 system lines
  that announce joins (invite, QR code, Chinese and English clients) or removals become
  ``join`` / ``removed`` for each person named; the rest (recalls 撤回, red packets, pats
  拍了拍, renames) and Type 10002 (revoke XML) and unknown types are skipped, each counted
  by reason in ``ctx.skipped`` (pat, recall, system, other_type; blank rows as blank).
  WeChat does not tell a group when someone leaves by themselves, so a leave is rarely seen
  (``"X"退出了群聊`` is read when present).
- System lines name people by display name only. The key is the wxid if that name was a
  ``NickName``/``Remark`` of a ``Sender`` earlier in the file (a dict capped at
  ``MAX_NAMES``), else the name itself — so someone who joins and never speaks is keyed
  by name, and a later import cannot link them to their wxid.

Rows are numbered as a spreadsheet shows them (header = row 1). The file needs at least
the columns in ``REQUIRED``; ``Status`` and ``Remark`` and any extra columns may be absent
or present (older private-chat exports without ``NickName``/``Sender`` are rejected).
"""

from __future__ import annotations

import html
import re
from collections.abc import Generator, Iterator
from datetime import UTC, datetime

from django.utils.translation import gettext as _

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    csv_events,
    row_at,
)
from activities.models import ActivityKind

FORMAT = "wechat"
PLATFORM = "wechat"

COLUMNS = (
    "localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime",
    "Status", "StrContent", "StrTime", "Remark", "NickName", "Sender",
)  # fmt: skip
REQUIRED = tuple(name for name in COLUMNS if name not in ("Status", "Remark"))
SELF = "self"
MAX_NAMES = 100_000

_MESSAGE_TYPES = frozenset({"1", "3", "34", "42", "43", "47", "48", "62"})
_KEEP = _MESSAGE_TYPES | {"49", "10000"}

# System lines: (pattern, kind). ``who`` holds the person or people it is about.
_Q = '["“”]'
_N = f'{_Q}[^"“”]+{_Q}'  # a quoted name
_SYSTEM = [
    (re.compile(rf"^(?:{_N}|你)\s*邀请\s*(?P<who>.+?)\s*加入了群聊"), ActivityKind.JOIN.value),
    (re.compile(rf"^(?P<who>{_N})\s*通过.*二维码加入群聊"), ActivityKind.JOIN.value),
    (re.compile(r"^(?P<who>你)通过扫描二维码加入群聊"), ActivityKind.JOIN.value),
    (re.compile(r"^.+? invited (?P<who>.+?) to (?:the|a) group chat"), ActivityKind.JOIN.value),
    (re.compile(rf"^(?P<who>{_N}) joined (?:the )?group chat via"), ActivityKind.JOIN.value),
    (re.compile(r"^(?P<who>You)'ve joined the group chat via QR Code"), ActivityKind.JOIN.value),
    (re.compile(rf"^你将\s*(?P<who>{_N})\s*移出了群聊"), ActivityKind.REMOVED.value),
    (re.compile(rf"^(?P<who>你)被{_N}移出群聊"), ActivityKind.REMOVED.value),
    (re.compile(rf"^(?P<who>{_N})被.*移出了?群聊"), ActivityKind.REMOVED.value),
    (re.compile(rf"^You removed (?P<who>{_N}) from the group chat"), ActivityKind.REMOVED.value),
    (re.compile(r"^(?P<who>You) were removed from the group chat"), ActivityKind.REMOVED.value),
    (re.compile(rf"^(?P<who>{_N})\s*退出了群聊"), ActivityKind.LEAVE.value),
]
_ME = re.compile(r"^(?:你|you)(?:\s*(?:和|and)\s*|$)", re.IGNORECASE)
_QUOTED = re.compile(f'{_Q}([^"“”]+){_Q}')
_SPLIT = re.compile(r"、|, ")


def _names(who: str) -> list[str | None]:
    """``"李四、王五"``, ``你和"李四"``, ``you and "Bob"``, ``Ann, Bob`` → the names; None
    stands for the exporting account ("你", "you")."""
    names: list[str | None] = []
    who = who.strip()
    if me := _ME.match(who):
        names.append(None)
        who = who[me.end() :]
    for part in _QUOTED.findall(who) or ([who] if who else []):
        names.extend(name.strip() for name in _SPLIT.split(part) if name.strip())
    return names


def _title(content: str) -> str:
    """The ``<title>`` of an app message's XML, or the content if it is not XML."""
    if not content.startswith("<"):
        return content
    start = content.find("<title>")
    end = content.find("</title>", start)
    if start < 0 or end < 0:
        return ""
    title = content[start + 7 : end]
    if title.startswith("<![CDATA[") and title.endswith("]]>"):
        return title[9:-3]
    return html.unescape(title)


def _time(create: str, local: str, ctx: ImportContext) -> datetime | None:
    if create.isdigit():
        seconds = int(create)
        try:
            when = datetime.fromtimestamp(seconds / 1000 if seconds > 10**11 else seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif len(local) > 10:
        try:
            when = datetime.fromisoformat(local)
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=ctx.time_zone)
    else:
        return None
    return when if 1 < when.year < 9999 else None


def _columns(header: list[str] | None) -> dict[str, int]:
    names = [name.strip() for name in header or ()]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise ImportRejected(
            _(
                "This is not a WeChat chat export (CSV from MemoTrace/WeChatMsg): the first "
                "row must name the columns %(expected)s. Missing: %(missing)s."
            )
            % {"expected": ", ".join(COLUMNS), "missing": ", ".join(missing)}
        )
    return {name: names.index(name) for name in COLUMNS if name in names}


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    return csv_events(
        path,
        ctx,
        columns=_columns,
        rows=_rows,
    )


def _rows(reader, c: dict[str, int], ctx: ImportContext) -> Iterator[IncomingEvent]:
    width = max(c.values()) + 1
    i_remark = c.get("Remark")
    ids: dict[str, str] = {}  # display name → wxid of the latest speaker with that name
    self_key = SELF
    number = 1
    for row in reader:
        number += 1
        if len(row) < width:
            if row:
                ctx.problem(
                    row_at(number),
                    _("This row has %(count)s cells; the header has %(width)s.")
                    % {"count": len(row), "width": width},
                )
            else:
                ctx.skip("blank")
            continue
        type_ = row[c["Type"]].strip()
        if type_ not in _KEEP:
            # revokes and other system XML (10002), calls, friend requests, unknown types
            ctx.skip(_sysmsg_reason(row[c["StrContent"]]) if type_ == "10002" else "other_type")
            continue
        create, local = row[c["CreateTime"]].strip(), row[c["StrTime"]].strip()
        when = _time(create, local, ctx)
        if when is None:
            ctx.problem(
                row_at(number),
                _(
                    "CreateTime “%(create)s” is not a Unix time and StrTime “%(local)s” is "
                    "not a date and time (YYYY-MM-DD HH:MM:SS)."
                )
                % {"create": create[:40], "local": local[:40]},
            )
            continue
        local_id = row[c["localId"]].strip()
        if not local_id:
            ctx.problem(row_at(number), _("localId is empty; every WeChat message has one."))
            continue
        base_id = f"wx:{row[c['TalkerId']].strip()}:{local_id}:{create or local}"
        content = row[c["StrContent"]]
        if type_ == "10000":
            content = content.strip()
            if not (yield from _system(content, base_id, when, ids, self_key)):
                ctx.skip(_system_reason(content))
            continue

        sender = row[c["Sender"]].strip()
        remark = row[i_remark].strip() if i_remark is not None else ""
        name = row[c["NickName"]].strip() or remark
        if row[c["IsSender"]].strip() == "1":
            sender = self_key = sender or self_key
        elif not sender:
            ctx.problem(row_at(number), _("Sender is empty, so the speaker is unknown."))
            continue
        for known in (name, remark):
            if known and (known in ids or len(ids) < MAX_NAMES):
                ids[known] = sender

        sub = row[c["SubType"]].strip()
        if type_ != "49":
            kind, body = ActivityKind.MESSAGE.value, content if type_ == "1" else ""
        elif sub == "62":
            ctx.skip("pat")  # a pat (拍一拍)
            continue
        else:
            kind = ActivityKind.REPLY.value if sub == "57" else ActivityKind.POST.value
            body = _title(content)
        yield IncomingEvent(base_id, kind, when, sender, name or sender, body)


def _system(
    content: str, base_id: str, when: datetime, ids: dict[str, str], self_key: str
) -> Generator[IncomingEvent, None, bool]:
    """Join / removal / leave events for the people a system line names; nothing for the
    other system lines (recalls, red packets, pats, renames). Returns whether the line
    was a membership line (``yield from`` hands the value back)."""
    for pattern, kind in _SYSTEM:
        if match := pattern.match(content):
            names = _names(match["who"])
            for index, name in enumerate(names):
                key = self_key if name is None else ids.get(name, name)
                external_id = base_id if index == 0 else f"{base_id}:{index}"
                yield IncomingEvent(external_id, kind, when, key, name or "", content)
            return bool(names)
    return False


def _system_reason(content: str) -> str:
    """Why a Type 10000 line that is not a join, removal or leave was skipped."""
    if "拍了拍" in content or " patted " in content:
        return "pat"
    if "撤回了一条消息" in content or " recalled a message" in content:
        return "recall"
    return "system"


def _sysmsg_reason(content: str) -> str:
    """Why a Type 10002 row (``<sysmsg type="…">`` XML) was skipped."""
    head = content[:80]
    if 'type="revokemsg"' in head:
        return "recall"
    if 'type="pat"' in head:
        return "pat"
    return "system"


def recognise(head) -> str | None:
    """MemoTrace / WeChatMsg 2024: its header (the all-chats export has the same one)."""
    if head.is_zip or head.csv_header is None:
        return _("not a CSV file")
    if missing := head.missing_columns(REQUIRED):
        return _("no column %(columns)s") % {"columns": ", ".join(missing)}
    return None
