"""The WeChat (MemoTrace / WeChatMsg CSV) importer, on small hand-written files. No database."""

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from activities.importers import get_importer
from activities.importers.base import ImportContext, ImportRejected, Limits
from activities.importers.wechat import COLUMNS, events

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def context() -> ImportContext:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    return ImportContext(time_zone=SHANGHAI, limits=limits)


def run(path) -> tuple[list, ImportContext]:
    ctx = context()
    return list(events(path, ctx)), ctx


def write(tmp_path: Path, rows: list[list]) -> Path:
    path = tmp_path / "chat.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def system(local_id: int, text: str) -> list:
    return [local_id, 7, 10000, 0, 0, 1795179600 + local_id, 2, text, "", "", "", ""]


def said(local_id: int, sender: str, name: str, is_me: int = 0) -> list:
    return [local_id, 7, 1, 0, is_me, 1795179600 + local_id, 2, "hi", "", "", name, sender]


def test_registered_as_the_wechat_format():
    module = get_importer("wechat")
    assert (module.FORMAT, module.PLATFORM) == ("wechat", "wechat")


def test_group_fixture_counts_every_kind():
    found, ctx = run(FIXTURES / "wechat_group.csv")
    assert ctx.problems == []
    assert Counter(event.kind for event in found) == {
        "message": 5,  # text, image, sticker, own message, StrTime-only text
        "post": 1,
        "reply": 1,
        "join": 4,  # two invited, one by QR code (Chinese), one by QR code (English)
        "removed": 1,
    }
    # The recall notice, the revoke (10002) and the pat are skipped quietly.
    assert not any("撤回" in event.text or "拍了拍" in event.text for event in found)


def test_group_fixture_members():
    found, _ = run(FIXTURES / "wechat_group.csv")
    assert {event.member_key for event in found} == {
        "wxid_zhangsan",
        "wxid_lisi",
        "wxid_wangwu",
        "wxid_owner",  # IsSender=1: the exporting account, keyed by its Sender
        "wxid_zhaoliu",
        # Joined before ever speaking: known by name only.
        "赵六",
        "孙七",
        "周八",
        "Alice",
    }
    removed = next(event for event in found if event.kind == "removed")
    assert (removed.member_key, removed.member_name) == ("wxid_wangwu", "王五")
    names = {event.member_key: event.member_name for event in found if event.kind == "message"}
    assert names["wxid_lisi"] == "李四"  # NickName before Remark
    assert names["wxid_owner"] == "群主小明"


def test_group_fixture_times_and_texts():
    found, _ = run(FIXTURES / "wechat_group.csv")
    by_id = {event.external_id: event for event in found}
    first = by_id["wx:12:101:1795179600"]
    assert first.occurred_at == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    assert first.occurred_at.tzinfo is UTC
    assert first.text == "大家好，我是张三"
    # Empty CreateTime: StrTime in the community's zone.
    late = by_id["wx:12:114:2026-11-21 09:15:00"]
    assert late.occurred_at == datetime(2026, 11, 21, 9, 15, tzinfo=SHANGHAI)
    assert by_id["wx:12:104:1795179780"].text == "社群运营的十个方法 & 案例"
    assert by_id["wx:12:105:1795179840"].text == "同意，周五见"
    assert by_id["wx:12:102:1795179660"].text == ""  # an image keeps no text
    assert by_id["wx:12:103:1795179720"].text == ""
    assert by_id["wx:12:110:1795180140"].text == "欢迎新朋友！\n群规见公告。"


def test_group_fixture_external_ids_are_stable_and_unique():
    first, _ = run(FIXTURES / "wechat_group.csv")
    again, _ = run(FIXTURES / "wechat_group.csv")
    ids = [event.external_id for event in first]
    assert ids == [event.external_id for event in again]
    assert len(set(ids)) == len(ids) == 12
    # One system line naming two people gives two events.
    assert "wx:12:106:1795179900" in ids
    assert "wx:12:106:1795179900:1" in ids


def test_bad_rows_are_problems():
    found, ctx = run(FIXTURES / "wechat_bad.csv")
    assert [event.external_id for event in found] == [
        "wx:12:201:1795179600",
        "wx:12:204:1795179780",
    ]
    assert [(p.where, p.message) for p in ctx.problems] == [
        (
            "row 3",
            "CreateTime “abc” is not a Unix time and StrTime “” is not a date and time "
            "(YYYY-MM-DD HH:MM:SS).",
        ),
        ("row 4", "Sender is empty, so the speaker is unknown."),
    ]


