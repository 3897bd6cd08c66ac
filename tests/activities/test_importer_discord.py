"""The DiscordChatExporter importer, JSON and CSV, on the hand-written fixtures."""

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from activities.importers.base import ImportContext, ImportRejected, Limits
from activities.importers.discord import events

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")
LIMITS = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)


def run(path, limits=LIMITS, progress=None):
    ctx = ImportContext(time_zone=SHANGHAI, limits=limits, on_progress=progress)
    return list(events(path, ctx)), ctx


def kinds(evs):
    return Counter(str(e.kind) for e in evs)


# --- JSON ---------------------------------------------------------------------------


def test_json_kinds_members_and_names():
    evs, ctx = run(FIXTURES / "discord_channel.json")
    assert ctx.problems == []
    # 10 messages: the bot's, the pin notice and the call are skipped; the ❤️ reaction
    # has only a count and the bot's 👍 is not a member's.
    assert kinds(evs) == {
        "message": 2,
        "reply": 1,
        "join": 1,
        "post": 1,
        "leave": 1,
        "removed": 1,
        "reaction": 3,
    }
    assert {e.member_key for e in evs} == {"111", "222", "333", "444"}
    names = {e.member_key: e.member_name for e in evs if e.kind != "reaction"}
    assert names == {
        "111": "Alice Wang",  # nickname
        "222": "bob",  # no nickname: name
        "333": "<script>alert(1)</script>",  # kept as is; escaping is the template's job
        "444": "carol",
    }
    assert evs[0].text == "大家好！周六一起去河边捡垃圾吗？"


def test_json_times_and_ids():
    evs, _ = run(FIXTURES / "discord_channel.json")
    by_id = {e.external_id: e for e in evs}
    first = by_id["discord:900000000000000100:1060000000000000001"]
    assert first.occurred_at == datetime(2023, 1, 2, 10, 3, 4, 123000, tzinfo=UTC)
    reply = by_id["discord:900000000000000100:1060000000000000003"]
    assert reply.kind == "reply"
    assert reply.occurred_at == datetime(2023, 1, 2, 10, 5, 0, 500000, tzinfo=UTC)
    assert reply.occurred_at.utcoffset() is not None
    reactions = [e.external_id for e in evs if e.kind == "reaction"]
    assert reactions == [
        "discord:900000000000000100:1060000000000000001:reaction:👍:222",
        "discord:900000000000000100:1060000000000000001:reaction:👍:333",
        # a person's reaction to the bot's message counts (custom emoji: by its id)
        "discord:900000000000000100:1060000000000000004:reaction:1050000000000000077:111",
    ]
    assert all(e.occurred_at == first.occurred_at for e in evs[1:3])


def test_json_membership():
    evs, _ = run(FIXTURES / "discord_channel.json")
    membership = [
        (str(e.kind), e.member_key) for e in evs if e.kind in ("join", "leave", "removed")
    ]
    # carol removes herself → leave; alice removes bob → bob is removed.
    assert membership == [("join", "333"), ("leave", "444"), ("removed", "222")]


def test_json_problems_name_the_message():
    evs, ctx = run(FIXTURES / "discord_bad.json")
    assert [e.external_id.rsplit(":", 1)[1] for e in evs] == [
        "1060000000000000001",
        "1060000000000000004",
    ]
    assert [p.where for p in ctx.problems] == [
        "message 2 (id 1060000000000000002)",
        "message 3 (id 1060000000000000003)",
    ]


def test_json_depth_limit(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"channel": {"id": "1"}, "messages": [' + "[" * 80 + "]" * 80 + "]}")
    with pytest.raises(ImportRejected):
        run(path)


def test_json_without_channel_is_rejected(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"name": "something else", "items": [1, 2]}')
    with pytest.raises(ImportRejected):
        run(path)


# --- CSV ----------------------------------------------------------------------------


def test_csv_rows_times_and_names():
    evs, ctx = run(FIXTURES / "discord_channel.csv")
    assert ctx.problems == []
    assert kinds(evs) == {"message": 6}
    assert [e.member_key for e in evs] == ["111", "222", "333", "111", "111", "222"]
    assert evs[0].occurred_at == datetime(2023, 1, 2, 10, 3, 4, 123000, tzinfo=UTC)
    assert evs[1].occurred_at == datetime(2023, 1, 2, 10, 5, tzinfo=UTC)
    assert evs[1].text == 'Line one\r\nLine two, with a comma and "quotes"'
    # The old "02-Jan-23 10:07 AM" form has no zone: read in the community's.
    assert evs[2].occurred_at == datetime(2023, 1, 2, 10, 7, tzinfo=SHANGHAI)
    assert evs[2].occurred_at == datetime(2023, 1, 2, 2, 7, tzinfo=UTC)
    assert evs[2].member_name == "<script>alert(1)</script>"
    assert evs[0].text == "大家好！周六一起去河边捡垃圾吗？"
    assert evs[5].text == ""  # an attachment-only message is still a message


def test_csv_ids_stable_and_unique_with_identical_rows():
    first, _ = run(FIXTURES / "discord_channel.csv")
    second, _ = run(FIXTURES / "discord_channel.csv")
    assert first == second
    ids = [e.external_id for e in first]
    assert len(set(ids)) == 6
    assert ids[4] == ids[3] + ":2"  # two identical rows: an occurrence counter


def test_csv_problems_use_record_numbers():
    evs, ctx = run(FIXTURES / "discord_bad.csv")
    assert [e.member_key for e in evs] == ["111", "333"]
    # Row 3's date spans two lines, so the next record is row 4 though it is on line 5.
    assert [p.where for p in ctx.problems] == ["row 3", "row 4"]


def test_csv_with_other_columns_is_rejected(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("name,email\nann,ann@example.org\n")
    with pytest.raises(ImportRejected) as rejected:
        run(path)
    assert "AuthorID" in rejected.value.message


def test_progress_reaches_the_end():
    for name in ("discord_channel.json", "discord_channel.csv"):
        seen = []
        run(FIXTURES / name, progress=seen.append)
        assert seen[-1] == 1.0


def test_recipient_add_is_a_join_of_the_added_person(tmp_path):
    path = tmp_path / "group.json"
    path.write_text(
        '{"channel": {"id": "7"}, "messages": [{"id": "1", "type": "RecipientAdd",'
        ' "timestamp": "2023-01-02T10:00:00+00:00", "content": "Added ann.",'
        ' "author": {"id": "111", "name": "alice", "isBot": false},'
        ' "mentions": [{"id": "555", "name": "ann", "nickname": "Ann"}]}]}'
    )
    evs, ctx = run(path)
    assert ctx.problems == []
    assert [(e.kind, e.member_key, e.member_name) for e in evs] == [("join", "555", "Ann")]
