"""Slack workspace export (the zip from "Export data"): one import maps ONE channel.

Layout: ``channels.json`` and ``users.json`` at the top (or inside one top-level folder),
and ``<channel name>/<YYYY-MM-DD>.json`` day files, each a JSON array of messages.
``groups.json``, ``dms.json``, ``integration_logs.json`` and the rest are ignored.

A day file that is not valid JSON rejects the whole import (naming the file): a broken
day file means a damaged archive, not one bad row. A message without a usable ``ts`` or
author is a problem (``<file>, message <n>``) and is skipped.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from activities.models import ActivityKind

from .base import (
    JSON_CONTAINER_EVENTS,
    ImportContext,
    ImportRejected,
    IncomingEvent,
    JsonGuard,
    SafeZip,
    json_parse,
    json_stream,
)

FORMAT = "slack"
PLATFORM = "slack"

_DAY_FILE = re.compile(r"\d{4}-\d{2}-\d{2}\.json")
# Subtypes that are an ordinary message by a person.
_MESSAGE_SUBTYPES = {None, "", "thread_broadcast", "me_message"}
_JOIN_SUBTYPES = {"channel_join", "group_join"}
_LEAVE_SUBTYPES = {"channel_leave", "group_leave"}


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    with SafeZip(path, ctx.limits) as archive:
        try:
            yield from _events(archive, ctx)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            # e.g. a CRC mismatch from an entry whose header lies about its size
            raise ImportRejected(
                _("The archive is damaged: a file in it cannot be unpacked.")
            ) from error


def _events(archive: SafeZip, ctx: ImportContext) -> Iterator[IncomingEvent]:
    root = _root(archive)
    channel = _pick_channel(_records(archive, root, "channels.json", ("id", "name"), ctx), ctx)
    users = ()
    if root + "users.json" in archive.names:
        users = _records(archive, root, "users.json", _USER_FIELDS, ctx)
    names, bots = _people(users)

    folder = f"{root}{channel['name']}/"
    days = sorted(
        n for n in archive.names if n.startswith(folder) and _DAY_FILE.fullmatch(n[len(folder) :])
    )
    prefix = f"slack:{channel['id']}:"
    for done, day in enumerate(days):
        label = day[len(root) :]
        with archive.open(day) as raw:
            stream = _naming(label, json_stream(raw, items={"item"}, limits=ctx.limits))
            for number, message in enumerate((m for _p, m in stream), start=1):
                if not isinstance(message, dict):
                    ctx.problem(_where(label, number), _("This is not a message."))
                    continue
                yield from _message(message, prefix, names, bots, ctx, label, number)
        ctx.progress((done + 1) / len(days))
    ctx.progress(1.0)


def _naming(label: str, stream: Iterator) -> Iterator:
    """``stream``, with the file named in front of the reason it is rejected."""
    try:
        yield from stream
    except ImportRejected as error:
        raise ImportRejected(
            _("%(file)s: %(error)s") % {"file": label, "error": error.message}
        ) from error


def _message(message, prefix, names, bots, ctx, label, number) -> Iterator[IncomingEvent]:
    ts = message.get("ts")
    when = _parse_ts(ts)
    if when is None:
        ctx.problem(_where(label, number), _("The message has no valid time (ts)."))
        return
    subtype = message.get("subtype")
    if subtype is not None and not isinstance(subtype, str):
        subtype = "?"  # unknown: not activity
    user = message.get("user") if isinstance(message.get("user"), str) else ""
    text = message.get("text") or ""
    kind = None
    # Bots and integrations are not members: skip their messages (people's reactions to
    # them still count, below).
    is_bot = (isinstance(subtype, str) and subtype.startswith("bot_")) or user in bots
    if is_bot:
        pass
    elif subtype in _MESSAGE_SUBTYPES:
        thread_ts = message.get("thread_ts")
        kind = ActivityKind.REPLY if thread_ts and thread_ts != ts else ActivityKind.MESSAGE
    elif subtype in _JOIN_SUBTYPES:
        kind = ActivityKind.JOIN
    elif subtype in _LEAVE_SUBTYPES:
        kind = ActivityKind.LEAVE
    elif subtype == "file_share":
        kind = ActivityKind.POST
    elif subtype == "file_comment":
        # The comment's author, not the file's; old exports sometimes carry neither.
        comment = message.get("comment") if isinstance(message.get("comment"), dict) else {}
        user = comment.get("user") if isinstance(comment.get("user"), str) else ""
        text = comment.get("comment") or text
        kind = ActivityKind.REPLY if user else None
    # Any other subtype (topic/purpose/name changes, pins, tombstones…) is not activity.

    if kind is None:
        ctx.skip("bot" if is_bot else "no_author" if subtype == "file_comment" else "system")
    else:
        if not user:
            ctx.problem(_where(label, number), _("The message has no author (user)."))
            return
        yield IncomingEvent(
            external_id=prefix + ts,
            kind=kind,
            occurred_at=when,
            member_key=user,
            member_name=names.get(user, ""),
            text=str(text),
        )
    for reaction in message.get("reactions") or ():
        if not isinstance(reaction, dict):
            continue
        emoji = str(reaction.get("name") or "")
        # Slack lists at most a few dozen reactors even when "count" is higher: only the
        # listed ones can be attributed.
        for reactor in reaction.get("users") or ():
            if not isinstance(reactor, str) or not reactor or reactor in bots:
                continue
            yield IncomingEvent(
                external_id=f"{prefix}{ts}:reaction:{emoji}:{reactor}",
                kind=ActivityKind.REACTION,
                occurred_at=when,
                member_key=reactor,
                member_name=names.get(reactor, ""),
                text=f":{emoji}:",
            )


def _where(label: str, number: int) -> str:
    return _("%(file)s, message %(number)s") % {"file": label, "number": number}


def _parse_ts(ts) -> datetime | None:
    """``"1459283311.000002"`` → aware UTC. Split by hand: a float would round it."""
    if not isinstance(ts, str) or not re.fullmatch(r"\d{1,12}(\.\d{1,6})?", ts):
        return None
    seconds, _dot, fraction = ts.partition(".")
    micros = int(fraction.ljust(6, "0")) if fraction else 0
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=micros)


def _root(archive: SafeZip) -> str:
    """ "" or the single top-level folder some tools wrap the export in."""
    if "channels.json" in archive.names:
        return ""
    wrapped = [n for n in archive.names if n.count("/") == 1 and n.endswith("/channels.json")]
    if len(wrapped) == 1:
        return wrapped[0][: -len("channels.json")]
    raise ImportRejected(_("This is not a Slack export: it has no channels.json."))


# What is read of each person in users.json (ijson paths inside one entry).
_USER_FIELDS = ("id", "name", "real_name", "profile.display_name", "is_bot")


def _records(
    archive: SafeZip, root: str, name: str, fields: tuple[str, ...], ctx: ImportContext
) -> list[dict]:
    """The entries of a metadata list (channels.json, users.json), streamed like the day
    files and under their own size limit, keeping only the scalar ``fields`` of each."""
    limit = ctx.limits.max_metadata_bytes
    too_large = _("The file is larger than %(limit)s, the limit for channels.json and users.json.")
    too_large %= {"limit": filesizeformat(limit)}
    if archive.size(root + name) > limit:  # the header may lie: the guard counts too
        raise ImportRejected(_("%(file)s: %(error)s") % {"file": name, "error": too_large})
    wanted = {f"item.{field}": field for field in fields}
    records, record = [], None
    with archive.open(root + name) as raw:
        guard = JsonGuard(raw, ctx.limits, max_bytes=limit, too_large=too_large)
        for prefix, event, value in _naming(name, json_parse(guard)):
            if prefix == "":
                if event not in ("start_array", "end_array"):
                    raise ImportRejected(_("%(file)s is not a list.") % {"file": name})
            elif prefix == "item":
                if event == "start_map":
                    record = {}
                elif event == "end_map":
                    records.append(record)
                    record = None
            elif record is not None and prefix in wanted and event not in JSON_CONTAINER_EVENTS:
                record[wanted[prefix]] = value
    return records


def _pick_channel(channels: list, ctx: ImportContext) -> dict:
    channels = [c for c in channels if isinstance(c, dict) and c.get("id") and c.get("name")]
    wanted = ctx.source_name.strip().lstrip("#")
    if wanted:
        for channel in channels:
            if wanted in (channel["id"], channel["name"]):
                return channel
    elif len(channels) == 1:
        return channels[0]
    listing = ", ".join(sorted(str(c["name"]) for c in channels)) or "—"
    if wanted:
        message = _("The export has no channel “%(name)s”. Its channels: %(channels)s.")
    else:
        message = _("Name the channel to import. The export's channels: %(channels)s.")
    raise ImportRejected(message % {"name": wanted, "channels": listing})


def _people(users) -> tuple[dict[str, str], set[str]]:
    names: dict[str, str] = {}
    bots: set[str] = set()
    for user in users:
        if not isinstance(user.get("id"), str):
            continue
        names[user["id"]] = str(
            user.get("real_name") or user.get("profile.display_name") or user.get("name") or ""
        )
        if user.get("is_bot") or user["id"] == "USLACKBOT":
            bots.add(user["id"])
    return names, bots


def recognise(head) -> str | None:
    """A Slack workspace export: a zip with channels.json and day files."""
    if not head.zip_names:
        return _("not a zip with channels.json")
    if not any(name.rsplit("/", 1)[-1] == "channels.json" for name in head.zip_names):
        return _("no channels.json in the zip")
    return None
