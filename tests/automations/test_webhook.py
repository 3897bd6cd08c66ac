"""Our generic JSON webhook against the stand-in: signed as our inbound webhook checks,
with the delivery's Idempotency-Key, and a 409 for that key read as 'already received'."""

import hashlib
import hmac
import time
from datetime import UTC, datetime

import pytest

from activities.webhook import sign as inbound_sign
from automations.platforms import get_platform, platform_names, webhook
from automations.platforms.base import Destination, Message, Outcome

SECRET = "whsec-3f1a9c"
KEY = "delivery-42-community-7"


def receiver(standin, secret=SECRET) -> Destination:
    return Destination(url=f"{standin.url}/hooks/communityops?team=ops", secret=secret)


def test_the_request_is_json_signed_like_our_inbound_webhook(standin):
    standin.reply(200, json_body={"id": "msg-981"})
    before = int(time.time())
    result = webhook.send(receiver(standin), Message("**周六** 读书会", True, KEY))
    after = int(time.time())
    assert (result.outcome, result.status, result.message_id) == (Outcome.SENT, 200, "msg-981")
    [request] = standin.requests
    assert request.path == "/hooks/communityops?team=ops"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.headers["idempotency-key"] == KEY
    timestamp = request.headers["x-communityops-timestamp"]
    assert before <= int(timestamp) <= after
    assert request.json == {
        "text": "**周六** 读书会",
        "markdown": True,
        "idempotency_key": KEY,
        "sent_at": datetime.fromtimestamp(int(timestamp), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert "周六".encode() in request.body  # UTF-8 on the wire
    # The signature, computed here from the raw bytes received, and by the inbound side.
    expected = hmac.new(
        SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["x-communityops-signature"] == f"v1={expected}"
    assert request.headers["x-communityops-signature"] == inbound_sign(
        SECRET, timestamp, request.body
    )


def test_a_409_for_the_same_key_is_already_received(standin):
    standin.reply(409, json_body={"error": "already received", "idempotency_key": KEY})
    standin.reply(409, body=b"duplicate", headers={"Idempotency-Key": KEY})
    standin.reply(409, body=b"conflict")
    for _ in range(3):
        result = webhook.send(receiver(standin), Message("hi", idempotency_key=KEY))
        assert (result.outcome, result.status) == (Outcome.SENT, 409)


def test_a_409_naming_another_key_or_without_ours_is_rejected(standin):
    standin.reply(409, json_body={"idempotency_key": "someone-else"})
    result = webhook.send(receiver(standin), Message("hi", idempotency_key=KEY))
    assert (result.outcome, result.status) == (Outcome.REJECTED, 409)
    # A request that carried no key cannot have been "already received".
    result = webhook.send(receiver(standin), Message("hi"))
    assert result.outcome == Outcome.REJECTED
    assert "idempotency-key" not in standin.requests[-1].headers


def test_429_is_retry_after_the_header_or_ten_seconds(standin):
    standin.reply(429, body=b"slow down", headers={"Retry-After": "12"})
    standin.reply(429, body=b"slow down")
    first = webhook.send(receiver(standin), Message("hi", idempotency_key=KEY))
    assert (first.outcome, first.status, first.retry_after) == (Outcome.RETRY, 429, 12.0)
    second = webhook.send(receiver(standin), Message("hi", idempotency_key=KEY))
    assert (second.outcome, second.retry_after) == (Outcome.RETRY, 10.0)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_retry(standin, status):
    standin.reply(status, body=b"oops")
    result = webhook.send(receiver(standin), Message("hi", idempotency_key=KEY))
    assert (result.outcome, result.status, result.detail) == (Outcome.RETRY, status, "oops")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422])
def test_other_client_errors_are_rejected_and_sent_once(standin, status):
    standin.reply(status, json_body={"error": "bad signature"})
    result = webhook.send(receiver(standin), Message("hi", idempotency_key=KEY))
    assert (result.outcome, result.status) == (Outcome.REJECTED, status)
    assert "bad signature" in result.detail
    assert len(standin.requests) == 1


def test_refused_is_retry_and_no_answer_is_unknown_which_this_receiver_may_get_again(
    standin, closed_port
):
    refused = Destination(url=f"{closed_port}/hook", secret=SECRET)
    assert webhook.send(refused, Message("hi", idempotency_key=KEY)).outcome == Outcome.RETRY
    standin.reply(200, delay=1.5)
    result = webhook.send(receiver(standin), Message("hi", idempotency_key=KEY), timeout=0.5)
    assert result.outcome == Outcome.UNKNOWN
    assert len(standin.requests) == 1
    # Unlike the chat platforms, this receiver dedupes by key: the caller may resend.
    assert webhook.IDEMPOTENT is True


def test_nothing_leaves_without_a_signing_secret(standin):
    result = webhook.send(receiver(standin, secret=""), Message("hi", idempotency_key=KEY))
    assert result.outcome == Outcome.REJECTED
    assert standin.requests == []


def test_check_counts_utf8_bytes_up_to_64_kib():
    destination = Destination(url="https://hooks.example.org/in", secret=SECRET)
    assert webhook.check(Message("a" * 65_536), destination) == []
    # 21,846 Chinese characters are 65,538 bytes
    assert webhook.check(Message("群" * 21_846), destination) == [
        "The webhook accepts at most 65,536 bytes of text; this message has 65,538."
    ]


def test_check_names_a_missing_url_secret_or_text():
    assert webhook.check(Message(" "), Destination(url="")) == [
        "The webhook's URL is missing.",
        "The webhook's signing secret is missing.",
        "The message is empty.",
    ]


def test_the_pace_is_per_url_and_keeps_it_out():
    one = webhook.pace_key(Destination(url="https://hooks.example.org/in?token=abc", secret="s"))
    other = webhook.pace_key(Destination(url="https://hooks.example.org/in?token=xyz"))
    assert one.startswith("webhook:") and one != other
    assert "abc" not in one and "hooks.example.org" not in one
    assert webhook.PACE == (10, 1)


def test_it_is_registered():
    assert "webhook" in platform_names()
    assert get_platform("webhook") is webhook


def test_check_speaks_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert webhook.check(Message("hi"), Destination(url="https://x")) == [
            "缺少 Webhook 的签名密钥。"
        ]
