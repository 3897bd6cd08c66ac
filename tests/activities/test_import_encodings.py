"""Text exports (generic CSV, WeChat CSV, Discord CSV) in UTF-8 with or without a
byte-order mark, or in GB18030/GBK (a file re-saved in Excel on a Chinese Windows), are
read correctly; a file in neither (UTF-16, binary) is rejected, naming the encodings tried,
and nothing is written (issue 13, "Encodings"). The decoding is one helper,
``activities.importers.base.text_stream``.

The names and counts come from tests/fixtures/imports/wechat_group.csv, read off by hand:
张三, 李四, 王五 and 群主小明 speak, 赵六 and 孙七 are invited, 周八 joins by QR code
(the leading space of “ 周八” is trimmed); 14 events in all.
"""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from activities.importers import get_importer
from activities.importers.base import (
    SNIFF_BYTES,
    ImportContext,
    ImportRejected,
    Limits,
    sniff_encoding,
)
from activities.models import ActivityEvent
from activities.services import import_file
from members.models import Member

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")
WECHAT_TEXT = (FIXTURES / "wechat_group.csv").read_text(encoding="utf-8-sig")
NAMES = ["周八", "孙七", "张三", "李四", "王五", "群主小明", "赵六"]
NEITHER = "This file is not text in UTF-8 or GB18030 (GBK)"
# 2,000 ASCII-only system rows (skipped as "system"): more than the sniffed head.
PAD = "".join(
    f"{900000 + n},12,10000,0,0,1795179000,2,x,2026-11-20 20:50:00,,,\n" for n in range(2000)
)
assert len(PAD) > SNIFF_BYTES


def context() -> ImportContext:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    return ImportContext(time_zone=SHANGHAI, limits=limits)


def read(fmt: str, path) -> tuple[list, ImportContext]:
    ctx = context()
    return list(get_importer(fmt).events(path, ctx)), ctx


def written(tmp_path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def names(community) -> list[str]:
    return sorted(
        Member.objects.filter(organization=community.organization).values_list(
            "display_name", flat=True
        )
    )


# --- Detection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "final", "expected"),
    [
        pytest.param(b"a,b\n", True, "utf-8", id="ascii"),
        pytest.param("名字,内容\n".encode(), True, "utf-8", id="utf-8"),
        pytest.param("\ufeff名字\n".encode(), True, "utf-8-sig", id="utf-8-bom"),
        pytest.param("名字,内容\n".encode("gbk"), True, "gb18030", id="gbk"),
        pytest.param("名字,内容€\n".encode("gb18030"), True, "gb18030", id="gb18030"),
        # The head ends inside a character: that is the cut, not a bad byte.
        pytest.param("名字".encode()[:-1], False, "utf-8", id="utf-8-cut-at-the-head"),
        # UTF-8 that is damaged after plenty of good Chinese stays UTF-8 (then fails on
        # its line) rather than being read, garbled, as GB18030.
        pytest.param("群主小明说大家好".encode() + b"\xff", True, "utf-8", id="damaged-utf-8"),
    ],
)
def test_the_encoding_is_recognised_from_the_head(head, final, expected):
    assert sniff_encoding(head, final=final) == expected


@pytest.mark.parametrize(
    "head",
    [
        pytest.param("名字,内容\n".encode("utf-16"), id="utf-16-bom"),
        pytest.param("a,b\n".encode("utf-16-le"), id="utf-16-le-no-bom"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="png"),
        pytest.param(b"a,b\n\x80,\xff\n", id="invalid-in-both"),
    ],
)
def test_neither_utf8_nor_gb18030_is_rejected(head):
    with pytest.raises(ImportRejected) as caught:
        sniff_encoding(head, final=True)
    assert caught.value.message.startswith(NEITHER)
    assert "UTF-8" in caught.value.message and "GB18030" in caught.value.message


def test_the_rejection_is_translated():
    with translation.override("zh-hans"), pytest.raises(ImportRejected) as caught:
        sniff_encoding("a".encode("utf-16"), final=True)
    assert "GB18030" in caught.value.message
    assert "UTF-8" in caught.value.message
    assert "编码" in caught.value.message and "二进制" in caught.value.message


# --- Each text importer -----------------------------------------------------------------


def test_a_wechat_export_saved_as_gbk_reads_like_the_utf8_one(tmp_path):
    gbk = written(tmp_path, "chat.csv", WECHAT_TEXT.encode("gbk"))
    found, ctx = read("wechat", gbk)
    original, _ = read("wechat", FIXTURES / "wechat_group.csv")
    assert ctx.problems == []
    assert len(found) == 12
    assert found == original  # every name and text, not garbled
    assert sorted({e.member_name for e in found} - {"Alice"}) == NAMES


def test_gbk_only_after_the_sniffed_head_is_a_numbered_problem(tmp_path):
    # The encoding is chosen on the first SNIFF_BYTES: ASCII-only rows there read as
    # UTF-8, and the first GBK row after them is a problem on its line, not garbled.
    header, rest = WECHAT_TEXT.split("\n", 1)
    path = written(tmp_path, "chat.csv", (header + "\n" + PAD + rest).encode("gbk"))
    _found, ctx = read("wechat", path)
    assert [(p.where, p.message) for p in ctx.problems] == [
        ("line 2002", "This line is not UTF-8 text, the encoding the start of the file is in.")
    ]


