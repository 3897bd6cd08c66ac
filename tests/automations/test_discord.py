"""Discord webhook client against a stand-in answering as Discord's documentation says."""

import pytest

from automations.platforms import discord, get_platform, platform_names
from automations.platforms.base import Destination, Message, Outcome

TOKEN = "kX9aQ2-wdVWpCBtUUMxmgsWryqgsW3DChbKYOINftJ4DCrUbnkedoYZD0VOH1QLr"

MESSAGE_OBJECT = {
    "id": "1234567890123456789",
    "type": 0,
    "content": "hello",
    "channel_id": "111111111111111111",
    "webhook_id": "245037420704169985",
    "author": {"id": "245037420704169985", "username": "CommunityOps", "bot": True},
    "mentions": [],
    "mention_everyone": False,
}


def destination(base_url, **query):
    url = f"{base_url}/api/webhooks/245037420704169985/{TOKEN}"
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return Destination(url=url)


def test_sent_waits_for_the_message_and_keeps_its_id(standin):
    standin.reply(200, json_body=MESSAGE_OBJECT)
    result = discord.send(destination(standin.url), Message("hello @everyone **now**"))
    assert (result.outcome, result.status, result.message_id) == (
        Outcome.SENT,
        200,
        "1234567890123456789",
    )
    request = standin.requests[0]
    assert request.path == f"/api/webhooks/245037420704169985/{TOKEN}?wait=true"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    # No mention is parsed: the @everyone in a broadcast pings nobody.
    assert request.json == {
        "content": "hello @everyone **now**",
        "allowed_mentions": {"parse": []},
    }


def test_a_thread_id_in_the_url_is_kept_and_wait_is_not_doubled(standin):
    standin.reply(200, json_body=MESSAGE_OBJECT)
    discord.send(destination(standin.url, thread_id="987", wait="false"), Message("hi"))
    assert standin.requests[0].path.endswith(f"/{TOKEN}?thread_id=987&wait=true")


def test_markdown_and_chinese_go_through_as_written(standin):
    standin.reply(200, json_body=MESSAGE_OBJECT)
    discord.send(destination(standin.url), Message("**活动** 明天 _见_", markdown=True))
    assert standin.requests[0].json["content"] == "**活动** 明天 _见_"
    assert "活动".encode() in standin.requests[0].body  # UTF-8, not \\u escapes


def test_rate_limited_retries_after_the_bodys_float_seconds(standin):
    standin.reply(
        429,
        json_body={"message": "You are being rate limited.", "retry_after": 1.337, "global": False},
        headers={
            "Retry-After": "2",
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": "1.337",
            "X-RateLimit-Scope": "shared",
        },
    )
    result = discord.send(destination(standin.url), Message("hi"))
    assert (result.outcome, result.status, result.retry_after) == (Outcome.RETRY, 429, 1.337)
    assert "rate limited" in result.detail


def test_rate_limited_without_a_body_falls_back_to_the_headers(standin):
    standin.reply(429, body=b"", headers={"Retry-After": "3"})
    standin.reply(429, body=b"", headers={"X-RateLimit-Reset-After": "0.5"})
    standin.reply(429, body=b"")
    assert discord.send(destination(standin.url), Message("hi")).retry_after == 3.0
    assert discord.send(destination(standin.url), Message("hi")).retry_after == 0.5
    assert discord.send(destination(standin.url), Message("hi")).retry_after == (
        discord.DEFAULT_RETRY_AFTER
    )


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"code": 50006, "message": "Cannot send an empty message"}),
        (
            400,
            {
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": {
                    "content": {
                        "_errors": [
                            {
                                "code": "BASE_TYPE_MAX_LENGTH",
                                "message": "Must be 2000 or fewer in length.",
                            }
                        ]
                    }
                },
            },
        ),
        (401, {"code": 50027, "message": "Invalid Webhook Token"}),
        (403, {"code": 50013, "message": "Missing Permissions"}),
        (404, {"code": 10015, "message": "Unknown Webhook"}),
    ],
)
def test_refusals_are_rejected_and_not_retried(standin, status, body):
    standin.reply(status, json_body=body)
    result = discord.send(destination(standin.url), Message("hi"))
    assert (result.outcome, result.status, result.retry_after) == (Outcome.REJECTED, status, None)
    assert str(body["code"]) in result.detail and body["message"] in result.detail
    assert len(standin.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(standin, status):
    standin.reply(status, json_body={"message": "upstream", "code": 0})
    result = discord.send(destination(standin.url), Message("hi"))
    assert (result.outcome, result.status) == (Outcome.RETRY, status)


def test_refused_connection_is_retry_and_a_silent_discord_is_unknown(standin, closed_port):
    refused = discord.send(destination(closed_port), Message("hi"))
    assert (refused.outcome, refused.status) == (Outcome.RETRY, None)
    standin.reply(200, json_body=MESSAGE_OBJECT, delay=1.5)
    silent = discord.send(destination(standin.url), Message("hi"), timeout=0.5)
    assert silent.outcome == Outcome.UNKNOWN
    assert len(standin.requests) == 1  # it arrived: that is why it is not retried


def test_the_webhook_token_never_shows_in_a_detail():
    result = discord.send(
        Destination(url=f"ftp://discord.com/api/webhooks/1/{TOKEN}"), Message("x")
    )
    assert result.outcome == Outcome.RETRY
    assert "not an http(s) URL" in result.detail
    assert TOKEN not in result.detail


def test_check_counts_characters_as_discord_does():
    where = Destination(url="https://discord.com/api/webhooks/1/abc")
    assert discord.check(Message("字" * 2000), where) == []  # 6,000 bytes, 2,000 characters
    assert discord.check(Message("😀" * 2000), where) == []  # code points, not UTF-16 units
    assert discord.check(Message("a" * 2001), where) == [
        "Discord accepts at most 2,000 characters of text; this message has 2,001."
    ]


def test_check_names_a_missing_url_and_an_empty_message():
    assert discord.check(Message("  \n"), Destination(url="")) == [
        "The Discord webhook URL is missing.",
        "Discord does not accept an empty message.",
    ]


def test_pace_key_names_the_webhook_without_its_token():
    key = discord.pace_key(Destination(url=f"https://discord.com/api/webhooks/1/{TOKEN}"))
    assert key.startswith("discord:") and TOKEN not in key
    # the same webhook, however its URL is written, shares one limit; another has its own
    assert key == discord.pace_key(
        Destination(url=f"https://Discord.com/api/webhooks/1/{TOKEN}/?wait=true")
    )
    assert key != discord.pace_key(Destination(url="https://discord.com/api/webhooks/2/other"))
    count, seconds = discord.PACE
    assert count / seconds <= 5 / 2 and count * 60 / seconds <= 30


def test_registered():
    assert "discord" in platform_names()
    assert get_platform("discord") is discord
    assert str(discord.LABEL) == "Discord webhook"


def test_check_speaks_chinese():
    from django.utils import translation

    with translation.override("zh-hans"):
        errors = discord.check(Message("a" * 2001), Destination(url=""))
    assert errors == [
        "缺少 Discord Webhook 地址。",
        "Discord 最多接受 2,000 个字符的文本；这条消息有 2,001 个。",
    ]
