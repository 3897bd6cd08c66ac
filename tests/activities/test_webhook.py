"""The signed webhook ``POST /api/v1/ingest/<connector_id>/events``, end to end.

Requests go through Django's test client with raw bytes, exactly as a bot sends them:
the signature, the clock tolerance, rotation, validation (all or nothing), the size and
rate limits, and a fuzz test that no input ever gives a 500.
"""

import json
import os
import time
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone as dj_timezone
from hypothesis import HealthCheck, given
from hypothesis import event as note_event
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from activities.models import ActivityEvent, ActivityKind, EventSource
from activities.webhook import sign
from communities.models import Connector, Platform
from communities.services import (
    community_update,
    connector_create,
    connector_revoke,
    connector_rotate,
)
from members.models import Member, Membership, MembershipStatus, PlatformHandle

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLUS_EIGHT = timezone(timedelta(hours=8))
STATUSES = {202, 400, 401, 413, 429}  # and 409 for an archived community, 415 for non-JSON


# --- Helpers -----------------------------------------------------------------------------


@pytest.fixture
def issued(community_a, operator_a):
    """A connector of community A (a WeCom bot in a WeChat community), with its secret."""
    return connector_create(
        community=community_a, name="机器人", platform=Platform.WECOM, by=operator_a.user
    )


@pytest.fixture
def connector(issued) -> Connector:
    return issued.connector


@pytest.fixture
def secret(issued) -> str:
    return issued.secret


def url(connector_id: str) -> str:
    return reverse("activities:api-ingest", kwargs={"connector_id": connector_id})


def encode(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def post(
    body: bytes,
    *,
    connector_id: str,
    secret: str | None = None,
    timestamp: str | int | None = None,
    signature: str | None = None,
    headers: dict | None = None,
    client: Client | None = None,
    content_type: str = "application/json",
):
    """POST ``body`` signed with ``secret`` at ``timestamp`` (now by default)."""
    client = client or Client(enforce_csrf_checks=True)
    if timestamp is None:
        timestamp = int(time.time())
    all_headers = {"X-CommunityOps-Timestamp": str(timestamp)}
    if signature is None and secret is not None:
        signature = sign(secret, timestamp, body)
    if signature is not None:
        all_headers["X-CommunityOps-Signature"] = signature
    all_headers.update(headers or {})
    all_headers = {name: value for name, value in all_headers.items() if value is not None}
    return client.post(url(connector_id), data=body, content_type=content_type, headers=all_headers)


def send(connector: Connector, secret: str, payload, **kwargs):
    return post(encode(payload), connector_id=connector.public_id, secret=secret, **kwargs)


def recent(days: float = 1.0) -> datetime:
    """A time ``days`` ago, in UTC+8, to the second."""
    return (dj_timezone.now() - timedelta(days=days)).astimezone(PLUS_EIGHT).replace(microsecond=0)


def event(n: int | str, *, kind: str = "message", who: str = "wxid_alice", **fields) -> dict:
    return {
        "external_id": f"m{n}",
        "kind": kind,
        "occurred_at": recent().isoformat(),
        "member": {"id": who, "name": "爱丽丝"},
        "text": f"第 {n} 条消息",
        **fields,
    }


def assert_nothing_written() -> None:
    assert ActivityEvent.objects.count() == 0
    assert Member.objects.count() == 0
    assert Membership.objects.count() == 0


# --- Accepted batches --------------------------------------------------------------------


def test_a_signed_batch_is_stored(community_a, connector, secret):
    first = recent(days=2)
    payload = {
        "events": [
            {
                "external_id": "m1",
                "kind": "message",
                "occurred_at": first.isoformat(),
                "member": {"id": "wxid_alice", "name": " 爱丽丝 "},
                "text": "大家好",
            },
            {
                "external_id": "m2",
                "kind": "check_in",
                "occurred_at": (first + timedelta(hours=1)).isoformat(),
                "member": {"id": "wxid_bob", "name": "鲍勃"},
                "text": "",
            },
            {
                "external_id": "m3",
                "kind": "reply",
                "occurred_at": (first + timedelta(hours=2)).isoformat(),
                "member": {"id": "wxid_alice", "name": "爱丽丝"},
            },
        ]
    }
    response = send(connector, secret, payload)

    assert response.status_code == 202, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"received": 3, "created": 3, "duplicates": 0, "members_created": 2}
    rows = list(ActivityEvent.objects.order_by("occurred_at"))
    assert [(r.external_id, r.kind, r.text) for r in rows] == [
        ("m1", ActivityKind.MESSAGE, "大家好"),
        ("m2", ActivityKind.CHECK_IN, ""),
        ("m3", ActivityKind.REPLY, ""),
    ]
    assert all(r.community == community_a for r in rows)
    assert all(r.source == EventSource.WEBHOOK for r in rows)
    # The instant sent, offset included (stored in UTC).
    assert rows[0].occurred_at == first
    assert rows[0].occurred_at == first.astimezone(UTC)
    assert rows[2].occurred_at == first + timedelta(hours=2)

    # Members are found through a handle on the connector's platform (not the community's).
    alice = PlatformHandle.objects.get(
        organization=community_a.organization, platform=Platform.WECOM, external_id="wxid_alice"
    ).member
    assert alice.display_name == "爱丽丝"
    assert rows[0].member == alice and rows[2].member == alice
    assert not PlatformHandle.objects.filter(platform=Platform.WECHAT).exists()
    membership = Membership.objects.get(community=community_a, member=alice)
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.joined_on == first.astimezone(SHANGHAI).date()
    assert membership.last_active_at == first + timedelta(hours=2)
    assert Membership.objects.filter(community=community_a).count() == 2


