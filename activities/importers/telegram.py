"""Telegram Desktop "Export chat history" (``result.json``).

Two layouts share the message format: a single chat (``{"name", "type", "id",
"messages": [...]}``) and a full account export (``{"about", ..., "chats": {"list":
[chat, ...]}}``). Telegram Desktop writes a chat's ``name``, ``type`` and ``id`` before
its ``messages``, so while streaming we always know which chat a message belongs to.

Senders and actors are keyed ``user<id>`` (``channel<id>`` for a channel's posts),
whether the file writes ``"from_id": "user123"`` (Telegram Desktop since 2.4) or the bare
number ``"from_id": 123`` (older versions, some other exporters): see ``peer_id``.

External ids are ``tg:<chat id>:<message id>``, plus ``:<index>`` for each member named
in an ``invite_members`` / ``remove_members`` service message.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext as _

from activities.importers.base import (
    ImportContext,
    ImportRejected,
    IncomingEvent,
    JsonGuard,
    ProgressReader,
    file_size,
    json_parse,
    json_stream,
    make_aware,
)
from activities.models import ActivityKind

FORMAT = "telegram"
PLATFORM = "telegram"

GROUP_TYPES = frozenset({"private_group", "private_supergroup", "public_supergroup"})
JOIN_ACTIONS = frozenset({"join_group_by_link", "join_group_by_request"})


@dataclass(frozen=True)
class _Chat:
    name: str
    type: str
    id: Any


def events(path, ctx: ImportContext) -> Iterator[IncomingEvent]:
    if _layout(path, ctx) == "messages":
        items, id_prefix, wanted = {"messages.item"}, "id", None
    else:
        items, id_prefix = {"chats.list.item.messages.item"}, "chats.list.item.id"
        wanted = _choose_chat(_list_chats(path, ctx), ctx.source_name.strip()).id

    chat_id = None
    with open(path, "rb") as raw:
        reader = ProgressReader(raw, file_size(path), ctx)
        for prefix, value in json_stream(
            reader, items=items, scalars={id_prefix}, limits=ctx.limits
        ):
            if prefix == id_prefix:
                if wanted is not None and chat_id == wanted:
                    break  # the chosen chat is over; the rest of the file is other chats
                chat_id = value
            elif wanted is None or chat_id == wanted:
                if chat_id is None:
                    raise ImportRejected(_("The chat's id comes after its messages."))
                yield from _message_events(value, chat_id, ctx)
    ctx.progress(1.0)


def _layout(path, ctx: ImportContext) -> str:
    """Which top-level key holds the messages: ``messages`` (one chat) or ``chats``."""
    with open(path, "rb") as raw:
        for prefix, event, value in json_parse(JsonGuard(raw, ctx.limits)):
            if prefix != "":
                continue
            if event == "map_key" and value in ("messages", "chats"):
                return value
            if event not in ("start_map", "map_key"):
                break  # not an object, or an object without either key
    raise ImportRejected(
        _(
            "This is not a Telegram chat export: expected the result.json written by "
            'Telegram Desktop, with "messages" or "chats".'
        )
    )


def _list_chats(path, ctx: ImportContext) -> list[_Chat]:
    """First pass over a full account export: only the chats' names, types and ids."""
    prefix = "chats.list.item."
    chats, pending = [], {}
    with open(path, "rb") as raw:
        for key, value in json_stream(
            raw,
            items=set(),
            scalars={prefix + k for k in ("name", "type", "id")},
            limits=ctx.limits,
        ):
            key = key.removeprefix(prefix)
            if key == "id":  # written after name and type: it closes a chat
                chats.append(_Chat(str(pending.get("name") or ""), str(pending.get("type")), value))
                pending = {}
            else:
                pending[key] = value
    return chats


def _choose_chat(chats: list[_Chat], source_name: str) -> _Chat:
    groups = [chat for chat in chats if chat.type in GROUP_TYPES]
    names = ", ".join(chat.name or str(chat.id) for chat in groups) or _("none")
    if not source_name:
        if len(groups) == 1:
            return groups[0]
        raise ImportRejected(
            _("This export holds several chats; enter the one to import. Group chats: %(names)s")
            % {"names": names}
        )
    matches = [chat for chat in chats if source_name in (chat.name, str(chat.id))]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ImportRejected(
            _("This export has no chat named %(name)s. Group chats: %(names)s")
            % {"name": source_name, "names": names}
        )
    raise ImportRejected(
        _("Several chats are named %(name)s; enter the chat's id instead: %(ids)s")
        % {"name": source_name, "ids": ", ".join(str(chat.id) for chat in matches)}
    )


