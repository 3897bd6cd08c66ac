"""DingTalk custom robot against the stand-in, answering as DingTalk's documentation says:
HTTP 200, the outcome in ``errcode``, the signature in the URL."""

import base64
import hashlib
import hmac
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from automations.platforms import dingtalk, get_platform, platform_names
from automations.platforms.base import Destination, Message, Outcome

TOKEN = "566cc69da782ec"
SECRET = "SEC19dd84be8c7f3cf71761974f1ed3ef77c1451906ae8ba18acf56103ee"
OK = {"errcode": 0, "errmsg": "ok"}


def robot(standin, secret=SECRET) -> Destination:
    return Destination(url=f"{standin.url}/robot/send?access_token={TOKEN}", secret=secret)


def expected_sign(timestamp: str, secret: str) -> str:
    # DingTalk's documented algorithm, written out again: HMAC keyed with the secret over
    # "timestamp\nsecret", base64 (the URL-encoding is undone by parse_qs)
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def test_a_signed_text_is_sent_as_dingtalk_documents_it(standin):
    standin.reply(200, json_body=OK)
    before = time.time() * 1000
    result = dingtalk.send(robot(standin), Message("今晚 8 点读书会"))
    assert (result.outcome, result.status, result.message_id) == (Outcome.SENT, 200, "")
    [request] = standin.requests
    parts = urlsplit(request.path)
    assert parts.path == "/robot/send"
    assert parts.query.startswith(f"access_token={TOKEN}&timestamp=")
    query = parse_qs(parts.query)
    assert set(query) == {"access_token", "timestamp", "sign"}
    timestamp = query["timestamp"][0]
    assert before - 1 <= int(timestamp) <= time.time() * 1000  # milliseconds
    assert query["sign"][0] == expected_sign(timestamp, SECRET)
    # URL-encoded on the wire: base64's '+', '/' and '=' never appear raw in the query
    raw_sign = parts.query.split("sign=", 1)[1]
    assert not set("+/=") & set(raw_sign)
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json == {"msgtype": "text", "text": {"content": "今晚 8 点读书会"}}


def test_without_a_secret_the_url_is_left_alone(standin):
    standin.reply(200, json_body=OK)
    dingtalk.send(robot(standin, secret=""), Message("hi"))
    assert standin.requests[0].path == f"/robot/send?access_token={TOKEN}"


def test_markdown_carries_its_first_line_as_the_title(standin):
    standin.reply(200, json_body=OK)
    text = "\n## 本周活动  \n- 周六 14:00\n- [报名](https://example.com)"
    assert dingtalk.send(robot(standin), Message(text, markdown=True)).outcome == Outcome.SENT
    assert standin.requests[0].json == {
        "msgtype": "markdown",
        "markdown": {"title": "本周活动", "text": text},
    }


@pytest.mark.parametrize(
    ("code", "errmsg"),
    [(130101, "send too fast, exceed 20 times per minute"), (410100, "发送速度太快而限流")],
)
def test_send_too_fast_is_retry_after_the_ten_minute_penalty(standin, code, errmsg):
    standin.reply(200, json_body={"errcode": code, "errmsg": errmsg})
    result = dingtalk.send(robot(standin), Message("hi"))
    assert (result.outcome, result.status, result.retry_after) == (Outcome.RETRY, 200, 600.0)


def test_system_busy_is_retry(standin):
    standin.reply(200, json_body={"errcode": -1, "errmsg": "系统繁忙"})
    assert dingtalk.send(robot(standin), Message("hi")).outcome == Outcome.RETRY


@pytest.mark.parametrize(
    ("code", "errmsg"),
    [
        (310000, "keywords not in content"),
        (310000, "sign not match"),
        (310000, "invalid timestamp"),
        (300001, "token is not exist"),
        (460101, "message too long, exceed 20000 bytes"),
        (400102, "robot stopped"),
    ],
)
def test_refusals_are_rejected_not_sent(standin, code, errmsg):
    standin.reply(200, json_body={"errcode": code, "errmsg": errmsg})
    result = dingtalk.send(robot(standin), Message("hi"))
    assert (result.outcome, result.status) == (Outcome.REJECTED, 200)
    assert errmsg in result.detail
    assert len(standin.requests) == 1


def test_a_server_error_is_retry_a_refused_connection_too(standin, closed_port):
    standin.reply(500, body=b"Internal Server Error")
    assert dingtalk.send(robot(standin), Message("hi")).outcome == Outcome.RETRY
    refused = Destination(url=f"{closed_port}/robot/send?access_token={TOKEN}", secret=SECRET)
    assert dingtalk.send(refused, Message("hi")).outcome == Outcome.RETRY


def test_no_answer_after_sending_is_unknown(standin):
    standin.reply(200, json_body=OK, delay=1.5)
    result = dingtalk.send(robot(standin), Message("hi"), timeout=0.5)
    assert result.outcome == Outcome.UNKNOWN
    assert len(standin.requests) == 1


def test_check_measures_the_request_body_in_bytes(standin):
    destination = Destination(url=f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}")
    room = dingtalk.MAX_BODY - dingtalk.body_size(Message(""))
    assert dingtalk.check(Message("a" * room), destination) == []
    over = Message("群" * (room // 3 + 1))  # fewer characters than the room, more bytes
    size = dingtalk.body_size(over)
    assert size > dingtalk.MAX_BODY
    assert dingtalk.check(over, destination) == [
        f"DingTalk accepts a request of at most 20,000 bytes; this message makes {size:,}."
    ]
    standin.reply(200, json_body=OK)
    dingtalk.send(robot(standin), Message("a" * room))
    assert len(standin.requests[0].body) == dingtalk.MAX_BODY


def test_check_names_a_missing_url_token_or_text():
    assert dingtalk.check(Message("hi"), Destination(url="")) == [
        "The DingTalk robot's webhook URL is missing."
    ]
    assert (
        "no access_token="
        in dingtalk.check(Message("hi"), Destination(url="https://oapi.dingtalk.com/robot/send"))[0]
    )
    assert dingtalk.check(Message(""), Destination(url=f"https://x/?access_token={TOKEN}")) == [
        "The message is empty."
    ]


def test_the_pace_is_per_robot_and_keeps_the_token_out():
    one = dingtalk.pace_key(
        Destination(url=f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}")
    )
    same = dingtalk.pace_key(
        Destination(url=f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}", secret="x")
    )
    other = dingtalk.pace_key(
        Destination(url="https://oapi.dingtalk.com/robot/send?access_token=b")
    )
    assert one.startswith("dingtalk:") and one == same and one != other
    assert TOKEN not in one
    assert dingtalk.PACE == (20, 60)


def test_it_is_registered():
    assert "dingtalk" in platform_names()
    assert get_platform("dingtalk") is dingtalk
