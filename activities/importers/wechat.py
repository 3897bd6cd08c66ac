"""WeChat chat history as CSV, as written by MemoTrace / WeChatMsg (留痕) and the tools that
copy its layout. Two exports share one header and mean different things by it.

**One chat** (``exporter_csv.py``, "导出 CSV" of a chat). The exporter selects ``localId,
TalkerId, Type, SubType, IsSender, CreateTime, Status, StrContent`` from the PC client's
``MSG`` table, adds ``StrTime = strftime('%Y-%m-%d %H:%M:%S', CreateTime, 'unixepoch',
'localtime')`` (the exporting computer's clock) and, for the speaker, ``Remark`` (the
exporter's note for them), ``NickName`` and ``Sender`` (their wxid, parsed from
``BytesExtra``); the file is UTF-8 with a BOM. ``TalkerId`` is the chat's row number in the
local database, not a wxid, and ``localId`` is only unique within one database file, hence
the external id ``wx:<TalkerId>:<localId>:<CreateTime>``. MemoTrace merges ``MSG0.db``,
``MSG1.db``… by copying rows (``merge.py``), so one chat may carry several TalkerIds.

**All chats** (``output_pc.py`` ``to_csv_all`` → ``package_msg.py``
``get_package_message_all``, "导出全部消息"): every row of ``MSG``, ordered by time, with
``Remark`` and ``NickName`` of the *chat* (the contact or the group, "" if not a contact)
and ``Sender`` a display name: "我" for the exporting account, in a group the member's
group nickname or contact name, "" for someone who is neither (who left, or a system row
whose ``BytesExtra`` has no wxid), in a private chat the contact's NickName. Group rows
without ``BytesExtra`` (most system notices) are left out by the exporter itself.

Which one a file is, is read from its first rows (``LOOK_AHEAD``): all chats if an own row
(``IsSender=1``) is signed "我", if a speaker's ``Sender`` cannot be a wxid (wxids are
ASCII letters, digits, ``_``, ``-``, ``.``, ``@``; display names have spaces, Chinese,
emoji…), or if one chat's rows carry one ``NickName`` for three or more different senders.
More than one TalkerId alone is not a sign (the merged databases above).

An all-chats file is never poured into one community: the chat to import is asked for as
for a Telegram account export (``ctx.source_name``, the import form's "chat" field): its
TalkerId, its NickName or its Remark, or several TalkerIds separated by commas (one chat
split over merged databases). Without it, a file holding more than one chat is rejected
naming the chats found with their TalkerIds and row counts; a name shared by several
TalkerIds is rejected asking for the TalkerId. Only the chosen chat's rows are read, so a
private chat's rows never land in a group's community. Members are keyed by display name
(the export has no wxid): a person renamed in between becomes a second member, and "我"
is the key ``"self"``. A speaker whose ``Sender`` is empty is skipped and counted as
``unknown_speaker`` (not made into a member: several people would fall into one).

Reading a row:

- Time: ``CreateTime`` is Unix seconds (milliseconds if it is that large), an instant.
  When it is empty or not a number, ``StrTime`` is read in the community's time zone.
- Member (one chat): ``Sender``; named by ``NickName``, else ``Remark``. A row with
  ``IsSender=1`` is the exporting account itself, still a member: its ``Sender`` when the
  exporter wrote one, else the key ``"self"``; "你"/"you" in system lines is that account
  too (its wxid from the first own row in the first rows, else ``"self"``).
- Kind: Type 1 text, 3 image, 34 voice, 42 card, 43 and 62 video, 47 sticker, 48
  location are messages (only text keeps its content); 49 (link, file, mini program…) is
  a post, with SubType 57 (a quoted reply) a reply and SubType 62 (a pat) skipped; their
  ``<title>`` is kept as text when ``StrContent`` holds the XML. Type 10000 system lines
  that announce joins (invite, QR code, Chinese and English clients) or removals become
  ``join`` / ``removed`` for each person named; the rest (recalls 撤回, red packets, pats
  拍了拍, renames) and unknown types are skipped, each counted by reason in
  ``ctx.skipped`` (pat, recall, system, other_type, unknown_speaker; blank rows as blank).
  WeChat does not tell a group when someone leaves by themselves, so a leave is rarely seen
  (``"X"退出了群聊`` is read when present).
- System XML: a Type 10000 or 10002 row whose ``StrContent`` is ``<sysmsg
  type="sysmsgtemplate">`` (optionally after a ``<chat>:`` line) is read with
  ``xml.etree`` after refusing any ``<!DOCTYPE``/``<!ENTITY``/comment (so no entity can
  be declared; only ``<![CDATA[`` passes) and anything over ``MAX_XML`` characters. Its
  ``content_template/template`` says what happened — ``"$username$"邀请"$names$"加入了群聊``,
  ``你邀请"$names$"加入了群聊  $revoke$``, ``你邀请"$username$"加入了群聊，并分享了$history$``,
  ``"$adder$"通过扫描"$from$"分享的二维码加入群聊``, ``"$adder$"通过"$from$"的邀请二维码加入群聊``,
  ``"$username$"邀请你…``, ``你将"$kickoutname$"移出了群聊`` and the English ones — and
  ``link_list/link[@name]/memberlist/member`` names the people with ``username`` (wxid) and
  ``nickname``. Each person joined (``names``, else ``adder``, else ``username`` after
  "你邀请") or removed (``kickoutname``) is an event keyed by their wxid (one chat) or
  nickname (all chats). ``revokemsg`` and ``pat`` XML count as recall and pat, other XML
  as system.
- System plain text names people by display name only. The key is the wxid if that name
  was a ``NickName``/``Remark`` of a ``Sender`` (or a nickname of an XML member) earlier in
  the file (a dict capped at ``MAX_NAMES``), else the name itself — so someone who joins by
  a plain line and never speaks is keyed by name; when they later speak with their wxid,
  in this import or another, ingestion makes them one member (``activities/ingest.py``:
  a new id whose name is borne by the community's one member known only by name).

Rows are numbered as a spreadsheet shows them (header = row 1). The file needs at least
the columns in ``REQUIRED``; ``Status`` and ``Remark`` and any extra columns may be absent
or present (older private-chat exports without ``NickName``/``Sender`` are rejected).
"""