def test_naive_times_are_read_in_the_community_time_zone(community_a, connector, secret):
    wall = recent().astimezone(SHANGHAI).replace(tzinfo=None)
    response = send(connector, secret, {"events": [event(1, occurred_at=wall.isoformat())]})

    assert response.status_code == 202, response.content
    assert ActivityEvent.objects.get().occurred_at == wall.replace(tzinfo=SHANGHAI)


def test_csrf_does_not_block_the_api(connector, secret):
    response = send(
        connector, secret, {"events": [event(1)]}, client=Client(enforce_csrf_checks=True)
    )

    assert response.status_code == 202


def test_only_post_is_allowed(connector):
    assert Client().get(url(connector.public_id)).status_code == 405


def test_a_replayed_batch_is_stored_once(connector, secret):
    payload = {"events": [event(1), event(2), event(3, who="wxid_bob")]}
    assert send(connector, secret, payload).status_code == 202
    rows_before = set(ActivityEvent.objects.values_list("id", flat=True))

    response = send(connector, secret, payload)

    assert response.status_code == 202
    assert response.json() == {"received": 3, "created": 0, "duplicates": 3, "members_created": 0}
    assert set(ActivityEvent.objects.values_list("id", flat=True)) == rows_before
    assert Member.objects.count() == 2


def test_last_seen_is_set_by_an_accepted_batch(connector, secret):
    assert connector.last_seen_at is None
    before = dj_timezone.now()

    assert send(connector, secret, {"events": [event(1)]}).status_code == 202

    connector.refresh_from_db()
    assert connector.last_seen_at is not None and connector.last_seen_at >= before


def test_last_seen_is_not_set_by_a_rejected_request(connector, secret):
    assert send(connector, "wrong", {"events": [event(1)]}).status_code == 401
    assert send(connector, secret, {"events": [event(1, kind="nope")]}).status_code == 400

    connector.refresh_from_db()
    assert connector.last_seen_at is None


def test_text_is_dropped_when_the_organisation_does_not_keep_it(org_a, connector, secret):
    org_a.keep_message_text = False
    org_a.save(update_fields=["keep_message_text"])

    assert send(connector, secret, {"events": [event(1, text="秘密")]}).status_code == 202

    assert ActivityEvent.objects.get().text == ""


# --- Joins and leaves --------------------------------------------------------------------


def membership_of(community, member_key: str) -> Membership:
    return Membership.objects.get(community=community, member__handles__external_id=member_key)


def test_join_and_leave_change_the_membership(community_a, connector, secret):
    joined = recent(days=3)
    left = recent(days=1)
    join = event("j1", kind="join", occurred_at=joined.isoformat(), text="")
    leave = event("l1", kind="leave", occurred_at=left.isoformat(), text="")

    assert send(connector, secret, {"events": [join]}).status_code == 202
    membership = membership_of(community_a, "wxid_alice")
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.joined_on == joined.astimezone(SHANGHAI).date()

    assert send(connector, secret, {"events": [leave]}).status_code == 202
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.LEFT
    assert membership.left_on == left.astimezone(SHANGHAI).date()
    # Membership events are not activity.
    assert membership.last_active_at is None


