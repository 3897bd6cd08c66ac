"""The EchoTrace importer (WeChat 4.0, an .xlsx), through ``import_file``.

The counts come from tests/fixtures/imports/echotrace_group.xlsx (made by
make_echotrace.py), read off by hand: 张三, 李四, 王五, 群主小明 (the exporting account,
"我") and wxid_former (a "群成员" who left) speak; 赵六 and 孙七 are invited, 周八 joins by
QR code, 吴九 is invited by 李四, 孙七 is removed. 13 messages, 1 reply, 3 posts (a link, a
red packet, a file), 4 joins, 1 removal = 22 events; a recall, a pat and a call skipped.
"""

import sys
import zipfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from activities.importers import get_importer
from activities.importers.base import ImportContext, ImportRejected, Limits
from activities.importers.recognition import file_head, recognise
from activities.models import ActivityEvent
from activities.services import import_file
from members.models import Member

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
sys.path.insert(0, str(FIXTURES))
import make_echotrace  # noqa: E402  (the fixture's own builder, for variants of it)

XLSX = FIXTURES / "echotrace_group.xlsx"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
KINDS = {"message": 13, "reply": 1, "post": 3, "join": 4, "removed": 1}
SKIPPED = {"recall": 1, "pat": 1, "other_type": 1}
NAMES = ["吴九", "周八", "孙七", "张三", "李四", "王五", "群主小明", "赵六", "wxid_former"]


def kinds(community) -> Counter:
    return Counter(ActivityEvent.objects.filter(community=community).values_list("kind", flat=True))


def names(community) -> list[str]:
    members = Member.objects.filter(organization=community.organization)
    return sorted(members.values_list("display_name", flat=True))


def read(path) -> tuple[list, ImportContext]:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    ctx = ImportContext(time_zone=SHANGHAI, limits=limits)
    return list(get_importer("echotrace").events(path, ctx)), ctx


def test_registered_as_the_echotrace_format():
    module = get_importer("echotrace")
    assert (module.FORMAT, module.PLATFORM) == ("echotrace", "wechat")


@pytest.mark.django_db
@pytest.mark.parametrize("format", ["echotrace", "auto"])
def test_the_fixture_imports_every_kind_once(community_a, format):
    outcome = import_file(community=community_a, format=format, path=XLSX, original_name=XLSX.name)
    assert outcome.ok, outcome.problems
    assert outcome.format == "echotrace"
    assert outcome.result.events_created == 22
    assert kinds(community_a) == KINDS
    assert outcome.skipped == SKIPPED
    # The group's name (读书会·城东) and "群成员" name nobody.
    assert names(community_a) == sorted(NAMES)
    assert outcome.result.members_created == 9

    again = import_file(community=community_a, format=format, path=XLSX, original_name=XLSX.name)
    assert again.ok
    assert (again.result.events_created, again.result.duplicates_skipped) == (0, 22)
    assert ActivityEvent.objects.filter(community=community_a).count() == 22


