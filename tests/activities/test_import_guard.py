"""Hostile files against every JSON importer, and what the user is told. No database.

The JSON guard (``activities.importers.base.JsonGuard``) sits between every JSON file and
ijson; these tests pin what it refuses (nesting, long texts, huge messages, oversized Slack
metadata) and that every refusal says in plain words what is wrong and where. The time
and memory these refusals take are measured in ``test_import_memory.py``.
"""

import io
import json
import zipfile
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activities.importers import discord, slack, telegram, wechat
from activities.importers.base import ImportContext, ImportRejected, JsonGuard, Limits

LIMITS = Limits(max_zip_entries=100, max_uncompressed_bytes=10**9, max_json_depth=64)
MESSAGE = {
    "id": 1,
    "type": "message",
    "date": "2023-01-01T00:00:00",
    "date_unixtime": "1672531200",
    "from": "A",
    "from_id": "user1",
    "text": "hi",
}


def context(limits=LIMITS, source_name="general"):
    return ImportContext(
        time_zone=ZoneInfo("Asia/Shanghai"), source_name=source_name, limits=limits
    )


def import_all(module, path, limits=LIMITS, source_name="general"):
    ctx = context(limits, source_name)
    return list(module.events(path, ctx)), ctx


def rejection(module, path, limits=LIMITS, source_name="general") -> str:
    with pytest.raises(ImportRejected) as rejected:
        import_all(module, path, limits, source_name)
    return rejected.value.message


def slack_zip(tmp_path, channels=None, users=None, day=None, name="export.zip"):
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("channels.json", channels or json.dumps([{"id": "C1", "name": "general"}]))
        if users is not None:
            archive.writestr("users.json", users)
        message = {"type": "message", "user": "U1", "text": "hi", "ts": "1672531200.000100"}
        archive.writestr("general/2023-01-01.json", day or json.dumps([message]))
    return path


def deep(levels: int, opening: bytes = b"[", closing: bytes = b"]") -> bytes:
    return opening * levels + closing * levels


def telegram_file(tmp_path, messages: bytes) -> object:
    path = tmp_path / "result.json"
    path.write_bytes(
        b'{"name": "G", "type": "private_group", "id": 1, "messages": ' + messages + b"}"
    )
    return path


# --- Nesting: refused before the parser sees it, naming where --------------------------

# 2,000 levels keeps the old code's cost small here; test_import_memory runs 100,000.
DEEP = deep(2_000)
DEEP_MAPS = b'{"a":' * 2_000 + b"1" + b"}" * 2_000


@pytest.mark.parametrize(
    "case",
    [
        "telegram layout",  # result.json as a whole: what the format sniffing reads first
        "telegram message",
        "slack day file",
        "slack channels.json",
        "slack users.json",
        "discord message",
    ],
)
def test_deep_nesting_is_refused_naming_the_place(tmp_path, case):
    if case == "telegram layout":
        path, module, expected = tmp_path / "result.json", telegram, ""
        path.write_bytes(DEEP)
    elif case == "telegram message":
        path, module, expected = telegram_file(tmp_path, b"[" + DEEP_MAPS + b"]"), telegram, ""
    elif case == "slack day file":
        path, module, expected = slack_zip(tmp_path, day=DEEP), slack, "general/2023-01-01.json: "
    elif case == "slack channels.json":
        path, module, expected = slack_zip(tmp_path, channels=DEEP), slack, "channels.json: "
    elif case == "slack users.json":
        path, module, expected = slack_zip(tmp_path, users=DEEP_MAPS), slack, "users.json: "
    else:
        path, module, expected = tmp_path / "discord.json", discord, ""
        path.write_bytes(b'{"channel": {"id": "1"}, "messages": [' + DEEP + b"]}")
    message = rejection(module, path)
    assert message.startswith(expected + "The file nests deeper than 64 levels (line 1, column ")


def test_the_place_counts_lines_and_characters(tmp_path):
    # Line 3; the column counts characters, not bytes (你 is three bytes).
    path = tmp_path / "result.json"
    path.write_bytes('{"name": "你好",\n "id": 1,\n "messages": ['.encode() + b"[" * 70)
    message = rejection(telegram, path)
    assert message == "The file nests deeper than 64 levels (line 3, column 77)."


def test_brackets_inside_texts_do_not_count(tmp_path):
    text = '[{"\\"[[[' * 2_000  # brackets and escaped quotes inside one string
    messages = [{**MESSAGE, "text": text}, {**MESSAGE, "id": 2, "text": ["a", {"text": "]]]\\"}]}]
    path = telegram_file(tmp_path, json.dumps(messages).encode())
    found, ctx = import_all(telegram, path)
    assert ctx.problems == []
    assert [event.text for event in found] == [text, "a]]]\\"]


# --- The guard against a byte-by-byte reference -----------------------------------------


