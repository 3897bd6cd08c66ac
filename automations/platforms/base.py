"""What every platform client shares: the message, the destination, the result, and one
HTTP POST that knows *when* it failed.

The difference matters (the execution contract, docs/architecture.md): a request that never
left (connection refused, DNS failure, TLS handshake) can be retried safely; one whose body
was sent but whose answer never came (a timeout while waiting, a reset mid-answer) may have
been delivered, and chat platforms have no idempotency key, so it is *unknown*, never
retried blindly.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

# How much of a platform's answer a Result keeps (shown to staff).
DETAIL_CHARS = 500


class Outcome(StrEnum):
    SENT = "sent"
    REJECTED = "rejected"  # the platform refused it for good (400, bad token): never retried
    RETRY = "retry"  # not delivered, try again (after ``retry_after`` seconds if given)
    UNKNOWN = "unknown"  # sent, but whether it arrived is not known


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    status: int | None = None  # the HTTP status, when an answer came
    detail: str = ""  # the platform's answer (or what went wrong), truncated
    retry_after: float | None = None  # seconds, from the platform (429) when it says
    message_id: str = ""  # the platform's id of the sent message, when it gives one


@dataclass(frozen=True)
class Message:
    text: str
    markdown: bool = False
    # Unique per delivery; sent where a platform takes one (our generic webhook).
    idempotency_key: str = ""


@dataclass(frozen=True)
class Destination:
    """Where to send: a webhook URL or an API base, and the credentials it needs."""

    url: str
    secret: str = ""  # a signing secret (generic webhook, Feishu, DingTalk)
    token: str = ""  # a bot token (Telegram)
    chat_id: str = ""  # Telegram's chat
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8", errors="replace") or "null")
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")[:DETAIL_CHARS]


class NotSent(Exception):
    """The request never reached the platform: safe to retry."""


class NoAnswer(Exception):
    """The request was sent but no (complete) answer came: the outcome is unknown."""


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Answer:
    """POST ``body`` to ``url``; raises ``NotSent`` before the body left, ``NoAnswer`` after."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotSent(f"not an http(s) URL: {url[:100]}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        try:
            connection.connect()
        except (OSError, ssl.SSLError) as error:
            raise NotSent(f"could not connect: {error}") from error
        try:
            connection.request(
                "POST", path, body=body, headers={"Content-Length": str(len(body)), **headers}
            )
        except (OSError, http.client.HTTPException) as error:
            raise NoAnswer(f"the connection broke while sending: {error}") from error
        try:
            response = connection.getresponse()
            data = response.read(1 << 20)
        except TimeoutError as error:
            raise NoAnswer("no answer before the timeout") from error
        except (OSError, http.client.HTTPException) as error:
            raise NoAnswer(f"the answer broke off: {error}") from error
        return Answer(response.status, data, {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()


def post_json(url: str, payload, headers: dict[str, str] | None = None, *, timeout: float):
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return post(
        url,
        body,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        timeout=timeout,
    )


def retry_after_header(answer: Answer) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds (dates are not used here)."""
    value = answer.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def by_status(
    answer: Answer,
    *,
    retry_after: float | None = None,
    default_retry_after: float | None = None,
) -> Result:
    """The usual reading of an HTTP answer: 2xx sent, 429 and 5xx retry, other 4xx rejected.
    A 429 waits ``retry_after``, else the answer's ``Retry-After``, else
    ``default_retry_after``. Platforms that answer 200 with an error code in the body read it
    themselves first (``by_error_code``)."""
    if 200 <= answer.status < 300:
        return Result(Outcome.SENT, answer.status, answer.text)
    if answer.status == 429 or answer.status >= 500:
        wait = retry_after if retry_after is not None else retry_after_header(answer)
        if wait is None and answer.status == 429:
            wait = default_retry_after
        return Result(Outcome.RETRY, answer.status, answer.text, wait)
    return Result(Outcome.REJECTED, answer.status, answer.text)


def deliver(attempt) -> Result:
    """Run ``attempt()`` (which POSTs and reads the answer into a Result), turning the
    phase a failure happened in into RETRY (never sent) or UNKNOWN (sent, no answer)."""
    try:
        return attempt()
    except NotSent as error:
        return Result(Outcome.RETRY, detail=str(error)[:DETAIL_CHARS])
    except NoAnswer as error:
        return Result(Outcome.UNKNOWN, detail=str(error)[:DETAIL_CHARS])


def by_error_code(
    answer: Answer,
    code: int,
    *,
    rate_limited: bool,
    rate_wait: float,
    busy: bool = False,
) -> Result:
    """The reading of the robots that answer with an error code in the body (WeCom,
    DingTalk, Feishu): 0 with a 2xx is sent; a rate-limit code (or a 429) waits
    ``rate_wait`` seconds unless the answer says how long; a "busy" code or a 5xx retries;
    any other code is a refusal for good."""
    if code == 0 and 200 <= answer.status < 300:
        return Result(Outcome.SENT, answer.status, answer.text)
    if rate_limited or answer.status == 429:
        return Result(
            Outcome.RETRY, answer.status, answer.text, retry_after_header(answer) or rate_wait
        )
    if busy or answer.status >= 500:
        return Result(Outcome.RETRY, answer.status, answer.text, retry_after_header(answer))
    return Result(Outcome.REJECTED, answer.status, answer.text)


def read_errcode(
    answer: Answer, *, rate_limited: frozenset | set, busy: frozenset | set, rate_wait: float
) -> Result:
    """WeCom's and DingTalk's answers: HTTP 200 with ``{"errcode": …, "errmsg": …}``."""
    body = answer.json()
    code = body.get("errcode") if isinstance(body, dict) else None
    if not isinstance(code, int):
        return by_status(answer)
    return by_error_code(
        answer, code, rate_limited=code in rate_limited, rate_wait=rate_wait, busy=code in busy
    )
