"""The Telegram Desktop importer, on small hand-written result.json files. No database."""

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from activities.importers.base import ImportContext, ImportRejected, Limits
from activities.importers.telegram import events, peer_id

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BOB = "Bob <script>alert('x')</script>"


def context(source_name: str = "", **kwargs) -> ImportContext:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    return ImportContext(time_zone=SHANGHAI, source_name=source_name, limits=limits, **kwargs)


def run(name: str, source_name: str = "") -> tuple[list, ImportContext]:
    ctx = context(source_name)
    return list(events(FIXTURES / name, ctx)), ctx


def by_id(found: list) -> dict:
    return {event.external_id: event for event in found}


def test_single_chat_counts_every_kind():
    found, ctx = run("telegram_single.json")
    assert ctx.problems == []
    assert Counter(event.kind for event in found) == {
        "message": 5,
        "reply": 2,
        "join": 3,
        "removed": 1,
        "leave": 1,
    }
    # Invited and removed members are keyed by name: Telegram gives no ids for them.
    assert {event.member_key for event in found} == {
        "user1001",
        "user1002",
        "user1003",
        "user1004",
        "Dave",
        "Erin 李",
    }
    assert [event.external_id for event in found][:2] == ["tg:1790234567:1", "tg:1790234567:2"]


def test_single_chat_reads_each_event_faithfully():
    events_by_id = by_id(run("telegram_single.json")[0])
    joined = events_by_id["tg:1790234567:1"]
    assert (joined.kind, joined.member_key, joined.member_name) == (
        "join",
        "user1003",
        "Carol Chen",
    )
    # date_unixtime is UTC: 1672883880 = 01:58Z = 09:58 in Shanghai.
    assert joined.occurred_at == datetime(2023, 1, 5, 1, 58, tzinfo=UTC)
    assert joined.occurred_at.utcoffset().total_seconds() == 0

    entities = events_by_id["tg:1790234567:3"]
    assert entities.member_name == BOB
    assert entities.text == "Read the guide first: https://example.org/guide"
    assert events_by_id["tg:1790234567:2"].text == "大家好，欢迎来到社区！"

    reply = events_by_id["tg:1790234567:4"]
    assert (reply.kind, reply.member_key, reply.text) == ("reply", "user1003", "谢谢！")

    sticker, photo = events_by_id["tg:1790234567:5"], events_by_id["tg:1790234567:11"]
    assert (sticker.kind, sticker.text) == ("message", "")
    assert (photo.kind, photo.member_key) == ("message", "user1004")

    invited = [events_by_id["tg:1790234567:6:0"], events_by_id["tg:1790234567:6:1"]]
    assert [(e.kind, e.member_key, e.member_name) for e in invited] == [
        ("join", "Dave", "Dave"),
        ("join", "Erin 李", "Erin 李"),
    ]
    removed = events_by_id["tg:1790234567:9:0"]
    assert (removed.kind, removed.member_key) == ("removed", "Erin 李")
    left = events_by_id["tg:1790234567:10"]
    assert (left.kind, left.member_key, left.member_name) == ("leave", "user1002", BOB)
    assert "tg:1790234567:8" not in events_by_id  # pin_message is not activity


def test_naive_date_is_read_in_the_community_zone():
    old = by_id(run("telegram_single.json")[0])["tg:1790234567:12"]
    assert old.occurred_at == datetime(2023, 1, 6, 8, 15, tzinfo=SHANGHAI)
    assert old.occurred_at == datetime(2023, 1, 6, 0, 15, tzinfo=UTC)


def test_ids_are_unique_and_stable():
    first, second = run("telegram_single.json")[0], run("telegram_single.json")[0]
    ids = [event.external_id for event in first]
    assert ids == [event.external_id for event in second]
    assert len(set(ids)) == len(ids) == 12


def test_progress_reaches_the_end():
    seen = []
    ctx = context(on_progress=seen.append)
    list(events(FIXTURES / "telegram_single.json", ctx))
    assert seen[-1] == 1.0


def test_account_export_picks_chat_by_name():
    found, ctx = run("telegram_account.json", "Open Source Shanghai")
    assert ctx.problems == []
    assert [(e.external_id, e.kind) for e in found] == [
        ("tg:1790000001:1", "join"),
        ("tg:1790000001:2", "message"),
        ("tg:1790000001:3", "reply"),
    ]


def test_account_export_picks_chat_by_id():
    found, _ = run("telegram_account.json", "4500000002")
    assert [(e.external_id, e.member_key, e.text) for e in found] == [
        ("tg:4500000002:8", "user1003", "这周读什么？"),
    ]


