"""Telegram Bot API sendMessage against a stand-in answering as the Bot API documents."""

import pytest

from automations.platforms import get_platform, platform_names, telegram
from automations.platforms.base import Destination, Message, Outcome

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"

SENT = {
    "ok": True,
    "result": {
        "message_id": 4242,
        "from": {"id": 123456, "is_bot": True, "first_name": "CommunityOps"},
        "chat": {"id": -1001234567890, "title": "Readers", "type": "supergroup"},
        "date": 1764600000,
        "text": "hello",
    },
}


def destination(base_url, chat_id="-1001234567890", **extra):
    return Destination(url=base_url, token=TOKEN, chat_id=chat_id, extra=extra)


def refusal(code, description, **parameters):
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def test_sent_keeps_the_message_id_and_the_request_is_shaped_as_documented(standin):
    standin.reply(200, json_body=SENT)
    result = telegram.send(destination(standin.url), Message("hello <b> & more"))
    assert (result.outcome, result.status, result.message_id) == (Outcome.SENT, 200, "4242")
    request = standin.requests[0]
    assert request.path == f"/bot{TOKEN}/sendMessage"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    # plain text: no parse mode, sent exactly as written (Telegram parses nothing)
    assert request.json == {"chat_id": -1001234567890, "text": "hello <b> & more"}


def test_a_channel_username_is_sent_as_a_string_and_previews_can_be_turned_off(standin):
    standin.reply(200, json_body=SENT)
    telegram.send(
        destination(standin.url + "/", chat_id="@readers", disable_link_preview=True),
        Message("see https://example.com"),
    )
    request = standin.requests[0]
    assert request.path == f"/bot{TOKEN}/sendMessage"  # a trailing slash on the base is fine
    assert request.json == {
        "chat_id": "@readers",
        "text": "see https://example.com",
        "link_preview_options": {"is_disabled": True},
    }


def test_markdown_is_sent_as_telegram_html_with_the_text_escaped(standin):
    standin.reply(200, json_body=SENT)
    telegram.send(
        destination(standin.url),
        Message('**Tonight** 1 < 2 && 3 > 2, see [the "plan"](https://example.com/?a=1&b=2)', True),
    )
    assert standin.requests[0].json == {
        "chat_id": -1001234567890,
        "text": (
            "<b>Tonight</b> 1 &lt; 2 &amp;&amp; 3 &gt; 2, see "
            '<a href="https://example.com/?a=1&amp;b=2">the "plan"</a>'
        ),
        "parse_mode": "HTML",
    }


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ("**bold** and __bold__", "<b>bold</b> and <b>bold</b>"),
        ("*italic* and _italic_", "<i>italic</i> and <i>italic</i>"),
        ("~~gone~~", "<s>gone</s>"),
        ("**bold _italic inside_ bold**", "<b>bold <i>italic inside</i> bold</b>"),
        ("`a<b> & c`", "<code>a&lt;b&gt; &amp; c</code>"),
        (
            "```python\nif a < b:\n    pass\n```",
            '<pre><code class="language-python">if a &lt; b:\n    pass\n</code></pre>',
        ),
        ("```\n<tag>\n```", "<pre>&lt;tag&gt;\n</pre>"),
        ("# Weekly meetup\ntext", "<b>Weekly meetup</b>\ntext"),
        ("snake_case_name and 2 * 3 * 4", "snake_case_name and 2 * 3 * 4"),
        ("* a list item\n* another", "* a list item\n* another"),
        ("**not closed", "**not closed"),
        ("**a `code` b**", "**a <code>code</code> b**"),  # bold may not contain code: literal
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),  # only http(s) links
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("&amp; stays as typed", "&amp;amp; stays as typed"),
        ("**活动** 明天 *见*", "<b>活动</b> 明天 <i>见</i>"),
    ],
)
def test_markdown_to_telegram_html(markdown, html):
    assert telegram.markdown_to_html(markdown) == html


def test_every_tag_the_converter_writes_is_one_telegram_supports_and_is_closed():
    import re

    text = "# T\n**b _i ~~s~~_** `c` [l](https://x.org) <u>raw</u> ```\npre\n``` _x_ & > <"
    converted = telegram.markdown_to_html(text)
    stack = []
    for closing, name in re.findall(r"<(/?)([a-z]+)[^>]*>", converted):
        assert name in {"b", "i", "s", "code", "pre", "a"}
        if closing:
            assert stack.pop() == name
        else:
            stack.append(name)
    assert stack == []
    assert "&lt;u&gt;raw&lt;/u&gt;" in converted  # the user's own tags are text, not markup


def test_flood_control_retries_after_the_parameters_retry_after(standin):
    standin.reply(429, json_body=refusal(429, "Too Many Requests: retry after 17", retry_after=17))
    result = telegram.send(destination(standin.url), Message("hi"))
    assert (result.outcome, result.status, result.retry_after) == (Outcome.RETRY, 429, 17.0)
    assert "retry after 17" in result.detail


def test_flood_control_without_parameters_uses_the_header_then_a_default(standin):
    standin.reply(429, json_body=refusal(429, "Too Many Requests"), headers={"Retry-After": "9"})
    standin.reply(429, json_body=refusal(429, "Too Many Requests"))
    assert telegram.send(destination(standin.url), Message("hi")).retry_after == 9.0
    assert telegram.send(destination(standin.url), Message("hi")).retry_after == (
        telegram.DEFAULT_RETRY_AFTER
    )


