"""The shared POST knows when it failed: before sending (retry), after (unknown)."""

from automations.platforms.base import Message, Outcome, by_status, deliver, post_json


def attempt(url, timeout=2.0):
    return deliver(lambda: by_status(post_json(url, {"text": "hi"}, timeout=timeout)))


def test_an_answer_is_read_by_its_status(standin):
    standin.reply(200, json_body={"ok": True})
    standin.reply(429, json_body={}, headers={"Retry-After": "7"})
    standin.reply(503)
    standin.reply(400, body=b"bad")
    assert attempt(standin.url).outcome == Outcome.SENT
    limited = attempt(standin.url)
    assert (limited.outcome, limited.retry_after) == (Outcome.RETRY, 7.0)
    assert attempt(standin.url).outcome == Outcome.RETRY
    rejected = attempt(standin.url)
    assert (rejected.outcome, rejected.status, rejected.detail) == (Outcome.REJECTED, 400, "bad")
    assert [request.json for request in standin.requests] == [{"text": "hi"}] * 4


def test_refused_before_sending_is_retry_and_a_silent_platform_is_unknown(standin, closed_port):
    assert attempt(closed_port).outcome == Outcome.RETRY
    standin.reply(200, delay=1.5)
    silent = attempt(standin.url, timeout=0.5)
    assert silent.outcome == Outcome.UNKNOWN
    assert len(standin.requests) == 1  # it did arrive: that is why it is not retried


def test_a_message_is_plain_data():
    message = Message("你好", markdown=True, idempotency_key="d-1")
    assert (message.text, message.markdown, message.idempotency_key) == ("你好", True, "d-1")
