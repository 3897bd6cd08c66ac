"""The WhatsApp "Export chat" importer, on small hand-written .txt files. No database."""

from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from activities.importers.base import ImportContext, ImportRejected, Limits
from activities.importers.whatsapp import events

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def context(**kwargs) -> ImportContext:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    return ImportContext(time_zone=SHANGHAI, limits=limits, **kwargs)


def run(path) -> tuple[list, ImportContext]:
    ctx = context()
    return list(events(path, ctx)), ctx


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "_chat.txt"
    path.write_text(text, encoding="utf-8")
    return path


def at(*parts) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


def test_android_month_first_twelve_hour():
    found, ctx = run(FIXTURES / "whatsapp_android.txt")
    assert ctx.problems == []
    assert Counter(event.kind for event in found) == {
        "message": 7,
        "join": 6,
        "leave": 1,
        "removed": 1,
    }
    assert {event.member_key for event in found} == {
        "Alice",
        "Bob",
        "Carol",
        "Dave",
        "Erin",
        "Frank",
        "+1 (555) 010-0199",  # as written, without the direction marks around it
    }
    multi_line = next(event for event in found if event.member_key == "Bob" and event.text)
    assert multi_line.text == "Thanks! Agenda for Saturday:\n1. intros\n2. demos"
    assert multi_line.occurred_at == at(2020, 12, 31, 21, 6)
    new_year = [event.occurred_at for event in found if event.text == "Happy new year 🎉"]
    assert new_year == [at(2020, 12, 31, 23, 59), at(2021, 1, 1, 0, 0)]
    assert [(e.kind, e.member_key) for e in found if e.occurred_at >= at(2021, 1, 13)] == [
        ("leave", "Erin"),
        ("removed", "Dave"),
        ("join", "Frank"),  # "You added Frank"; "Alice added you" names nobody we know
    ]
    # "Alice added Carol, Dave and Erin" is three joins at the same minute.
    assert [e.member_key for e in found if e.occurred_at == at(2020, 12, 31, 21, 2)] == [
        "Carol",
        "Dave",
        "Erin",
    ]


def test_identical_lines_in_one_minute_stay_two_events():
    found, _ = run(FIXTURES / "whatsapp_android.txt")
    media = [e for e in found if e.text == "<Media omitted>"]
    assert len(media) == 2
    assert media[0].external_id != media[1].external_id
    ids = [event.external_id for event in found]
    assert len(set(ids)) == len(ids) == 15
    assert ids == [event.external_id for event in run(FIXTURES / "whatsapp_android.txt")[0]]


def test_ids_do_not_depend_on_position(tmp_path):
    original = (FIXTURES / "whatsapp_android.txt").read_text(encoding="utf-8")
    earlier = "12/30/20, 8:00\u202fPM - Zoe: an older message\n"
    ids = {e.external_id for e in run(FIXTURES / "whatsapp_android.txt")[0]}
    longer = {e.external_id for e in run(write(tmp_path, earlier + original))[0]}
    assert ids < longer and len(longer - ids) == 1


def test_ios_day_first_with_chinese_system_lines():
    found, ctx = run(FIXTURES / "whatsapp_ios_zh.txt")
    assert ctx.problems == []
    assert [(e.kind, e.member_key) for e in found] == [
        ("join", "李雷"),
        ("join", "韩梅梅"),
        ("join", "Bob"),
        ("message", "Alice"),
        ("message", "李雷"),
        ("message", "韩梅梅"),
        ("join", "Carol"),
        ("leave", "Bob"),
        ("removed", "韩梅梅"),
        ("message", "Carol"),
        ("leave", "李雷"),
    ]
    assert found[0].occurred_at == at(2021, 2, 3, 20, 1, 10)  # 03/02 is 3 February
    assert found[4].text == "你好\n这周读《三体》吗？"
    assert found[5].text == "图片已忽略"  # a media line, with its direction mark dropped
    assert found[7].occurred_at == at(2021, 2, 13, 21, 30)


def test_unreadable_dates_are_problems_with_line_numbers():
    found, ctx = run(FIXTURES / "whatsapp_bad.txt")
    assert [e.text for e in found] == ["fine", "also fine"]
    assert [p.where for p in ctx.problems] == ["line 2", "line 3", "line 6"]
    assert ctx.problems[0].message == "The date or time at the start of the line cannot be read."