from __future__ import annotations

import html
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    csv_events,
    row_at,
    row_misfits,
)
from activities.importers.recognition import csv_header_problem
from activities.models import ActivityKind

FORMAT = "wechat"
PLATFORM = "wechat"

COLUMNS = (
    "localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime",
    "Status", "StrContent", "StrTime", "Remark", "NickName", "Sender",
)  # fmt: skip
REQUIRED = tuple(name for name in COLUMNS if name not in ("Status", "Remark"))
SELF = "self"
ME = "我"  # how the all-chats export signs the exporting account's rows
MAX_NAMES = 100_000
MAX_CHATS = 100_000  # chats counted in an all-chats file (beyond: counted as one "other")
MAX_XML = 64 * 1024  # characters of one system XML row
MAX_LISTED = 30  # chats named in the "which chat?" message
LOOK_AHEAD = 2_000  # rows read before the layout is decided
LOOK_AHEAD_CHARS = 4 * 1024 * 1024

_MESSAGE_TYPES = frozenset({"1", "3", "34", "42", "43", "47", "48", "62"})
_SYSTEM_TYPES = frozenset({"10000", "10002"})
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

# What a wxid (or a custom WeChat id, or an ``…@openim`` id) can look like.
_WXID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*(?:@[A-Za-z]+)?$")

# System XML templates.
_SYSMSG_START = re.compile(r"^(?:[^\n<]{0,200}:\s*\n)?\s*(?=<sysmsg[\s>])")
_MARKUP_DECLARATION = re.compile(r"<!(?!\[CDATA\[)")
_SYSMSG_TYPE = re.compile(r"""<sysmsg\s[^>]*type\s*=\s*["']([\w-]+)""")
_PLACEHOLDER = re.compile(r"\$(\w+)\$")
_JOIN_WORDS = ("加入了群聊", "加入群聊", " joined ", " to the group chat", " to a group chat")
_REMOVAL_WORDS = ("移出", "removed")
_YOU_JOIN = re.compile(r"邀请你|^你通过扫描|invited you|^You've joined|^You joined", re.IGNORECASE)
_YOU_REMOVED = re.compile(r"^你被|^You were removed")
_YOU_INVITED = re.compile(r"^(?:你邀请|You invited)")
_MAX_MEMBERS = 500  # a WeChat group holds at most 500


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


# --- Which export: one chat or all chats ------------------------------------------------