def reference_depth_error(data: bytes, limit: int) -> int | None:
    """Where a naive byte-by-byte scan finds nesting deeper than ``limit``. A backslash
    escapes the next byte wherever it is (outside a string the parser refuses it anyway)."""
    depth, in_string, escaped = 0, False, False
    for offset, byte in enumerate(data):
        if escaped:
            escaped = False
        elif byte == 0x5C:
            escaped = True
        elif in_string:
            if byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            if depth > limit:
                return offset
        elif byte in b"]}":
            depth = max(depth - 1, 0)
    return None


class Pieces(io.RawIOBase):
    """A stream that hands out ``data`` in pieces of the given sizes (a zip entry does)."""

    def __init__(self, data: bytes, sizes: list[int]):
        self._data, self._sizes, self._at = data, sizes or [7], 0

    def read(self, size=-1):
        piece = self._sizes[self._at % len(self._sizes)]
        chunk = self._data[: min(piece, size)]
        self._data = self._data[len(chunk) :]
        self._at += 1
        return chunk


_string_part = st.sampled_from(
    ["a", "é", "你", "[", "]", "{", "}", '\\"', "\\\\", "\\n", "\\u00e9"]
)
_token = st.one_of(
    st.sampled_from(["[", "]", "{", "}", ",", ":", " ", "\n", "1", "é", '"', "\\"]),
    st.lists(_string_part, max_size=30).map(lambda parts: '"' + "".join(parts) + '"'),
)


@settings(max_examples=400, deadline=None)
@given(
    tokens=st.lists(_token, max_size=300),
    run=st.integers(0, 80),
    at=st.integers(0, 300),
    sizes=st.lists(st.integers(1, 70), min_size=1, max_size=5),
    limit=st.integers(1, 12),
)
def test_the_guard_agrees_with_a_byte_by_byte_scan(tokens, run, at, sizes, limit):
    tokens.insert(min(at, len(tokens)), "[" * run)  # sometimes deep enough to refuse
    data = "".join(tokens).encode()
    guard = JsonGuard(Pieces(data, sizes), Limits(1, 1, limit))
    expected = reference_depth_error(data, limit)
    try:
        while guard.read(64):
            pass
    except ImportRejected as rejected:
        assert expected is not None, rejected.message
        head = data[:expected].decode()
        line, column = head.count("\n") + 1, len(head) - (head.rfind("\n") + 1) + 1
        assert rejected.message.endswith(f"(line {line}, column {column}).")
    else:
        assert expected is None


# --- Texts and messages too large to hold -----------------------------------------------

SMALL_VALUES = Limits(
    max_zip_entries=100,
    max_uncompressed_bytes=10**9,
    max_json_depth=64,
    max_json_message_bytes=1 << 20,
    max_json_text_bytes=1 << 20,
)


def test_a_huge_text_is_refused_where_it_starts(tmp_path):
    message = {**MESSAGE, "text": "x" * (3 << 20)}
    path = telegram_file(tmp_path, b"[\n" + json.dumps(message).encode() + b"\n]")
    assert rejection(telegram, path, SMALL_VALUES) == (
        "A single text in the file is longer than 1.0\xa0MB (line 2, column 133)."
    )


def test_a_huge_text_outside_any_message_is_refused_too(tmp_path):
    # ijson makes every value, wanted or not: a text nobody reads still had to be held.
    path = tmp_path / "discord.json"
    filler = json.dumps({"guild": {"name": "y" * (3 << 20)}})[1:-1].encode()
    path.write_bytes(b'{"channel": {"id": "1"}, ' + filler + b', "messages": []}')
    assert rejection(discord, path, SMALL_VALUES).startswith("A single text in the file is longer")


def test_a_huge_message_is_refused(tmp_path):
    # Many small keys: as Python objects several times its size in the file.
    message = {**MESSAGE, **{f"k{n}": n for n in range(200_000)}}
    path = tmp_path / "export.zip"
    path = slack_zip(tmp_path, day=json.dumps([message]))
    assert rejection(slack, path, SMALL_VALUES).startswith(
        "general/2023-01-01.json: A single message in the file is larger than 1.0\xa0MB (near line"
    )


def test_texts_and_messages_within_the_limit_import(tmp_path):
    messages = [{**MESSAGE, "text": "x" * 900_000}, {**MESSAGE, "id": 2, "text": "y" * 900_000}]
    path = telegram_file(tmp_path, json.dumps(messages).encode())
    found, _ctx = import_all(telegram, path, SMALL_VALUES)
    assert [len(event.text) for event in found] == [900_000, 900_000]


# --- Slack metadata: streamed, with its own limit ---------------------------------------

SMALL_METADATA = Limits(
    max_zip_entries=100, max_uncompressed_bytes=10**9, max_json_depth=64, max_metadata_bytes=1 << 20
)


def test_a_zip_bomb_channels_json_is_refused_by_its_header(tmp_path):
    channels = (
        b"[" + b" " * (20 << 20) + json.dumps({"id": "C1", "name": "general"}).encode() + b"]"
    )
    path = slack_zip(tmp_path, channels=channels)
    assert path.stat().st_size < 100_000
    assert rejection(slack, path, SMALL_METADATA) == (
        "channels.json: The file is larger than 1.0\xa0MB, the limit for channels.json and "
        "users.json."
    )