def test_a_replayed_leave_does_not_undo_a_rejoin(community_a, connector, secret):
    join = event("j1", kind="join", occurred_at=recent(days=3).isoformat(), text="")
    leave = event("l1", kind="leave", occurred_at=recent(days=2).isoformat(), text="")
    rejoin = event("j2", kind="join", occurred_at=recent(days=1).isoformat(), text="")
    assert send(connector, secret, {"events": [join, leave]}).status_code == 202
    assert membership_of(community_a, "wxid_alice").status == MembershipStatus.LEFT
    assert send(connector, secret, {"events": [rejoin]}).status_code == 202
    assert membership_of(community_a, "wxid_alice").status == MembershipStatus.ACTIVE

    response = send(connector, secret, {"events": [leave]})

    assert response.status_code == 202
    assert response.json()["duplicates"] == 1
    membership = membership_of(community_a, "wxid_alice")
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.left_on is None


def test_the_latest_membership_event_of_a_batch_wins(community_a, connector, secret):
    # Sent out of order: the leave happened after the join.
    leave = event("l1", kind="leave", occurred_at=recent(days=1).isoformat(), text="")
    join = event("j1", kind="join", occurred_at=recent(days=2).isoformat(), text="")

    assert send(connector, secret, {"events": [leave, join]}).status_code == 202

    assert membership_of(community_a, "wxid_alice").status == MembershipStatus.LEFT


# --- Signature and clock -----------------------------------------------------------------


@pytest.fixture
def frozen_now(monkeypatch) -> int:
    """The view's clock stopped on a whole second (close to the real time)."""
    now = int(time.time())
    monkeypatch.setattr("activities.api.time", SimpleNamespace(time=lambda: float(now)))
    return now


@pytest.mark.parametrize("offset", [0, 1, 299, 300, -1, -299, -300])
def test_timestamps_up_to_300_seconds_off_are_accepted(connector, secret, frozen_now, offset):
    response = send(connector, secret, {"events": [event(1)]}, timestamp=frozen_now + offset)

    assert response.status_code == 202, response.content


@pytest.mark.parametrize("offset", [301, -301, 3600, -86400, 10**12, -(10**12)])
def test_timestamps_more_than_300_seconds_off_are_refused(connector, secret, frozen_now, offset):
    response = send(connector, secret, {"events": [event(1)]}, timestamp=frozen_now + offset)

    assert response.status_code == 401
    assert "detail" in response.json()
    assert_nothing_written()


@pytest.mark.parametrize("offset", [299, -299])
def test_299_seconds_off_the_real_clock_is_accepted(connector, secret, offset):
    response = send(connector, secret, {"events": [event(1)]}, timestamp=int(time.time()) + offset)

    assert response.status_code == 202


@pytest.mark.parametrize("offset", [302, -301])
def test_over_300_seconds_off_the_real_clock_is_refused(connector, secret, offset):
    # Seconds are whole: int(time.time()) lags the view's clock by under a second, so
    # the future side needs one second of margin to stay more than 300 s ahead.
    response = send(connector, secret, {"events": [event(1)]}, timestamp=int(time.time()) + offset)

    assert response.status_code == 401


def test_a_timestamp_too_large_for_a_float_is_refused(connector, secret):
    timestamp = "9" * 400  # an int, but beyond a float: 500 instead of 401

    response = send(connector, secret, {"events": [event(1)]}, timestamp=timestamp)

    assert response.status_code == 401


def test_a_timestamp_with_too_many_digits_is_refused(connector, secret):
    response = send(connector, secret, {"events": [event(1)]}, timestamp="9" * 5000)

    assert response.status_code == 401


def flip_bit(text: str, index: int) -> str:
    return text[:index] + chr(ord(text[index]) ^ 1) + text[index + 1 :]


@pytest.mark.parametrize("position", [3, 20, -1])
def test_one_flipped_bit_in_the_signature_is_refused(connector, secret, position):
    body = encode({"events": [event(1)]})
    timestamp = int(time.time())
    good = sign(secret, timestamp, body)
    index = position % len(good)
    bad = flip_bit(good, index)
    assert bad != good and bad.startswith("v1=")

    response = post(body, connector_id=connector.public_id, timestamp=timestamp, signature=bad)

    assert response.status_code == 401
    assert_nothing_written()


def test_one_changed_byte_in_the_body_is_refused(connector, secret):
    body = encode({"events": [event(1)]})
    timestamp = int(time.time())
    signature = sign(secret, timestamp, body)
    tampered = body.replace(b"m1", b"m2")
    assert len(tampered) == len(body) and tampered != body

    response = post(
        tampered, connector_id=connector.public_id, timestamp=timestamp, signature=signature
    )

    assert response.status_code == 401
    assert_nothing_written()