def test_a_line_that_is_not_utf8_is_a_problem(tmp_path):
    path = tmp_path / "_chat.txt"
    path.write_bytes(b"31/12/2020, 21:00 - Alice: ok\n31/12/2020, 21:01 - Bob: \xff\xfe\n")
    found, ctx = run(path)
    assert [e.member_key for e in found] == ["Alice"]
    assert [(p.where, p.message) for p in ctx.problems] == [
        ("line 2", "The line is not UTF-8 text.")
    ]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # no field above 12 anywhere: day-first
        (["01/02/21, 10:00 - A: x", "03/04/21, 10:00 - A: y"], [(2021, 2, 1), (2021, 4, 3)]),
        # a second field above 12: month-first for the whole file, earlier lines too
        (["01/02/21, 10:00 - A: x", "01/25/21, 10:00 - A: y"], [(2021, 1, 2), (2021, 1, 25)]),
        # a first field above 12: day-first, even with later month-first-looking lines
        (["25/01/2021, 10:00 - A: x", "01/02/2021, 10:00 - A: y"], [(2021, 1, 25), (2021, 2, 1)]),
        # year first is never ambiguous
        (["2021-03-04 10:00 - A: x", "2021-03-05 10:00 - A: y"], [(2021, 3, 4), (2021, 3, 5)]),
    ],
)
def test_date_order_is_decided_per_file(tmp_path, lines, expected):
    found, ctx = run(write(tmp_path, "\n".join(lines) + "\n"))
    assert ctx.problems == []
    assert [e.occurred_at.date().timetuple()[:3] for e in found] == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("[12/31/20, 9:41:05 PM] A: x", at(2020, 12, 31, 21, 41, 5)),
        ("31/12/2020, 12:05 a.m. - A: x", at(2020, 12, 31, 0, 5)),
        ("31/12/2020, 12:05 p.m. - A: x", at(2020, 12, 31, 12, 5)),
        ("2020/12/31 下午9:41 - A: x", at(2020, 12, 31, 21, 41)),
        ("[2020/12/31 上午9:41:00] A: x", at(2020, 12, 31, 9, 41)),
        ("31.12.20, 21:41 - A: x", at(2020, 12, 31, 21, 41)),
    ],
)
def test_time_styles(tmp_path, line, expected):
    found, ctx = run(write(tmp_path, line + "\n"))
    assert ctx.problems == []
    assert [e.occurred_at for e in found] == [expected]


def test_system_lines_that_are_not_membership_are_skipped_silently(tmp_path):
    text = (
        '31/12/2020, 21:00 - Alice created group "Builders"\n'
        '31/12/2020, 21:01 - Alice changed the subject from "Bob added Carol" to "x: y"\n'
        "31/12/2020, 21:02 - Alice changed this group's icon\n"
        "31/12/2020, 21:03 - Bob was removed\n"
        "31/12/2020, 21:04 - Alice: I left my keys\n"
    )
    found, ctx = run(write(tmp_path, text))
    assert ctx.problems == []
    assert [(e.kind, e.member_key, e.text) for e in found] == [
        ("removed", "Bob", ""),
        ("message", "Alice", "I left my keys"),
    ]


@pytest.mark.parametrize(
    "content",
    ['{"name": "x", "messages": []}', "Name,Date\nAlice,2020-12-31\n", ""],
)
def test_other_files_are_rejected(tmp_path, content):
    with pytest.raises(ImportRejected):
        run(write(tmp_path, content))


def test_telegram_export_is_rejected_with_a_clear_message():
    with pytest.raises(ImportRejected) as rejected:
        run(FIXTURES / "telegram_single.json")
    assert rejected.value.message.startswith("This is not a WhatsApp chat export")


def test_progress_reaches_the_end():
    seen = []
    list(events(FIXTURES / "whatsapp_ios_zh.txt", context(on_progress=seen.append)))
    assert seen[-1] == 1.0


# --- The zip that "Export chat" shares (tests/fixtures/imports/README-whatsapp.md) -------


def run_with(path, source_name: str = "", **limits) -> tuple[list, ImportContext]:
    ctx = context(source_name=source_name)
    if limits:
        ctx.limits = Limits(**{"max_zip_entries": 100, "max_json_depth": 64, **limits})
    return list(events(path, ctx)), ctx


