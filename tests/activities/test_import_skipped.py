"""Every row or line an importer leaves out on purpose is counted by reason (issue 13),
so that an import can be reconciled with the chat: "2 recalls and 1 pat skipped".

The expected counts were read off the fixtures by hand (tests/fixtures/imports/):

- wechat_group.csv: row 109 (“张三” 撤回了一条消息) and row 112 (Type 10002
  ``<sysmsg type="revokemsg">``) are recalls, row 113 (“李四” 拍了拍 “张三”) a pat.
- whatsapp_android.txt: the encryption notice, "Alice created group" and "Alice changed
  the subject" are system lines; "Alice added you" is about the exporting account.
- whatsapp_ios_zh.txt: the encryption notice, 创建了群组 and 更改了群组名称.
- telegram_single.json: one pin_message; telegram_account.json, chat 读书会: create_group.
- slack_workspace.zip: #enrique 66 bot_message + 2 bot_add, #traveling-sailor 28 + 1.
- discord_channel.json: ChannelPinnedMessage and Call (system), one bot's message.
"""

import csv
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from activities.importers import get_importer
from activities.importers.base import ImportContext, skipped_labels, skipped_summary
from activities.models import ImportRun, ImportStatus
from activities.services import import_create, import_execute, import_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def skipped(fmt: str, path, source_name: str = "") -> dict[str, int]:
    ctx = ImportContext(time_zone=SHANGHAI, source_name=source_name)
    for _event in get_importer(fmt).events(path, ctx):
        pass
    assert ctx.problems == []
    return ctx.skipped