def test_a_line_the_chosen_encoding_cannot_read_is_a_numbered_problem(tmp_path):
    header, rest = WECHAT_TEXT.split("\n", 1)
    pad = PAD
    # UTF-8 head, then a Latin-1 byte on line 2003 (header + 2000 pad lines + 2 more).
    data = (header + "\n" + pad + rest).encode()
    lines = data.split(b"\n")
    lines[2002] = lines[2002].replace(b"2026", b"\xe9 2026", 1)
    _found, ctx = read("wechat", written(tmp_path, "chat.csv", b"\n".join(lines)))
    assert [(p.where, p.message) for p in ctx.problems] == [
        ("line 2003", "This line is not UTF-8 text, the encoding the start of the file is in.")
    ]


def test_a_generic_csv_with_a_bom_has_a_clean_first_column(tmp_path):
    text = "occurred_at,kind,member_id,member_name\n2026-11-20T21:03:00+08:00,message,u1,张三\n"
    found, ctx = read("csv", written(tmp_path, "events.csv", text.encode("utf-8-sig")))
    assert ctx.problems == []
    assert [(e.member_key, e.member_name) for e in found] == [("u1", "张三")]


def test_a_generic_csv_in_gbk(tmp_path):
    text = (
        "occurred_at,kind,member_id,member_name,text\n"
        "2026-11-20T21:03:00+08:00,message,u1,李四,你好\n"
    )
    found, ctx = read("csv", written(tmp_path, "events.csv", text.encode("gbk")))
    assert ctx.problems == []
    assert [(e.member_name, e.text) for e in found] == [("李四", "你好")]


def test_a_discord_csv_in_gbk_and_with_a_bom(tmp_path):
    text = "AuthorID,Author,Date,Content\n42,王五,2026-11-20T21:03:00+08:00,大家好\n"
    for name, data in [("gbk.csv", text.encode("gbk")), ("bom.csv", text.encode("utf-8-sig"))]:
        found, ctx = read("discord", written(tmp_path, name, data))
        assert ctx.problems == []
        assert [(e.member_key, e.member_name, e.text) for e in found] == [("42", "王五", "大家好")]


@pytest.mark.parametrize("fmt", ["csv", "wechat", "discord"])
def test_a_utf16_file_is_rejected_by_every_text_importer(fmt, tmp_path):
    path = written(tmp_path, "export.csv", WECHAT_TEXT.encode("utf-16"))
    with pytest.raises(ImportRejected) as caught:
        read(fmt, path)
    assert caught.value.message.startswith(NEITHER)


# --- Through the import, on the database ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "encoding", [pytest.param("gbk", id="gbk"), pytest.param("utf-8-sig", id="utf-8-bom")]
)
def test_a_wechat_export_imports_with_correct_chinese_names(
    community_a, community_b, tmp_path, encoding
):
    path = written(tmp_path, "chat.csv", WECHAT_TEXT.encode(encoding))
    outcome = import_file(community=community_a, format="wechat", path=path)
    assert outcome.ok, outcome.problems
    assert outcome.result.events_created == 12
    assert ActivityEvent.objects.filter(community=community_a).count() == 12
    members = names(community_a)
    assert sorted(set(members)) == sorted(["Alice", *NAMES])
    assert outcome.result.members_created == len(members)
    # Exactly what the UTF-8 fixture gives, in another organisation.
    plain = import_file(community=community_b, format="wechat", path=FIXTURES / "wechat_group.csv")
    assert plain.ok
    assert names(community_b) == members


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        pytest.param(WECHAT_TEXT.encode("utf-16"), id="utf-16"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 50, id="binary"),
    ],
)
def test_a_file_in_neither_encoding_writes_nothing(community_a, tmp_path, data):
    path = written(tmp_path, "chat.csv", data)
    outcome = import_file(community=community_a, format="wechat", path=path)
    assert not outcome.ok
    assert [p.message[: len(NEITHER)] for p in outcome.problems] == [NEITHER]
    assert ActivityEvent.objects.filter(community=community_a).count() == 0
    assert names(community_a) == []


@pytest.mark.django_db
def test_a_bad_line_late_in_the_file_writes_nothing(community_a, tmp_path):
    # GBK in the head, then 2,000 more rows, then a byte GB18030 cannot read on line 2017.
    bad = b"999,12,1,0,0,1795180999,2,\x80,,,x,wxid_x\n"
    data = (WECHAT_TEXT + PAD).encode("gbk") + bad
    outcome = import_file(
        community=community_a, format="wechat", path=written(tmp_path, "c.csv", data)
    )
    assert not outcome.ok
    assert [p.where for p in outcome.problems] == ["line 2017"]
    assert "GB18030 (GBK)" in outcome.problems[0].message
    assert ActivityEvent.objects.filter(community=community_a).count() == 0
    assert names(community_a) == []


@pytest.mark.django_db
def test_the_import_page_names_the_encodings(client_for, operator_a):
    client = client_for(operator_a)
    url = reverse("activities:imports")
    page = client.get(url).content.decode()
    assert "or GB18030/GBK (as Excel saves them on a Chinese Windows)" in page
    page = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    assert "GB18030/GBK（中文 Windows 上的 Excel 保存的格式）" in page