def test_a_signature_for_another_timestamp_is_refused(connector, secret):
    body = encode({"events": [event(1)]})
    timestamp = int(time.time())

    response = post(
        body,
        connector_id=connector.public_id,
        timestamp=timestamp,
        signature=sign(secret, timestamp - 1, body),
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"X-CommunityOps-Timestamp": None}, id="no-timestamp"),
        pytest.param({"X-CommunityOps-Signature": None}, id="no-signature"),
        pytest.param({"X-CommunityOps-Timestamp": ""}, id="empty-timestamp"),
        pytest.param({"X-CommunityOps-Signature": ""}, id="empty-signature"),
        pytest.param({"X-CommunityOps-Timestamp": "yesterday"}, id="timestamp-not-a-number"),
        pytest.param({"X-CommunityOps-Timestamp": "1e9"}, id="timestamp-float-notation"),
        pytest.param({"X-CommunityOps-Signature": "v1=garbage"}, id="garbage"),
        pytest.param({"X-CommunityOps-Signature": "v1="}, id="empty-v1"),
        pytest.param({"X-CommunityOps-Signature": "v2=" + "0" * 64}, id="other-scheme"),
    ],
)
def test_missing_or_malformed_headers_are_refused(connector, secret, headers):
    response = send(connector, secret, {"events": [event(1)]}, headers=headers)

    assert response.status_code == 401
    assert_nothing_written()


def test_a_signature_without_the_v1_prefix_is_refused(connector, secret):
    body = encode({"events": [event(1)]})
    timestamp = int(time.time())
    bare = sign(secret, timestamp, body).removeprefix("v1=")

    response = post(body, connector_id=connector.public_id, timestamp=timestamp, signature=bare)

    assert response.status_code == 401


def test_a_signature_among_several_is_accepted(connector, secret):
    body = encode({"events": [event(1)]})
    timestamp = int(time.time())
    both = "v1=" + "0" * 64 + ", " + sign(secret, timestamp, body)

    response = post(body, connector_id=connector.public_id, timestamp=timestamp, signature=both)

    assert response.status_code == 202


def test_the_secret_of_another_connector_is_refused(community_a, connector):
    other = connector_create(
        community=community_a, name="另一个", platform=Platform.WECHAT, by=connector.created_by
    )

    response = send(connector, other.secret, {"events": [event(1)]})

    assert response.status_code == 401


def test_an_unknown_connector_is_refused(secret):
    response = post(encode({"events": [event(1)]}), connector_id="0123456789abcdef", secret=secret)

    assert response.status_code == 401
    assert_nothing_written()


@pytest.mark.parametrize("connector_id", ["a\x00b", "..", "x" * 300, "机器人", "%", " "])
def test_odd_connector_ids_are_refused(secret, connector_id):
    # NUL matters on PostgreSQL, where a text parameter cannot hold it.
    response = post(encode({"events": [event(1)]}), connector_id=connector_id, secret=secret)

    assert response.status_code == 401


def test_a_revoked_connector_is_refused(connector, secret):
    assert send(connector, secret, {"events": [event(1)]}).status_code == 202
    connector_revoke(connector=connector, by=None)

    response = send(connector, secret, {"events": [event(2)]})

    assert response.status_code == 401
    assert ActivityEvent.objects.count() == 1


def test_both_secrets_work_during_the_rotation_grace_period(connector, secret):
    rotated = connector_rotate(connector=connector, by=None)
    assert rotated.secret != secret

    assert send(connector, secret, {"events": [event(1)]}).status_code == 202
    assert send(connector, rotated.secret, {"events": [event(2)]}).status_code == 202
    assert ActivityEvent.objects.count() == 2


def test_the_old_secret_stops_working_after_the_grace_period(connector, secret):
    rotated = connector_rotate(connector=connector, by=None)
    Connector.objects.filter(pk=connector.pk).update(
        previous_valid_until=dj_timezone.now() - timedelta(seconds=1)
    )

    assert send(connector, secret, {"events": [event(1)]}).status_code == 401
    assert send(connector, rotated.secret, {"events": [event(2)]}).status_code == 202


def test_a_second_rotation_retires_the_first_secret(connector, secret):
    second = connector_rotate(connector=connector, by=None)
    third = connector_rotate(connector=connector, by=None)

    assert send(connector, secret, {"events": [event(1)]}).status_code == 401
    assert send(connector, second.secret, {"events": [event(2)]}).status_code == 202
    assert send(connector, third.secret, {"events": [event(3)]}).status_code == 202


