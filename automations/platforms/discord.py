"""Discord channel webhook ("Execute Webhook").

Read from Discord's developer documentation:

- Execute Webhook, https://discord.com/developers/docs/resources/webhook#execute-webhook —
  ``POST /webhooks/{webhook.id}/{webhook.token}``; with ``?wait=true`` Discord waits until the
  message is saved and answers 200 with the message object (its ``id``), so a send is
  confirmed (without it, 204 and an unsaved message raises no error). ``content`` is the
  message text, "up to 2000 characters"; one of content/embeds/files is required.
- Allowed Mentions, https://discord.com/developers/docs/resources/message#allowed-mentions-object
  — ``{"parse": []}`` parses no mention at all, so a broadcast containing "@everyone",
  "@here" or a role mention never pings anyone.
- Rate Limits, https://discord.com/developers/docs/topics/rate-limits — limits are per route
  and per top-level resource (here the webhook), and "should not be hard coded": on 429 the
  JSON body is ``{"message", "retry_after": seconds as a float, "global": bool, "code"?}``
  with ``Retry-After`` and ``X-RateLimit-*`` headers; webhooks are not bound to the global
  limit. Observed per-webhook buckets are 5 requests per 2 seconds, and a channel takes about
  30 webhook messages a minute.
- Opcodes and Status Codes, https://discord.com/developers/docs/topics/opcodes-and-status-codes
  — HTTP 400 bad request, 401 unauthorized, 403 forbidden, 404 not found, 429 too many
  requests, 502 gateway unavailable ("wait a bit and retry"), 5xx server error; JSON error
  codes such as 10015 Unknown Webhook, 50006 Cannot send an empty message, 50035 Invalid Form
  Body, in ``{"code": …, "message": …}``.

Pace: one message every 2 seconds per webhook. That stays inside both limits at once — 5
per 2 s per webhook and 30 per minute per channel — even if a pacer let a whole window's
count go in one burst ((30, 60) could then trip the 5-per-2-s bucket). It cannot see two
webhooks that post into the same channel: give each channel one connector.

Markdown: Discord renders markdown in every message, so ``content`` is the text as written,
markdown or not. Discord counts content in Unicode code points, as Python's ``len`` does.
"""

from __future__ import annotations

import dataclasses
import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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

NAME = "discord"
LABEL = gettext_lazy("Discord webhook")
PACE = (1, 2)  # one message per 2 s per webhook: under 5 per 2 s and 30 per minute
MAX_TEXT = 2000  # characters (Unicode code points) of content
# When a 429 says nothing about when to come back: the per-webhook bucket's window.
DEFAULT_RETRY_AFTER = 2.0
# Never mention anyone a broadcast happens to name (@everyone, @here, roles, users).
NO_MENTIONS = {"parse": []}


def check(message: Message, destination: Destination) -> list[str]:
    errors = []
    if not destination.url:
        errors.append(_("The Discord webhook URL is missing."))
    if not message.text.strip():
        errors.append(_("Discord does not accept an empty message."))
    elif len(message.text) > MAX_TEXT:
        errors.append(
            _("Discord accepts at most %(limit)s characters of text; this message has %(count)s.")
            % {"limit": f"{MAX_TEXT:,}", "count": f"{len(message.text):,}"}
        )
    return errors


def pace_key(destination: Destination) -> str:
    # The webhook URL holds its token: the key names it by a digest only.
    digest = hashlib.sha256(_webhook_address(destination.url).encode("utf-8")).hexdigest()
    return f"discord:{digest[:24]}"


def send(destination: Destination, message: Message, *, timeout: float = 10.0) -> Result:
    def attempt() -> Result:
        answer = post_json(
            _execute_url(destination.url),
            {"content": message.text, "allowed_mentions": NO_MENTIONS},
            {"Accept": "application/json"},
            timeout=timeout,
        )
        return read_answer(answer)

    result = deliver(attempt)
    return _redacted(result, destination.url)


def read_answer(answer: Answer) -> Result:
    """Discord's answer as its documentation describes it."""
    body = answer.json()
    if 200 <= answer.status < 300:
        message_id = body.get("id") if isinstance(body, dict) else None
        return Result(Outcome.SENT, answer.status, answer.text, message_id=str(message_id or ""))
    if answer.status == 429:
        return Result(Outcome.RETRY, answer.status, answer.text, _retry_after(answer, body))
    return by_status(answer)


def _retry_after(answer: Answer, body) -> float:
    """Seconds to wait: the body's ``retry_after`` (a float), else the headers."""
    if isinstance(body, dict):
        value = body.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return float(value)
    from_header = retry_after_header(answer)
    if from_header is not None:
        return from_header
    try:
        return max(0.0, float(answer.headers.get("x-ratelimit-reset-after", "")))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _execute_url(url: str) -> str:
    """The webhook URL with ``wait=true`` (keeping a ``thread_id`` it may carry)."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "wait"]
    query.append(("wait", "true"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _webhook_address(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _redacted(result: Result, url: str) -> Result:
    """The webhook token (the URL's last path segment) never appears in a detail."""
    token = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    if len(token) < 8 or token not in result.detail:
        return result
    return dataclasses.replace(result, detail=result.detail.replace(token, "…")[:DETAIL_CHARS])
