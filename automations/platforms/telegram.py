"""Telegram Bot API ``sendMessage``.

Read from Telegram's documentation:

- Bot API, "Making requests", https://core.telegram.org/bots/api#making-requests — requests
  go to ``https://api.telegram.org/bot<token>/METHOD_NAME`` (POST with a JSON body is one of
  the four ways to pass parameters); the answer is a JSON object whose ``ok`` says whether it
  worked: ``{"ok": true, "result": …}`` or ``{"ok": false, "error_code": …, "description":
  …, "parameters"?: ResponseParameters}``, where ``parameters.retry_after`` is "in case of
  exceeding flood control, the number of seconds left to wait before the request can be
  repeated" (and ``migrate_to_chat_id`` names the supergroup a group became).
- ``sendMessage``, https://core.telegram.org/bots/api#sendmessage — ``chat_id`` (an integer,
  or ``@channelusername``), ``text`` "1-4096 characters after entities parsing",
  ``parse_mode``, ``link_preview_options`` (``{"is_disabled": true}``; it replaced
  ``disable_web_page_preview``); on success the sent Message, with its ``message_id``.
- Formatting options, HTML style, https://core.telegram.org/bots/api#formatting-options —
  only ``b/strong, i/em, u, s, a href, code, pre`` (and a few more) are tags; "all ``<``,
  ``>`` and ``&`` symbols that are not a part of a tag or an HTML entity must be replaced
  with the corresponding HTML entities"; only ``&lt; &gt; &amp; &quot;`` and numeric
  entities exist; bold/italic/strike may nest with anything except ``pre`` and ``code``.
- Bot FAQ, "My bot is hitting limits, how do I avoid this?",
  https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this — no more
  than one message per second in a chat (short bursts are allowed, then 429), no more than 20
  messages per minute to the same group, about 30 messages per second in bulk overall.
- Errors as the Bot API returns them (collected in github.com/TelegramBotAPI/errors): 400
  "Bad Request: chat not found", "message is too long", "can't parse entities: …", "message
  text is empty"; 401 "Unauthorized" (a wrong token); 403 "Forbidden: bot was kicked from the
  group chat"; 429 "Too Many Requests: retry after N" with ``parameters.retry_after``.

Pace: one message every 3 seconds per bot and chat — 20 a minute, the group limit, and never
two in one second, whatever the pacer's window does with a burst. The bot-wide 30 per second
is left to Telegram's 429 and its ``retry_after`` (it needs over 90 chats behind one bot).

Markdown: MarkdownV2 needs 18 characters escaped outside entities and fails the whole message
on one slip, so markdown is turned into Telegram's HTML here (``**bold**``/``__bold__``,
``*italic*``/``_italic_``, ``~~strike~~``, ``` `code` ```, fenced code blocks, ``[text](https://…)``,
``# heading`` as bold), with every other ``<``, ``>`` and ``&`` escaped; anything it does not
recognise stays literal text. Plain text is sent with no ``parse_mode``, exactly as written.
The length is counted on the text Telegram shows (tags gone, entities decoded), in UTF-16
code units — the unit Telegram measures text in — so an emoji outside the BMP counts as two,
which never lets an over-long message through.

The bot token is part of the request path: it never appears in a Result's detail.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
import re
from urllib.parse import quote

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from automations.platforms.base import (
    DETAIL_CHARS,
    Answer,
    Destination,
    Message,
    Outcome,
    Result,
    by_status,
    deliver,
    post_json,
    retry_after_header,
)

NAME = "telegram"
LABEL = gettext_lazy("Telegram bot")
PACE = (1, 3)  # one message per 3 s per bot and chat: 20 a minute, never 2 in a second
MAX_TEXT = 4096  # characters (UTF-16 code units) after entity parsing
DEFAULT_API = "https://api.telegram.org"
# When a 429 carries no retry_after: Telegram's flood waits are seconds to minutes.
DEFAULT_RETRY_AFTER = 5.0
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_NUMERIC_CHAT = re.compile(r"-?\d+")


def check(message: Message, destination: Destination) -> list[str]:
    errors = []
    if not destination.token:
        errors.append(_("The Telegram bot token is missing."))
    elif not _TOKEN.fullmatch(destination.token):
        errors.append(
            _("This does not look like a Telegram bot token (digits, a colon, then letters).")
        )
    if not destination.chat_id:
        errors.append(_("The Telegram chat id is missing."))
    length = text_length(message)
    if length == 0:
        errors.append(_("Telegram does not accept an empty message."))
    elif length > MAX_TEXT:
        errors.append(
            _(
                "Telegram accepts at most %(limit)s characters of text (an emoji counts as "
                "two); this message has %(count)s."
            )
            % {"limit": f"{MAX_TEXT:,}", "count": f"{length:,}"}
        )
    return errors


def pace_key(destination: Destination) -> str:
    # The limit is per bot and chat; the token is named by a digest only.
    digest = hashlib.sha256(destination.token.encode("utf-8")).hexdigest()
    return f"telegram:{digest[:24]}:{destination.chat_id}"


def payload(destination: Destination, message: Message) -> dict:
    chat_id = destination.chat_id.strip()
    body: dict = {"chat_id": int(chat_id) if _NUMERIC_CHAT.fullmatch(chat_id) else chat_id}
    if message.markdown:
        body.update(text=markdown_to_html(message.text), parse_mode="HTML")
    else:
        body["text"] = message.text
    if destination.extra.get("disable_link_preview"):
        body["link_preview_options"] = {"is_disabled": True}
    return body


def send(destination: Destination, message: Message, *, timeout: float = 10.0) -> Result:
    api_base = (destination.url or DEFAULT_API).rstrip("/")

    def attempt() -> Result:
        answer = post_json(
            f"{api_base}/bot{destination.token}/sendMessage",
            payload(destination, message),
            timeout=timeout,
        )
        return read_answer(answer)

    return redacted(deliver(attempt), destination.token)


def read_answer(answer: Answer) -> Result:
    """The Bot API's answer, read from its ``ok`` field first, then the HTTP status."""
    body = answer.json()
    if isinstance(body, dict) and body.get("ok") is True:
        result = body.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Result(
            Outcome.SENT,
            answer.status,
            answer.text,
            message_id="" if message_id is None else str(message_id),
        )
    if isinstance(body, dict) and body.get("ok") is False:
        code = body.get("error_code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else answer.status
        parameters = body.get("parameters")
        wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        detail = _refusal_detail(body, answer)
        if code == 429 or (isinstance(wait, int | float) and not isinstance(wait, bool)):
            if not isinstance(wait, int | float) or isinstance(wait, bool) or wait < 0:
                wait = retry_after_header(answer)
            return Result(
                Outcome.RETRY,
                answer.status,
                detail,
                DEFAULT_RETRY_AFTER if wait is None else float(wait),
            )
        if code >= 500:
            return Result(Outcome.RETRY, answer.status, detail, retry_after_header(answer))
        return Result(Outcome.REJECTED, answer.status, detail)
    if 200 <= answer.status < 300:
        # A 2xx that is not the Bot API's answer (a proxy's page): it may have been sent.
        return Result(Outcome.UNKNOWN, answer.status, answer.text)
    return by_status(answer)


def _refusal_detail(body: dict, answer: Answer) -> str:
    """What staff read: the Bot API's description, with its parameters (the supergroup a group
    became, the seconds to wait) when it gives them."""
    description = body.get("description")
    if not isinstance(description, str) or not description:
        return answer.text
    parameters = body.get("parameters")
    if isinstance(parameters, dict) and parameters:
        description += " " + json.dumps(parameters, ensure_ascii=False, sort_keys=True)
    return description[:DETAIL_CHARS]


def redacted(result: Result, token: str) -> Result:
    """``result`` with the bot token (as written or percent-encoded) cut out of its detail."""
    detail = result.detail
    for form in {token, quote(token, safe="")} - {""}:
        detail = detail.replace(form, "<token>")
    if detail == result.detail:
        return result
    return dataclasses.replace(result, detail=detail[:DETAIL_CHARS])


# --- markdown → Telegram HTML -------------------------------------------------------------

_FENCE = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n?(.*?)```", re.S)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^\s()<>\"]+)\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
# Emphasis opens before a non-space and closes after one; single * and _ do not work inside
# words (snake_case stays as written).
_EMPHASIS = (
    ("b", re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.S)),
    ("b", re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)", re.S)),
    ("s", re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.S)),
    ("i", re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])")),
    ("i", re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])")),
)
_TAG = re.compile(r"<[^>]*>")


def _escape(text: str) -> str:
    return html.escape(text, quote=False)  # & < > — all Telegram asks for outside tags


def markdown_to_html(text: str) -> str:
    """Our markdown as Telegram's HTML parse mode reads it; every tag is closed where it is
    opened, so the result always parses."""
    out, position = [], 0
    for fence in _FENCE.finditer(text):
        out.append(_blocks(text[position : fence.start()]))
        language, code = fence.group(1), fence.group(2)
        if language:
            out.append(f'<pre><code class="language-{language}">{_escape(code)}</code></pre>')
        else:
            out.append(f"<pre>{_escape(code)}</pre>")
        position = fence.end()
    out.append(_blocks(text[position:]))
    return "".join(out)


def _blocks(text: str) -> str:
    text = _HEADING.sub(lambda m: m.group(1) if "**" in m.group(1) else f"**{m.group(1)}**", text)
    out, position = [], 0
    for code in _INLINE_CODE.finditer(text):
        out.append(_links(text[position : code.start()]))
        out.append(f"<code>{_escape(code.group(1))}</code>")
        position = code.end()
    out.append(_links(text[position:]))
    return "".join(out)


def _links(text: str) -> str:
    out, position = [], 0
    for link in _LINK.finditer(text):
        out.append(_emphasis(text[position : link.start()]))
        href = html.escape(link.group(2), quote=True)
        out.append(f'<a href="{href}">{_emphasis(link.group(1))}</a>')
        position = link.end()
    out.append(_emphasis(text[position:]))
    return "".join(out)


def _emphasis(text: str) -> str:
    first = None
    for tag, pattern in _EMPHASIS:
        match = pattern.search(text)
        if match and (first is None or match.start() < first[1].start()):
            first = (tag, match)
    if first is None:
        return _escape(text)
    tag, match = first
    return (
        _escape(text[: match.start()])
        + f"<{tag}>{_emphasis(match.group(1))}</{tag}>"
        + _emphasis(text[match.end() :])
    )


def visible_text(message: Message) -> str:
    """The text as Telegram shows it, after entity parsing."""
    if not message.markdown:
        return message.text
    return html.unescape(_TAG.sub("", markdown_to_html(message.text)))


def text_length(message: Message) -> int:
    """Length in UTF-16 code units of the visible text (0 when it is only white space)."""
    text = visible_text(message)
    if not text.strip():
        return 0
    return len(text.encode("utf-16-le")) // 2
