"""Slack workspace export (the zip from "Export data"): one import maps ONE channel.

Layout: ``channels.json`` and ``users.json`` at the top (or inside one top-level folder),
and ``<channel name>/<YYYY-MM-DD>.json`` day files, each a JSON array of messages.
``groups.json``, ``dms.json``, ``integration_logs.json`` and the rest are ignored.

A day file that is not valid JSON rejects the whole import (naming the file): a broken
day file means a damaged archive, not one bad row. A message without a usable ``ts`` or
author is a problem (``<file>, message <n>``) and is skipped.
"""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from django.utils.translation import gettext as _

from activities.models import ActivityKind

from .base import ImportContext, ImportRejected, IncomingEvent, SafeZip, json_stream, read_all

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
                _("The archive is damaged (%(error)s).") % {"error": str(error)[:200]}
            ) from error


def _events(archive: SafeZip, ctx: ImportContext) -> Iterator[IncomingEvent]:
    root = _root(archive)
    channel = _pick_channel(_load(archive, root + "channels.json"), ctx)
    users_file = root + "users.json"
    users = _load(archive, users_file) if users_file in archive.names else []
    names, bots = _people(users)

    folder = f"{root}{channel['name']}/"
    days = sorted(
        n for n in archive.names if n.startswith(folder) and _DAY_FILE.fullmatch(n[len(folder) :])
    )
    prefix = f"slack:{channel['id']}:"
    for done, day in enumerate(days):
        label = day[len(root) :]
        with archive.open(day) as raw:
            stream = json_stream(raw, items={"item"}, limits=ctx.limits)
            try:
                for number, message in enumerate((m for _p, m in stream), start=1):
                    if not isinstance(message, dict):
                        ctx.problem(_where(label, number), _("This is not a message."))
                        continue
                    yield from _message(message, prefix, names, bots, ctx, label, number)
            except ImportRejected as error:
                raise ImportRejected(
                    _("%(file)s: %(error)s") % {"file": label, "error": error.message}
                ) from error
        ctx.progress((done + 1) / len(days))
    ctx.progress(1.0)


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

    if kind is not None:
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


def _load(archive: SafeZip, name: str) -> list:
    """A small metadata file, read whole (the SafeZip limits bound it)."""
    with archive.open(name) as raw:
        data = read_all(raw)
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ImportRejected(
            _("%(file)s is not valid JSON (%(error)s).") % {"file": name, "error": str(error)[:200]}
        ) from error
    if not isinstance(value, list):
        raise ImportRejected(_("%(file)s is not a list.") % {"file": name})
    return value


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


def _people(users: list) -> tuple[dict[str, str], set[str]]:
    names: dict[str, str] = {}
    bots: set[str] = set()
    for user in users:
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            continue
        profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
        names[user["id"]] = str(
            user.get("real_name") or profile.get("display_name") or user.get("name") or ""
        )
        if user.get("is_bot") or user["id"] == "USLACKBOT":
            bots.add(user["id"])
    return names, bots
