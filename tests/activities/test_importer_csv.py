"""The generic CSV importer, on small hand-written files. No database."""

import csv
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from activities.importers import get_importer
from activities.importers.base import ImportContext, ImportRejected, Limits
from activities.importers.csv_generic import events

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")
HEADER = "occurred_at,kind,member_id,member_name,external_id,text\n"


def context() -> ImportContext:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    return ImportContext(time_zone=SHANGHAI, limits=limits)


def run(path) -> tuple[list, ImportContext]:
    ctx = context()
    return list(events(path, ctx)), ctx


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_registered_as_the_csv_format():
    module = get_importer("csv")
    assert (module.FORMAT, module.PLATFORM) == ("csv", None)


def test_fixture_counts_kinds_members_and_texts():
    found, ctx = run(FIXTURES / "events_generic.csv")
    assert ctx.problems == []
    assert Counter(event.kind for event in found) == {
        "message": 2,
        "reply": 1,
        "reaction": 1,
        "check_in": 1,
        "post": 1,
        "attend": 1,
        "join": 1,
        "leave": 1,
        "removed": 1,
    }
    assert {event.member_key for event in found} == {"u1", "u2", "u3", "u4", "u5"}
    names = {event.member_key: event.member_name for event in found}
    assert names == {
        "u1": "张三",
        "u2": "Bob",
        "u3": "<script>alert(1)</script>",  # kept as written; escaping is the page's job
        "u4": "李四",
        "u5": "u5",  # no member_name: the id stands in
    }
    post = next(event for event in found if event.kind == "post")
    assert post.text == 'line one\nline two, with a comma and "quotes"'
    assert found[0].text == "大家好"


def test_fixture_times_keep_offsets_and_read_naive_times_in_the_community_zone():
    found, _ = run(FIXTURES / "events_generic.csv")
    by_id = {event.external_id: event.occurred_at for event in found}
    assert by_id["m1"] == datetime(2026, 11, 20, 13, 3, tzinfo=UTC)
    assert by_id["m1"].utcoffset() == timedelta(hours=8)  # the offset as written
    assert by_id["m2"] == datetime(2026, 11, 20, 21, 5, tzinfo=UTC)
    assert by_id["m3"] == datetime(2026, 11, 20, 21, 10, tzinfo=SHANGHAI)  # naive
    assert by_id["m3"].tzinfo is SHANGHAI
    assert by_id["m5"] == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # naive, 10:00 in Shanghai
    last = found[-1].occurred_at
    assert last == datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert all(event.occurred_at.utcoffset() is not None for event in found)


def test_external_ids_are_given_or_stable_hashes():
    first, _ = run(FIXTURES / "events_generic.csv")
    again, _ = run(FIXTURES / "events_generic.csv")
    ids = [event.external_id for event in first]
    assert ids == [event.external_id for event in again]
    assert len(set(ids)) == len(ids) == 10
    assert ids[:9] == [f"m{n}" for n in range(1, 10)]
    assert ids[9].startswith("h:")


def test_bad_rows_are_problems_with_spreadsheet_row_numbers():
    found, ctx = run(FIXTURES / "events_generic_bad.csv")
    assert [event.external_id for event in found] == ["b1", "b3", "b6"]
    assert ctx.problem_count == 3
    assert [(p.where, p.message) for p in ctx.problems] == [
        (
            "row 3",
            "“2026-11-31T10:00:00” is not a date and time; use ISO 8601, "
            "e.g. 2026-11-20T21:03:00+08:00.",
        ),
        (
            "row 5",  # row 4 spans two lines of the file: it is still one row
            "“like” is not a kind of activity; use one of: message, reply, reaction, "
            "check_in, post, attend, join, leave, removed.",
        ),
        ("row 6", "member_id must be 1 to 200 characters; this one has 0."),
    ]


@pytest.mark.parametrize(
    "value",
    ["2026-11-20", "20261120", "yesterday", "2026-11-20T25:00", "2026-11-20T10:00+25:00", ""],
)
def test_a_date_alone_or_garbage_is_not_a_time(tmp_path, value):
    found, ctx = run(write(tmp_path, f"{HEADER}{value},message,u1,,,x\n"))
    assert found == []
    assert ctx.problems[0].where == "row 2"
    assert "is not a date and time" in ctx.problems[0].message


def test_accepted_time_shapes(tmp_path):
    rows = ["2026-11-20T21:03Z", "2026-11-20 21:03:00.5+08:00", "2026-11-20T21:03:00"]
    body = "".join(f"{value},message,u1,,e{n},x\n" for n, value in enumerate(rows))
    found, ctx = run(write(tmp_path, HEADER + body))
    assert ctx.problems == []
    assert [event.occurred_at for event in found] == [
        datetime(2026, 11, 20, 21, 3, tzinfo=UTC),
        datetime(2026, 11, 20, 13, 3, 0, 500000, tzinfo=UTC),
        datetime(2026, 11, 20, 21, 3, tzinfo=SHANGHAI),
    ]


def test_identical_rows_without_an_id_get_the_same_id(tmp_path):
    # Same id, so the log stores them once (a duplicate skipped, as on a re-import).
    row = "2026-11-20T21:03:00+08:00,message,u1,,,same text\n"
    other = "2026-11-20T21:03:00+08:00,message,u1,,,other text\n"
    found, ctx = run(write(tmp_path, HEADER + row + other + row))
    assert ctx.problems == []
    first, second, third = (event.external_id for event in found)
    assert first == third != second


