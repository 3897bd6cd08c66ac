"""DingTalk custom robot (钉钉自定义机器人): POST the robot's webhook URL.

What the documentation says, and what this module does with it:

- The address is ``https://oapi.dingtalk.com/robot/send?access_token=…``; the token is the
  credential, so ``pace_key`` hashes it. "发起POST请求时，必须将字符集编码设置成UTF-8":
  base.post_json sends ``application/json; charset=utf-8``.
- Text: ``{"msgtype": "text", "text": {"content": …}}``. Markdown:
  ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; the title is what the
  chat list shows ("首屏会话透出的展示内容") and is required, so it is the message's first
  non-empty line with heading marks (``#``) and spaces trimmed.
- Signature (安全设置 → 加签), when ``destination.secret`` (the ``SEC…`` string) is set:
  ``timestamp`` in **milliseconds**, ``sign = urlencode(base64(HmacSHA256(key = secret,
  message = timestamp + "\\n" + secret)))``, both appended to the URL as query parameters
  (``&timestamp=…&sign=…``). Note the key/message are the other way round from Feishu's.
- Limits: "每个机器人每分钟最多发送20条消息到群里，如果超过20条，会限流10分钟": ``PACE =
  (20, 60)``, and when the limit answers anyway (130101 "send too fast, exceed 20 times per
  minute", 410100 发送速度太快而限流) the retry waits the **10 minutes** of the penalty
  (retrying after one minute would only meet the same refusal). The body may be at most
  20,000 bytes (460101 "message too long, exceed 20000 bytes" / "body 大小不合法：请保持大小
  在 20000bytes 以内"): ``check`` measures the body as it will be sent.
- The answer: HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``, or a non-zero ``errcode``:
  130101 / 410100 → retry after 600 s; -1 (系统繁忙, "建议稍后再重试") → retry; 310000
  (keywords not in content / sign not match / invalid timestamp / ip not in whitelist),
  300001, 460101 and any other code → rejected. HTTP 429 / 5xx without a code → retry.
- No message id is returned.

Read (search tool, corpus docs/pages/issues):
- 自定义机器人接入, https://open.dingtalk.com/document/group/custom-robot-access (and
  robot-message-type), as quoted in https://cnblogs.com/Fogram-c/p/16992729.html,
  https://blog.csdn.net/lxw1844912514/article/details/125780346 (20/min, 10-minute penalty,
  UTF-8, message types) and https://blog.csdn.net/weixin_43564241/article/details/139138811
  (加签: milliseconds, HmacSHA256, Base64, urlEncode, timestamp & sign in the URL);
- https://blog.csdn.net/jialiuyang/article/details/118615052 (a real 130101 answer);
- timonwong/prometheus-webhook-dingtalk#197, x-cold/dingtalk-robot#7, jenkinsci/dingtalk-plugin#116
  (310000 keywords / sign not match / invalid timestamp); Le0nsec/SecCrawler#12,
  feiyu563/PrometheusAlert#318 (460101, the 20,000-byte body);
- 全局错误码 (-1 系统繁忙), https://mabiji.com/dingtalk/errcode.html.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import base

NAME = "dingtalk"
LABEL = gettext_lazy("DingTalk custom robot")
PACE = (20, 60)  # 20 messages per minute per robot
MAX_TEXT = 20000  # bytes of the whole request body
MAX_BODY = MAX_TEXT

RATE_LIMITED = {130101, 410100}
BUSY = {-1}
PENALTY_SECONDS = 600.0  # "如果超过20条，会限流10分钟"


def sign(timestamp: str, secret: str) -> str:
    """The base64 signature, before URL-encoding."""
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode("ascii")


def signed_url(url: str, secret: str, *, now: float | None = None) -> str:
    if not secret:
        return url
    timestamp = str(int((time.time() if now is None else now) * 1000))
    query = urlencode({"timestamp": timestamp, "sign": sign(timestamp, secret)})
    return f"{url}{'&' if '?' in url else '?'}{query}"


def title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line
    return ""


def payload(message: base.Message) -> dict:
    if message.markdown:
        return {
            "msgtype": "markdown",
            "markdown": {"title": title(message.text), "text": message.text},
        }
    return {"msgtype": "text", "text": {"content": message.text}}


def body_size(message: base.Message) -> int:
    """Bytes of the body ``send`` will POST (serialised as base.post_json does)."""
    encoded = json.dumps(payload(message), ensure_ascii=False, separators=(",", ":"))
    return len(encoded.encode("utf-8"))


def _token(url: str) -> str:
    return (parse_qs(urlsplit(url).query).get("access_token") or [""])[0]


def check(message: base.Message, destination: base.Destination) -> list[str]:
    problems = []
    if not destination.url:
        problems.append(_("The DingTalk robot's webhook URL is missing."))
    elif not _token(destination.url):
        problems.append(
            _(
                "The DingTalk webhook URL has no access_token= part: "
                "copy the whole address from the robot."
            )
        )
    if not message.text.strip():
        problems.append(_("The message is empty."))
    else:
        size = body_size(message)
        if size > MAX_BODY:
            problems.append(
                _(
                    "DingTalk accepts a request of at most %(limit)s bytes; "
                    "this message makes %(size)s."
                )
                % {"limit": f"{MAX_BODY:,}", "size": f"{size:,}"}
            )
    return problems


def pace_key(destination: base.Destination) -> str:
    robot = _token(destination.url) or destination.url
    return f"{NAME}:" + hashlib.sha256(robot.encode("utf-8")).hexdigest()[:24]


def read(answer: base.Answer) -> base.Result:
    return base.read_errcode(
        answer, rate_limited=RATE_LIMITED, busy=BUSY, rate_wait=PENALTY_SECONDS
    )


def send(
    destination: base.Destination, message: base.Message, *, timeout: float = 10.0
) -> base.Result:
    return base.deliver(
        lambda: read(
            base.post_json(
                signed_url(destination.url, destination.secret), payload(message), timeout=timeout
            )
        )
    )
