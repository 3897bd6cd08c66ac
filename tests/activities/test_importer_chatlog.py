"""chatlog (sjzar/chatlog) CSV, through the import service (issue 13, exporter 5).

tests/fixtures/imports/wechat_chatlog.csv is one group chat as chatlog's
``/api/v1/chatlog?format=csv`` writes it (SOURCES.md); read off by hand: 14 messages
(texts, image, voice, stickers — two identical in one second —, video, location, the
exporting user 小明's own text), 1 quoted reply, 3 posts (link, file, mini program),
4 joins (赵六 and 孙七 invited, 周八 by QR code, 吴九 invited by "你": template lines
naming people ``nickname(wxid)``), 1 removal (王五, a plain line naming 王五 only, who
spoke before); skipped: a recall, a pat, a red packet, a call, an unknown type (10002) and
a rename. Every member is keyed by wxid.
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
FIXTURE = FIXTURES / "wechat_chatlog.csv"
TEXT = FIXTURE.read_text(encoding="utf-8")
HEADER = ["Time", "SenderName", "Sender", "TalkerName", "Talker", "Content"]
GROUP = "27435628941@chatroom"
KINDS = {"message": 14, "reply": 1, "post": 3, "join": 4, "removed": 1}
SKIPPED = {"recall": 1, "pat": 1, "other_type": 3, "system": 1}
PEOPLE = {"张三", "李四", "王五", "赵六", "孙七", "周八", "吴九", "小明"}


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


def write(tmp_path: Path, rows: list[list], header=HEADER, name="chatlog.csv") -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def said(when, name, sender, content, talker=GROUP, talker_name="读书会交流群") -> list:
    return [when, name, sender, talker_name, talker, content]


def read(path, source_name="") -> tuple[list, ImportContext]:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    ctx = ImportContext(time_zone=ZoneInfo("Asia/Shanghai"), limits=limits, source_name=source_name)
    return list(get_importer("chatlog").events(path, ctx)), ctx


def test_registered_for_wechat():
    module = get_importer("chatlog")
    assert (module.FORMAT, module.PLATFORM) == ("chatlog", "wechat")


@pytest.mark.parametrize("format", ["chatlog", "auto"])
def test_the_fixture_imports_exactly_and_once(community_a, format):
    outcome = import_file(
        community=community_a, format=format, path=FIXTURE, original_name=FIXTURE.name
    )
    assert outcome.ok, outcome.problems
    assert outcome.format == "chatlog"
    assert outcome.result.events_created == sum(KINDS.values()) == 23
    assert kinds(community_a) == KINDS
    assert outcome.skipped == SKIPPED
    assert outcome.result.members_created == len(PEOPLE)
    assert names(community_a) == PEOPLE

    again = import_file(community=community_a, format=format, path=FIXTURE)
    assert again.ok
    assert again.result.events_created == again.result.members_created == 0
    assert again.result.duplicates_skipped == 23
    assert ActivityEvent.objects.filter(community=community_a).count() == 23


def test_members_are_keyed_by_wxid_and_system_lines_find_them(community_a):
    found, ctx = read(FIXTURE)
    assert ctx.problems == []
    joins = [(e.member_key, e.member_name) for e in found if e.kind == "join"]
    assert joins == [
        ("wxid_zhaoliu", "赵六"),  # "nickname(wxid)" in the template line
        ("wxid_sunqi", "孙七"),
        ("wxid_zhouba", "周八"),  # joined by QR code
        ("wxid_wujiu", "吴九"),
    ]
    removed = next(e for e in found if e.kind == "removed")
    assert (removed.member_key, removed.member_name) == ("wxid_wangwu", "王五")  # spoke before

    assert import_file(community=community_a, format="chatlog", path=FIXTURE).ok
    wangwu = Member.objects.get(memberships__community=community_a, display_name="王五")
    assert Membership.objects.get(community=community_a, member=wangwu).status == (
        MembershipStatus.REMOVED
    )
    zhouba = Member.objects.get(memberships__community=community_a, display_name="周八")
    assert sorted(ActivityEvent.objects.filter(member=zhouba).values_list("kind", flat=True)) == [
        "join",
        "message",
        "message",
        "message",
        "message",
    ]


def test_texts_replies_and_titles():
    found, _ctx = read(FIXTURE)
    texts = [
        (e.kind, e.member_name, e.text)
        for e in found
        if e.text and e.kind not in ("join", "removed")
    ]
    assert texts == [
        ("message", "张三", "大家好，我是张三"),
        ("message", "赵六", "谢谢邀请！"),
        ("message", "张三", "周五晚上八点线上分享"),
        ("reply", "李四", "同意，周五见"),  # without the quoted lines
        ("post", "小明", "社群运营的十个方法 & 案例"),
        ("message", "小明", "欢迎新朋友！\n群规见公告。"),
        ("message", "赵六", "收到"),
        ("message", "吴九", "大家好，我是吴九"),
        ("message", "李四", "早上好"),
    ]
    # Placeholders (images, voice, stickers, files) keep no text.
    assert not any("](" in e.text or e.text.startswith("[") for e in found)
    # Two identical stickers in one second are two events; ids are stable.
    stickers = [e.external_id for e in found if e.occurred_at.minute == 24]
    assert len(set(stickers)) == 2
    assert [e.external_id for e in read(FIXTURE)[0]] == [e.external_id for e in found]


def test_local_times_in_the_communitys_zone_and_in_another(community_a, community_b):
    assert import_file(community=community_a, format="chatlog", path=FIXTURE).ok
    assert community_a.time_zone == "Asia/Shanghai"
    first = ActivityEvent.objects.filter(community=community_a).order_by("occurred_at").first()
    assert first.occurred_at == datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 21:00 in Shanghai

    assert import_file(
        community=community_b, format="chatlog", path=FIXTURE, time_zone="America/New_York"
    ).ok
    moved = ActivityEvent.objects.filter(community=community_b).order_by("occurred_at").first()
    assert moved.occurred_at == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 21:00 in New York


def test_a_gbk_copy_imports_with_correct_chinese_names(community_a, tmp_path):
    gbk = tmp_path / "chat.csv"
    gbk.write_bytes(TEXT.encode("gb18030"))
    outcome = import_file(community=community_a, format="auto", path=gbk, original_name="chat.csv")
    assert outcome.ok, outcome.problems
    assert outcome.format == "chatlog"
    assert outcome.result.events_created == 23
    assert names(community_a) == PEOPLE


def test_a_bad_row_is_a_numbered_translated_problem_and_nothing_is_written(community_a, tmp_path):
    path = write(
        tmp_path,
        [
            said("2026-11-20 21:00:00", "张三", "wxid_zhangsan", "你好"),
            said("11-20 21:01:00", "李四", "wxid_lisi", "在吗"),
            ["2026-11-20 21:02:00", "王五", "wxid_wangwu"],
        ],
    )
    outcome = import_file(community=community_a, format="chatlog", path=path)
    assert not outcome.ok
    assert [(p.where, p.message) for p in outcome.problems] == [
        ("row 3", "Time “11-20 21:01:00” is not a date and time (YYYY-MM-DD HH:MM:SS)."),
        ("row 4", "This row has 3 cells; the header has 6."),
    ]
    assert ActivityEvent.objects.filter(community=community_a).count() == 0
    assert names(community_a) == set()
    with translation.override("zh-hans"):
        chinese = import_file(community=community_a, format="chatlog", path=path)
    assert chinese.problems[0].where == "第 3 行"
    assert "不是有效的日期和时间" in chinese.problems[0].message


def test_a_file_with_several_chats_asks_which_and_imports_only_it(community_a, tmp_path):
    private = [
        said("2026-11-20 20:00:00", "小红", "wxid_red", "在吗", "wxid_red", "小红"),
        said("2026-11-20 20:01:00", "", "", "在", "wxid_red", "小红"),  # one's own, WeChat 3
    ]
    rows = list(csv.reader(TEXT.splitlines(keepends=True)))[1:]
    path = write(tmp_path, private + rows)

    asked = import_file(community=community_a, format="auto", path=path, original_name="x.csv")
    assert not asked.ok
    assert asked.problems[0].message == (
        "This export holds several chats; enter the one to import. Group chats: 读书会交流群"
    )
    missing = import_file(community=community_a, format="chatlog", path=path, source_name="书")
    assert "This export has no chat named 书." in missing.problems[0].message
    assert ActivityEvent.objects.filter(community=community_a).count() == 0

    group = import_file(
        community=community_a, format="chatlog", path=path, source_name="读书会交流群"
    )
    assert group.ok
    assert group.result.events_created == 23
    assert "小红" not in names(community_a)

    found, ctx = read(path, source_name="wxid_red")  # by the Talker id
    assert [(e.member_key, e.member_name, e.text) for e in found] == [
        ("wxid_red", "小红", "在吗"),
        ("self", "self", "在"),
    ]
    assert ctx.skipped == {}


@pytest.mark.parametrize(
    ("content", "kind", "text"),
    [
        ("> [引用]\n好的", "reply", "好的"),
        ("[引用]", "reply", ""),
        ("[语音]", "message", ""),
        ("[名片]", "message", ""),
        ("[GIF表情]", "message", ""),
        ("[合并转发|群聊的聊天记录]\n  张三 2026-11-20\n  你好\n", "post", ""),
        ("[视频号|周五分享回放](https://channels.weixin.qq.com/x)", "post", ""),
        ("[群公告]", "post", ""),
        ("[分享]", "post", ""),
        ("[转账|发送 ￥1.00]", None, "other_type"),
        ("[红包封面]", None, "other_type"),
        ("我拍了拍「张三」", None, "pat"),
        ("> 不是引用，只是大于号", "message", "> 不是引用，只是大于号"),
    ],
)
def test_placeholders(tmp_path, content, kind, text):
    found, ctx = read(write(tmp_path, [said("2026-11-20 21:00:00", "张三", "wxid_a", content)]))
    if kind is None:
        assert found == [] and ctx.skipped == {text: 1}
    else:
        assert [(e.kind, e.text) for e in found] == [(kind, text)]


@pytest.mark.parametrize(
    ("content", "expected", "skipped"),
    [
        ('"张三(wxid_a)"邀请你加入了群聊', [], {"you": 1}),
        ('"张三(wxid_a)"邀请你和"李四(wxid_b)"加入了群聊', [("join", "wxid_b")], {"you": 1}),
        ('"李四(wxid_b)"通过扫描"张三(wxid_a)"分享的二维码加入群聊', [("join", "wxid_b")], {}),
        ('"李四"退出了群聊', [("leave", "李四")], {}),
        ("你撤回了一条消息", [], {"recall": 1}),
        ("以下为新消息", [], {"system": 1}),
    ],
)
def test_system_lines(tmp_path, content, expected, skipped):
    found, ctx = read(write(tmp_path, [said("2026-11-20 21:00:00", "", "系统消息", content)]))
    assert [(e.kind, e.member_key) for e in found] == expected
    assert ctx.skipped == skipped


def test_a_forks_message_id_and_type_columns_are_used(tmp_path):
    header = ["MessageID", *HEADER, "Type", "SubType"]
    rows = [
        ["1700000000001", *said("2026-11-20 21:00:00", "张三", "wxid_a", "<msg>…</msg>"), "3", "0"],
        ["1700000000002", *said("2026-11-20 21:00:01", "张三", "wxid_a", "好的"), "49", "57"],
        ["1700000000003", *said("2026-11-20 21:00:02", "张三", "wxid_a", "x"), "49", "62"],
        ["1700000000004", *said("2026-11-20 21:00:03", "张三", "wxid_a", "x"), "50", "0"],
    ]
    found, ctx = read(write(tmp_path, rows, header))
    assert [(e.external_id, e.kind, e.text) for e in found] == [
        (f"cl:{GROUP}:1700000000001", "message", ""),
        (f"cl:{GROUP}:1700000000002", "reply", "好的"),
    ]
    assert ctx.skipped == {"pat": 1, "other_type": 1}


def test_a_file_that_is_not_this_export_names_the_columns(community_a):
    outcome = import_file(
        community=community_a, format="chatlog", path=FIXTURES / "wechat_group.csv"
    )
    assert not outcome.ok
    assert "Time,SenderName,Sender,TalkerName,Talker,Content" in outcome.problems[0].message