def test_account_export_with_one_group_needs_no_name(tmp_path):
    data = json.loads((FIXTURES / "telegram_account.json").read_text())
    data["chats"]["list"].pop(2)  # keep the personal chat and one group
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    found = list(events(path, context()))
    assert [e.external_id for e in found] == [f"tg:1790000001:{n}" for n in (1, 2, 3)]


def test_account_export_rejects_ambiguity_listing_group_chats():
    with pytest.raises(ImportRejected) as rejected:
        run("telegram_account.json")
    assert rejected.value.message == (
        "This export holds several chats; enter the one to import. "
        "Group chats: Open Source Shanghai, 读书会"
    )
    with pytest.raises(ImportRejected) as rejected:
        run("telegram_account.json", "Old group")  # in left_chats: ignored
    assert "no chat named Old group" in rejected.value.message
    assert "Open Source Shanghai, 读书会" in rejected.value.message


def test_account_export_rejects_a_name_shared_by_two_chats(tmp_path):
    data = json.loads((FIXTURES / "telegram_account.json").read_text())
    data["chats"]["list"][2]["name"] = "Open Source Shanghai"
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data, ensure_ascii=False))
    with pytest.raises(ImportRejected) as rejected:
        list(events(path, context("Open Source Shanghai")))
    assert rejected.value.message.endswith("1790000001, 4500000002")


def test_bad_rows_are_problems_and_skipped():
    found, ctx = run("telegram_bad.json")
    assert [e.external_id for e in found] == ["tg:4500000009:1", "tg:4500000009:5"]
    assert [(p.where, p.message) for p in ctx.problems] == [
        ("message 2", "The message has no readable date."),
        ("message 3", "The message has no sender id (from_id)."),
        ("message 4", "The message has no readable date."),
    ]


@pytest.mark.parametrize(
    "content",
    [
        "12/31/20, 9:41 PM - Alice: hi\n",  # not JSON
        "[1, 2, 3]",
        '{"name": "x", "id": 1, "list": []}',
        "{",
    ],
)
def test_other_files_are_rejected(tmp_path, content):
    path = tmp_path / "result.json"
    path.write_text(content)
    with pytest.raises(ImportRejected):
        list(events(path, context()))


def test_whatsapp_export_is_rejected_with_a_clear_message():
    with pytest.raises(ImportRejected) as rejected:
        list(events(FIXTURES / "whatsapp_android.txt", context()))
    assert rejected.value.message.startswith("This is not a Telegram chat export")


def test_nesting_over_the_limit_is_rejected(tmp_path):
    deep = "[" * 70 + "]" * 70
    path = tmp_path / "result.json"
    message = '{"id": 1, "type": "message", "date": "2023-01-01T00:00:00", "text": ' + deep + "}"
    path.write_text(
        '{"name": "x", "type": "private_group", "id": 1, "messages": [' + message + "]}"
    )
    with pytest.raises(ImportRejected) as rejected:
        list(events(path, context()))
    assert rejected.value.message == "The file nests deeper than 64 levels (line 1, column 191)."


# --- Numeric ids (older Telegram Desktop, other exporters) -------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("user123456789", "user123456789"),
        (123456789, "user123456789"),  # older Telegram Desktop, some exporters
        ("123456789", "user123456789"),
        (" 123456789 ", "user123456789"),
        ("channel1790234567", "channel1790234567"),  # a channel's post
        ("chat4500000009", "chat4500000009"),
        (-1001790234567, "channel1790234567"),  # Bot API numbering
        (-4500000009, "chat4500000009"),
        (0, ""),
        (None, ""),
        (True, ""),
        (1.5, ""),
        ({"id": 1}, ""),
        ("", ""),
    ],
)
def test_peer_ids_have_one_shape(value, key):
    assert peer_id(value) == key


def test_numeric_ids_are_the_same_members_as_user_ids():
    found, ctx = run("telegram_numeric_ids.json")
    assert ctx.problems == []
    assert ctx.skipped == {"system": 1}  # create_group
    assert Counter(event.kind for event in found) == {
        "message": 4,
        "reply": 1,
        "join": 3,
        "leave": 1,
    }
    assert [(e.kind, e.member_key) for e in found] == [
        ("join", "user1002"),  # "actor_id": 1002, join_group_by_link
        ("message", "user1001"),  # "from_id": 1001
        ("reply", "user1002"),
        ("join", "Erin"),  # invited: Telegram names, never ids, the invited
        ("message", "user1003"),  # "from_id": "1003"
        ("message", "user1001"),  # "from_id": "user1001": the same Alice
        ("message", "channel1234567890"),  # posted on behalf of the group
        ("leave", "user1002"),  # removed themselves: a leave, keyed by actor_id 1002
        ("join", "user1004"),
    ]
    # Only "date" (older exports): the exporting computer's wall clock, read in the zone.
    assert found[0].occurred_at == datetime(2020, 6, 1, 20, 1, tzinfo=SHANGHAI)