# --- Invalid batches: 400, nothing written -----------------------------------------------


def fields_of(response) -> list[tuple[int | None, str]]:
    return [(error.get("index"), error["field"]) for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"kind": "shout"}, "kind", id="unknown-kind"),
        pytest.param({"kind": None}, "kind", id="no-kind"),
        pytest.param({"occurred_at": "yesterday"}, "occurred_at", id="time-not-iso"),
        pytest.param({"occurred_at": ""}, "occurred_at", id="time-empty"),
        pytest.param({"occurred_at": 1_700_000_000}, "occurred_at", id="time-a-number"),
        pytest.param({"occurred_at": "1999-12-31T23:00:00+00:00"}, "occurred_at", id="too-old"),
        pytest.param({"occurred_at": "2999-01-01T00:00:00+08:00"}, "occurred_at", id="future"),
        pytest.param({"occurred_at": "0001-01-01T00:00:00+08:00"}, "occurred_at", id="year-1"),
        pytest.param({"occurred_at": "9999-12-31T23:59:59-08:00"}, "occurred_at", id="year-9999"),
        pytest.param({"member": {"name": "无名"}}, "member.id", id="member-without-id"),
        pytest.param({"member": {"id": "  "}}, "member.id", id="member-id-blank"),
        pytest.param({"member": {"id": 42}}, "member.id", id="member-id-a-number"),
        pytest.param({"member": "wxid_alice"}, "member.id", id="member-a-string"),
        pytest.param({"member": {"id": "x" * 201}}, "member.id", id="member-id-too-long"),
        pytest.param({"member": {"id": "a", "name": ["x"]}}, "member.name", id="name-a-list"),
        pytest.param({"external_id": ""}, "external_id", id="no-external-id"),
        pytest.param({"external_id": "x" * 201}, "external_id", id="external-id-too-long"),
        pytest.param({"text": "a\x00b"}, "text", id="text-with-nul"),
        pytest.param({"text": {"a": 1}}, "text", id="text-an-object"),
        pytest.param({"text": "x" * 20_001}, "text", id="text-too-long"),
    ],
)
def test_an_invalid_event_is_refused_with_its_error(connector, secret, changes, field):
    response = send(connector, secret, {"events": [event(1, **changes)]})

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"]
    assert (0, field) in fields_of(response)
    assert all(error["message"] for error in body["errors"])
    assert_nothing_written()


def test_every_error_of_the_batch_is_listed(connector, secret):
    events = [
        event(1, kind="shout"),
        event(2),
        event(3, occurred_at="yesterday", member={"name": "x"}),
        "not an object",
    ]

    response = send(connector, secret, {"events": events})

    assert response.status_code == 400
    assert fields_of(response) == [(0, "kind"), (2, "occurred_at"), (2, "member.id"), (3, "")]


def test_a_batch_with_only_its_last_event_bad_writes_nothing(connector, secret):
    events = [event(1), event(2, who="wxid_bob"), event(3, occurred_at="yesterday")]

    response = send(connector, secret, {"events": events})

    assert response.status_code == 400
    assert fields_of(response) == [(2, "occurred_at")]
    assert_nothing_written()


def test_a_bad_batch_after_a_good_one_adds_nothing(connector, secret):
    assert send(connector, secret, {"events": [event(1)]}).status_code == 202

    response = send(connector, secret, {"events": [event(2, who="wxid_bob"), event(3, kind="x")]})

    assert response.status_code == 400
    assert ActivityEvent.objects.count() == 1
    assert Member.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(b'{"events": []}', "events", id="empty-list"),
        pytest.param(b"{}", "events", id="no-events"),
        pytest.param(b'{"events": {"0": {}}}', "events", id="events-an-object"),
        pytest.param(b"[]", "events", id="a-list"),
        pytest.param(b"null", "events", id="null"),
        pytest.param(b"not json", "body", id="not-json"),
        pytest.param(b"", "body", id="empty-body"),
        pytest.param(b'{"events": [', "body", id="truncated"),
        pytest.param('{"events": ["é"]}'.encode("latin-1"), "body", id="not-utf-8"),
        pytest.param(b"\xff\xfe\x00", "body", id="binary"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, "body", id="deeply-nested"),
        pytest.param(b'{"events": [' + b"9" * 5000 + b"]}", "body", id="huge-int"),
    ],
)
def test_a_body_that_is_not_a_batch_is_refused(connector, secret, body, field):
    response = post(body, connector_id=connector.public_id, secret=secret)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == [field]
    assert "index" not in errors[0]
    assert_nothing_written()


