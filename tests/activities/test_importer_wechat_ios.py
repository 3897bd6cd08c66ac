"""The iPhone WeChat importer (wechat-exporter's CSV, plain or .csv.bz2), through
``import_file`` as the import page and ``import_events`` call it.

The counts come from tests/fixtures/imports/wechat_ios_group.csv (made by
make_wechat_ios.py), read off by hand: 张三, 李四, 王五 (not a contact: the exporter gave
him the group's names) and the exporting account speak; 赵六 and 孙七 are invited, 周八
joins by QR code, 吴九 is invited by 李四; 孙七 is removed. 12 messages, 1 reply (a quote),
1 post (a link), 4 joins, 1 removal = 19 events; 2 recalls, 1 pat and 1 call skipped.
The .csv.bz2 holds the same rows with Windows line ends (as the exporter writes there).
"""

import bz2
import csv
import io
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from activities.importers import get_importer
from activities.importers.base import ImportContext, Limits
from activities.models import ActivityEvent
from activities.services import import_file
from members.models import Member

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
CSV = FIXTURES / "wechat_ios_group.csv"
BZ2 = FIXTURES / "wechat_ios_group.csv.bz2"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
HEADER = "时刻,消息类型,消息方向,ID,微信号,昵称,显示名称,内容\n"
KINDS = {"message": 12, "reply": 1, "post": 1, "join": 4, "removed": 1}
SKIPPED = {"recall": 2, "pat": 1, "other_type": 1}
NAMES = ["吴九", "周八", "孙七", "张三", "我", "李四", "赵六", "wxid_wangwu"]


def kinds(community) -> Counter:
    return Counter(ActivityEvent.objects.filter(community=community).values_list("kind", flat=True))


def names(community) -> list[str]:
    members = Member.objects.filter(organization=community.organization)
    return sorted(members.values_list("display_name", flat=True))


def read(path) -> tuple[list, ImportContext]:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    ctx = ImportContext(time_zone=SHANGHAI, limits=limits)
    return list(get_importer("wechat_ios").events(path, ctx)), ctx


