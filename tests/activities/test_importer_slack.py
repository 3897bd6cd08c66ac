"""The Slack workspace-export importer, on a real export and on zips built here.

Expected numbers for the real fixture were counted from its JSON by hand (a one-off
script over the unzipped day files), not from the importer:

- #enrique (C0JGLMMNX): 102 messages — 30 by people, 4 channel_join, 2 bot_add and
  66 bot_message (one of which carries a :botman: reaction by U0BMYT2FL).
- #traveling-sailor (C0JL6CGQ2): 56 messages — 19 by people, 4 channel_join, 3
  file_share, 1 file_comment (by U0BMS113R), 1 bot_add and 28 bot_message.
"""

import json
import struct
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from activities.importers.base import ImportContext, ImportRejected, Limits
from activities.importers.slack import events

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "imports" / "slack_workspace.zip"
LIMITS = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)


def context(source_name="", limits=LIMITS, progress=None):
    return ImportContext(
        time_zone=ZoneInfo("Asia/Shanghai"),
        source_name=source_name,
        limits=limits,
        on_progress=progress,
    )


def run(path, source_name="", **kwargs):
    ctx = context(source_name, **kwargs)
    return list(events(path, ctx)), ctx


def kinds(evs):
    return Counter(str(e.kind) for e in evs)


# --- The real export ----------------------------------------------------------------


def test_enrique_counts_names_and_times():
    evs, ctx = run(REAL, "enrique")
    assert ctx.problems == []
    assert kinds(evs) == {"message": 30, "join": 4, "reaction": 1}
    per_member = Counter(e.member_key for e in evs if e.kind == "message")
    assert per_member == {"U0BMQB6JE": 25, "U0BMYT2FL": 2, "U0BMS113R": 2, "U0BMM2FEH": 1}
    first = evs[0]
    assert first.external_id == "slack:C0JGLMMNX:1452837318.000002"
    assert first.kind == "join"
    assert first.member_key == "U0BMQB6JE"
    assert first.member_name == "Hamza Faran"  # real_name
    assert first.occurred_at == datetime(2016, 1, 15, 5, 55, 18, 2, tzinfo=UTC)
    # The only reaction is a person's, on a bot's message: the reaction counts, the bot
    # message does not.
    (reaction,) = [e for e in evs if e.kind == "reaction"]
    assert reaction.external_id == "slack:C0JGLMMNX:1459154014.000018:reaction:botman:U0BMYT2FL"
    assert reaction.member_name == "Harry Potter"
    assert reaction.occurred_at == datetime(2016, 3, 28, 8, 33, 34, 18, tzinfo=UTC)
    names = {e.member_key: e.member_name for e in evs}
    # heroeshannibal has real_name and name but an empty display_name.
    assert names["U0BMM2FEH"] == "heroeshannibal"
    assert names["U0BMS113R"] == "Hermione Granger"


def test_traveling_sailor_by_channel_id():
    evs, ctx = run(REAL, "C0JL6CGQ2")
    assert ctx.problems == []
    assert kinds(evs) == {"message": 19, "join": 4, "post": 3, "reply": 1}
    assert {e.member_key for e in evs} == {"U0BMQB6JE", "U0BMYT2FL", "U0BMS113R", "U0BMM2FEH"}
    (comment,) = [e for e in evs if e.kind == "reply"]
    assert comment.member_key == "U0BMS113R"  # the comment's author
    assert comment.external_id == "slack:C0JL6CGQ2:1459106048.000018"
    assert comment.text.startswith("```'cities'")
    assert all(e.external_id.startswith("slack:C0JL6CGQ2:") for e in evs)


def test_ids_are_stable_and_unique():
    for channel in ("enrique", "#traveling-sailor"):
        first, _ = run(REAL, channel)
        second, _ = run(REAL, channel)
        assert first == second
        assert len({e.external_id for e in first}) == len(first)


def test_ambiguous_or_unknown_channel_is_rejected_with_the_list():
    with pytest.raises(ImportRejected) as missing:
        run(REAL, "")
    assert "enrique, traveling-sailor" in missing.value.message
    with pytest.raises(ImportRejected) as unknown:
        run(REAL, "random")
    assert "random" in unknown.value.message
    assert "enrique, traveling-sailor" in unknown.value.message


def test_progress_counts_day_files():
    seen = []
    run(REAL, "enrique", progress=seen.append)
    assert seen == [pytest.approx(n / 9) for n in range(1, 10)] + [1.0]


# --- Built zips ---------------------------------------------------------------------

CHANNELS = [{"id": "C1", "name": "general"}]
USERS = [
    {"id": "U1", "name": "ann", "real_name": "", "profile": {"display_name": "Ann D."}},
    {"id": "U2", "name": "ben", "profile": {}},
    {"id": "B1", "name": "deploybot", "is_bot": True, "profile": {}},
]


