"""Slack incoming webhook: POST ``{"text": …}`` to the webhook's URL.

What Slack's documentation says, and what this module does with it:

- The webhook URL (``https://hooks.slack.com/services/T…/B…/…``) is the credential; it is
  kept secret and ``pace_key`` hashes it.
- ``text`` is formatted as Slack's *mrkdwn* by default (``*bold*``, ``_italic_``,
  ``~strike~``, `` `code` ``, ```` ``` ```` blocks, ``>`` quotes, bare links): a markdown
  message goes as it is written, in Slack's dialect (CommonMark's ``**bold**`` and
  ``[label](url)`` are not converted); a plain message is sent with ``"mrkdwn": false`` so
  ``*`` and ``_`` stay characters. In both, ``&``, ``<`` and ``>`` are escaped as Slack asks
  (``&amp;`` ``&lt;`` ``&gt;``, nothing else): Slack reads ``<…>`` as links and mentions,
  and a member's name in a placeholder must never become ``<!channel>``.
- Slack truncates messages longer than 40,000 characters: ``check`` refuses them,
  counting the text as sent (escapes included), in characters.
- The answer is HTTP 200 with the body ``ok``. Errors are statuses with a short string:
  400 ``invalid_payload`` / ``no_text`` / ``user_not_found``, 403 ``action_prohibited``,
  404 ``channel_not_found`` / ``no_service`` (the webhook was removed), 410
  ``channel_is_archived`` → rejected; 500 ``rollup_error`` and other 5xx → retry.
- About one message per second per webhook, short bursts allowed: ``PACE = (1, 1)``.
  Beyond it Slack answers 429 with ``Retry-After`` in seconds → retry after it; without
  the header, after 30 s (Slack warns that an app that keeps sending while limited may be
  disabled). No message id is returned.

Read (search tool, corpus docs/pages):
- "Improving error conditions for Incoming Webhooks",
  https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks;
- "Rate Limits", https://api.slack.com/docs/rate-limits and the older
  https://github.com/slackhq/slack-api-docs/blob/master/page_rate_limits.md ("Incoming
  Webhooks … HTTP 429 Too Many Requests … a Retry-After header");
- "Truncating really long messages",
  https://api.slack.com/changelog/2018-04-truncating-really-long-messages (40,000
  characters), as cited in serilog-contrib/serilog-sinks-slackclient#14;
- the incoming-webhook error strings (no_service, no_text …) as listed by
  https://routeforms.com/tools/slack-webhook-error-decoder.
"""

from __future__ import annotations

import hashlib

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import base

NAME = "slack"
LABEL = gettext_lazy("Slack incoming webhook")
PACE = (1, 1)  # about one message a second per webhook
MAX_TEXT = 40_000  # characters; Slack truncates beyond
IDEMPOTENT = False  # no idempotency key: a delivery whose answer never came is unknown
DEFAULT_RETRY_AFTER = 30.0


def escape(text: str) -> str:
    """Slack's three control characters, and only those."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def check(message: base.Message, destination: base.Destination) -> list[str]:
    problems = []
    if not destination.url:
        problems.append(_("The Slack webhook URL is missing."))
    if not message.text.strip():
        problems.append(_("The message is empty."))
        return problems
    size = len(escape(message.text))
    if size > MAX_TEXT:
        if size == len(message.text):
            text = _(
                "Slack accepts at most %(limit)s characters of text; this message has %(size)s."
            )
        else:
            text = _(
                "Slack accepts at most %(limit)s characters of text; this message has "
                "%(size)s, counting &, < and > as Slack's &amp;, &lt; and &gt;."
            )
        problems.append(text % {"limit": f"{MAX_TEXT:,}", "size": f"{size:,}"})
    return problems


def pace_key(destination: base.Destination) -> str:
    return f"{NAME}:" + hashlib.sha256(destination.url.encode("utf-8")).hexdigest()[:24]


def payload(message: base.Message) -> dict:
    if message.markdown:
        return {"text": escape(message.text)}
    return {"text": escape(message.text), "mrkdwn": False}


def read(answer: base.Answer) -> base.Result:
    return base.by_status(answer, default_retry_after=DEFAULT_RETRY_AFTER)


def send(
    destination: base.Destination, message: base.Message, *, timeout: float = 10.0
) -> base.Result:
    return base.deliver(
        lambda: read(base.post_json(destination.url, payload(message), timeout=timeout))
    )
