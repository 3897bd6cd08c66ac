"""WeCom group robot against the stand-in, answering as WeCom's documentation says: always
HTTP 200, the outcome in ``errcode``."""

import pytest

from automations.platforms import get_platform, platform_names, wecom
from automations.platforms.base import Destination, Message, Outcome

KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def robot(standin) -> Destination:
    return Destination(url=f"{standin.url}/cgi-bin/webhook/send?key={KEY}")


def test_a_text_is_sent_as_wecom_documents_it(standin):
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    result = wecom.send(robot(standin), Message("今晚 8 点读书会"))
    assert (result.outcome, result.status, result.message_id) == (Outcome.SENT, 200, "")
    [request] = standin.requests
    assert request.path == f"/cgi-bin/webhook/send?key={KEY}"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json == {"msgtype": "text", "text": {"content": "今晚 8 点读书会"}}
    assert "今晚".encode() in request.body  # UTF-8 on the wire, not \\u escapes


def test_markdown_goes_as_the_markdown_msgtype(standin):
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    text = '## 本周活动\n> 周六 <font color="info">14:00</font>'
    assert wecom.send(robot(standin), Message(text, markdown=True)).outcome == Outcome.SENT
    assert standin.requests[0].json == {"msgtype": "markdown", "markdown": {"content": text}}


def test_the_rate_limit_code_in_a_200_is_retry_after_the_minute(standin):
    standin.reply(200, json_body={"errcode": 45009, "errmsg": "api freq out of limit"})
    result = wecom.send(robot(standin), Message("hi"))
    assert (result.outcome, result.status, result.retry_after) == (Outcome.RETRY, 200, 60.0)
    assert "45009" in result.detail


def test_system_busy_is_retry(standin):
    standin.reply(200, json_body={"errcode": -1, "errmsg": "system busy"})
    assert wecom.send(robot(standin), Message("hi")).outcome == Outcome.RETRY


@pytest.mark.parametrize(
    ("code", "errmsg"),
    [
        (93000, "invalid webhook url"),
        (40008, "invalid message type"),
        (44004, "text content is empty"),
        (40058, "markdown.content exceed max length 4096"),
        (12345, "something new"),
    ],
)
def test_error_codes_in_a_200_are_rejected_not_sent(standin, code, errmsg):
    standin.reply(200, json_body={"errcode": code, "errmsg": errmsg})
    result = wecom.send(robot(standin), Message("hi"))
    assert (result.outcome, result.status) == (Outcome.REJECTED, 200)
    assert errmsg in result.detail
    assert len(standin.requests) == 1


def test_a_server_error_is_retry_a_refused_connection_too(standin, closed_port):
    standin.reply(502, body=b"Bad Gateway")
    assert wecom.send(robot(standin), Message("hi")).outcome == Outcome.RETRY
    refused = Destination(url=f"{closed_port}/cgi-bin/webhook/send?key={KEY}")
    assert wecom.send(refused, Message("hi")).outcome == Outcome.RETRY


def test_no_answer_after_sending_is_unknown(standin):
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"}, delay=1.5)
    result = wecom.send(robot(standin), Message("hi"), timeout=0.5)
    assert result.outcome == Outcome.UNKNOWN
    assert len(standin.requests) == 1


def test_check_counts_utf8_bytes_not_characters():
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}"
    destination = Destination(url=url)
    # 683 Chinese characters are 2,049 bytes: over WeCom's 2,048 although far fewer characters
    assert wecom.check(Message("群" * 683), destination) == [
        "WeCom accepts at most 2,048 bytes of text; this message has 2,049."
    ]
    assert wecom.check(Message("a" * 2047 + "b"), destination) == []
    assert wecom.check(Message("群" * 1365, markdown=True), destination) == []  # 4,095 bytes
    assert wecom.check(Message("群" * 1366, markdown=True), destination) == [
        "WeCom accepts at most 4,096 bytes of markdown; this message has 4,098."
    ]


def test_check_names_a_missing_url_key_or_text():
    assert wecom.check(Message("hi"), Destination(url="")) == [
        "The WeCom robot's webhook URL is missing."
    ]
    assert (
        "has no key="
        in wecom.check(
            Message("hi"), Destination(url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send")
        )[0]
    )
    assert wecom.check(Message("  "), Destination(url=f"https://x/?key={KEY}")) == [
        "The message is empty."
    ]


def test_the_pace_is_per_robot_and_keeps_the_key_out():
    one = wecom.pace_key(Destination(url=f"https://qyapi.weixin.qq.com/x?key={KEY}"))
    other = wecom.pace_key(Destination(url="https://qyapi.weixin.qq.com/x?key=other"))
    assert one.startswith("wecom:") and one != other
    assert KEY not in one
    assert wecom.PACE == (20, 60)


def test_it_is_registered():
    assert "wecom" in platform_names()
    assert get_platform("wecom") is wecom