def test_a_non_object_event_is_refused(connector, secret):
    response = send(connector, secret, {"events": [event(1), 7, None, []]})

    assert response.status_code == 400
    assert fields_of(response) == [(1, ""), (2, ""), (3, "")]
    assert_nothing_written()


def test_lone_surrogates_are_refused_not_stored(connector, secret):
    # A client escaping a lone surrogate sends valid JSON that is not valid text.
    payload = {"events": [event(1, text="\ud800"), event(2, who="\udfff")]}
    body = json.dumps(payload, ensure_ascii=True).encode("ascii")

    response = post(body, connector_id=connector.public_id, secret=secret)

    assert response.status_code == 400
    assert fields_of(response) == [(0, "text"), (1, "member.id")]
    assert_nothing_written()


def test_at_most_100_errors_are_returned(connector, secret):
    response = send(connector, secret, {"events": [event(n, kind="x") for n in range(500)]})

    assert response.status_code == 400
    assert len(response.json()["errors"]) == 100


# --- Limits ------------------------------------------------------------------------------


def test_1000_events_are_accepted(connector, secret):
    events = [event(n, who=f"wxid_{n % 50}") for n in range(1000)]

    response = send(connector, secret, {"events": events})

    assert response.status_code == 202
    assert response.json()["created"] == 1000
    assert ActivityEvent.objects.count() == 1000


def test_1001_events_are_too_many(connector, secret):
    events = [event(n) for n in range(1001)]

    response = send(connector, secret, {"events": events})

    assert response.status_code == 413
    assert "1000" in response.json()["detail"]
    assert_nothing_written()


def test_a_body_over_the_size_limit_is_too_large(connector, secret, settings):
    settings.INGEST_MAX_BODY_BYTES = 2048
    small = encode({"events": [event(1)]})
    large = encode({"events": [event(1, text="x" * 2048)]})
    assert len(small) < 2048 < len(large)

    assert post(large, connector_id=connector.public_id, secret=secret).status_code == 413
    assert_nothing_written()
    assert post(small, connector_id=connector.public_id, secret=secret).status_code == 202


def test_a_body_exactly_at_the_size_limit_is_accepted(connector, secret, settings):
    body = encode({"events": [event(1)]})
    settings.INGEST_MAX_BODY_BYTES = len(body)

    assert post(body, connector_id=connector.public_id, secret=secret).status_code == 202


def test_a_large_body_is_refused_before_the_signature_is_checked(connector, settings):
    settings.INGEST_MAX_BODY_BYTES = 1024

    response = post(b"x" * 1025, connector_id="unknown", signature="v1=nothing")

    assert response.status_code == 413


@pytest.mark.parametrize("declared", ["abc", "-1", "1.5", "²", "1e3", " "])
def test_a_malformed_content_length_is_a_400_that_says_so(connector, secret, declared):
    body = encode({"events": [event(1)]})

    response = Client().post(
        url(connector.public_id),
        data=body,
        content_type="application/json",
        headers={"X-CommunityOps-Timestamp": "0", "X-CommunityOps-Signature": "v1="},
        CONTENT_LENGTH=declared,
    )

    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]
    assert "larger" not in response.json()["detail"]
    assert_nothing_written()


# --- Content type ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "application/json; charset=latin-1",
        "",
    ],
)
def test_a_body_that_is_not_json_is_a_415(connector, secret, content_type):
    response = post(
        # ASCII (escaped Chinese), so the test client can send it in any charset.
        json.dumps({"events": [event(1)]}).encode("ascii"),
        connector_id=connector.public_id,
        secret=secret,
        content_type=content_type,
    )

    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert_nothing_written()


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON; charset=UTF-8"],
)
def test_json_with_or_without_its_charset_is_accepted(connector, secret, content_type):
    response = post(
        encode({"events": [event(1)]}),
        connector_id=connector.public_id,
        secret=secret,
        content_type=content_type,
    )

    assert response.status_code == 202, response.content


# --- Archived communities ----------------------------------------------------------------


def test_an_archived_community_takes_no_events(community_a, connector, secret):
    community_update(by=None, community=community_a, data={"archived": True})
    response = send(connector, secret, {"events": [event(1)]})

    assert response.status_code == 409
    assert "archived" in response.json()["detail"]
    assert_nothing_written()
    # Unarchived, the same bot's batch is stored again.
    community_update(by=None, community=community_a, data={"archived": False})
    assert send(connector, secret, {"events": [event(1)]}).status_code == 202