def _all_chats(rows: list[list[str]], c: dict[str, int], width: int) -> bool:
    """Whether the first rows are MemoTrace's all-chats export (see the module docstring)."""
    senders_by_name: dict[tuple[str, str], set[str]] = {}
    names_by_talker: dict[str, set[str]] = {}
    for row in rows:
        if len(row) < width or row[c["Type"]].strip() in _SYSTEM_TYPES:
            continue
        sender = row[c["Sender"]].strip()
        if row[c["IsSender"]].strip() == "1":
            if sender == ME:
                return True
            continue
        if not sender:
            continue
        if not _WXID.match(sender):
            return True
        talker, nick = row[c["TalkerId"]].strip(), row[c["NickName"]].strip()
        names_by_talker.setdefault(talker, set()).add(nick)
        if nick:
            senders_by_name.setdefault((talker, nick), set()).add(sender)
    return any(
        len(senders) >= 3 and names_by_talker[talker] == {nick}
        for (talker, nick), senders in senders_by_name.items()
    )


def _look_ahead(reader: Iterator[list[str]]) -> list[list[str]]:
    rows: list[list[str]] = []
    size = 0
    for row in reader:
        rows.append(row)
        size += sum(len(cell) for cell in row)
        if len(rows) >= LOOK_AHEAD or size >= LOOK_AHEAD_CHARS:
            break
    return rows


@dataclass
class _Chat:
    talker: str
    name: str
    remark: str
    rows: int = 0

    def label(self) -> str:
        name = self.name or self.remark or "?"
        if self.remark and self.remark != name:
            name = f"{name} / {self.remark}"
        return ngettext(
            "%(name)s (TalkerId %(id)s): %(count)s row",
            "%(name)s (TalkerId %(id)s): %(count)s rows",
            self.rows,
        ) % {
            "name": name,
            "id": self.talker,
            "count": self.rows,
        }


def _listing(chats: dict[str, _Chat]) -> str:
    found = sorted(chats.values(), key=lambda chat: (-chat.rows, chat.talker))
    listed = "; ".join(chat.label() for chat in found[:MAX_LISTED])
    if len(found) > MAX_LISTED:
        listed = _("%(chats)s; and %(count)s more") % {
            "chats": listed,
            "count": len(found) - MAX_LISTED,
        }
    return listed


class _Choice:
    """The chat of an all-chats file to import, from ``ctx.source_name``; counts every
    chat on the way so that a missing or ambiguous choice can name them all."""

    def __init__(self, source_name: str):
        self.source = source_name.strip()
        parts = [part.strip() for part in self.source.split(",")]
        self.ids = set(parts) if self.source and all(p.isdigit() for p in parts) else set()
        self.chats: dict[str, _Chat] = {}
        self.by_name: set[str] = set()  # TalkerIds chosen by their name
        self.first = ""  # without a choice: the only chat seen so far

    def wants(self, talker: str, nick: str, remark: str) -> bool:
        chat = self.chats.get(talker)
        if chat is None:
            if len(self.chats) >= MAX_CHATS:
                talker = "…"
            chat = self.chats.setdefault(talker, _Chat(talker, nick, remark))
        chat.rows += 1
        if not self.source:
            self.first = self.first or talker
            return talker == self.first and len(self.chats) == 1
        if talker in self.ids or self.source == talker:
            return True
        if self.source in (nick, remark) and nick + remark:
            self.by_name.add(talker)
            return True
        return False

    def verdict(self, ctx: ImportContext) -> None:
        """After the last row: ``ImportRejected`` unless exactly one chat was chosen (the
        rows counted as skipped so far were then only provisionally read: forgotten)."""
        if not self.source:
            if len(self.chats) > 1:
                ctx.skipped.clear()
                raise ImportRejected(
                    _(
                        "This file is MemoTrace's export of all chats: enter the chat to "
                        "import (its name or TalkerId) and import it again. Chats found: "
                        "%(chats)s."
                    )
                    % {"chats": _listing(self.chats)}
                )
            return
        if len(self.by_name) > 1:
            ctx.skipped.clear()
            raise ImportRejected(
                _(
                    "Several chats are named %(name)s; enter the TalkerId of the one to "
                    "import (or several, separated by commas, for one chat split over "
                    "databases): %(chats)s."
                )
                % {
                    "name": self.source,
                    "chats": _listing({t: self.chats[t] for t in self.by_name}),
                }
            )
        if not self.by_name and not (self.ids or {self.source}) & set(self.chats):
            ctx.skipped.clear()
            raise ImportRejected(
                _("This export has no chat named %(name)s. Chats found: %(chats)s.")
                % {"name": self.source, "chats": _listing(self.chats)}
            )