def test_members_texts_and_ids():
    found, ctx = read(XLSX)
    assert ctx.problems == []
    keys = {event.member_key: event.member_name for event in found}
    assert keys == {
        "wxid_owner": "群主小明",  # "我", keyed by the account's wxid the file gives
        "wxid_zhangsan": "张三",
        "wxid_lisi": "李四",
        "wxid_wangwu": "王五",
        "wxid_former": "wxid_former",
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
    texts = {(event.kind, event.text) for event in found}
    assert ("reply", "同意，周五见") in texts
    assert ("post", "[链接] 社群运营的十个方法 & 案例") in texts
    assert ("message", "欢迎新朋友！\n群规见公告。") in texts
    assert ("message", "") in texts  # an image keeps no "[图片]"
    ids = [event.external_id for event in found]
    assert len(set(ids)) == len(ids) == 22
    assert ids == [event.external_id for event in read(XLSX)[0]]


@pytest.mark.django_db
def test_local_times_in_the_community_zone_or_the_one_given(community_a, community_b):
    import_file(community=community_a, format="echotrace", path=XLSX)
    first = ActivityEvent.objects.filter(community=community_a).order_by("occurred_at").first()
    assert first.occurred_at == datetime(2026, 11, 20, 21, 0, tzinfo=SHANGHAI)

    outcome = import_file(
        community=community_b, format="echotrace", path=XLSX, time_zone="Europe/Berlin"
    )
    assert outcome.ok
    events = ActivityEvent.objects.filter(community=community_b).order_by("occurred_at")
    assert events.first().occurred_at == datetime(2026, 11, 20, 21, 0, tzinfo=BERLIN)
    assert events.last().occurred_at == datetime(2026, 11, 21, 10, 30, tzinfo=BERLIN)


@pytest.mark.django_db
def test_a_bad_row_is_a_numbered_problem_and_nothing_is_written(community_a, tmp_path):
    rows = list(make_echotrace.ROWS)
    rows[1] = ("昨天 21:01", *rows[1][1:])  # spreadsheet row 6
    path = tmp_path / "bad.xlsx"
    make_echotrace.build(path, rows)
    outcome = import_file(community=community_a, format="echotrace", path=path)
    assert not outcome.ok
    assert [(p.where, p.message) for p in outcome.problems] == [
        ("row 6", "时间 “昨天 21:01” is not a date and time (YYYY-MM-DD HH:MM:SS)."),
    ]
    assert ActivityEvent.objects.count() == 0
    assert names(community_a) == []


@pytest.mark.django_db
def test_too_many_parts_are_refused_before_opening(community_a, settings):
    settings.IMPORT_MAX_ZIP_ENTRIES = 5
    outcome = import_file(community=community_a, format="auto", path=XLSX)
    assert [p.message for p in outcome.problems] == [
        "This Excel file holds 10 parts; the limit is 5."
    ]
    assert ActivityEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_workbook_too_large_unpacked_is_refused(community_a, settings, tmp_path):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 1024 * 1024
    long = ("2026-11-21 11:00:00", make_echotrace.LI, "文本消息", "哈" * 30_000)  # 90 KB
    rows = [*make_echotrace.ROWS, *[long] * 40]
    path = tmp_path / "big.xlsx"
    make_echotrace.build(path, rows)
    assert path.stat().st_size < 100_000  # compresses well; unpacks to 3 MB
    outcome = import_file(community=community_a, format="echotrace", path=path)
    assert [p.message for p in outcome.problems] == ["Unpacked, this Excel file would exceed 1 MB."]
    assert ActivityEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_broken_workbook_is_refused(community_a, tmp_path):
    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook>")
        archive.writestr("xl/worksheets/sheet1.xml", "<t>时间</t><t>消息类型</t>")
    outcome = import_file(community=community_a, format="echotrace", path=path)
    assert [p.message for p in outcome.problems] == [
        "This is not an Excel workbook (.xlsx) that can be read."
    ]


def test_another_workbook_is_not_taken_for_echotrace(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["日期", "姓名", "金额"])
    workbook.save(tmp_path / "账单.xlsx")
    reason = get_importer("echotrace").recognise(file_head(tmp_path / "账单.xlsx"))
    assert reason == "no column 时间, 消息类型, 内容, 发送者身份"
    with pytest.raises(ImportRejected, match="none of its first 20 rows"):
        read(tmp_path / "账单.xlsx")


def test_the_older_five_column_layout(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "聊天记录"
    sheet.append(["序号", "时间", "发送者", "消息类型", "内容"])
    sheet.append([1, "2026-11-20 21:00:00", "我", "文本消息", "早"])
    sheet.append([2, "2026-11-20 21:01:00", "张三", "文本消息", "早啊"])
    sheet.append([3, "2026-11-20 21:02:00", "群成员", "文本消息", "谁？"])
    workbook.save(tmp_path / "old.xlsx")
    assert recognise(tmp_path / "old.xlsx", "old.xlsx") == "echotrace"
    found, ctx = read(tmp_path / "old.xlsx")
    assert [(e.member_key, e.member_name, e.text) for e in found] == [
        ("self", "我", "早"),
        ("张三", "张三", "早啊"),
    ]
    assert ctx.skipped == {"no_author": 1}


def test_real_date_cells_of_a_resaved_file(tmp_path):
    naive = datetime(2026, 11, 20, 21, 1, 5, tzinfo=SHANGHAI).replace(tzinfo=None)
    rows = [(naive, *make_echotrace.ROWS[1][1:])]
    make_echotrace.build(tmp_path / "resaved.xlsx", rows)
    found, _ctx = read(tmp_path / "resaved.xlsx")
    assert [e.occurred_at for e in found] == [datetime(2026, 11, 20, 21, 1, 5, tzinfo=SHANGHAI)]


def shared_strings_workbook(path: Path) -> None:
    """A minimal .xlsx whose texts are shared strings, as Syncfusion XlsIO and Excel write
    them (openpyxl writes inline strings)."""
    labels = ["会话信息", *make_echotrace.HEADER, "2026-11-20 21:00:00", "张三", "wxid_zhangsan"]
    labels += ["文本消息", "你好"]
    index = {text: n for n, text in enumerate(labels)}

    def cells(row: int, values) -> str:
        out = []
        for column, value in zip("ABCDEFGH", values, strict=False):
            if isinstance(value, int):
                out.append(f'<c r="{column}{row}"><v>{value}</v></c>')
            elif value:
                out.append(f'<c r="{column}{row}" t="s"><v>{index[value]}</v></c>')
        return f'<row r="{row}">{"".join(out)}</row>'

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    said = [1, "2026-11-20 21:00:00", "张三", "wxid_zhangsan", "", "张三", "文本消息", "你好"]
    sheet = (
        f'<worksheet xmlns="{main}"><sheetData>'
        + cells(1, ["会话信息"])
        + cells(4, make_echotrace.HEADER)
        + cells(5, said)
        + "</sheetData></worksheet>"
    )
    strings = f'<sst xmlns="{main}">' + "".join(f"<si><t>{t}</t></si>" for t in labels) + "</sst>"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
            '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            "</Types>",
        )
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/officeDocument"'
            ' Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="聊天记录" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", strings)


def test_a_workbook_with_shared_strings_is_recognised_and_read(tmp_path):
    path = tmp_path / "shared.xlsx"
    shared_strings_workbook(path)
    head = file_head(path)
    assert head.entry == "xl/sharedStrings.xml"
    assert recognise(path, "shared.xlsx") == "echotrace"
    found, ctx = read(path)
    assert ctx.problems == []
    assert [(e.kind, e.member_key, e.member_name, e.text) for e in found] == [
        ("message", "wxid_zhangsan", "张三", "你好")
    ]
