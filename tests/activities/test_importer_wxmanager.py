"""MemoTrace 2025 (wxManager) CSV, through the import service (issue 13, exporter 3).

tests/fixtures/imports/wechat_wxmanager.csv is one group chat as ``exporter_csv.py``
writes it (SOURCES.md); read off by hand: 12 messages (texts, image, voice, sticker,
video, location, the exporting user 群主小明's own text), 1 quoted reply, 3 posts (link,
file, mini program), 4 joins (赵六 and 孙七 invited, 周八 by QR code, 吴九 invited by
"你"), 1 removal (王五); skipped: a recall, a pat, a red packet and a call, a rename.
Eight people, all keyed by display name (the export has no wxid).
"""

import csv
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from activities.importers import get_importer
from activities.importers.base import ImportContext, Limits
from activities.models import ActivityEvent
from activities.services import import_file
from members.models import Member, Membership, MembershipStatus

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
FIXTURE = FIXTURES / "wechat_wxmanager.csv"
TEXT = FIXTURE.read_text(encoding="utf-8-sig")
HEADER = ["消息ID", "类型", "发送人", "时间", "内容", "备注", "昵称", "更多信息"]
KINDS = {"message": 12, "reply": 1, "post": 3, "join": 4, "removed": 1}
SKIPPED = {"recall": 1, "pat": 1, "other_type": 2, "system": 1}
PEOPLE = {"张三", "李四", "王五", "赵六", "孙七", "周八", "吴九", "群主小明"}


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


def write(tmp_path: Path, rows: list[list], header=HEADER, name="chat.csv") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def row(message_id, label, sender, when, content) -> list:
    return [message_id, label, sender, when, content, sender, sender, "more"]


def read(path, source_name="") -> tuple[list, ImportContext]:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    ctx = ImportContext(time_zone=ZoneInfo("Asia/Shanghai"), limits=limits, source_name=source_name)
    return list(get_importer("wxmanager").events(path, ctx)), ctx


def test_registered_for_wechat():
    module = get_importer("wxmanager")
    assert (module.FORMAT, module.PLATFORM) == ("wxmanager", "wechat")


@pytest.mark.parametrize("format", ["wxmanager", "auto"])
def test_the_fixture_imports_exactly_and_once(community_a, format):
    outcome = import_file(
        community=community_a, format=format, path=FIXTURE, original_name=FIXTURE.name
    )
    assert outcome.ok, outcome.problems
    assert outcome.format == "wxmanager"
    assert outcome.result.events_created == sum(KINDS.values()) == 21
    assert kinds(community_a) == KINDS
    assert outcome.skipped == SKIPPED
    assert outcome.result.members_created == len(PEOPLE)
    assert names(community_a) == PEOPLE

    again = import_file(community=community_a, format=format, path=FIXTURE)
    assert again.ok
    assert again.result.events_created == again.result.members_created == 0
    assert again.result.duplicates_skipped == 21
    assert ActivityEvent.objects.filter(community=community_a).count() == 21


def test_joins_and_the_removal_land_on_the_people_who_speak(community_a):
    assert import_file(community=community_a, format="wxmanager", path=FIXTURE).ok
    wangwu = Member.objects.get(memberships__community=community_a, display_name="王五")
    membership = Membership.objects.get(community=community_a, member=wangwu)
    assert membership.status == MembershipStatus.REMOVED
    # 吴九 was invited, then spoke: one member with a join and a message.
    wujiu = Member.objects.get(memberships__community=community_a, display_name="吴九")
    assert sorted(ActivityEvent.objects.filter(member=wujiu).values_list("kind", flat=True)) == [
        "join",
        "message",
    ]


def test_texts_replies_and_titles():
    found, ctx = read(FIXTURE)
    assert ctx.problems == []
    by_id = {event.external_id: event for event in found}
    assert by_id["wxm:4183427291760324135"].text == "大家好，我是张三"
    assert by_id["wxm:4183427291760324141"].kind == "reply"
    assert by_id["wxm:4183427291760324141"].text == "同意，周五见"  # without the quote
    assert by_id["wxm:4183427291760324143"].text == "社群运营的十个方法 & 案例"
    assert by_id["wxm:4183427291760324147"].text == "欢迎新朋友！\n群规见公告。"
    assert by_id["wxm:4183427291760324136"].text == ""  # an image keeps no text
    assert by_id["wxm:4183427291760324139"].text == ""  # nor a voice's transcript
    assert by_id["wxm:4183427291760324149"].text == ""  # nor a file's path
    # Two people joined by one line: two events, ids stable.
    assert by_id["wxm:4183427291760324137"].member_key == "赵六"
    assert by_id["wxm:4183427291760324137:1"].member_key == "孙七"
    again, _ctx = read(FIXTURE)
    assert [e.external_id for e in again] == [e.external_id for e in found]


def test_local_times_in_the_communitys_zone_and_in_another(community_a, community_b):
    assert import_file(community=community_a, format="wxmanager", path=FIXTURE).ok
    first = ActivityEvent.objects.get(community=community_a, external_id="wxm:4183427291760324135")
    assert community_a.time_zone == "Asia/Shanghai"
    assert first.occurred_at == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 21:00 in Shanghai

    other = import_file(
        community=community_b, format="wxmanager", path=FIXTURE, time_zone="Europe/Berlin"
    )
    assert other.ok
    moved = ActivityEvent.objects.get(community=community_b, external_id="wxm:4183427291760324135")
    assert moved.occurred_at == datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # 21:00 in Berlin