@pytest.mark.parametrize(
    ("status", "description", "parameters"),
    [
        (400, "Bad Request: chat not found", {}),
        (400, "Bad Request: message is too long", {}),
        (
            400,
            'Bad Request: can\'t parse entities: Unsupported start tag "u2" at byte offset 4',
            {},
        ),
        (
            400,
            "Bad Request: group chat was upgraded to a supergroup chat",
            {"migrate_to_chat_id": -1009},
        ),
        (401, "Unauthorized", {}),
        (403, "Forbidden: bot was kicked from the group chat", {}),
        (404, "Not Found", {}),
    ],
)
def test_refusals_are_rejected_and_not_retried(standin, status, description, parameters):
    standin.reply(status, json_body=refusal(status, description, **parameters))
    result = telegram.send(destination(standin.url), Message("hi"))
    assert (result.outcome, result.status, result.retry_after) == (Outcome.REJECTED, status, None)
    assert result.detail.startswith(description)  # the description, as staff read it
    assert all(str(value) in result.detail for value in parameters.values())
    assert len(standin.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_retried(standin, status):
    standin.reply(status, json_body=refusal(status, "Internal Server Error"))
    standin.reply(502, body=b"<html>Bad Gateway</html>")  # a proxy's page, not the Bot API
    first = telegram.send(destination(standin.url), Message("hi"))
    second = telegram.send(destination(standin.url), Message("hi"))
    assert (first.outcome, first.status) == (Outcome.RETRY, status)
    assert (second.outcome, second.status) == (Outcome.RETRY, 502)


def test_a_2xx_that_is_not_the_bot_apis_answer_is_unknown(standin):
    standin.reply(200, body=b"<html>captive portal</html>")
    assert telegram.send(destination(standin.url), Message("hi")).outcome == Outcome.UNKNOWN


def test_refused_connection_is_retry_and_a_silent_telegram_is_unknown(standin, closed_port):
    refused = telegram.send(destination(closed_port), Message("hi"))
    assert (refused.outcome, refused.status) == (Outcome.RETRY, None)
    standin.reply(200, json_body=SENT, delay=1.5)
    silent = telegram.send(destination(standin.url), Message("hi"), timeout=0.5)
    assert silent.outcome == Outcome.UNKNOWN
    assert len(standin.requests) == 1


def test_the_token_is_redacted_from_every_detail(standin):
    bad_base = telegram.send(destination("ftp://api.telegram.org"), Message("hi"))
    assert "not an http(s) URL" in bad_base.detail and TOKEN not in bad_base.detail
    assert "<token>" in bad_base.detail
    # even a platform (or proxy) that echoes the path, percent-encoded or not
    encoded = "123456%3AABC-DEF1234ghIkl-zyx57W2v1u123ew11"
    standin.reply(404, body=f"no route /bot{TOKEN}/sendMessage /bot{encoded}".encode())
    echoed = telegram.send(destination(standin.url), Message("hi"))
    assert echoed.outcome == Outcome.REJECTED
    assert TOKEN not in echoed.detail and "ABC-DEF1234ghIkl" not in echoed.detail


def test_the_default_api_base_is_telegrams():
    assert telegram.DEFAULT_API == "https://api.telegram.org"


def test_check_counts_the_text_telegram_shows_in_utf16_units():
    where = Destination(url="", token=TOKEN, chat_id="-100")
    assert telegram.check(Message("字" * 4096), where) == []
    # markup is not text: 4,096 visible characters plus bold markers still fit
    assert telegram.check(Message("**" + "a" * 4096 + "**", markdown=True), where) == []
    # an escaped & counts once, as Telegram shows it
    assert telegram.check(Message("&" * 4096, markdown=True), where) == []
    assert telegram.check(Message("a" * 4097), where) == [
        "Telegram accepts at most 4,096 characters of text (an emoji counts as two); "
        "this message has 4,097."
    ]
    assert telegram.check(Message("😀" * 2049), where) == [
        "Telegram accepts at most 4,096 characters of text (an emoji counts as two); "
        "this message has 4,098."
    ]


def test_check_names_missing_credentials_and_an_empty_message():
    assert telegram.check(Message(" \n"), Destination(url="")) == [
        "The Telegram bot token is missing.",
        "The Telegram chat id is missing.",
        "Telegram does not accept an empty message.",
    ]
    assert telegram.check(Message("**  **", markdown=True), Destination(url="")) != []
    wrong = Destination(url="", token="../getMe?x=", chat_id="1")
    assert telegram.check(Message("hi"), wrong) == [
        "This does not look like a Telegram bot token (digits, a colon, then letters)."
    ]


def test_pace_key_is_per_bot_and_chat_without_the_token():
    key = telegram.pace_key(Destination(url="", token=TOKEN, chat_id="-100"))
    assert TOKEN not in key and "ABC-DEF" not in key and key.endswith(":-100")
    assert key != telegram.pace_key(Destination(url="", token=TOKEN, chat_id="-200"))
    assert key != telegram.pace_key(Destination(url="", token="9:other", chat_id="-100"))
    count, seconds = telegram.PACE
    assert count / seconds <= 1 and count * 60 / seconds <= 20


def test_registered():
    assert "telegram" in platform_names()
    assert get_platform("telegram") is telegram
    assert str(telegram.LABEL) == "Telegram bot"


def test_check_speaks_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        errors = telegram.check(Message("a" * 4097), Destination(url="", token=TOKEN))
    assert errors == [
        "缺少 Telegram 聊天 ID（chat_id）。",
        "Telegram 最多接受 4,096 个字符的文本（一个表情符号算两个）；这条消息有 4,097 个。",
    ]
