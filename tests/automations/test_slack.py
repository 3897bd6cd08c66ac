"""Slack incoming webhook against the stand-in, answering as Slack documents: 200 "ok", or a
status with a short error string; 429 with Retry-After."""

import pytest

from automations.platforms import get_platform, platform_names, slack
from automations.platforms.base import Destination, Message, Outcome

PATH = "/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX"


def hook(standin) -> Destination:
    return Destination(url=f"{standin.url}{PATH}")


def test_markdown_goes_as_mrkdwn_text_and_ok_is_sent(standin):
    standin.reply(200, body=b"ok", headers={"Content-Type": "text/html"})
    text = "*周六* 读书会 <!channel> & _欢迎_"
    result = slack.send(hook(standin), Message(text, markdown=True))
    assert (result.outcome, result.status, result.detail) == (Outcome.SENT, 200, "ok")
    assert result.message_id == ""
    [request] = standin.requests
    assert request.path == PATH
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    # Slack's three escapes: a mention typed (or pasted through a placeholder) stays text.
    assert request.json == {"text": "*周六* 读书会 &lt;!channel&gt; &amp; _欢迎_"}
    assert "周六".encode() in request.body


def test_plain_text_turns_mrkdwn_off(standin):
    standin.reply(200, body=b"ok")
    assert slack.send(hook(standin), Message("2*3 = 6, file_name")).outcome == Outcome.SENT
    assert standin.requests[0].json == {"text": "2*3 = 6, file_name", "mrkdwn": False}


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, "invalid_payload"),
        (400, "no_text"),
        (403, "action_prohibited"),
        (404, "channel_not_found"),
        (404, "no_service"),
        (410, "channel_is_archived"),
    ],
)
def test_slacks_errors_are_rejected_not_retried(standin, status, error):
    standin.reply(status, body=error.encode())
    result = slack.send(hook(standin), Message("hi"))
    assert (result.outcome, result.status, result.detail) == (Outcome.REJECTED, status, error)
    assert len(standin.requests) == 1


def test_429_is_retry_after_slacks_header_or_thirty_seconds(standin):
    standin.reply(429, body=b"rate_limited", headers={"Retry-After": "3"})
    standin.reply(429, body=b"rate_limited")
    first = slack.send(hook(standin), Message("hi"))
    assert (first.outcome, first.status, first.retry_after) == (Outcome.RETRY, 429, 3.0)
    second = slack.send(hook(standin), Message("hi"))
    assert (second.outcome, second.retry_after) == (Outcome.RETRY, 30.0)


def test_a_server_error_is_retry_a_refused_connection_too(standin, closed_port):
    standin.reply(500, body=b"rollup_error")
    result = slack.send(hook(standin), Message("hi"))
    assert (result.outcome, result.status) == (Outcome.RETRY, 500)
    assert slack.send(Destination(url=f"{closed_port}{PATH}"), Message("hi")).outcome == (
        Outcome.RETRY
    )


def test_no_answer_after_sending_is_unknown(standin):
    standin.reply(200, body=b"ok", delay=1.5)
    result = slack.send(hook(standin), Message("hi"), timeout=0.5)
    assert result.outcome == Outcome.UNKNOWN
    assert len(standin.requests) == 1
    assert slack.IDEMPOTENT is False  # so it is not resent blindly


def test_check_counts_characters_as_sent():
    destination = Destination(url=f"https://hooks.slack.com{PATH}")
    # Characters, not bytes: 40,000 Chinese characters (120,000 bytes) are within the limit.
    assert slack.check(Message("群" * 40_000), destination) == []
    assert slack.check(Message("a" * 40_001), destination) == [
        "Slack accepts at most 40,000 characters of text; this message has 40,001."
    ]
    # 39,998 characters and one "&", sent as "&amp;": 40,003.
    assert slack.check(Message("a" * 39_998 + "&"), destination) == [
        "Slack accepts at most 40,000 characters of text; this message has 40,003, "
        "counting &, < and > as Slack's &amp;, &lt; and &gt;."
    ]


def test_check_names_a_missing_url_or_text():
    assert slack.check(Message("hi"), Destination(url="")) == ["The Slack webhook URL is missing."]
    assert slack.check(Message(" \n"), Destination(url=f"https://hooks.slack.com{PATH}")) == [
        "The message is empty."
    ]


def test_the_pace_is_per_webhook_and_keeps_the_url_out():
    one = slack.pace_key(Destination(url=f"https://hooks.slack.com{PATH}"))
    other = slack.pace_key(Destination(url="https://hooks.slack.com/services/T1/B2/other"))
    assert one.startswith("slack:") and one != other
    assert "XXXX" not in one and "T0001" not in one
    assert slack.PACE == (1, 1)


def test_it_is_registered():
    assert "slack" in platform_names()
    assert get_platform("slack") is slack


def test_check_speaks_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert slack.check(Message("a" * 40_001), Destination(url="https://x")) == [
            "Slack 最多接受 40,000 个字符的文本；此消息有 40,001 个字符。"
        ]
