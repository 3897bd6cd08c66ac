"""DiscordChatExporter output for one channel, as JSON or as CSV (told apart by content:
a file whose first non-blank byte is ``{`` is JSON).

JSON is streamed message by message; ids come from Discord. CSV has no message ids, so
a row's id is a hash of (author id, date, content) plus an occurrence counter for
identical rows. Problems in a CSV name the *record* (``row n``, the header being row 1),
not the physical line: a quoted multi-line message is one row, as a spreadsheet shows it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime

from django.utils.translation import gettext as _

from activities.models import ActivityKind

from .base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    ProgressReader,
    csv_unreadable,
    file_size,
    json_stream,
    make_aware,
    row_at,
    stable_id,
    text_stream,
    undecodable,
)

FORMAT = "discord"
PLATFORM = "discord"

_KINDS = {
    "Default": ActivityKind.MESSAGE,
    "Reply": ActivityKind.REPLY,
    "GuildMemberJoin": ActivityKind.JOIN,
    "ThreadCreated": ActivityKind.POST,
}
# Other system types (ChannelPinnedMessage, Call, ChannelNameChange, boosts…) are not a
# member's activity and are skipped without a problem.
_CSV_COLUMNS = ("AuthorID", "Author", "Date", "Content")


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    with open(path, "rb") as raw:
        head = raw.read(64).removeprefix(b"\xef\xbb\xbf").lstrip()
        raw.seek(0)
        reader = ProgressReader(raw, file_size(path), ctx)
        if head.startswith(b"{"):
            yield from _json_events(reader, ctx)
        else:
            yield from _csv_events(reader, ctx)
    ctx.progress(1.0)


# --- JSON -------------------------------------------------------------------------------


def _json_events(reader: ProgressReader, ctx: ImportContext) -> Iterator[IncomingEvent]:
    prefix = None
    stream = json_stream(reader, items={"channel", "messages.item"}, limits=ctx.limits)
    number = 0
    for key, value in stream:
        if key == "channel":
            if isinstance(value, dict) and value.get("id"):
                prefix = f"discord:{value['id']}:"
            continue
        if prefix is None:
            # DiscordChatExporter writes "channel" before "messages"; without it the ids
            # would not be stable per channel.
            raise ImportRejected(_("This is not a DiscordChatExporter export (no channel)."))
        number += 1
        yield from _json_message(value, prefix, ctx, number)
    if prefix is None:
        raise ImportRejected(_("This is not a DiscordChatExporter export (no channel)."))


def _json_message(message, prefix: str, ctx: ImportContext, number: int):
    where = _("message %(number)s") % {"number": number}
    if not isinstance(message, dict) or not message.get("id"):
        ctx.problem(where, _("The message has no id."))
        return
    where = _("message %(number)s (id %(id)s)") % {"number": number, "id": message["id"]}
    author = message.get("author") if isinstance(message.get("author"), dict) else {}
    when = _parse_time(message.get("timestamp"), ctx)
    if when is None:
        ctx.problem(where, _("The message has no valid time (timestamp)."))
        return
    external_id = f"{prefix}{message['id']}"
    kind = _KINDS.get(message.get("type"))
    person = author
    if message.get("type") in ("RecipientAdd", "RecipientRemove"):
        # Group DM / thread membership: the mention is who was added or removed; removing
        # oneself is leaving.
        mentions = [m for m in message.get("mentions") or () if isinstance(m, dict)]
        person = mentions[0] if mentions else author
        if message["type"] == "RecipientAdd":
            kind = ActivityKind.JOIN
        elif str(person.get("id")) == str(author.get("id")):
            kind = ActivityKind.LEAVE
        else:
            kind = ActivityKind.REMOVED
    if kind is None:
        ctx.skip("system")
    elif author.get("isBot") or person.get("isBot"):
        ctx.skip("bot")
    else:
        if not person.get("id"):
            ctx.problem(where, _("The message has no author."))
            return
        yield IncomingEvent(
            external_id=external_id,
            kind=kind,
            occurred_at=when,
            member_key=str(person["id"]),
            member_name=_name(person),
            text=str(message.get("content") or ""),
        )
    # People's reactions count even on a bot's or system message. Exports made before
    # DiscordChatExporter listed reactors carry only a "count": nobody to attribute those
    # to, so they are skipped.
    for reaction in message.get("reactions") or ():
        if not isinstance(reaction, dict):
            continue
        emoji = reaction.get("emoji") if isinstance(reaction.get("emoji"), dict) else {}
        emoji_key = emoji.get("id") or emoji.get("name") or ""
        for user in reaction.get("users") or ():
            if not isinstance(user, dict) or not user.get("id") or user.get("isBot"):
                continue
            yield IncomingEvent(
                external_id=f"{external_id}:reaction:{emoji_key}:{user['id']}",
                kind=ActivityKind.REACTION,
                occurred_at=when,
                member_key=str(user["id"]),
                member_name=_name(user),
                text=str(emoji.get("name") or ""),
            )


def _name(person: dict) -> str:
    return str(person.get("nickname") or person.get("name") or "")


# --- CSV --------------------------------------------------------------------------------


def _csv_events(reader: ProgressReader, ctx: ImportContext) -> Iterator[IncomingEvent]:
    text = text_stream(reader)
    rows = csv.reader(text)
    try:
        header = next(rows, None)
        if not header or any(c not in header for c in _CSV_COLUMNS):
            raise ImportRejected(
                _("This is not a DiscordChatExporter CSV: it needs the columns %(columns)s.")
                % {"columns": ", ".join(_CSV_COLUMNS)}
            )
        at = {name: header.index(name) for name in _CSV_COLUMNS}
        # Identical rows share a Date, and the export is in time order, so counting
        # occurrences per Date (forgetting the previous Date) keeps memory flat.
        current_date, seen = None, {}
        for number, row in enumerate(rows, start=2):
            if not any(row):
                ctx.skip("blank")  # a blank line (e.g. at the end)
                continue
            if len(row) < len(header):
                ctx.problem(row_at(number), _("The row has too few columns."))
                continue
            author_id, author, date, content = (row[at[c]] for c in _CSV_COLUMNS)
            when = _parse_time(date, ctx)
            if when is None:
                ctx.problem(
                    row_at(number), _("“%(date)s” is not a date and time.") % {"date": date[:40]}
                )
                continue
            if not author_id.strip():
                ctx.problem(row_at(number), _("The row has no author id."))
                continue
            if date != current_date:
                current_date, seen = date, {}
            key = stable_id(author_id, date, content)
            seen[key] = seen.get(key, 0) + 1
            suffix = "" if seen[key] == 1 else f":{seen[key]}"
            yield IncomingEvent(
                external_id=f"discord:{key}{suffix}",
                kind=ActivityKind.MESSAGE,
                occurred_at=when,
                member_key=author_id.strip(),
                member_name=author,
                text=content,
            )
    except UnicodeDecodeError:
        undecodable(text, ctx)
    except csv.Error as error:
        raise ImportRejected(csv_unreadable(rows.line_num, error)) from error


# --- Times ------------------------------------------------------------------------------

# Older DiscordChatExporter CSVs wrote "02-Jan-23 10:03 AM" (no zone: the exporter's).
_OLD_FORMATS = ("%d-%b-%y %I:%M %p", "%d-%b-%y %H:%M")


def _parse_time(value, ctx: ImportContext) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        # Python 3.11 reads any number of fractional digits ("…04.1230000+00:00").
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
        for pattern in _OLD_FORMATS:
            try:
                parsed = datetime.strptime(value, pattern)  # noqa: DTZ007 — zone added below
                break
            except ValueError:
                continue
    return None if parsed is None else make_aware(parsed, ctx.time_zone)


def recognise(head) -> str | None:
    """DiscordChatExporter: JSON with a guild, a channel and messages, or its CSV header."""
    if head.is_zip or head.text is None:
        return _("not a JSON or CSV file")
    text = head.text.lstrip()
    if text.startswith("{"):
        start = text[:4096]
        if '"guild"' in start and '"channel"' in start:
            return None
        return _("no “guild” and “channel” at the start of the JSON")
    if missing := head.missing_columns(_CSV_COLUMNS):
        return _("no column %(columns)s") % {"columns": ", ".join(missing)}
    return None