def test_a_repeated_external_id_is_left_to_the_log(tmp_path):
    # No set of ids is kept (memory stays flat); the unique constraint keeps the first.
    body = (
        "2026-11-20T21:03:00+08:00,message,u1,,x1,a\n"
        "2026-11-20T21:04:00+08:00,message,u2,,x2,b\n"
        "2026-11-20T21:05:00+08:00,message,u3,,x1,c\n"
    )
    found, ctx = run(write(tmp_path, HEADER + body))
    assert ctx.problems == []
    assert [event.external_id for event in found] == ["x1", "x2", "x1"]


def test_limits_on_ids_kind_case_and_columns_in_any_order(tmp_path):
    long = "x" * 201
    text = (
        "Kind, Member_ID ,occurred_at\n"
        " Message ,u1,2026-11-20T21:03:00+08:00\n"
        f"message,{long},2026-11-20T21:03:00+08:00\n"
        "message,u1\n"
        "\n"
        "reply,u2,2026-11-20T21:04:00+08:00\n"
    )
    found, ctx = run(write(tmp_path, text))
    assert [(event.kind, event.member_key) for event in found] == [
        ("message", "u1"),
        ("reply", "u2"),
    ]
    assert [(p.where, p.message) for p in ctx.problems] == [
        ("row 3", "member_id must be 1 to 200 characters; this one has 201."),
        ("row 4", "This row has 2 cells; the header has 3."),
    ]


def test_unnamed_trailing_columns_are_ignored(tmp_path):
    found, ctx = run(write(tmp_path, "occurred_at,kind,member_id,,\n2026-11-20T21:03Z,join,u1,,\n"))
    assert ctx.problems == []
    assert [(event.kind, event.member_key) for event in found] == [("join", "u1")]


def test_a_too_long_external_id_is_a_problem(tmp_path):
    found, ctx = run(write(tmp_path, f"{HEADER}2026-11-20T21:03Z,message,u1,,{'e' * 201},x\n"))
    assert found == []
    assert ctx.problems[0].message == (
        "external_id must be at most 200 characters; this one has 201."
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("occurred_at,kind,member,text\n", "Unknown: “member”. Missing: member_id."),
        ("when,kind,member_id\n", "Unknown: “when”. Missing: occurred_at."),
        ("occurred_at,kind,member_id,kind\n", "each of occurred_at, kind, member_id"),
        ("", "The file is empty"),
    ],
)
def test_a_wrong_header_rejects_the_file(tmp_path, text, named):
    with pytest.raises(ImportRejected) as caught:
        run(write(tmp_path, text))
    assert named in caught.value.message
    assert "occurred_at, kind, member_id, member_name, external_id, text" in caught.value.message


def test_a_binary_file_is_rejected(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00\x10" * 20)
    with pytest.raises(ImportRejected) as caught:
        run(path)
    assert caught.value.message.startswith("This file is not text in UTF-8 or GB18030 (GBK)")


def test_latin1_text_after_a_good_header_is_rejected(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((HEADER + "2026-11-20T21:03Z,message,u1,Jos\xe9,,x\n").encode("latin-1"))
    with pytest.raises(ImportRejected) as caught:
        run(path)
    # Neither UTF-8 nor GB18030 (é before a comma is no GB18030 character either).
    assert caught.value.message.startswith("This file is not text in UTF-8 or GB18030 (GBK)")


def test_a_telegram_export_given_as_csv_is_rejected():
    with pytest.raises(ImportRejected) as caught:
        run(FIXTURES / "telegram_single.json")
    assert "occurred_at, kind, member_id" in caught.value.message


def test_progress_reaches_the_end(tmp_path):
    seen = []
    ctx = context()
    ctx.on_progress = seen.append
    list(events(FIXTURES / "events_generic.csv", ctx))
    assert seen[-1] == 1.0


cells = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "2026-11-20T21:03:00+08:00",
            "0001-01-01T00:00:00+08:00",
            "9999-12-31T23:59-05:00",
            "message",
            "JOIN",
            "u1",
            "",
        ]
    ),
)


@settings(max_examples=150, deadline=None)
@given(
    header=st.lists(st.sampled_from(["occurred_at", "kind", "member_id", "text", "x"]), max_size=6),
    rows=st.lists(st.lists(cells, max_size=7), max_size=5),
    raw=st.binary(max_size=60),
)
def test_any_cells_give_events_problems_or_a_rejection(header, rows, raw):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        with path.open("w", encoding="utf-8", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(header or ["occurred_at", "kind", "member_id"])
            writer.writerows(rows)
        with path.open("ab") as file:
            file.write(raw)
        ctx = context()
        try:
            found = list(events(path, ctx))
        except ImportRejected as rejected:
            assert rejected.message
            return
        for event in found:
            assert event.occurred_at.utcoffset() is not None
            assert event.member_key and event.kind and event.external_id
        # A row, or (bytes the sniffed encoding cannot read after the head) a line.
        assert all(p.where.startswith(("row ", "line ")) for p in ctx.problems)