def test_a_users_json_that_lies_about_its_size_is_refused_while_read(tmp_path):
    users = b"[" + b" " * (5 << 20) + b"]"
    path = slack_zip(tmp_path, users=users)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("users.json")
    # The central directory says 100 bytes: only counting while reading can tell.
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02", 0, data.rindex(b"users.json"))
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    data[info.header_offset + 22 : info.header_offset + 26] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    message = rejection(slack, path, SMALL_METADATA)
    assert message in (
        "users.json: The file is larger than 1.0\xa0MB, the limit for channels.json and "
        "users.json.",
        "The archive is damaged: a file in it cannot be unpacked.",
    )


def test_metadata_is_read_field_by_field(tmp_path):
    users = [
        {"id": "U1", "name": "ann", "profile": {"display_name": "Ann D", "image": "x" * 5000}},
        {"id": "U2", "real_name": "Bob B", "name": "bob", "profile": {"display_name": "B"}},
        {"id": "B1", "name": "robot", "is_bot": True},
        {"id": 5},
        "not a person",
    ]
    day = [
        {"type": "message", "user": "U1", "text": "a", "ts": "1672531200.000100"},
        {"type": "message", "user": "U2", "text": "b", "ts": "1672531201.000100"},
        {"type": "message", "user": "B1", "text": "c", "ts": "1672531202.000100"},
    ]
    channels = [{"id": "C1", "name": "general", "members": ["U1"] * 1000, "topic": {"value": "t"}}]
    path = slack_zip(
        tmp_path, channels=json.dumps(channels), users=json.dumps(users), day=json.dumps(day)
    )
    found, _ctx = import_all(slack, path)
    assert [(event.member_key, event.member_name) for event in found] == [
        ("U1", "Ann D"),
        ("U2", "Bob B"),
    ]


@pytest.mark.parametrize("content", [b'{"id": "C1"}', b"5", b'"general"'])
def test_metadata_that_is_not_a_list_is_refused(tmp_path, content):
    path = slack_zip(tmp_path, channels=content)
    assert rejection(slack, path) == "channels.json is not a list."


# --- Malformed JSON: what is wrong and where, never a parser's repr ---------------------


# The place is where the parser stopped: on the offending character, or just past the
# token it could not take.
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"id": 1, "messages": [1, 2,, 3]}', "This is not valid JSON (line 1, column 30)."),
        (
            b'{"id": 1, "messages": [\n  {"id": 1},\n  {"id": 2} x\n]}',
            "This is not valid JSON (line 3, column 14).",
        ),
        (b'{"id": 1, "messages": ["\xff\xfe"]}', "The text is not UTF-8 (line 1, column 26)."),
        (
            b'{"id": 1, "messages": []} {}',
            "There is more text after the end of the JSON (line 1, column 28).",
        ),
        (
            b'{"id": 1, "messages": [{"id": 1',
            "The file ends before its JSON is complete: it may have been cut off.",
        ),
        (b"", "The file ends before its JSON is complete: it may have been cut off."),
    ],
)
def test_malformed_json_says_what_and_where(tmp_path, content, expected):
    path = tmp_path / "result.json"
    path.write_bytes(content)
    assert rejection(telegram, path) == expected


def test_malformed_json_far_into_the_file_is_placed_exactly(tmp_path):
    # Past the first 64 KB read, on a line that does not start in the chunk.
    messages = json.dumps([{**MESSAGE, "id": n, "text": "你好" * 50} for n in range(400)])
    broken = messages[:-1] + ', {"id": 401,, "x": 1}]'
    path = telegram_file(tmp_path, broken.encode())
    prefix = b'{"name": "G", "type": "private_group", "id": 1, "messages": '
    text = prefix.decode() + broken
    column = text.index(",,") + 3  # just past the second comma
    assert len(text.encode()) > 1 << 16
    assert rejection(telegram, path) == f"This is not valid JSON (line 1, column {column})."


def test_malformed_slack_day_file_is_named(tmp_path):
    path = slack_zip(tmp_path, day=b'[{"user": "U1", "ts": tru}]')
    assert (
        rejection(slack, path)
        == "general/2023-01-01.json: This is not valid JSON (line 1, column 26)."
    )


# --- CSV: the csv module's words are not the user's --------------------------------------

WECHAT_HEADER = (
    "localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,Remark,"
    "NickName,Sender"
)


@pytest.mark.parametrize("module", [discord, wechat])
def test_a_csv_field_over_the_module_limit_is_named_in_plain_words(tmp_path, module):
    path = tmp_path / "export.csv"
    header = "AuthorID,Author,Date,Content" if module is discord else WECHAT_HEADER
    path.write_text(header + '\n1,a,2023-01-01T00:00:00,"' + "x" * 200_000 + '"\n')
    assert rejection(module, path) == "Line 2 holds a field longer than 128.0\xa0KB."