def test_an_archived_community_is_not_revealed_without_a_signature(community_a, connector):
    community_update(by=None, community=community_a, data={"archived": True})
    response = post(encode({"events": [event(1)]}), connector_id=connector.public_id)

    assert response.status_code == 401


class DrivenClock:
    """The webhook's clock, pinned and moved by the test (the rate window is the minute)."""

    def __init__(self):
        # One second into the current minute, so signatures made on the real clock stay
        # well inside the 300 s window.
        self.now = (time.time() // 60) * 60 + 1

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    driven = DrivenClock()
    monkeypatch.setattr("activities.api.time", driven)
    return driven


def test_over_the_rate_requests_get_429_with_retry_after(connector, secret, settings, clock):
    cache.clear()
    settings.INGEST_RATE_PER_MINUTE = 3

    statuses = [send(connector, secret, {"events": [event(n)]}).status_code for n in range(3)]
    limited = send(connector, secret, {"events": [event(3)]})

    assert statuses == [202, 202, 202]
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) == 59
    assert limited.json()["detail"]
    assert ActivityEvent.objects.count() == 3


def test_the_rate_starts_again_with_the_next_minute(connector, secret, settings, clock):
    cache.clear()
    settings.INGEST_RATE_PER_MINUTE = 1
    assert send(connector, secret, {"events": [event(1)]}).status_code == 202
    clock.now += 58
    assert send(connector, secret, {"events": [event(2)]}).status_code == 429

    clock.now += 1

    assert send(connector, secret, {"events": [event(3)]}).status_code == 202


def test_the_rate_is_per_connector(community_a, connector, secret, settings, clock):
    cache.clear()
    settings.INGEST_RATE_PER_MINUTE = 1
    other = connector_create(
        community=community_a, name="第二个", platform=Platform.WECOM, by=connector.created_by
    )

    assert send(connector, secret, {"events": [event(1)]}).status_code == 202
    assert send(connector, secret, {"events": [event(2)]}).status_code == 429
    assert send(other.connector, other.secret, {"events": [event(3)]}).status_code == 202


def test_unsigned_requests_do_not_use_up_the_rate(connector, secret, settings, clock):
    cache.clear()
    settings.INGEST_RATE_PER_MINUTE = 1

    for n in range(3):
        assert send(connector, "wrong", {"events": [event(n)]}).status_code == 401
    assert send(connector, secret, {"events": [event(9)]}).status_code == 202


# --- Fuzz: never a 500 -------------------------------------------------------------------

TEXT = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\ud800", "\udfff", "\u2028", "\ufeff"]),
    ),
    max_size=30,
)
KEYS = st.one_of(TEXT, st.sampled_from(["events", "kind", "member", "id", "occurred_at"]))


