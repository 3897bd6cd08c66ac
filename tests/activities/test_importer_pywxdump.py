"""PyWxDump's CSV export (issue 13, item 4): one part, or a zip of the parts as one import.

Counts read off tests/fixtures/imports/wechat_pywxdump.csv by hand (27 rows of the group
44439283741@chatroom, 21:00 to 21:26 on 2026-11-20, local time):

- messages 11: texts (张三, 赵六, 钱九, 李四, and the exporting account twice), image,
  voice, video, sticker (李四, 张三) and a location;
- reply 1 (王五's 引用回复); posts 5: a shared link, a file, a mini program, a forwarded
  chat record, the exporting account's transfer;
- joins 6: 张三 and 李四 invited (sysmsgtemplate XML, with wxids), 赵六 and 孙七 invited
  (plain text), 周八 by QR code (plain text, MsgSvrID 0), 钱九 by QR code (邀请加群 XML);
- removed 1: 王五 (by name: the file has no nicknames, and no users.json says who he is);
- skipped: a pat, a recall, a rename (system), a call (other_type), a message whose
  speaker PyWxDump could not read ("未知": no_author).
"""

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activities.importers import get_importer
from activities.importers.base import ImportContext, ImportRejected, Limits
from activities.importers.pywxdump import COLUMNS, events
from activities.importers.recognition import recognise
from activities.models import ActivityEvent, ImportStatus
from activities.services import import_create, import_execute, import_file
from members.models import Member

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
CSV_FIXTURE = FIXTURES / "wechat_pywxdump.csv"
ZIP_FIXTURE = FIXTURES / "wechat_pywxdump_parts.zip"
ROOM = "44439283741@chatroom"
SHANGHAI = ZoneInfo("Asia/Shanghai")
QR_JOIN = '"李四"通过扫描"张三"分享的二维码加入群聊'
KINDS = {"message": 11, "reply": 1, "post": 5, "join": 6, "removed": 1}
SKIPPED = {"pat": 1, "recall": 1, "system": 1, "other_type": 1, "no_author": 1}
PEOPLE = {
    "张三", "李四", "钱九",  # named by the system XML that has their wxids
    "wxid_wangwu", "wxid_zhaoliu",  # spoke, never named: their wxid
    "我",  # the exporting account
    "赵六", "孙七", "周八", "王五",  # named in plain-text system lines only
}  # fmt: skip


def context(**kwargs) -> ImportContext:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    return ImportContext(time_zone=SHANGHAI, limits=limits, **kwargs)


def read(path, **kwargs) -> tuple[list, ImportContext]:
    ctx = context(**kwargs)
    return list(events(path, ctx)), ctx


def fixture_rows() -> tuple[list[str], list[list[str]]]:
    with CSV_FIXTURE.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    return rows[0], rows[1:]