def build(tmp_path, files, name="export.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, content in files.items():
            data = content if isinstance(content, bytes) else json.dumps(content).encode()
            archive.writestr(entry, data)
    return path


def test_threads_leaves_bots_and_reactions(tmp_path):
    day = [
        {"type": "message", "user": "U1", "text": "hi", "ts": "1700000000.000100"},
        {  # a thread parent carries thread_ts == ts: still a message
            "type": "message",
            "user": "U2",
            "text": "q?",
            "ts": "1700000001.000200",
            "thread_ts": "1700000001.000200",
            "reactions": [{"name": "+1", "users": ["U1", "U2", "B1"], "count": 5}],
        },
        {
            "type": "message",
            "user": "U1",
            "text": "a",
            "ts": "1700000002.000300",
            "thread_ts": "1700000001.000200",
        },
        {"type": "message", "subtype": "bot_message", "bot_id": "B9", "ts": "1700000003.1"},
        {"type": "message", "user": "B1", "text": "deployed", "ts": "1700000004.000001"},
        {"type": "message", "subtype": "channel_topic", "user": "U1", "ts": "1700000005.0"},
        {"type": "message", "subtype": "channel_leave", "user": "U2", "ts": "1700000006.0"},
        {"type": "message", "subtype": "file_comment", "ts": "1700000007.0", "comment": {}},
    ]
    path = build(
        tmp_path,
        {"channels.json": CHANNELS, "users.json": USERS, "general/2023-11-14.json": day},
    )
    evs, ctx = run(path)  # the only channel is taken without a name
    assert ctx.problems == []
    assert kinds(evs) == {"message": 2, "reply": 1, "reaction": 2, "leave": 1}
    assert [e.external_id for e in evs if e.kind == "reaction"] == [
        "slack:C1:1700000001.000200:reaction:+1:U1",
        "slack:C1:1700000001.000200:reaction:+1:U2",
    ]
    names = {e.member_key: e.member_name for e in evs}
    assert names == {"U1": "Ann D.", "U2": "ben"}  # display_name, then name
    assert evs[0].occurred_at == datetime(2023, 11, 14, 22, 13, 20, 100, tzinfo=UTC)


def test_unreadable_messages_are_problems(tmp_path):
    day = [
        {"type": "message", "user": "U1", "text": "ok", "ts": "1700000000.000100"},
        {"type": "message", "user": "U1", "text": "no ts"},
        {"type": "message", "text": "no user", "ts": "1700000001.0"},
        "not a message",
    ]
    path = build(tmp_path, {"channels.json": CHANNELS, "general/2023-11-14.json": day})
    evs, ctx = run(path, "general")
    assert len(evs) == 1
    assert evs[0].member_name == ""  # no users.json: names stay empty
    assert [p.where for p in ctx.problems] == [
        "general/2023-11-14.json, message 2",
        "general/2023-11-14.json, message 3",
        "general/2023-11-14.json, message 4",
    ]


def test_invalid_day_file_rejects_naming_it(tmp_path):
    path = build(
        tmp_path,
        {
            "channels.json": CHANNELS,
            "general/2023-11-14.json": [{"user": "U1", "ts": "1700000000.1"}],
            "general/2023-11-15.json": b'[{"user": "U1", "ts": ',
        },
    )
    with pytest.raises(ImportRejected) as rejected:
        run(path, "general")
    assert rejected.value.message.startswith("general/2023-11-15.json: ")


def test_not_a_slack_export(tmp_path):
    with pytest.raises(ImportRejected):
        run(build(tmp_path, {"notes.txt": b"hello"}))
    text = tmp_path / "plain.txt"
    text.write_text("not a zip")
    with pytest.raises(ImportRejected):
        run(text)


def test_too_many_entries(tmp_path):
    files = {"channels.json": CHANNELS}
    files.update({f"general/2023-01-{n:03}.json": [] for n in range(100)})
    with pytest.raises(ImportRejected) as rejected:
        run(build(tmp_path, files), "general")
    assert "101" in rejected.value.message


def _zeros_zip(path, size):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", json.dumps(CHANNELS))
        with archive.open("general/2023-11-14.json", "w") as entry:
            chunk = b"\0" * (1 << 20)
            for _ in range(size >> 20):
                entry.write(chunk)


SMALL = Limits(max_zip_entries=100, max_uncompressed_bytes=1 << 20, max_json_depth=64)


def test_zip_bomb_is_rejected(tmp_path):
    path = tmp_path / "bomb.zip"
    _zeros_zip(path, 50 << 20)
    assert path.stat().st_size < 200_000
    with pytest.raises(ImportRejected) as rejected:
        run(path, "general", limits=SMALL)
    assert "exceed 1 MB" in rejected.value.message


def test_zip_bomb_with_lying_header_is_rejected(tmp_path):
    path = tmp_path / "liar.zip"
    _zeros_zip(path, 8 << 20)
    name = "general/2023-11-14.json"
    with zipfile.ZipFile(path) as archive:
        local = archive.getinfo(name).header_offset
    data = bytearray(path.read_bytes())
    # Declare 100 bytes uncompressed for the big entry, in its local and central headers.
    central = data.rindex(b"PK\x01\x02", 0, data.rindex(name.encode()))
    struct.pack_into("<I", data, local + 22, 100)
    struct.pack_into("<I", data, central + 24, 100)
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(name).file_size == 100
    # zipfile stops at the declared size and then fails the CRC check: reported as a
    # damaged archive, never inflated past the limit.
    with pytest.raises(ImportRejected) as rejected:
        run(path, "general", limits=SMALL)
    assert "damaged" in rejected.value.message