def _message_events(message: Any, chat_id: Any, ctx: ImportContext) -> Iterator[IncomingEvent]:
    if not isinstance(message, dict):
        ctx.skip("other_type")
        return
    message_id = message.get("id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        ctx.problem(_("chat %(chat)s") % {"chat": chat_id}, _("A message has no numeric id."))
        return
    if message.get("type") not in ("message", "service"):
        ctx.skip("other_type")
        return
    where = _("message %(id)s") % {"id": message_id}
    occurred_at = _occurred_at(message, ctx)
    if occurred_at is None:
        ctx.problem(where, _("The message has no readable date."))
        return
    base_id = f"tg:{chat_id}:{message_id}"

    if message.get("type") == "message":
        sender_id = peer_id(message.get("from_id"))
        if not sender_id:
            ctx.problem(where, _("The message has no sender id (from_id)."))
            return
        # A sticker or photo without caption has text "": it still counts as a message.
        kind = ActivityKind.REPLY if message.get("reply_to_message_id") else ActivityKind.MESSAGE
        yield IncomingEvent(
            base_id, kind, occurred_at, sender_id, _name(message.get("from")), _text(message)
        )
        return

    action = message.get("action")
    actor_id, actor = peer_id(message.get("actor_id")), _name(message.get("actor"))
    members = message.get("members")
    if action in ("invite_members", "remove_members"):
        if not isinstance(members, list):
            ctx.problem(where, _("The service message lists no members."))
            return
        if members == [actor] and actor_id:
            # Joining a public group, or leaving any group, is the actor "inviting" or
            # "removing" themselves: then we know their id.
            kind = ActivityKind.JOIN if action == "invite_members" else ActivityKind.LEAVE
            yield IncomingEvent(base_id, kind, occurred_at, actor_id, actor)
            return
        kind = ActivityKind.JOIN if action == "invite_members" else ActivityKind.REMOVED
        for index, member in enumerate(members):
            # Telegram names invited / removed members but gives no ids, so the key is the
            # display name; matching it to the person's user id is left to member matching.
            # Deleted accounts are null: nobody to count.
            if isinstance(member, str) and member:
                yield IncomingEvent(f"{base_id}:{index}", kind, occurred_at, member, member)
            else:
                ctx.skip("deleted_account")
    elif action in JOIN_ACTIONS:
        if not actor_id:
            ctx.problem(where, _("The service message has no actor id (actor_id)."))
            return
        yield IncomingEvent(base_id, ActivityKind.JOIN, occurred_at, actor_id, actor)
    else:
        # Other actions (pin_message, create_group, edit_group_title, …) are not membership.
        ctx.skip("system")


def peer_id(value: Any) -> str:
    """A sender or actor id as member key: ``"user123456789"`` (Telegram Desktop since
    2.4), ``"channel1790234567"`` for a channel's posts, ``"chat…"`` for a basic group;
    older versions and some exporters write the bare number (``123456789`` or
    ``"123456789"``), which is a user's: the same person as ``"user123456789"``; a
    negative number is a chat's in the Bot API's numbering (``-100<id>`` a channel).
    ``""`` when there is none."""
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return ""
    if isinstance(value, str):
        return value.strip()
    # Bot API numbering, used by exporters built on it: -100… a channel, -… a basic group.
    if value > 0:
        return f"user{value}"
    if value < -1_000_000_000_000:
        return f"channel{-value - 1_000_000_000_000}"
    return f"chat{-value}" if value else ""


def _occurred_at(message: dict, ctx: ImportContext) -> datetime | None:
    unixtime = message.get("date_unixtime")
    if isinstance(unixtime, str) and unixtime.isdigit():
        return datetime.fromtimestamp(int(unixtime), UTC)
    date = message.get("date")
    if not isinstance(date, str):
        return None
    try:
        # Older exports have only "date": wall-clock time of the exporting computer.
        return make_aware(datetime.fromisoformat(date), ctx.time_zone)
    except ValueError:
        return None


def _name(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _text(message: dict) -> str:
    """``text`` is a string, or a list of strings and entity objects with a ``text``."""
    text = message.get("text")
    if isinstance(text, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text") or "")
            for part in text
            if isinstance(part, str | dict)
        )
    return text if isinstance(text, str) else ""


def recognise(head) -> str | None:
    """Telegram Desktop's result.json: one chat (name, type, id, messages) or a whole
    account (about, chats …)."""
    if head.is_zip or head.text is None:
        return _("not a JSON file")
    text = head.text.lstrip()
    if not text.startswith("{"):
        return _("not a JSON file")
    start = text[:4096]
    if '"guild"' in start:
        return _("a Discord export, not Telegram")
    one_chat = '"messages"' in start or ('"type"' in start and '"id"' in start)
    if one_chat or '"chats"' in start or '"about"' in start:
        return None
    return _("no “messages” or “chats” at the start of the JSON")
