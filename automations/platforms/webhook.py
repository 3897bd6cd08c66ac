"""Our generic JSON webhook: POST a signed JSON body to the receiver's URL.

The format is ours, so the contract is written here (and in the README):

- Body ``{"text": …, "markdown": true|false, "idempotency_key": …, "sent_at": …}``, UTF-8
  JSON; ``sent_at`` is the attempt's time, ISO 8601 in UTC, the same second as the
  timestamp header.
- Signed exactly as our inbound webhook checks (activities/webhook.py):
  ``X-CommunityOps-Timestamp: <unix seconds>`` and
  ``X-CommunityOps-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` with the
  connector's secret, so one verifier serves both directions. The receiver should refuse
  a timestamp more than 5 minutes away, as ours does.
- ``Idempotency-Key: <the delivery's key>`` (also in the body): a receiver that has
  already accepted this key answers 409 (or 2xx again) and does not act twice. Because of
  that promise ``IDEMPOTENT = True``: a delivery whose answer never came (timeout after
  the body left) may be sent again here, unlike on the chat platforms.
- Answers: 2xx sent (a JSON ``{"id": …}`` is kept as the message id); 409 already received
  → sent, unless the answer names a different idempotency key (header ``Idempotency-Key`` or
  JSON ``idempotency_key``); 429 → retry after ``Retry-After`` (10 s when it does not say);
  5xx → retry; any other 4xx → rejected. (In the IETF draft a 409 means the first request
  with that key is still being processed: either way the receiver holds the message once.)
- ``sent_at`` and the timestamp are the attempt's, so a retry's body differs from the
  first one's in ``sent_at``: a receiver recognises a delivery by its key, not by a
  fingerprint of the body (the draft's 422 for "same key, other payload" would misfire).
- No platform limit: text up to 64 KiB of UTF-8 (a sane bound, not the receiver's), and a
  pace of our choosing, 10 a second per URL.

Read: activities/webhook.py (``sign``, ``signature_valid``); "The Idempotency-Key HTTP
Header Field", https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/
and Zuora's summary of it, https://developer.zuora.com/docs/guides/idempotent-requests
(409 Conflict while a request with the key is in progress, 422 when the key is reused
for a different payload).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import base

NAME = "webhook"
LABEL = gettext_lazy("Generic JSON webhook")
PACE = (10, 1)  # ours, not a platform's: 10 requests a second per receiver URL
MAX_TEXT = 64 * 1024  # bytes of UTF-8
IDEMPOTENT = True  # the receiver honours Idempotency-Key: unknown deliveries may be resent

TIMESTAMP_HEADER = "X-CommunityOps-Timestamp"
SIGNATURE_HEADER = "X-CommunityOps-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_RETRY_AFTER = 10.0


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The inbound webhook's signature (activities/webhook.py), computed here so this
    module stays importable without the database."""
    signed = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def check(message: base.Message, destination: base.Destination) -> list[str]:
    problems = []
    if not destination.url:
        problems.append(_("The webhook's URL is missing."))
    if not destination.secret:
        problems.append(_("The webhook's signing secret is missing."))
    size = len(message.text.encode("utf-8"))
    if not message.text.strip():
        problems.append(_("The message is empty."))
    elif size > MAX_TEXT:
        problems.append(
            _("The webhook accepts at most %(limit)s bytes of text; this message has %(size)s.")
            % {"limit": f"{MAX_TEXT:,}", "size": f"{size:,}"}
        )
    return problems


def pace_key(destination: base.Destination) -> str:
    return f"{NAME}:" + hashlib.sha256(destination.url.encode("utf-8")).hexdigest()[:24]


def request(message: base.Message, secret: str, *, now: float) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers of one attempt at ``now`` (unix seconds)."""
    timestamp = int(now)
    payload = {
        "text": message.text,
        "markdown": message.markdown,
        "idempotency_key": message.idempotency_key,
        "sent_at": datetime.fromtimestamp(timestamp, tz=UTC).isoformat().replace("+00:00", "Z"),
    }
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    if message.idempotency_key:
        headers[IDEMPOTENCY_HEADER] = message.idempotency_key
    return body, headers


def read(answer: base.Answer, message: base.Message) -> base.Result:
    body = answer.json()
    if 200 <= answer.status < 300:
        message_id = body.get("id") if isinstance(body, dict) else None
        return base.Result(
            base.Outcome.SENT,
            answer.status,
            answer.text,
            message_id=str(message_id) if isinstance(message_id, str | int) else "",
        )
    if answer.status == 409 and message.idempotency_key:
        named = answer.headers.get(IDEMPOTENCY_HEADER.lower())
        if named is None and isinstance(body, dict):
            named = body.get("idempotency_key")
        if named in (None, message.idempotency_key):
            return base.Result(base.Outcome.SENT, answer.status, answer.text)
        return base.Result(base.Outcome.REJECTED, answer.status, answer.text)
    return base.by_status(answer, default_retry_after=DEFAULT_RETRY_AFTER)


def send(
    destination: base.Destination, message: base.Message, *, timeout: float = 10.0
) -> base.Result:
    if not destination.secret:
        # Unsigned, the receiver could not tell us from anyone: nothing leaves.
        return base.Result(base.Outcome.REJECTED, detail="no signing secret")

    def attempt() -> base.Result:
        body, headers = request(message, destination.secret, now=time.time())
        return read(base.post(destination.url, body, headers, timeout=timeout), message)

    return base.deliver(attempt)