def test_ios_zip_reads_its_chat_and_ignores_the_media():
    found, ctx = run_with(FIXTURES / "whatsapp_ios.zip")
    assert ctx.problems == []
    assert Counter(event.kind for event in found) == {
        "message": 4,
        "join": 3,
        "leave": 1,
        "removed": 1,
    }
    # The unmarked encryption notice names the group ("Pokemon Chat"): not a member, and
    # its later unmarked lines that read as system lines ("Gary left", a description
    # changed) are system lines too.
    assert {event.member_key for event in found} == {"Ash", "Misty", "Brock", "Gary", "Sam"}
    assert ctx.skipped == {"system": 3, "you": 1}  # notice, created, description; you
    assert ("leave", "Gary") in [(event.kind, event.member_key) for event in found]
    attached = next(event for event in found if event.member_key == "Misty" and event.text)
    assert attached.text == "<attached: 00000005-PHOTO-2024-03-02-20-03-00.jpg>"
    assert found[0].occurred_at == at(2024, 3, 2, 20, 1)  # 02/03: day-first (13/03 later)


def test_android_zip_reads_the_whatsapp_chat_with_file():
    found, ctx = run_with(FIXTURES / "whatsapp_android.zip")
    assert ctx.problems == []
    assert Counter(event.kind for event in found) == {"message": 5, "join": 2, "leave": 1}
    assert {event.member_key for event in found} == {"Alice", "Bob", "Sam Lee", "Carol"}
    assert ctx.skipped == {"system": 2, "you": 1}
    photo = [event.text for event in found if event.member_key == "Bob" and event.text]
    assert photo[0] == "IMG-20210105-WA0001.jpg (file attached)\nLook at this"


@pytest.mark.parametrize(
    ("name", "you", "joined_at"),
    [
        ("whatsapp_ios.zip", "Sam", at(2024, 3, 2, 20, 0, 5)),
        ("whatsapp_android.zip", "Sam Lee", at(2021, 1, 5, 20, 1)),
    ],
)
def test_the_exporting_users_name_makes_added_you_their_join(name, you, joined_at):
    without = {event.external_id for event in run_with(FIXTURES / name)[0]}
    found, ctx = run_with(FIXTURES / name, source_name=f" {you} ")
    assert "you" not in ctx.skipped
    added = [e for e in found if e.external_id not in without]
    assert [(e.kind, e.member_key, e.member_name, e.occurred_at) for e in added] == [
        ("join", you, you, joined_at)
    ]
    assert len(found) == len(without) + 1


def test_the_zip_and_its_text_give_the_same_events(tmp_path):
    import zipfile

    with zipfile.ZipFile(FIXTURES / "whatsapp_android.zip") as archive:
        text = archive.read("WhatsApp Chat with Builders.txt")
    path = tmp_path / "WhatsApp Chat with Builders.txt"
    path.write_bytes(text)
    assert run_with(path)[0] == run_with(FIXTURES / "whatsapp_android.zip")[0]


@pytest.mark.parametrize(
    ("text", "expected", "skipped"),
    [
        ("31/12/2020, 21:00 - You were added\n", [], {"you": 1}),
        ("31/12/2020, 21:00 - Alice removed you\n", [], {"you": 1}),
        ("31/12/2020, 21:00 - You left\n", [], {"you": 1}),
        ("31/12/2020, 21:00 - Bob was added\n", [("join", "Bob")], {}),
    ],
)
def test_lines_about_you_are_counted_not_dropped(tmp_path, text, expected, skipped):
    found, ctx = run(write(tmp_path, text))
    assert [(e.kind, e.member_key) for e in found] == expected
    assert ctx.skipped == skipped


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("31/12/2020, 21:00 - You were added\n", "join"),
        ("31/12/2020, 21:00 - Alice removed you\n", "removed"),
        ("31/12/2020, 21:00 - You left\n", "leave"),
        ("[31/12/2020, 21:00:00] 读书会: \u200eAlice 添加了 你\n", "join"),
    ],
)
def test_lines_about_you_with_the_users_name(tmp_path, text, kind):
    found, ctx = run_with(write(tmp_path, text), source_name="Sam")
    assert [(e.kind, e.member_key) for e in found] == [(kind, "Sam")]
    assert ctx.skipped == {}


