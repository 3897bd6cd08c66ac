"""Feishu / Lark custom bot (飞书自定义机器人): POST the bot's webhook URL.

What the documentation says, and what this module does with it:

- The address is ``https://open.feishu.cn/open-apis/bot/v2/hook/<token>`` (Lark:
  open.larksuite.com); the token in the path is the credential, so ``pace_key`` hashes the URL.
- Text: ``{"msg_type": "text", "content": {"text": …}}``.
- Markdown: a custom bot's ``text`` shows the characters as typed and ``post`` (rich text) is
  a tree of tags, not markdown; an ``interactive`` message card renders markdown through its
  ``markdown`` element, so ``Message(markdown=True)`` is sent as
  ``{"msg_type": "interactive", "card": {"elements": [{"tag": "markdown", "content": …}]}}``
  (the card object itself, not a JSON string, as custom bots take it).
- Signature (安全设置 → 签名校验), when ``destination.secret`` is set: ``timestamp`` is unix
  **seconds** (a string, within an hour of Feishu's clock) and ``sign`` is
  ``base64(HmacSHA256(key = timestamp + "\\n" + secret, message = empty))``, both in the JSON
  body beside ``msg_type``. Note the key/message are the other way round from DingTalk's.
- Limits: "单租户单机器人 100 次/分钟，5 次/秒", so ``PACE = (5, 1)``; the per-minute limit is
  in ``PACES`` for a pacer that takes several (pacing.py takes one: a burst past 100/min
  comes back as a frequency-limit code, retried after the minute). "请求体的数据大小不能超过
  20 KB": ``check`` measures the body as it will be sent (20 × 1,024 bytes).
- The answer: ``{"code": 0, "msg": "success", …}``; older bots answer
  ``{"StatusCode": 0, "StatusMessage": "success"}`` — both read as sent. Codes: 11232
  (frequency limited, "系统压力导致的限流") → retry; 9499 is two things — ``"too many
  request"`` (the bot's rate limit, seen answered with HTTP 400) → retry, ``"Bad Request"``
  (a malformed or over-20 KB body) → rejected, so its ``msg`` decides; 19021 (sign match
  fail or timestamp not within one hour), 19022 (ip not allowed), 19024 (key words not
  found), 19001 (param invalid) and any other code → rejected. HTTP 429 / 5xx without a
  code → retry. Feishu gives no ``Retry-After`` to custom bots; the retry waits a minute
  (the wider of its two windows) unless a header says otherwise.
- No message id is returned to custom bots (``data`` is ``{}``).

Read (search tool, corpus docs/pages/issues):
- 自定义机器人使用指南, https://open.larkoffice.com/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN
  (also https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot): rate limits,
  20 KB, 11232, the three security settings, 19021/19022/19024, the success body with its
  redundant StatusCode, 9499 Bad Request (as quoted in
  https://blog.csdn.net/qq_43108153/article/details/136166075);
- the signing code in https://blog.csdn.net/weixin_43110609/article/details/121082091 and
  electricbubble/feishu-bot-api api.go (HMAC keyed with "timestamp\\nsecret", empty message);
- message card Markdown component, https://open.larkoffice.com/document/ukTMukTMukTM/uADOwUjLwgDM14CM4ATN;
- ccfos/nightingale#1437 (a real ``{"code":9499,"msg":"too many request"}`` with HTTP 400).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import base

NAME = "feishu"
LABEL = gettext_lazy("Feishu custom bot")
PACE = (5, 1)  # 5 per second per bot
PACES = ((5, 1), (100, 60))  # and 100 per minute
MAX_TEXT = 20 * 1024  # bytes of the whole request body, as Feishu counts its 20 KB
MAX_BODY = MAX_TEXT

RATE_LIMITED = {11232}
TOO_MANY = "too many request"  # 9499's msg when it means the rate limit
RATE_WINDOW_SECONDS = 60.0


def sign(timestamp: str, secret: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def payload(message: base.Message, secret: str = "", *, now: float | None = None) -> dict:
    if message.markdown:
        body: dict = {
            "msg_type": "interactive",
            "card": {"elements": [{"tag": "markdown", "content": message.text}]},
        }
    else:
        body = {"msg_type": "text", "content": {"text": message.text}}
    if secret:
        timestamp = str(int(time.time() if now is None else now))
        body = {"timestamp": timestamp, "sign": sign(timestamp, secret), **body}
    return body


def body_size(message: base.Message, secret: str = "") -> int:
    """Bytes of the body ``send`` will POST (serialised as base.post_json does)."""
    encoded = json.dumps(payload(message, secret), ensure_ascii=False, separators=(",", ":"))
    return len(encoded.encode("utf-8"))


def check(message: base.Message, destination: base.Destination) -> list[str]:
    problems = []
    if not destination.url:
        problems.append(_("The Feishu bot's webhook URL is missing."))
    if not message.text.strip():
        problems.append(_("The message is empty."))
    else:
        size = body_size(message, destination.secret)
        if size > MAX_BODY:
            problems.append(
                _(
                    "Feishu accepts a request of at most %(limit)s bytes (20 KB); "
                    "this message makes %(size)s."
                )
                % {"limit": f"{MAX_BODY:,}", "size": f"{size:,}"}
            )
    return problems


def pace_key(destination: base.Destination) -> str:
    return f"{NAME}:" + hashlib.sha256(destination.url.encode("utf-8")).hexdigest()[:24]


def read(answer: base.Answer) -> base.Result:
    body = answer.json()
    code = None
    if isinstance(body, dict):
        code = body.get("code", body.get("StatusCode"))
    if not isinstance(code, int):
        return base.by_status(answer, retry_after=base.retry_after_header(answer))
    msg = str(body.get("msg", body.get("StatusMessage", ""))).lower()
    return base.by_error_code(
        answer,
        code,
        rate_limited=code in RATE_LIMITED or (code == 9499 and TOO_MANY in msg),
        rate_wait=RATE_WINDOW_SECONDS,
    )


def send(
    destination: base.Destination, message: base.Message, *, timeout: float = 10.0
) -> base.Result:
    return base.deliver(
        lambda: read(
            base.post_json(destination.url, payload(message, destination.secret), timeout=timeout)
        )
    )