@pytest.mark.parametrize(
    ("text", "kind", "people"),
    [
        ('"张三"邀请"李四"加入了群聊', "join", ["wxid_lisi"]),
        ('"李四"通过扫描"张三"分享的二维码加入群聊', "join", ["wxid_lisi"]),
        ('"李四"通过扫描你分享的二维码加入群聊', "join", ["wxid_lisi"]),
        ('"李四"通过"张三"的邀请二维码加入群聊', "join", ["wxid_lisi"]),
        ('你邀请"李四、王五"加入了群聊', "join", ["wxid_lisi", "王五"]),
        ('"张三"邀请你和"李四"加入了群聊', "join", ["wxid_me", "wxid_lisi"]),
        ('"张三"邀请你加入了群聊，群聊参与人还有：李四、王五', "join", ["wxid_me"]),
        ("你通过扫描二维码加入群聊，群聊参与人还有：李四", "join", ["wxid_me"]),
        ('"李四" joined the group chat via the QR Code shared by "张三".', "join", ["wxid_lisi"]),
        ('"李四" joined group chat via the QR code you shared.', "join", ["wxid_lisi"]),
        ('"张三" invited "李四" to the group chat', "join", ["wxid_lisi"]),
        ("You invited 李四, Bob to the group chat.", "join", ["wxid_lisi", "Bob"]),
        ("张三 invited you and 李四 to the group chat", "join", ["wxid_me", "wxid_lisi"]),
        ('你将"李四"移出了群聊', "removed", ["wxid_lisi"]),
        ('You removed "李四" from the group chat', "removed", ["wxid_lisi"]),
        ('你被"张三"移出群聊', "removed", ["wxid_me"]),
        ('You were removed from the group chat by "张三"', "removed", ["wxid_me"]),
        ('"李四"被"张三"移出了群聊', "removed", ["wxid_lisi"]),
        ('"李四"退出了群聊', "leave", ["wxid_lisi"]),
        ('"张三" 撤回了一条消息', None, []),
        ("你撤回了一条消息", None, []),
        ('"张三" 拍了拍 "李四"', None, []),
        ("收到红包，请在手机上查看", None, []),
        ('"张三"修改群名为"欢迎新人加入了群聊"', None, []),
    ],
)
def test_system_lines(tmp_path, text, kind, people):
    rows = [said(1, "wxid_lisi", "李四"), said(2, "wxid_me", "我", is_me=1), system(3, text)]
    found, ctx = run(write(tmp_path, rows))
    assert ctx.problems == []
    membership = found[2:]
    assert [event.member_key for event in membership] == people
    assert {event.kind for event in membership} == ({kind} if kind else set())


def test_own_messages_without_a_sender_are_keyed_self(tmp_path):
    rows = [system(1, '你将"李四"移出了群聊'), said(2, "", "我", is_me=1)]
    found, ctx = run(write(tmp_path, rows))
    assert ctx.problems == []
    assert [(event.kind, event.member_key) for event in found] == [
        ("removed", "李四"),
        ("message", "self"),
    ]


def test_types_subtypes_and_milliseconds(tmp_path):
    def row(local_id, type_, sub, create=1795179600):
        return [local_id, 7, type_, sub, 0, create, 2, "x", "", "", "A", "wxid_a"]

    rows = [
        row(1, 34, 0),  # voice
        row(2, 43, 0),  # video
        row(3, 49, 6),  # file
        row(4, 49, 62),  # pat: skipped
        row(5, 50, 0),  # call: skipped
        row(6, 10002, 0),  # revoke: skipped
        row(7, 1, 0, create=1795179600123),  # milliseconds
    ]
    found, ctx = run(write(tmp_path, rows))
    assert ctx.problems == []
    assert [event.kind for event in found] == ["message", "message", "post", "message"]
    assert found[-1].occurred_at == datetime(2026, 11, 20, 13, 0, 0, 123000, tzinfo=UTC)


def test_a_short_row_and_an_empty_local_id_are_problems(tmp_path):
    rows = [[1, 7, 1], ["", 7, 1, 0, 0, 1795179600, 2, "x", "", "", "A", "wxid_a"]]
    found, ctx = run(write(tmp_path, rows))
    assert found == []
    assert [(p.where, p.message) for p in ctx.problems] == [
        ("row 2", "This row has 3 cells; the header has 12."),
        ("row 3", "localId is empty; every WeChat message has one."),
    ]


@pytest.mark.parametrize(
    "name", ["events_generic.csv", "telegram_single.json", "discord_channel.csv"]
)
def test_other_formats_are_rejected_naming_the_columns(name):
    with pytest.raises(ImportRejected) as caught:
        run(FIXTURES / name)
    assert "localId, TalkerId, Type, SubType, IsSender, CreateTime" in caught.value.message
    assert "Missing: localId" in caught.value.message


def test_a_binary_file_is_rejected_and_a_gbk_one_read(tmp_path):
    binary = tmp_path / "db.csv"
    binary.write_bytes(b"SQLite format 3\x00\x10\x00\x01\x01\x00@  \xff\xfe" * 30)
    with pytest.raises(ImportRejected) as caught:
        run(binary)
    assert "UTF-8 or GB18030" in caught.value.message
    # GBK (a CSV re-saved in Excel on a Chinese Windows): issue 13, test_import_encodings.
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(
        (",".join(COLUMNS) + "\r\n1,7,1,0,0,1795179600,2,你好,,,张三,wxid\r\n").encode("gbk")
    )
    found, ctx = run(gbk)
    assert ctx.problems == []
    assert [(e.member_name, e.text) for e in found] == [("张三", "你好")]