def containers(children):
    return st.lists(children, max_size=5) | st.dictionaries(KEYS, children, max_size=5)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT, containers, max_leaves=20
)
OFFSETS = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# Hypothesis takes naive bounds.
AROUND_2000 = datetime(1999, 12, 30, tzinfo=UTC).replace(tzinfo=None)
AROUND_2100 = datetime(2100, 1, 1, tzinfo=UTC).replace(tzinfo=None)
DATETIMES = st.one_of(
    # Years 1 to 9999 (Hypothesis' default bounds), naive or with any offset.
    st.datetimes(timezones=st.none() | OFFSETS).map(lambda value: value.isoformat()),
    st.datetimes(min_value=AROUND_2000, max_value=AROUND_2100, timezones=OFFSETS).map(
        lambda value: value.isoformat()
    ),
    st.sampled_from(
        ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "2000-01-01", "now"]
    ),
    TEXT,
    JSON_VALUES,
)
IDS = st.one_of(
    st.text(st.characters(codec="utf-8"), min_size=0, max_size=300),
    st.text(st.characters(codec="utf-8"), min_size=199, max_size=201),
    TEXT,
    JSON_VALUES,
)
EVENTS = st.fixed_dictionaries(
    {
        "external_id": IDS,
        "kind": st.one_of(st.sampled_from(ActivityKind.values), TEXT, JSON_VALUES),
        "occurred_at": DATETIMES,
        "member": st.one_of(
            st.fixed_dictionaries({"id": IDS}, optional={"name": st.one_of(IDS, JSON_VALUES)}),
            JSON_VALUES,
        ),
    },
    optional={"text": st.one_of(TEXT, JSON_VALUES), "extra": JSON_VALUES},
)
# Events valid in every field but (sometimes) one, so that batches also get stored.
_NOW = datetime.now(UTC).replace(tzinfo=None)
PLAIN_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)
PLAIN_IDS = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=200
).filter(str.strip)
GOOD_EVENTS = st.fixed_dictionaries(
    {
        "external_id": PLAIN_IDS,
        "kind": st.sampled_from(ActivityKind.values),
        "occurred_at": st.datetimes(
            min_value=_NOW - timedelta(days=60), max_value=_NOW, timezones=st.none() | OFFSETS
        ).map(lambda value: value.isoformat()),
        "member": st.fixed_dictionaries(
            {"id": st.sampled_from(["u1", "u2", "u3"]) | PLAIN_IDS},
            optional={"name": PLAIN_TEXT},
        ),
    },
    optional={"text": PLAIN_TEXT},
)
SPOILED_EVENTS = st.tuples(
    GOOD_EVENTS, st.sampled_from(["external_id", "kind", "occurred_at", "member", "text"]), IDS
).map(lambda spoil: {**spoil[0], spoil[1]: spoil[2]})
PAYLOADS = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries({"events": st.lists(st.one_of(EVENTS, JSON_VALUES), max_size=6)}),
    st.fixed_dictionaries({"events": st.lists(EVENTS, min_size=1, max_size=6)}),
    st.fixed_dictionaries({"events": st.lists(GOOD_EVENTS, min_size=1, max_size=6)}),
    st.fixed_dictionaries(
        {"events": st.lists(GOOD_EVENTS | SPOILED_EVENTS, min_size=1, max_size=6)}
    ),
)


def payload_bytes(payload, ensure_ascii: bool) -> bytes:
    # Lone surrogates can only travel escaped (ensure_ascii), as a real client sends them.
    text = json.dumps(payload, ensure_ascii=ensure_ascii)
    return text.encode("utf-8", "surrogatepass" if not ensure_ascii else "strict")


BODIES = st.one_of(
    st.tuples(PAYLOADS, st.booleans()).map(lambda pair: payload_bytes(*pair)),
    st.binary(max_size=300),
)


@hsettings(
    # WEBHOOK_FUZZ_EXAMPLES=5000 for a longer hunt.
    max_examples=int(os.environ.get("WEBHOOK_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES, signed=st.sampled_from(["good", "good", "good", "bad", "none"]))
def test_no_input_gives_a_500(connector, secret, settings, body, signed):
    if settings.INGEST_RATE_PER_MINUTE < 10**9:  # once: each assignment stacks an override
        settings.INGEST_RATE_PER_MINUTE = 10**9
    events_before = ActivityEvent.objects.count()
    members_before = Member.objects.count()
    memberships_before = Membership.objects.count()
    timestamp = int(time.time())
    signature = {
        "good": sign(secret, timestamp, body),
        "bad": "v1=" + "0" * 64,
        "none": None,
    }[signed]
    headers = {} if signature else {"X-CommunityOps-Signature": None}

    response = post(
        body,
        connector_id=connector.public_id,
        timestamp=timestamp,
        signature=signature,
        headers=headers,
    )

    note_event(f"{signed} signature: {response.status_code}")
    assert response.status_code in STATUSES
    assert response["Content-Type"] == "application/json"
    response.json()
    if signed != "good":
        assert response.status_code == 401
    if response.status_code != 202:
        assert ActivityEvent.objects.count() == events_before
        assert Member.objects.count() == members_before
        assert Membership.objects.count() == memberships_before


@hsettings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    timestamp=st.one_of(st.text(max_size=20), st.integers().map(str)),
    signature=st.one_of(st.text(max_size=80), st.just("v1=")),
    connector_id=st.text(
        st.characters(codec="utf-8", blacklist_characters="/?#%\x00"), min_size=1, max_size=40
    ),
)
def test_no_header_or_connector_id_gives_a_500(settings, timestamp, signature, connector_id):
    if settings.INGEST_RATE_PER_MINUTE < 10**9:  # once: each assignment stacks an override
        settings.INGEST_RATE_PER_MINUTE = 10**9
    headers = {
        "X-CommunityOps-Timestamp": timestamp.encode("latin-1", "replace").decode("latin-1"),
        "X-CommunityOps-Signature": signature.encode("latin-1", "replace").decode("latin-1"),
    }

    response = post(encode({"events": [event(1)]}), connector_id=connector_id, headers=headers)

    assert response.status_code == 401