# --- Rows -------------------------------------------------------------------------------


def _rows(reader, c: dict[str, int], ctx: ImportContext) -> Iterator[IncomingEvent]:
    width = max(c.values()) + 1
    head = _look_ahead(reader)
    rows = itertools.chain(head, reader)
    if _all_chats(head, c, width):
        choice = _Choice(ctx.source_name)
        yield from _read(rows, c, ctx, width, choice, (SELF, ME))
        choice.verdict(ctx)
    else:
        # "你" in a system line before the exporting account's first own row is still
        # that account: its wxid, if an own row in the first rows shows it.
        i_remark = c.get("Remark")
        own = (
            (row[c["Sender"]].strip(), row[c["NickName"]].strip() or row[i_remark].strip())
            if i_remark is not None
            else (row[c["Sender"]].strip(), row[c["NickName"]].strip())
            for row in head
            if len(row) >= width and row[c["IsSender"]].strip() == "1"
        )
        me = next((found for found in own if found[0]), (SELF, ""))
        yield from _read(rows, c, ctx, width, None, me)


def _read(
    rows: Iterator[list[str]],
    c: dict[str, int],
    ctx: ImportContext,
    width: int,
    choice: _Choice | None,
    me: tuple[str, str],
) -> Iterator[IncomingEvent]:
    """The events of ``rows``: of the one chat of a single-chat file (``choice`` None), or
    of the chosen chat of an all-chats file. ``me``: the exporting account's key and name
    as far as known (it is "你" in system lines)."""
    by_name = choice is not None
    i_remark = c.get("Remark")
    ids: dict[str, str] = {}  # display name → wxid of the latest speaker with that name
    number = 1
    for row in rows:
        number += 1
        if not row:
            ctx.skip("blank")
            continue
        if row_misfits(row, width, row_at(number), ctx):
            continue
        remark = row[i_remark].strip() if i_remark is not None else ""
        nick = row[c["NickName"]].strip()
        if choice is not None and not choice.wants(row[c["TalkerId"]].strip(), nick, remark):
            continue
        type_ = row[c["Type"]].strip()
        content = row[c["StrContent"]]
        root = _sysmsg(content) if type_ in _SYSTEM_TYPES else None
        if type_ not in _KEEP and root is None:
            # revokes and other system XML (10002), calls, friend requests, unknown types
            ctx.skip(_sysmsg_reason(content) if type_ == "10002" else "other_type")
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
        if root is not None:
            if not (yield from _template(root, base_id, when, ids, me, by_name)):
                ctx.skip(_sysmsg_reason(content))
            continue
        if type_ == "10000":
            content = content.strip()
            if not (yield from _system(content, base_id, when, ids, me)):
                ctx.skip(_system_reason(content))
            continue

        sender = row[c["Sender"]].strip()
        if by_name:
            # All chats: Sender is a display name, "我" the exporting account.
            if row[c["IsSender"]].strip() == "1" or sender == ME:
                sender, name = SELF, ME
            elif not sender:
                ctx.skip("unknown_speaker")
                continue
            else:
                name = sender
        else:
            name = nick or remark
            if row[c["IsSender"]].strip() == "1":
                sender = sender or me[0]
                me = (sender, name or me[1])
            elif not sender:
                ctx.problem(row_at(number), _("Sender is empty, so the speaker is unknown."))
                continue
            for known in (nick, remark):
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


# --- System lines -----------------------------------------------------------------------


def _system(
    content: str, base_id: str, when: datetime, ids: dict[str, str], me: tuple[str, str]
) -> Generator[IncomingEvent, None, bool]:
    """Join / removal / leave events for the people a system line names; nothing for the
    other system lines (recalls, red packets, pats, renames). Returns whether the line
    was a membership line (``yield from`` hands the value back)."""
    for pattern, kind in _SYSTEM:
        if match := pattern.match(content):
            names = _names(match["who"])
            for index, name in enumerate(names):
                key, name = me if name is None else (ids.get(name, name), name)
                external_id = base_id if index == 0 else f"{base_id}:{index}"
                yield IncomingEvent(external_id, kind, when, key, name, content)
            return bool(names)
    return False


