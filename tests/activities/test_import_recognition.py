""" "Recognise the format": every fixture is recognised as what it is, from its head only,
and a file of no known format is refused with the formats tried and what each missed."""

from pathlib import Path

import pytest

from activities.importers import ORDER, get_importer
from activities.importers.base import ImportRejected
from activities.importers.recognition import HEAD_BYTES, file_head, recognise
from activities.models import ImportFormat

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"

CASES = [
    ("events_generic.csv", "csv"),
    ("discord_channel.csv", "discord"),
    ("discord_channel.json", "discord"),
    ("slack_workspace.zip", "slack"),
    ("telegram_account.json", "telegram"),
    ("telegram_single.json", "telegram"),
    ("telegram_numeric_ids.json", "telegram"),
    ("wechat_group.csv", "wechat"),
    ("wechat_pywxdump.csv", "pywxdump"),
    ("wechat_pywxdump_parts.zip", "pywxdump"),
    ("wechat_ios_group.csv", "wechat_ios"),
    ("wechat_ios_group.csv.bz2", "wechat_ios"),
    ("echotrace_group.xlsx", "echotrace"),
    ("wechat_wxmanager.csv", "wxmanager"),
    ("wechat_chatlog.csv", "chatlog"),
    ("wechat_sysmsg.csv", "wechat"),
    ("wechat_all_chats.csv", "wechat"),
    ("whatsapp_android.txt", "whatsapp"),
    ("whatsapp_android.zip", "whatsapp"),
    ("whatsapp_ios.zip", "whatsapp"),
    ("whatsapp_ios_zh.txt", "whatsapp"),
]


@pytest.mark.parametrize(("name", "format"), CASES)
def test_each_export_is_recognised(name, format):
    assert recognise(FIXTURES / name, name) == format


def test_every_importer_can_recognise_and_every_format_is_tried():
    for code in ORDER:
        assert callable(get_importer(code).recognise)
    assert set(ORDER) == set(ImportFormat.values) - {ImportFormat.AUTO}


def test_an_unknown_file_names_every_format_tried(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("date,who,what\n2024-01-01,a,b\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as refused:
        recognise(path, "notes.csv")
    message = refused.value.message
    assert "not recognised" in message
    for code in ORDER:
        assert str(ImportFormat(code).label) in message
    assert "no column occurred_at, kind, member_id" in message


def test_recognition_reads_only_the_head(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8") as out:
        out.write("occurred_at,kind,member_id\n")
        out.write("2024-01-01T10:00:00,message,m1\n" * 20_000)
    head = file_head(path, "big.csv")
    assert len(head.data) == HEAD_BYTES and not head.complete
    assert recognise(path, "big.csv") == "csv"