def part(header, rows, encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace")


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def kinds(community) -> dict[str, int]:
    found: dict[str, int] = {}
    for kind in ActivityEvent.objects.filter(community=community).values_list("kind", flat=True):
        found[kind] = found.get(kind, 0) + 1
    return found


def names(community) -> set[str]:
    return set(
        Member.objects.filter(memberships__community=community).values_list(
            "display_name", flat=True
        )
    )


def test_registered_as_a_wechat_format():
    module = get_importer("pywxdump")
    assert (module.FORMAT, module.PLATFORM) == ("pywxdump", "wechat")
    assert tuple(fixture_rows()[0]) == module.COLUMNS


# --- Through the import service ---------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", [CSV_FIXTURE, ZIP_FIXTURE], ids=["one-part", "zip-of-parts"])
@pytest.mark.parametrize("format", ["pywxdump", "auto"])
def test_imports_exactly_and_a_second_time_adds_nothing(community_a, path, format):
    outcome = import_file(community=community_a, format=format, path=path, original_name=path.name)
    assert outcome.ok, outcome.problems
    assert outcome.format == "pywxdump"
    assert kinds(community_a) == KINDS
    assert outcome.result.events_created == sum(KINDS.values()) == 24
    assert outcome.result.members_created == len(PEOPLE) == 10
    assert outcome.skipped == SKIPPED
    assert names(community_a) == PEOPLE

    again = import_file(community=community_a, format=format, path=path, original_name=path.name)
    assert again.ok
    assert (again.result.events_created, again.result.members_created) == (0, 0)
    assert again.result.duplicates_skipped == 24
    assert ActivityEvent.objects.filter(community=community_a).count() == 24


@pytest.mark.django_db
def test_the_zip_and_the_single_csv_are_the_same_events(community_a):
    first = import_file(community=community_a, format="auto", path=ZIP_FIXTURE)
    assert first.result.events_created == 24
    # The same export as one file: every row is already there.
    second = import_file(community=community_a, format="auto", path=CSV_FIXTURE)
    assert second.ok
    assert (second.result.events_created, second.result.duplicates_skipped) == (0, 24)


@pytest.mark.django_db
def test_local_times_in_the_communitys_zone_or_the_one_given(community_a, community_b):
    import_file(community=community_a, format="pywxdump", path=CSV_FIXTURE)
    import_file(
        community=community_b, format="pywxdump", path=CSV_FIXTURE, time_zone="Europe/Berlin"
    )
    external_id = f"pwx:{ROOM}:7300000000000000038"  # 张三's first text, 21:01 local
    local = datetime(2026, 11, 20, 21, 1, tzinfo=ZoneInfo(community_a.time_zone))
    here = ActivityEvent.objects.get(community=community_a, external_id=external_id)
    there = ActivityEvent.objects.get(community=community_b, external_id=external_id)
    assert here.occurred_at == local
    assert there.occurred_at == datetime(2026, 11, 20, 20, 1, tzinfo=UTC)  # 21:01 CET


@pytest.mark.django_db
def test_a_gbk_copy_imports_with_correct_chinese_names(community_a, community_b, tmp_path):
    header, rows = fixture_rows()
    gbk = tmp_path / "wechat_pywxdump_gbk.csv"
    gbk.write_bytes(part(header, rows, "gbk"))  # Excel on a Chinese Windows; 😊 becomes ?
    assert gbk.read_bytes() != CSV_FIXTURE.read_bytes()
    outcome = import_file(community=community_a, format="auto", path=gbk, original_name=gbk.name)
    assert outcome.ok, outcome.problems
    assert outcome.result.events_created == 24
    assert names(community_a) == PEOPLE

    # The same in a zip: each part is sniffed for its own encoding.
    archive = write_zip(
        tmp_path / "export.zip",
        {
            f"{ROOM}_0_9.csv": part(header, rows[:9], "gbk"),
            f"{ROOM}_9_27.csv": part(header, rows[9:]),
        },
    )
    zipped = import_file(community=community_b, format="auto", path=archive)
    assert zipped.ok, zipped.problems
    assert zipped.result.events_created == 24
    assert names(community_b) == PEOPLE
    text = ActivityEvent.objects.get(
        community=community_b, external_id=f"pwx:{ROOM}:7300000000000000038"
    ).text
    assert text == "大家好，我是张三"


@pytest.mark.django_db
def test_a_bad_row_is_a_problem_with_its_row_and_nothing_is_written(community_a, tmp_path):
    header, rows = fixture_rows()
    rows[3][8] = "20.11.2026 21:03"  # row 5 of the file (the header is row 1)
    rows[6] = rows[6][:4]
    path = tmp_path / "bad.csv"
    path.write_bytes(part(header, rows))
    outcome = import_file(community=community_a, format="pywxdump", path=path)
    assert [(p.where, p.message) for p in outcome.problems] == [
        ("row 5", "CreateTime “20.11.2026 21:03” is not a date and time (YYYY-MM-DD HH:MM:SS)."),
        ("row 8", "This row has 4 cells; the header has 9."),
    ]
    assert not ActivityEvent.objects.filter(community=community_a).exists()
    assert not Member.objects.filter(organization=community_a.organization).exists()

    # In a zip, the part is named.
    archive = write_zip(tmp_path / "bad.zip", {f"{ROOM}_0_27.csv": part(header, rows)})
    zipped = import_file(community=community_a, format="auto", path=archive)
    assert [p.where for p in zipped.problems] == [
        f"{ROOM}_0_27.csv, row 5",
        f"{ROOM}_0_27.csv, row 8",
    ]
    assert not ActivityEvent.objects.filter(community=community_a).exists()


@pytest.mark.django_db
def test_a_part_that_is_not_pywxdump_is_refused_naming_it(community_a, tmp_path):
    header, rows = fixture_rows()
    archive = write_zip(
        tmp_path / "export.zip",
        {
            f"{ROOM}_0_20.csv": part(header, rows[:20]),
            f"{ROOM}_20_40.csv": (FIXTURES / "wechat_group.csv").read_bytes(),
        },
    )
    outcome = import_file(community=community_a, format="pywxdump", path=archive)
    assert len(outcome.problems) == 1
    message = outcome.problems[0].message
    assert message.startswith(f"{ROOM}_20_40.csv in the archive is not a part of a PyWxDump")
    assert "Missing: id, MsgSvrID, type_name, is_sender, talker, room_name, msg, src" in message
    assert not ActivityEvent.objects.filter(community=community_a).exists()

    empty = write_zip(tmp_path / "empty.zip", {"users.json": b"{}"})
    refused = import_file(community=community_a, format="pywxdump", path=empty)
    assert "This zip holds no CSV file" in refused.problems[0].message


@pytest.mark.django_db
def test_several_chats_in_a_zip_ask_for_one(community_a, tmp_path):
    header, rows = fixture_rows()
    other = "50131234926@chatroom"
    private = "wxid_friend"
    moved = [[*row[:5], other, *row[6:]] for row in rows[:5]]
    for row in moved:
        row[1] = "8" + row[1][1:]  # the other chat's own server ids
    chat = [[*row[:4], private, private, *row[6:]] for row in rows[1:3]]
    entries = {
        f"{ROOM}_0_27.csv": part(header, rows),
        f"{other}_0_5.csv": part(header, moved),
        f"{private}_0_2.csv": part(header, chat),
    }
    archive = write_zip(tmp_path / "export.zip", entries)
    refused = import_file(community=community_a, format="auto", path=archive)
    assert refused.problems[0].message == (
        "This export holds several chats; enter the one to import (its room_name). "
        f"Chats: {ROOM}, {other}, {private}"
    )
    wrong = import_file(community=community_a, format="auto", path=archive, source_name="nope")
    assert wrong.problems[0].message.startswith("This export has no chat nope. Chats in it:")
    assert not ActivityEvent.objects.filter(community=community_a).exists()

    chosen = import_file(community=community_a, format="auto", path=archive, source_name=other)
    assert chosen.ok, chosen.problems
    assert set(
        ActivityEvent.objects.filter(community=community_a).values_list("external_id", flat=True)
    ) == {f"pwx:{other}:{row[1]}" for row in moved} | {
        f"pwx:{other}:{moved[0][1]}:1"  # the first row's XML invites two people
    }

    # One group and a private chat: the group is the chat.
    del entries[f"{other}_0_5.csv"]
    archive = write_zip(tmp_path / "group_and_friend.zip", entries)
    outcome = import_file(community=community_a, format="auto", path=archive)
    assert outcome.ok, outcome.problems
    assert outcome.result.events_created == 24


def test_a_single_file_with_two_chats_asks_for_one(tmp_path):
    header, rows = fixture_rows()
    rows[20][5] = "50131234926@chatroom"
    path = tmp_path / "mixed.csv"
    path.write_bytes(part(header, rows))
    with pytest.raises(ImportRejected) as refused:
        read(path)
    assert "more than one chat" in refused.value.message
    found, ctx = read(path, source_name=ROOM)
    assert len(found) == 24 - 1 and ctx.skipped["other_chat"] == 1


@pytest.mark.django_db
def test_users_json_names_the_speakers_and_links_plain_text_lines(community_a, tmp_path):
    header, rows = fixture_rows()
    users = {
        "wxid_wangwu": {"wxid": "wxid_wangwu", "nickname": "王五", "remark": "王五(运营)"},
        "wxid_zhaoliu": {"wxid": "wxid_zhaoliu", "nickname": "", "remark": "赵六"},
    }
    archive = write_zip(
        tmp_path / "export.zip",
        {
            f"export/{ROOM}/{ROOM}_0_27.csv": part(header, rows),
            f"export/{ROOM}/users.json": json.dumps(users, ensure_ascii=False).encode(),
        },
    )
    outcome = import_file(community=community_a, format="auto", path=archive)
    assert outcome.ok, outcome.problems
    # 王五's removal and 赵六's invitation land on the members who spoke: 8 people.
    assert names(community_a) == PEOPLE - {"wxid_wangwu", "wxid_zhaoliu"}
    wangwu = Member.objects.get(organization=community_a.organization, display_name="王五")
    assert set(ActivityEvent.objects.filter(member=wangwu).values_list("kind", flat=True)) == {
        "reply",
        "post",
        "removed",
    }


# --- The importer on its own ------------------------------------------------------------


def test_members_texts_and_ids():
    found, ctx = read(CSV_FIXTURE)
    assert ctx.problems == []
    by_id = {event.external_id: event for event in found}
    text = by_id[f"pwx:{ROOM}:7300000000000000038"]
    assert (text.kind, text.member_key, text.member_name, text.text) == (
        "message", "wxid_zhangsan", "张三", "大家好，我是张三",
    )  # fmt: skip
    assert text.occurred_at == datetime(2026, 11, 20, 13, 1, tzinfo=UTC)
    reply = next(event for event in found if event.kind == "reply")
    assert (reply.member_key, reply.text) == ("wxid_wangwu", "同意，周五见")
    assert [event.text for event in found if event.kind == "post"] == [
        "社群运营的十个方法", "活动方案.pdf", "", "群聊的聊天记录", "转账：￥50.00",
    ]  # fmt: skip
    # image, voice, video, sticker and location keep no text; the six texts do
    assert sum(1 for e in found if e.kind == "message" and e.text == "") == 5
    own = [event for event in found if event.member_key == "self"]
    assert [(e.kind, e.member_name) for e in own] == [("message", "我"), ("post", "我"), (
        "message", "我")]  # fmt: skip
    joins = [(e.member_key, e.member_name) for e in found if e.kind == "join"]
    assert joins == [
        ("wxid_zhangsan", "张三"), ("wxid_lisi", "李四"), ("赵六", "赵六"), ("孙七", "孙七"),
        ("周八", "周八"), ("wxid_qianjiu", "钱九"),
    ]  # fmt: skip
    ids = [event.external_id for event in found]
    assert len(set(ids)) == len(ids) == 24
    assert f"pwx:{ROOM}:7300000000000000001:1" in ids  # the second person of one invitation
    assert sum(1 for i in ids if i.startswith("h:")) == 1  # 周八's join: MsgSvrID 0
    assert ids == [event.external_id for event in read(CSV_FIXTURE)[0]]


def test_the_zip_of_parts_gives_the_events_of_the_concatenated_csv(tmp_path):
    # The committed zip holds the fixture's rows in three parts of nine, stored out of
    # order; read in numeric order (_0_9, _9_18, _18_27, not _0_9, _18_27, _9_18).
    with zipfile.ZipFile(ZIP_FIXTURE) as archive:
        assert archive.namelist() == [f"{ROOM}_18_27.csv", f"{ROOM}_0_9.csv", f"{ROOM}_9_18.csv"]
        texts = {n: archive.read(n).decode() for n in archive.namelist()}
    header, rows = fixture_rows()
    joined = [header]
    for name in (f"{ROOM}_0_9.csv", f"{ROOM}_9_18.csv", f"{ROOM}_18_27.csv"):
        part_rows = list(csv.reader(io.StringIO(texts[name], newline="")))
        assert part_rows[0] == header
        joined.extend(part_rows[1:])
    assert joined[1:] == rows
    concatenated = tmp_path / "all.csv"
    concatenated.write_bytes(part(header, rows))

    progress: list[float] = []
    zipped, zip_ctx = read(ZIP_FIXTURE, on_progress=progress.append)
    whole, whole_ctx = read(concatenated)
    assert zipped == whole
    assert zip_ctx.skipped == whole_ctx.skipped == SKIPPED
    assert progress[-1] == 1.0


@pytest.mark.parametrize(
    ("type_name", "msg", "expected"),
    [
        ("带有引用的文本消息", "好的\n\n[引用](2024-01-01 10:00:00)张三:你好", ("reply", "好的")),
        ("卡片式链接", "标题\n描述\n\nhttps://example.com", ("post", "标题")),
        ("(分享)音乐", "(分享)音乐", ("post", "")),
        ("地图信息", "纬度:【1】", ("message", "")),
        ("用户上传的GIF表情", "用户上传的GIF表情", ("message", "")),
        ("消息撤回57", '"张三" 撤回了一条消息', "recall"),
        ("撤回消息", "你撤回了一条消息", "recall"),
        ("拍一拍", '"李四" 拍了拍我', "pat"),
        ("系统通知", '"李四" 拍了拍 "张三"', "pat"),
        ("系统通知", "你撤回了一条消息", "recall"),
        ("系统通知", "以下为新消息", "system"),
        ("添加好友", "", "other_type"),
        ("未知", "", "other_type"),
        (
            "邀请加群",
            '"李四"通过扫描"张三"分享的二维码加入群聊',
            ("join", '"李四"通过扫描"张三"分享的二维码加入群聊'),
        ),
        ("系统通知", '"李四"退出了群聊', ("leave", '"李四"退出了群聊')),
    ],
)
def test_type_names_of_every_version(tmp_path, type_name, msg, expected):
    path = tmp_path / "one.csv"
    talker = "未知" if type_name in ("系统通知", "邀请加群") else "wxid_a"
    row = ["1", "42", type_name, "0", talker, ROOM, msg, "", "2024-01-01 10:00:00"]
    path.write_bytes(part(list(COLUMNS), [row]))
    found, ctx = read(path)
    if isinstance(expected, str):
        assert (found, ctx.skipped) == ([], {expected: 1})
    else:
        assert [(event.kind, event.text) for event in found] == [expected]


def test_own_wxid_unix_times_and_sysmsg_self_join(tmp_path):
    # Versions that pass my_talker write the account's wxid; a CreateTime left as digits.
    join = (
        '<sysmsg type="sysmsgtemplate"><sysmsgtemplate><content_template type="tmpl_type_profile">'
        '<template><![CDATA["$username$"邀请你加入了群聊，群聊参与人还有：$others$]]></template>'
        "</content_template></sysmsgtemplate></sysmsg>"
    )
    rows = [
        ["1", "11", "文本", "1", "wxid_me", ROOM, "大家好", "", "1795179600"],
        ["2", "12", "系统通知", "0", "未知", ROOM, join, "", "1795179660000"],
    ]
    path = tmp_path / "own.csv"
    path.write_bytes(part(list(COLUMNS), rows))
    found, _ctx = read(path)
    assert [(e.kind, e.member_key, e.occurred_at) for e in found] == [
        ("message", "wxid_me", datetime(2026, 11, 20, 13, 0, tzinfo=UTC)),
        ("join", "wxid_me", datetime(2026, 11, 20, 13, 1, tzinfo=UTC)),
    ]


def test_recognised_as_pywxdump_and_nothing_else_is(tmp_path):
    assert recognise(CSV_FIXTURE, CSV_FIXTURE.name) == "pywxdump"
    assert recognise(ZIP_FIXTURE, ZIP_FIXTURE.name) == "pywxdump"
    # A zip whose first text entry is users.json: known by its part names.
    header, rows = fixture_rows()
    archive = write_zip(
        tmp_path / "export.zip",
        {"wxid_friend_0_5000.csv": part(header, rows), "users.json": b"{}"},
    )
    assert recognise(archive, "export.zip") == "pywxdump"
    module = get_importer("pywxdump")
    for other in ("wechat_group.csv", "events_generic.csv", "slack_workspace.zip",
                  "whatsapp_android.zip", "discord_channel.csv"):  # fmt: skip
        from activities.importers.recognition import file_head

        assert module.recognise(file_head(FIXTURES / other, other)) is not None


def test_a_part_in_neither_encoding_or_damaged_later_is_named(tmp_path):
    header, rows = fixture_rows()
    utf16 = write_zip(
        tmp_path / "utf16.zip",
        {
            f"{ROOM}_0_9.csv": part(header, rows[:9]),
            f"{ROOM}_9_27.csv": part(header, rows[9:], "utf-16"),
        },
    )
    with pytest.raises(ImportRejected) as refused:
        read(utf16)
    assert refused.value.message.startswith(
        f"{ROOM}_9_27.csv: This file is not text in UTF-8 or GB18030 (GBK)"
    )
    # Good UTF-8 for more than the sniffed head, then a byte that is not.
    system = ["0", "系统通知", "0", "未知", ROOM, "以下为新消息", "", "2026-11-20 20:00:00"]
    padding = [[str(n), *system] for n in range(2000)]
    damaged = part(header, padding + rows[1:3]).replace("大家好".encode(), b"\xff\xfe")
    archive = write_zip(tmp_path / "damaged.zip", {f"{ROOM}_0_2002.csv": damaged})
    _found, ctx = read(archive)
    assert [(p.where, p.message) for p in ctx.problems] == [
        (
            f"{ROOM}_0_2002.csv, line 2002",  # the header, 2,000 padding rows, then 张三's
            "This line is not UTF-8 text, the encoding the start of the file is in.",
        )
    ]


def test_zip_limits_apply(tmp_path):
    header, rows = fixture_rows()
    entries = {f"{ROOM}_{n}_{n + 1}.csv": part(header, rows[n : n + 1]) for n in range(5)}
    archive = write_zip(tmp_path / "many.zip", entries)
    ctx = ImportContext(
        time_zone=SHANGHAI,
        limits=Limits(max_zip_entries=4, max_uncompressed_bytes=10**8, max_json_depth=64),
    )
    with pytest.raises(ImportRejected) as refused:
        list(events(archive, ctx))
    assert refused.value.message == "The archive holds 5 files; the limit is 4."
    declared = sum(len(data) for data in entries.values())
    small = ImportContext(
        time_zone=SHANGHAI,
        limits=Limits(max_zip_entries=10, max_uncompressed_bytes=declared - 1, max_json_depth=64),
    )
    with pytest.raises(ImportRejected) as too_big:
        list(events(archive, small))
    assert too_big.value.message == "Unpacked, the archive would exceed 0 MB."


@pytest.mark.django_db
def test_the_zip_uploaded_on_the_import_page_is_recognised_and_imported(community_a, operator_a):
    upload = SimpleUploadedFile(
        "wechat_pywxdump_parts.zip", ZIP_FIXTURE.read_bytes(), content_type="application/zip"
    )
    run = import_create(
        community=community_a,
        format="auto",
        upload=upload,
        by=operator_a.user,
        language="zh-hans",
        enqueue=False,
    )
    run = import_execute(run_id=run.pk)
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert (run.format, run.events_created, run.members_created) == ("pywxdump", 24, 10)
    assert run.skipped == SKIPPED
