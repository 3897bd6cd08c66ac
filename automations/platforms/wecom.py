"""WeCom group robot (企业微信群机器人): POST the robot's webhook URL.

What the documentation says, and what this module does with it:

- The robot's address is ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY``; the
  key is the credential ("一定要保护好机器人的webhook地址"), so the whole URL is kept secret
  and ``pace_key`` hashes it.
- Body ``{"msgtype": "text", "text": {"content": …}}``, content "最长不超过2048个字节，必须是
  utf8编码"; ``{"msgtype": "markdown", "markdown": {"content": …}}``, "最长不超过4096个字节"
  (a subset of markdown: headings, bold, links, quotes, inline code, three font colours).
  Both limits are in **bytes of UTF-8**, so a Chinese character counts three; ``check``
  counts bytes and says so.
- "每个机器人发送的消息不能超过20条/分钟": ``PACE = (20, 60)`` per robot.
- The answer is HTTP 200 with ``{"errcode": 0, "errmsg": "ok"}``, or a non-zero ``errcode``
  in the body: read the body first. 45009 (接口调用超过限制, "api freq out of limit") →
  retry after the minute window (60 s); -1 (系统繁忙, "建议稍候重试") → retry; 93000
  (invalid webhook url), 40008 (不合法的msgtype), 44004 (empty content), 40058 (e.g.
  "markdown.content exceed max length 4096") and any other code → rejected. No answer
  body (a proxy's 5xx) → the usual reading of the status.
- No message id is returned.

Read (search tool, corpus docs/pages/issues):
- 群机器人配置说明, https://developer.work.weixin.qq.com/document/path/99398 (and 91770), as
  quoted in https://cnblogs.com/tiandi/p/17768525.html, https://blog.csdn.net/xiaozukun/article/details/135717656
  (text ≤ 2048 bytes, msg types, webhook form) and https://aecore.glodon.com/docs/colibri/api_3_qywxApi.html
  (markdown ≤ 4096 bytes, 20 messages/minute per robot);
- 全局错误码, https://developer.work.weixin.qq.com/document/path/90455 (-1, 40008, 45009 …);
- dromara/domain-admin#82 (a real 40058 "markdown.content exceed max length 4096" answer).
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import base

NAME = "wecom"
LABEL = gettext_lazy("WeCom group robot")
PACE = (20, 60)  # 20 messages per minute per robot
MAX_TEXT = 2048  # bytes of UTF-8, text messages
MAX_MARKDOWN = 4096  # bytes of UTF-8, markdown messages

RATE_LIMITED = {45009}
BUSY = {-1}
RATE_WINDOW_SECONDS = 60.0


def _limit(message: base.Message) -> int:
    return MAX_MARKDOWN if message.markdown else MAX_TEXT


def check(message: base.Message, destination: base.Destination) -> list[str]:
    problems = []
    if not destination.url:
        problems.append(_("The WeCom robot's webhook URL is missing."))
    elif not parse_qs(urlsplit(destination.url).query).get("key"):
        problems.append(
            _("The WeCom webhook URL has no key= part: copy the whole address from the robot.")
        )
    size = len(message.text.encode("utf-8"))
    if not message.text.strip():
        problems.append(_("The message is empty."))
    elif size > _limit(message):
        if message.markdown:
            text = _(
                "WeCom accepts at most %(limit)s bytes of markdown; this message has %(size)s."
            )
        else:
            text = _("WeCom accepts at most %(limit)s bytes of text; this message has %(size)s.")
        problems.append(text % {"limit": f"{_limit(message):,}", "size": f"{size:,}"})
    return problems


def pace_key(destination: base.Destination) -> str:
    return f"{NAME}:" + hashlib.sha256(destination.url.encode("utf-8")).hexdigest()[:24]


def payload(message: base.Message) -> dict:
    if message.markdown:
        return {"msgtype": "markdown", "markdown": {"content": message.text}}
    return {"msgtype": "text", "text": {"content": message.text}}


def read(answer: base.Answer) -> base.Result:
    return base.read_errcode(
        answer, rate_limited=RATE_LIMITED, busy=BUSY, rate_wait=RATE_WINDOW_SECONDS
    )


def send(
    destination: base.Destination, message: base.Message, *, timeout: float = 10.0
) -> base.Result:
    return base.deliver(
        lambda: read(base.post_json(destination.url, payload(message), timeout=timeout))
    )