def _sysmsg(content: str) -> ET.Element | None:
    """``<sysmsg type="sysmsgtemplate">`` XML parsed, or None: not such XML, too long,
    declaring anything (``<!DOCTYPE``, ``<!ENTITY``, comments — so no entity can be
    defined, let alone expanded), or malformed."""
    start = _SYSMSG_START.match(content)
    if start is None:
        return None
    xml = content[start.end() :].strip()
    if len(xml) > MAX_XML or _MARKUP_DECLARATION.search(xml):
        return None
    type_ = _SYSMSG_TYPE.match(xml)
    if type_ is None or type_[1] != "sysmsgtemplate":
        return None
    try:
        # Safe without defusedxml: any "<!" but CDATA was refused above, so the document
        # has no DTD and can neither declare nor expand an entity; its size is bounded.
        root = ET.fromstring(xml)  # noqa: S314
    except ET.ParseError:
        return None
    return root if root.tag == "sysmsg" else None


def _template(
    root: ET.Element,
    base_id: str,
    when: datetime,
    ids: dict[str, str],
    me: tuple[str, str],
    by_name: bool,
) -> Generator[IncomingEvent, None, bool]:
    """The join or removal events of a ``sysmsgtemplate``: the template text says what
    happened and to whom (which link), the link's members say who, by wxid and nickname.
    Returns whether it was a membership line."""
    template = (root.findtext("sysmsgtemplate/content_template/template") or "").strip()
    links: dict[str, list[tuple[str, str]]] = {}
    shown: dict[str, str] = {}  # what the client shows for a link without members
    for link in root.iterfind("sysmsgtemplate/content_template/link_list/link"):
        link_name = link.get("name", "")
        members = links.setdefault(link_name, [])
        for member in itertools.islice(link.iterfind("memberlist/member"), _MAX_MEMBERS):
            username = (member.findtext("username") or "").strip()
            nickname = (member.findtext("nickname") or "").strip()
            if username or nickname:
                members.append((username, nickname))
        if not link.get("type", "").startswith("link_revoke"):  # the "撤销" button
            shown[link_name] = (link.findtext("plain") or link.findtext("title") or "").strip()

    people: list[tuple[str, str] | None] = []  # None: the exporting account
    if "$kickoutname$" in template and any(word in template for word in _REMOVAL_WORDS):
        kind = ActivityKind.REMOVED.value
        people.extend(links.get("kickoutname", ()))
    elif _YOU_REMOVED.search(template):
        kind = ActivityKind.REMOVED.value
        people.append(None)
    elif any(word in template for word in _JOIN_WORDS):
        kind = ActivityKind.JOIN.value
        if _YOU_JOIN.search(template):
            people.append(None)
        if "$names$" in template:
            people.extend(links.get("names", ()))
        elif "$adder$" in template:
            people.extend(links.get("adder", ()))
        elif _YOU_INVITED.search(template) and "$username$" in template:
            people.extend(links.get("username", ()))
    else:
        return False

    text = _PLACEHOLDER.sub(
        lambda m: (
            "、".join(nick or user for user, nick in links.get(m[1], ())) or shown.get(m[1], "")
        ),
        template,
    ).strip()
    for index, person in enumerate(people):
        if person is None:
            key, name = me
        else:
            username, nickname = person
            name = nickname or username
            if by_name:
                key = name
            else:
                key = username or ids.get(nickname, nickname)
                if username and nickname and (nickname in ids or len(ids) < MAX_NAMES):
                    ids[nickname] = username
        external_id = base_id if index == 0 else f"{base_id}:{index}"
        yield IncomingEvent(external_id, kind, when, key, name, text)
    return bool(people)


def _system_reason(content: str) -> str:
    """Why a Type 10000 line that is not a join, removal or leave was skipped."""
    if "<sysmsg" in content[:300]:
        return _sysmsg_reason(content)
    if "拍了拍" in content or " patted " in content:
        return "pat"
    if "撤回了一条消息" in content or " recalled a message" in content:
        return "recall"
    return "system"


def _sysmsg_reason(content: str) -> str:
    """Why a ``<sysmsg type="…">`` XML row (Type 10002, or 10000) was skipped."""
    head = content[:300]
    if 'type="revokemsg"' in head:
        return "recall"
    if 'type="pat"' in head:
        return "pat"
    return "system"


def recognise(head) -> str | None:
    """MemoTrace / WeChatMsg 2024: its header (the all-chats export has the same one; which
    of the two a file is, ``events`` reads from its first rows)."""
    return csv_header_problem(head, REQUIRED)