def test_only_the_first_line_can_name_the_group(tmp_path):
    text = (
        "[31/12/2020, 21:00:00] Alice: hello\n"
        "[31/12/2020, 21:01:00] Bob: Messages and calls are end-to-end encrypted, they say\n"
        "[31/12/2020, 21:02:00] Bob: Alice pinned a message\n"
    )
    found, ctx = run(write(tmp_path, text))
    assert [(e.member_key, e.text) for e in found] == [
        ("Alice", "hello"),
        ("Bob", "Messages and calls are end-to-end encrypted, they say"),
        ("Bob", "Alice pinned a message"),
    ]
    assert ctx.skipped == {}


def test_in_a_one_to_one_chat_the_notices_sender_still_speaks(tmp_path):
    # iOS attributes the notice of a private chat to the other person.
    text = (
        "[31/12/2020, 21:00:00] Alice: Messages and calls are end-to-end encrypted. No one "
        "outside of this chat, not even WhatsApp, can read or listen to them.\n"
        "[31/12/2020, 21:01:00] Alice: hello\n"
        "[31/12/2020, 21:02:00] Alice: I left my keys\n"
        "[31/12/2020, 21:03:00] Sam: found them\n"
    )
    found, ctx = run(write(tmp_path, text))
    assert [(e.kind, e.member_key, e.text) for e in found] == [
        ("message", "Alice", "hello"),
        ("message", "Alice", "I left my keys"),
        ("message", "Sam", "found them"),
    ]
    assert ctx.skipped == {"system": 1}


def _zip(tmp_path, entries: dict) -> Path:
    import zipfile

    path = tmp_path / "WhatsApp Chat.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def test_a_zip_with_one_text_file_under_another_name_is_read(tmp_path):
    line = b"31/12/2020, 21:00 - Alice: hi\n"
    path = _zip(tmp_path, {"与读书会的 WhatsApp 聊天.txt": line, "IMG-1.jpg": b"\xff\xd8"})
    assert [e.member_key for e in run_with(path)[0]] == ["Alice"]


@pytest.mark.parametrize(
    "entries",
    [
        {"IMG-20210105-WA0001.jpg": b"\xff\xd8"},
        {"notes.txt": b"x", "more.txt": b"y"},
        {"WhatsApp Chat with A.txt": b"x", "WhatsApp Chat with B.txt": b"y"},
    ],
)
def test_a_zip_without_one_chat_text_is_rejected(tmp_path, entries):
    with pytest.raises(ImportRejected) as rejected:
        run_with(_zip(tmp_path, entries))
    assert rejected.value.message.startswith("This zip is not a WhatsApp chat export")


def test_a_zip_unpacking_past_the_limit_is_rejected(tmp_path):
    line = b"31/12/2020, 21:00 - Alice: " + b"x" * 5000 + b"\n"
    path = _zip(tmp_path, {"_chat.txt": line * 20})
    with pytest.raises(ImportRejected) as rejected:
        run_with(path, max_uncompressed_bytes=50_000)
    assert rejected.value.message.startswith("Unpacked, the archive would exceed")
    assert len(run_with(path, max_uncompressed_bytes=200_000)[0]) == 20


def test_a_zip_whose_header_lies_about_the_size_is_rejected(tmp_path):
    path = _zip(tmp_path, {"_chat.txt": b"31/12/2020, 21:00 - Alice: " + b"x" * 100_000})
    data = bytearray(path.read_bytes())
    # Shrink the declared size in the central directory and the local header to 10 bytes.
    size = (100_000 + 27).to_bytes(4, "little")
    data = data.replace(size, (10).to_bytes(4, "little"))
    path.write_bytes(bytes(data))
    with pytest.raises(ImportRejected) as rejected:
        run_with(path, max_uncompressed_bytes=50_000)
    assert rejected.value.message == "The archive is damaged: a file in it cannot be unpacked."


def test_a_damaged_zip_is_rejected(tmp_path):
    path = _zip(tmp_path, {"_chat.txt": b"31/12/2020, 21:00 - Alice: " + b"hello " * 1000})
    data = bytearray(path.read_bytes())
    data[60:80] = b"\x00" * 20  # inside the compressed chat text
    path.write_bytes(bytes(data))
    with pytest.raises(ImportRejected) as rejected:
        run_with(path)
    assert rejected.value.message == "The archive is damaged: a file in it cannot be unpacked."