def test_a_gbk_copy_imports_with_correct_chinese_names(community_a, community_b, tmp_path):
    gbk = tmp_path / "chat.csv"
    gbk.write_bytes(TEXT.encode("gb18030"))
    outcome = import_file(community=community_a, format="auto", path=gbk, original_name="chat.csv")
    assert outcome.ok, outcome.problems
    assert outcome.format == "wxmanager"
    assert outcome.result.events_created == 21
    assert names(community_a) == PEOPLE
    texts = set(ActivityEvent.objects.filter(community=community_a).values_list("text", flat=True))
    assert "大家好，我是张三" in texts


def test_a_bad_row_is_a_numbered_translated_problem_and_nothing_is_written(community_a, tmp_path):
    path = write(
        tmp_path,
        [
            row("1", "文本", "张三", "2026-11-20 21:00:00", "你好"),
            row("2", "文本", "李四", "昨天晚上", "在吗"),
            row("3", "文本", "", "2026-11-20 21:02:00", "谁？"),
            ["4", "文本", "王五"],
        ],
    )
    outcome = import_file(community=community_a, format="wxmanager", path=path)
    assert not outcome.ok
    assert [(p.where, p.message) for p in outcome.problems] == [
        ("row 3", "时间 “昨天晚上” is not a date and time (YYYY-MM-DD HH:MM:SS)."),
        ("row 4", "发送人 is empty, so the speaker is unknown."),
        ("row 5", "This row has 3 cells; the header has 8."),
    ]
    assert ActivityEvent.objects.filter(community=community_a).count() == 0
    assert names(community_a) == set()
    with translation.override("zh-hans"):
        chinese = import_file(community=community_a, format="wxmanager", path=path)
    assert chinese.problems[0].where == "第 3 行"
    assert "不是" in chinese.problems[0].message


def test_a_file_that_is_not_this_export_names_the_columns(community_a):
    outcome = import_file(
        community=community_a, format="wxmanager", path=FIXTURES / "wechat_group.csv"
    )
    assert not outcome.ok
    message = outcome.problems[0].message
    assert "消息ID,类型,发送人,时间,内容,备注,昵称,更多信息" in message
    assert "Missing: 消息ID, 类型, 发送人, 时间, 内容" in message


def test_a_wxid_column_keys_speakers_and_the_names_in_system_lines(tmp_path):
    # A fork's layout: wxid and 群昵称 columns after the eight.
    header = [*HEADER, "wxid", "群昵称"]
    rows = [
        [*row("1", "文本", "李四", "2026-11-20 21:00:00", "你好"), "wxid_lisi", "阿四"],
        [*row("2", "系统消息", "", "2026-11-20 21:01:00", '你将"阿四"移出了群聊'), "", ""],
        [*row("3", "文本", "wxid_wangwu", "2026-11-20 21:02:00", "在"), "", ""],
    ]
    found, ctx = read(write(tmp_path, rows, header))
    assert ctx.problems == []
    assert [(e.kind, e.member_key, e.member_name) for e in found] == [
        ("message", "wxid_lisi", "阿四"),
        ("removed", "wxid_lisi", "阿四"),
        ("message", "wxid_wangwu", "wxid_wangwu"),  # 发送人 was a wxid: the key, and no name
    ]


@pytest.mark.parametrize(
    ("text", "source_name", "expected", "skipped"),
    [
        ('"张三"邀请你加入了群聊', "", [], {"you": 1}),
        ('"张三"邀请你加入了群聊', "群主小明", [("join", "群主小明")], {}),
        ('"张三"邀请你和"李四"加入了群聊', "", [("join", "李四")], {"you": 1}),
        ('"李四"退出了群聊', "", [("leave", "李四")], {}),
        ("你撤回了一条消息", "", [], {"recall": 1}),
        ('"张三" 拍了拍 "李四"', "", [], {"pat": 1}),
        ("收到红包，请在手机上查看", "", [], {"system": 1}),
    ],
)
def test_system_lines(tmp_path, text, source_name, expected, skipped):
    path = write(tmp_path, [row("9", "系统消息", "", "2026-11-20 21:00:00", text)])
    found, ctx = read(path, source_name)
    assert [(e.kind, e.member_key) for e in found] == expected
    assert ctx.skipped == skipped


def test_rows_without_an_id_get_stable_distinct_ids(tmp_path):
    sticker = row("0", "表情包", "张三", "2026-11-20 21:00:00", "【表情包】 ")
    path = write(tmp_path, [sticker, sticker, row("", "文本", "张三", "2026-11-20 21:00:01", "x")])
    found, _ctx = read(path)
    ids = [e.external_id for e in found]
    assert len(set(ids)) == 3 and all(i.startswith("h:") for i in ids)
    assert [e.external_id for e in read(path)[0]] == ids


def test_types_that_are_not_activity_are_counted(tmp_path):
    rows = [
        row("1", "转账", "张三", "2026-11-20 21:00:00", "【发起转账】:￥1.00"),
        row("2", "未知类型", "张三", "2026-11-20 21:00:01", "10002\n<sysmsg/>"),
        row("3", "合并转发的聊天记录", "张三", "2026-11-20 21:00:02", "【合并转发的聊天记录】"),
        row("4", "个人/公众号名片", "张三", "2026-11-20 21:00:03", "【名片】"),
        ["", "", "", "", "", "", "", ""],
    ]
    found, ctx = read(write(tmp_path, rows))
    assert [e.kind for e in found] == ["post", "message"]
    assert ctx.skipped == {"other_type": 2, "blank": 1}
