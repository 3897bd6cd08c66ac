"""Feishu custom bot against the stand-in, answering as Feishu's documentation says: the
outcome in ``code`` (or the older ``StatusCode``), the signature in the body."""

import base64
import hashlib
import hmac
import time

import pytest

from automations.platforms import feishu, get_platform, platform_names
from automations.platforms.base import Destination, Message, Outcome

SECRET = "nIMtb7r3N9pkXyXdtAbx6e"
SUCCESS = {"code": 0, "msg": "success", "data": {}}


def bot(standin, secret=SECRET) -> Destination:
    return Destination(url=f"{standin.url}/open-apis/bot/v2/hook/5e3d587e-d78e", secret=secret)


def expected_sign(timestamp: str, secret: str) -> str:
    # Feishu's documented algorithm, written out again: the HMAC key is "timestamp\nsecret",
    # the message empty, the digest base64
    digest = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_a_signed_text_is_sent_as_feishu_documents_it(standin):
    standin.reply(200, json_body=SUCCESS)
    before = int(time.time())
    result = feishu.send(bot(standin), Message("今晚 8 点读书会"))
    assert (result.outcome, result.status) == (Outcome.SENT, 200)
    [request] = standin.requests
    assert request.path == "/open-apis/bot/v2/hook/5e3d587e-d78e"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    body = request.json
    assert set(body) == {"timestamp", "sign", "msg_type", "content"}
    assert (body["msg_type"], body["content"]) == ("text", {"text": "今晚 8 点读书会"})
    assert isinstance(body["timestamp"], str)
    assert before <= int(body["timestamp"]) <= time.time()  # seconds, not milliseconds
    assert body["sign"] == expected_sign(body["timestamp"], SECRET)
    assert body["sign"] != expected_sign(body["timestamp"], "another secret")


def test_without_a_secret_nothing_is_signed(standin):
    standin.reply(200, json_body=SUCCESS)
    feishu.send(bot(standin, secret=""), Message("hi"))
    assert standin.requests[0].json == {"msg_type": "text", "content": {"text": "hi"}}


def test_markdown_goes_as_a_card_with_a_markdown_element(standin):
    standin.reply(200, json_body=SUCCESS)
    text = "**本周活动**\n- 周六 14:00 [报名](https://example.com)"
    assert feishu.send(bot(standin, secret=""), Message(text, markdown=True)).outcome == (
        Outcome.SENT
    )
    assert standin.requests[0].json == {
        "msg_type": "interactive",
        "card": {"elements": [{"tag": "markdown", "content": text}]},
    }


def test_the_older_status_code_answer_is_sent_too(standin):
    standin.reply(200, json_body={"StatusCode": 0, "StatusMessage": "success"})
    assert feishu.send(bot(standin), Message("hi")).outcome == Outcome.SENT


@pytest.mark.parametrize(
    ("status", "answer"),
    [
        (200, {"code": 11232, "msg": "frequency limited psm[lark.oapi.app_platform_runtime]"}),
        (400, {"code": 9499, "msg": "too many request", "data": {}}),
        (429, {"code": 99991400, "msg": "request trigger frequency limit"}),
    ],
)
def test_frequency_limits_are_retry_after_a_minute(standin, status, answer):
    standin.reply(status, json_body=answer)
    result = feishu.send(bot(standin), Message("hi"))
    assert (result.outcome, result.status, result.retry_after) == (Outcome.RETRY, status, 60.0)


def test_a_retry_after_header_wins_over_the_default(standin):
    standin.reply(429, body=b"", headers={"Retry-After": "3"})
    result = feishu.send(bot(standin), Message("hi"))
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 3.0)


@pytest.mark.parametrize(
    "answer",
    [
        {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"},
        {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"},
        {"code": 19024, "msg": "Key Words Not Found"},
        {"code": 19022, "msg": "Ip Not Allowed"},
        {"code": 9499, "msg": "Bad Request", "data": {}},
        {"code": 4242, "msg": "something new"},
    ],
)
def test_refusals_are_rejected_not_sent(standin, answer):
    standin.reply(200, json_body=answer)
    result = feishu.send(bot(standin), Message("hi"))
    assert result.outcome == Outcome.REJECTED
    assert answer["msg"] in result.detail
    assert len(standin.requests) == 1


def test_a_server_error_is_retry_a_refused_connection_too(standin, closed_port):
    standin.reply(503, body=b"Service Unavailable")
    assert feishu.send(bot(standin), Message("hi")).outcome == Outcome.RETRY
    refused = Destination(url=f"{closed_port}/open-apis/bot/v2/hook/x", secret=SECRET)
    assert feishu.send(refused, Message("hi")).outcome == Outcome.RETRY


def test_no_answer_after_sending_is_unknown(standin):
    standin.reply(200, json_body=SUCCESS, delay=1.5)
    result = feishu.send(bot(standin), Message("hi"), timeout=0.5)
    assert result.outcome == Outcome.UNKNOWN
    assert len(standin.requests) == 1


def test_check_measures_the_request_body_in_bytes(standin):
    destination = Destination(url="https://open.feishu.cn/open-apis/bot/v2/hook/x", secret=SECRET)
    # the body around the text, signed: what the limit counts
    overhead = feishu.body_size(Message(""), SECRET)
    room = feishu.MAX_BODY - overhead
    assert feishu.check(Message("a" * room), destination) == []
    over = Message("群" * (room // 3 + 1))  # fewer characters than the room, more bytes
    size = feishu.body_size(over, SECRET)
    assert size > feishu.MAX_BODY
    assert feishu.check(over, destination) == [
        f"Feishu accepts a request of at most 20,480 bytes (20 KB); this message makes {size:,}."
    ]
    # and the check measures what send() really posts
    standin.reply(200, json_body=SUCCESS)
    feishu.send(bot(standin), Message("a" * room))
    assert len(standin.requests[0].body) == feishu.MAX_BODY


def test_check_names_a_missing_url_or_text():
    assert feishu.check(Message("hi"), Destination(url="")) == [
        "The Feishu bot's webhook URL is missing."
    ]
    assert feishu.check(Message(" \n"), Destination(url="https://x/hook")) == [
        "The message is empty."
    ]


def test_the_pace_is_per_bot_and_keeps_the_token_out():
    one = feishu.pace_key(Destination(url="https://open.feishu.cn/open-apis/bot/v2/hook/tok-1"))
    other = feishu.pace_key(Destination(url="https://open.feishu.cn/open-apis/bot/v2/hook/tok-2"))
    assert one.startswith("feishu:") and one != other and "tok-1" not in one
    assert feishu.PACE == (5, 1)


def test_it_is_registered():
    assert "feishu" in platform_names()
    assert get_platform("feishu") is feishu