def written(tmp_path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_registered_as_the_wechat_ios_format():
    module = get_importer("wechat_ios")
    assert (module.FORMAT, module.PLATFORM) == ("wechat_ios", "wechat")


@pytest.mark.parametrize("path", [CSV, BZ2], ids=["csv", "csv.bz2"])
@pytest.mark.parametrize("format", ["wechat_ios", "auto"])
def test_the_fixture_imports_every_kind_once(community_a, path, format):
    outcome = import_file(community=community_a, format=format, path=path, original_name=path.name)
    assert outcome.ok, outcome.problems
    assert outcome.format == "wechat_ios"
    assert outcome.result.events_created == 19
    assert kinds(community_a) == KINDS
    assert outcome.skipped == SKIPPED
    # One member per person; the group's own names (读书会·城东, 城东读书会) name nobody.
    assert names(community_a) == sorted(NAMES)
    assert outcome.result.members_created == 8

    again = import_file(community=community_a, format=format, path=path, original_name=path.name)
    assert again.ok
    assert (again.result.events_created, again.result.duplicates_skipped) == (0, 19)
    assert again.result.members_created == 0
    assert ActivityEvent.objects.filter(community=community_a).count() == 19


def test_the_bz2_and_the_csv_give_the_same_events():
    plain, plain_ctx = read(CSV)
    packed, packed_ctx = read(BZ2)
    assert packed == plain
    # Windows' "\r\r\n" row ends are not blank lines of the chat.
    assert packed_ctx.skipped == plain_ctx.skipped == SKIPPED
    texts = {event.text for event in packed}
    assert "欢迎新朋友！\n群规见公告。" in texts  # "\r\n" inside the message read as "\n"
    assert "社群运营的十个方法 & 案例" in texts  # a link's <title>
    assert "同意，周五见" in texts  # a quote's own words


def test_members_keys_and_system_lines():
    found, _ctx = read(CSV)
    keys = {event.member_key: event.member_name for event in found}
    assert keys == {
        "self": "我",
        "wxid_zhangsan": "张三",
        "wxid_lisi": "李四",
        "wxid_wangwu": "wxid_wangwu",  # his 昵称 is the group's: the exporter's fallback
        "赵六": "赵六",
        "孙七": "孙七",
        "周八": "周八",
        "吴九": "吴九",
    }
    membership = [(e.kind, e.member_key) for e in found if e.kind in ("join", "removed")]
    assert membership == [
        ("join", "赵六"),
        ("join", "孙七"),
        ("join", "周八"),
        ("removed", "孙七"),
        ("join", "吴九"),
    ]
    # An image, a sticker or a voice message keeps no text.
    assert {event.text for event in found if event.member_key == "wxid_wangwu"} == {""}


def test_local_times_in_the_community_zone_or_the_one_given(community_a, community_b):
    import_file(community=community_a, format="wechat_ios", path=CSV)
    first = ActivityEvent.objects.filter(community=community_a).order_by("occurred_at").first()
    assert first.occurred_at == datetime(2026, 11, 20, 21, 0, tzinfo=SHANGHAI)

    outcome = import_file(
        community=community_b, format="wechat_ios", path=BZ2, time_zone="Europe/Berlin"
    )
    assert outcome.ok
    events = ActivityEvent.objects.filter(community=community_b).order_by("occurred_at")
    assert events.first().occurred_at == datetime(2026, 11, 20, 21, 0, tzinfo=BERLIN)
    assert events.last().occurred_at == datetime(2026, 11, 21, 10, 30, tzinfo=BERLIN)


def test_a_gbk_copy_imports_with_correct_chinese_names(community_a, tmp_path):
    path = written(tmp_path, "群聊.csv", CSV.read_text(encoding="utf-8"), "gbk")
    outcome = import_file(community=community_a, format="auto", path=path, original_name="群聊.csv")
    assert outcome.ok, outcome.problems
    assert outcome.format == "wechat_ios"
    assert outcome.result.events_created == 19
    assert names(community_a) == sorted(NAMES)
    texts = set(ActivityEvent.objects.values_list("text", flat=True))
    assert "大家好，我是张三" in texts


def test_bad_rows_are_numbered_problems_and_nothing_is_written(community_a, tmp_path):
    text = (
        HEADER
        + "2026-11-20 21:00:00,文本,接收,wxid_a,a,甲,,你好\n"
        + "20/11/2026 21:01,文本,接收,wxid_a,a,甲,,你好\n"
        + "2026-11-20 21:02:00,文本,已读,wxid_a,a,甲,,你好\n"
        + "2026-11-20 21:03:00,文本\n"
    )
    outcome = import_file(
        community=community_a, format="wechat_ios", path=written(tmp_path, "c.csv", text)
    )
    assert not outcome.ok
    assert [(p.where, p.message) for p in outcome.problems] == [
        ("row 3", "时刻 “20/11/2026 21:01” is not a date and time (YYYY-MM-DD HH:MM:SS)."),
        ("row 4", "消息方向 “已读” is neither 发送 (sent) nor 接收 (received)."),
        ("row 5", "This row has 2 cells; the header has 8."),
    ]
    assert ActivityEvent.objects.count() == 0
    assert names(community_a) == []


def test_a_file_without_the_columns_is_refused(community_a, tmp_path):
    path = written(tmp_path, "c.csv", "时刻,消息类型,内容\n2026-11-20 21:00:00,文本,hi\n")
    outcome = import_file(community=community_a, format="wechat_ios", path=path)
    assert not outcome.ok
    message = outcome.problems[0].message
    assert message.startswith("This is not a WeChat chat export from an iPhone")
    assert "Missing: 消息方向, 微信号, 昵称, 显示名称." in message


BOMB_ROW = "2026-11-20 21:00:00,文本,接收,wxid_a,a,甲,," + "哈" * 200 + "\n"


def bomb_rows(unpacked: int) -> int:
    return unpacked // len(BOMB_ROW.encode()) + 10


def bomb(path: Path, unpacked: int) -> Path:
    """A valid .csv.bz2 of identical rows that unpacks to more than ``unpacked`` bytes."""
    with bz2.open(path, "wt", encoding="utf-8") as out:
        out.write(HEADER)
        for _ in range(bomb_rows(unpacked)):
            out.write(BOMB_ROW)
    return path


@pytest.mark.parametrize("format", ["wechat_ios", "auto"])
def test_a_bz2_bomb_is_refused_and_nothing_written(community_a, tmp_path, settings, format):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    path = bomb(tmp_path / "chat.csv.bz2", 1024 * 1024)
    assert path.stat().st_size < 20_000  # a few KB that unpack to over a MB
    outcome = import_file(community=community_a, format=format, path=path)
    assert [p.message for p in outcome.problems] == ["Unpacked, the .bz2 file would exceed 1 MB."]
    assert ActivityEvent.objects.count() == 0
    assert names(community_a) == []


def test_the_same_bz2_under_the_limit_imports(community_a, tmp_path, settings):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 4 * 1024 * 1024
    outcome = import_file(
        community=community_a, format="wechat_ios", path=bomb(tmp_path / "c.csv.bz2", 1 << 20)
    )
    assert outcome.ok, outcome.problems
    # Identical rows in the same second are distinct messages, each with its own id.
    assert outcome.result.events_created == bomb_rows(1 << 20) == 1625


def test_a_cut_off_bz2_is_refused(community_a, tmp_path):
    data = BZ2.read_bytes()
    path = tmp_path / "cut.csv.bz2"
    path.write_bytes(data[: len(data) // 2])
    outcome = import_file(community=community_a, format="wechat_ios", path=path)
    assert [p.message for p in outcome.problems] == [
        "This .bz2 file is damaged or cut off: it cannot be unpacked to the end."
    ]
    assert ActivityEvent.objects.count() == 0


def test_a_gbk_byte_late_in_a_bz2_is_a_numbered_problem(community_a, tmp_path):
    row = "2026-11-20 21:00:{:02},文本,接收,wxid_a,a,甲,,第{}条\n"
    rows = "".join(row.format(n % 60, n) for n in range(3000))
    late = "2026-11-20 22:00:00,文本,接收,wxid_b,b,乙,,你好\n".encode("gbk")
    data = (HEADER + rows).encode("utf-8") + late
    path = tmp_path / "c.csv.bz2"
    path.write_bytes(bz2.compress(data))
    outcome = import_file(community=community_a, format="wechat_ios", path=path)
    assert [p.where for p in outcome.problems] == ["line 3002"]
    assert "UTF-8" in outcome.problems[0].message
    assert ActivityEvent.objects.count() == 0


def rows_file(tmp_path, rows, header=HEADER) -> Path:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return written(tmp_path, "chat.csv", header + out.getvalue())


def test_a_row_put_on_the_group_itself_has_no_speaker(tmp_path):
    group = ["9988@chatroom", "", "某群", ""]
    path = rows_file(
        tmp_path,
        [
            ["2026-11-20 21:00:00", "文本", "发送", *group, "我先说"],
            ["2026-11-20 21:01:00", "文本", "接收", *group, "谁说的？"],
            ["2026-11-20 21:02:00", "文本", "接收", "wxid_b", "", "某群", "", "我说的"],
        ],
    )
    found, ctx = read(path)
    assert [(e.member_key, e.member_name) for e in found] == [
        ("self", "我"),
        ("wxid_b", "wxid_b"),
    ]
    assert ctx.skipped == {"no_author": 1}


def test_a_private_chat_keeps_the_friend_s_names(tmp_path):
    friend = ["wxid_friend", "friend_88", "老王", "王哥"]
    path = rows_file(
        tmp_path,
        [
            ["2026-11-20 21:00:00", "文本", "发送", *friend, "在吗"],  # the exporter's own
            ["2026-11-20 21:01:00", "文本", "接收", *friend, "在"],
        ],
    )
    found, _ctx = read(path)
    assert [(e.member_key, e.member_name, e.text) for e in found] == [
        ("self", "我", "在吗"),
        ("wxid_friend", "老王", "在"),
    ]


def test_an_old_export_without_the_id_column(tmp_path):
    """Before the ID column, a speaker who was not a contact kept the wxid prefix."""
    group = ["", "某群", ""]
    path = rows_file(
        tmp_path,
        [
            ["2026-11-20 21:00:00", "文本", "接收", "zhang88", "张三", "", "早"],
            ["2026-11-20 21:01:00", "文本", "接收", *group, "wxid_b:\n我说的"],
        ],
        header="时刻,消息类型,消息方向,微信号,昵称,显示名称,内容\n",
    )
    found, ctx = read(path)
    assert ctx.problems == []
    assert [(e.member_key, e.member_name, e.text) for e in found] == [
        ("zhang88", "张三", "早"),
        ("wxid_b", "wxid_b", "我说的"),
    ]


def test_an_old_export_of_a_private_chat(tmp_path):
    friend = ["laowang", "老王", "王哥"]
    path = rows_file(
        tmp_path,
        [
            ["2026-11-20 21:00:00", "文本", "发送", *friend, "在吗"],
            ["2026-11-20 21:01:00", "文本", "接收", *friend, "在"],
        ],
        header="时刻,消息类型,消息方向,微信号,昵称,显示名称,内容\n",
    )
    found, _ctx = read(path)
    assert [(e.member_key, e.member_name, e.text) for e in found] == [
        ("self", "我", "在吗"),
        ("laowang", "老王", "在"),
    ]


def test_the_seventh_column_may_be_called_备注名(tmp_path):
    path = rows_file(
        tmp_path,
        [["2026-11-20 21:00:00", "文本", "接收", "wxid_a", "", "", "阿甲", "早"]],
        header="时刻,消息类型,消息方向,ID,微信号,昵称,备注名,内容\n",
    )
    found, _ctx = read(path)
    assert [(e.member_key, e.member_name) for e in found] == [("wxid_a", "阿甲")]