@pytest.mark.parametrize(
    ("fmt", "name", "source", "expected"),
    [
        ("wechat", "wechat_group.csv", "", {"recall": 2, "pat": 1}),
        ("whatsapp", "whatsapp_android.txt", "", {"system": 3, "you": 1}),
        ("whatsapp", "whatsapp_ios_zh.txt", "", {"system": 3}),
        ("telegram", "telegram_single.json", "", {"system": 1}),
        ("telegram", "telegram_account.json", "读书会", {"system": 1}),
        ("slack", "slack_workspace.zip", "enrique", {"bot": 68}),
        ("slack", "slack_workspace.zip", "traveling-sailor", {"bot": 29}),
        ("discord", "discord_channel.json", "", {"system": 2, "bot": 1}),
        ("discord", "discord_channel.csv", "", {}),
        ("csv", "events_generic.csv", "", {}),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_fixture_skips_exactly(fmt, name, source, expected):
    assert skipped(fmt, FIXTURES / name, source) == expected


def _wechat(tmp_path, rows) -> Path:
    path = tmp_path / "wx.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(get_importer("wechat").COLUMNS)
        writer.writerows(rows)
    return path


def test_wechat_skipped_kinds(tmp_path):
    def row(local_id, type_, sub, content="x"):
        return [local_id, 7, type_, sub, 0, 1795179600 + local_id, 2, content, "", "", "A", "w_a"]

    path = _wechat(
        tmp_path,
        [
            row(1, 49, 62),  # a pat as an app message
            row(2, 10000, 4, '"A" 拍了拍 "B"'),
            row(3, 10000, 0, '"A" 撤回了一条消息'),
            row(4, 10000, 0, "You recalled a message"),
            row(5, 10000, 0, "“A”领取了你的红包"),  # a red packet: a system line
            row(6, 10000, 0, '"A"修改群名为"新名字"'),
            row(7, 10002, 0, '<sysmsg type="revokemsg"><revokemsg/></sysmsg>'),
            row(8, 10002, 0, '<sysmsg type="pat"><pat/></sysmsg>'),
            row(9, 10002, 0, '<sysmsg type="delchatroommember"/>'),
            row(10, 50, 0),  # a call
            row(11, 37, 0),  # a friend request
            row(12, 1, 0, "hello"),  # kept
            row(13, 10000, 0, '"A"邀请"B"加入了群聊'),  # kept: a join
        ],
    )
    assert skipped("wechat", path) == {"pat": 3, "recall": 3, "system": 3, "other_type": 2}


def test_blank_lines_are_counted(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "occurred_at,kind,member_id\n\n2026-11-20T21:03:00+08:00,message,u1\n\n\n",
        encoding="utf-8",
    )
    assert skipped("csv", path) == {"blank": 3}  # lines 2, 4 and 5


def test_labels_are_plural_aware_and_translated():
    counts = {"recall": 2, "pat": 1}
    assert skipped_labels(counts) == ["2 recalls", "1 pat"]
    assert skipped_summary(counts) == "2 recalls and 1 pat skipped"
    assert skipped_summary({"pat": 3, "recall": 2}) == "3 pats and 2 recalls skipped"
    assert skipped_summary({"system": 1}) == "1 system message skipped"
    assert skipped_summary({"bot": 3, "system": 2, "pat": 1}) == (
        "3 bot messages, 2 system messages and 1 pat skipped"
    )
    assert skipped_summary({}) == ""
    assert skipped_summary({"someday": 4}) == "4 other rows skipped"  # an unknown code
    with translation.override("zh-hans"):
        assert skipped_summary({"pat": 3, "recall": 2}) == "已跳过 3 条拍一拍和 2 条撤回"
        assert skipped_summary({"bot": 3, "system": 2, "pat": 1}) == (
            "已跳过 3 条机器人消息、2 条系统消息和 1 条拍一拍"
        )


@pytest.mark.django_db
def test_the_outcome_carries_the_counts(community_a):
    outcome = import_file(
        community=community_a, format="wechat", path=FIXTURES / "wechat_group.csv"
    )
    assert outcome.ok
    assert outcome.skipped == {"recall": 2, "pat": 1}


@pytest.mark.django_db
def test_a_file_of_skipped_rows_only_says_what_it_skipped(community_a, tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text(
        "12/31/20, 9:00 PM - Messages and calls are end-to-end encrypted. Tap to learn more.\n"
        "12/31/20, 9:01 PM - Alice added you\n",
        encoding="utf-8",
    )
    outcome = import_file(community=community_a, format="whatsapp", path=path)
    assert not outcome.ok
    assert outcome.skipped == {"system": 1, "you": 1}
    message = outcome.problems[0].message
    assert message.endswith(
        "1 system message and 1 line about you (the exporting account) skipped."
    )


@pytest.mark.django_db
def test_the_command_prints_the_counts(community_a):
    out = io.StringIO()
    call_command(
        "import_events",
        "--community",
        community_a.slug,
        "--format",
        "wechat",
        str(FIXTURES / "wechat_group.csv"),
        stdout=out,
    )
    printed = out.getvalue()
    assert "rows skipped: 3\n" in printed
    assert "  2 recalls\n" in printed
    assert "  1 pat\n" in printed


@pytest.mark.django_db
def test_the_import_page_shows_the_counts(client_for, operator_a, community_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    source = FIXTURES / "wechat_group.csv"
    run = import_create(
        community=community_a,
        format="wechat",
        upload=ContentFile(source.read_bytes(), name=source.name),
        by=operator_a.user,
        language="en",
        enqueue=False,
    )
    import_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED
    assert run.skipped == {"recall": 2, "pat": 1}
    url = reverse("activities:import", kwargs={"import_id": run.pk})
    client = client_for(operator_a)
    assert "2 recalls and 1 pat skipped" in client.get(url).content.decode()
    page = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    assert "已跳过 2 条撤回和 1 条拍一拍" in page
    assert ImportRun.objects.get().skipped == {"recall": 2, "pat": 1}


@pytest.mark.django_db
def test_the_nothing_to_import_message_is_chinese_too(community_a, tmp_path):
    path = tmp_path / "chat.txt"
    path.write_text("12/31/20, 9:01 PM - Alice added you\n", encoding="utf-8")
    with translation.override("zh-hans"):
        outcome = import_file(community=community_a, format="whatsapp", path=path)
    assert outcome.problems[0].message.endswith("已跳过 1 行关于“你”（导出者本人）的记录。")
