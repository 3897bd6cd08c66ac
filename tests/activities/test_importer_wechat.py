"""The WeChat (MemoTrace / WeChatMsg CSV) importer: small hand-written files read by the
importer alone, and the two fixtures of issue 13 (one chat with ``<sysmsg>`` XML joins; the
all-chats export of two groups and a private chat) imported through ``import_file``."""

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from activities.importers import get_importer
from activities.importers.base import (
    SKIP_LABELS,
    ImportContext,
    ImportRejected,
    Limits,
    skipped_summary,
)
from activities.importers.recognition import recognise
from activities.importers.wechat import COLUMNS, MAX_XML, events
from activities.models import ActivityEvent
from activities.services import import_file
from members.models import Member, Membership

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def context(source_name: str = "") -> ImportContext:
    limits = Limits(max_zip_entries=100, max_uncompressed_bytes=10**8, max_json_depth=64)
    return ImportContext(time_zone=SHANGHAI, source_name=source_name, limits=limits)


def run(path, source_name: str = "") -> tuple[list, ImportContext]:
    ctx = context(source_name)
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


# --- <sysmsg> XML system rows (issue 13, WeChat 1) --------------------------------------

SYSMSG = FIXTURES / "wechat_sysmsg.csv"
ALL_CHATS = FIXTURES / "wechat_all_chats.csv"


def template_xml(template: str, *links: str) -> str:
    return (
        '<sysmsg type="sysmsgtemplate"><sysmsgtemplate><content_template type="tmpl_type_profile">'
        f"<plain><![CDATA[]]></plain><template><![CDATA[{template}]]></template>"
        f"<link_list>{''.join(links)}</link_list></content_template></sysmsgtemplate></sysmsg>"
    )


def members_link(name: str, *people: tuple[str, str]) -> str:
    members = "".join(
        f"<member><username><![CDATA[{user}]]></username>"
        f"<nickname><![CDATA[{nick}]]></nickname></member>"
        for user, nick in people
    )
    return f'<link name="{name}" type="link_profile"><memberlist>{members}</memberlist></link>'


def test_sysmsg_fixture_counts_every_kind():
    found, ctx = run(SYSMSG)
    assert ctx.problems == []
    assert Counter(event.kind for event in found) == {
        "message": 8,  # text ×4 (two own), image, voice, sticker, and 周八's text
        "reply": 1,
        "post": 1,
        # 你 invited by 张三; 李四 and 王五 invited; 赵六 (你邀请, with revoke); 孙七 and 周八
        # by QR code; 吴九 by an invitation QR code; 郑十 (你邀请"$username$", history)
        "join": 8,
        "removed": 1,  # 你将"王五"移出了群聊, from the kickoutname link
    }
    # The revoke XML and the plain recall, the pat XML, the rename.
    assert ctx.skipped == {"recall": 2, "pat": 1, "system": 1}


def test_sysmsg_joins_are_keyed_by_the_wxid_of_the_link_list():
    found, _ = run(SYSMSG)
    joins = [(e.external_id, e.member_key, e.member_name) for e in found if e.kind == "join"]
    assert joins == [
        # "你" before the exporting account's first own row: its wxid and name from it.
        ("wx:7:301:1795179600", "wxid_owner", "群主小明"),
        ("wx:7:303:1795179720", "wxid_lisi", "李四"),
        ("wx:7:303:1795179720:1", "wxid_wangwu", "王五"),
        ("wx:7:306:1795179900", "wxid_zhaoliu", "赵六"),
        ("wx:7:308:1795180020", "wxid_sunqi", "孙七"),  # the adder, not the sharer 张三
        ("wx:7:309:1795180080", "wxid_zhouba", "周八"),
        ("wx:7:315:1795180440", "wxid_wujiu", "吴九"),
        ("wx:7:317:1795180560", "wxid_zhengshi", "郑十"),  # the invitee, not an inviter
    ]
    removed = next(e for e in found if e.kind == "removed")
    assert (removed.member_key, removed.member_name) == ("wxid_wangwu", "王五")
    # One member per person: those who joined by XML and spoke later share the wxid.
    assert {e.member_key for e in found} == {
        "wxid_owner", "wxid_zhangsan", "wxid_lisi", "wxid_wangwu", "wxid_zhaoliu",
        "wxid_sunqi", "wxid_zhouba", "wxid_wujiu", "wxid_zhengshi",
    }  # fmt: skip


def test_sysmsg_texts_are_the_rendered_templates():
    by_id = {e.external_id: e for e in run(SYSMSG)[0]}
    assert by_id["wx:7:301:1795179600"].text == '"张三"邀请你加入了群聊，群聊参与人还有：李四'
    assert by_id["wx:7:303:1795179720"].text == '"张三"邀请"李四、王五"加入了群聊'
    assert by_id["wx:7:306:1795179900"].text == '你邀请"赵六"加入了群聊'  # no "撤销" button
    assert by_id["wx:7:317:1795180560"].text == '你邀请"郑十"加入了群聊，并分享了聊天记录'
    assert by_id["wx:7:311:1795180200"].text == "收到，谢谢群主"


@pytest.mark.parametrize(
    ("content", "kind", "people"),
    [
        pytest.param(
            template_xml('"$username$"邀请"$names$"加入了群聊',
                members_link("username", ("wxid_a", "甲")),
                members_link("names", ("wxid_b", "乙"), ("wxid_c", "丙"))),
            "join", ["wxid_b", "wxid_c"], id="invite",
        ),
        pytest.param(
            template_xml('"$username$"邀请你和"$names$"加入了群聊',
                members_link("username", ("wxid_a", "甲")), members_link("names", ("", "乙"))),
            "join", ["wxid_me", "乙"], id="invite-you-and-one-without-wxid",
        ),
        pytest.param(
            "20851234567@chatroom:\n" + template_xml(
                '"$adder$"通过扫描"$from$"分享的二维码加入群聊',
                members_link("adder", ("wxid_b", "乙")), members_link("from", ("wxid_a", "甲"))),
            "join", ["wxid_b"], id="qr-after-a-chat-line",
        ),
        pytest.param(
            template_xml('You invited "$names$" to the group chat',
                members_link("names", ("wxid_b", "B"))),
            "join", ["wxid_b"], id="english-invite",
        ),
        pytest.param(
            template_xml('You removed "$kickoutname$" from the group chat',
                members_link("kickoutname", ("wxid_b", "B"))),
            "removed", ["wxid_b"], id="english-removal",
        ),
        pytest.param(
            template_xml('群主"$identity$"已解散该群聊',
                members_link("identity", ("wxid_a", "甲"))),
            None, [], id="dissolved-is-system",
        ),
        pytest.param(
            '<!DOCTYPE sysmsg [<!ENTITY x "乙">]>'
            + template_xml('"$names$"加入了群聊', members_link("names", ("wxid_b", "&x;"))),
            None, [], id="a-dtd-is-refused",
        ),
        pytest.param(
            template_xml('"$names$"加入了群聊', members_link("names", ("wxid_b", "乙"))).replace(
                "<link_list>", "<link_list><!-- x -->"),
            None, [], id="a-comment-is-refused",
        ),
        pytest.param(
            template_xml('"$names$"加入了群聊', members_link("names", ("wxid_b", "乙")))[:-9],
            None, [], id="malformed",
        ),
        pytest.param(
            template_xml('"$names$"加入了群聊', members_link("names", ("wxid_b", "乙" * MAX_XML))),
            None, [], id="too-long",
        ),
    ],
)  # fmt: skip
@pytest.mark.parametrize("type_", [10000, 10002])
def test_sysmsg_templates(tmp_path, content, kind, people, type_):
    rows = [said(1, "wxid_me", "我", is_me=1), system(2, content)]
    rows[1][2] = type_
    found, ctx = run(write(tmp_path, rows))
    assert ctx.problems == []
    membership = found[1:]
    assert [event.member_key for event in membership] == people
    assert {event.kind for event in membership} == ({kind} if kind else set())
    assert ctx.skipped == ({} if kind else {"system": 1})


def test_a_plain_removal_after_an_xml_join_finds_the_wxid(tmp_path):
    rows = [
        system(1, template_xml('"$names$"加入了群聊', members_link("names", ("wxid_b", "乙")))),
        system(2, '你将"乙"移出了群聊'),
    ]
    found, _ = run(write(tmp_path, rows))
    assert [(e.kind, e.member_key) for e in found] == [("join", "wxid_b"), ("removed", "wxid_b")]


# --- The all-chats export (issue 13, WeChat 2) ------------------------------------------

CHATS_FOUND = (
    "读书会 (TalkerId 12): 10 rows; 跑步群 / 周末跑步 (TalkerId 31): 6 rows; "
    "王五 / 王五(同事) (TalkerId 45): 4 rows"
)


def test_all_chats_without_a_chat_name_lists_the_chats():
    with pytest.raises(ImportRejected) as refused:
        run(ALL_CHATS)
    assert refused.value.message == (
        "This file is MemoTrace's export of all chats: enter the chat to import (its name "
        f"or TalkerId) and import it again. Chats found: {CHATS_FOUND}."
    )


def test_all_chats_rows_read_before_the_second_chat_count_for_nothing(tmp_path):
    rows = [said(1, "我", "读书会", is_me=1), system(2, "你撤回了一条消息")]
    rows.append(said(3, "张三", "跑步群"))
    rows[2][1] = 31
    ctx = context()
    with pytest.raises(ImportRejected) as refused:
        list(events(write(tmp_path, rows), ctx))
    assert "读书会 (TalkerId 7): 2 rows; 跑步群 (TalkerId 31): 1 row." in refused.value.message
    assert ctx.skipped == {}


@pytest.mark.parametrize("name", ["读书会", "12"])
def test_all_chats_imports_only_the_chosen_group(name):
    found, ctx = run(ALL_CHATS, name)
    assert ctx.problems == []
    assert {e.external_id.split(":")[1] for e in found} == {"12"}
    assert Counter(e.kind for e in found) == {
        "message": 4, "reply": 1, "post": 1, "join": 1, "removed": 1,
    }  # fmt: skip
    # Members by display name; "我" is the exporting account.
    assert {(e.member_key, e.member_name) for e in found} == {
        ("张三", "张三"), ("self", "我"), ("赵六", "赵六"), ("李四", "李四"),
    }  # fmt: skip
    assert ctx.skipped == {"unknown_speaker": 1, "recall": 1}


def test_all_chats_by_remark_and_the_private_chat():
    group, ctx = run(ALL_CHATS, "周末跑步")
    assert Counter(e.kind for e in group) == {"message": 3, "join": 2}
    # The QR join's XML names 李雷 by wxid too; here members are keyed by display name,
    # as 李雷 speaks.
    assert [e.member_key for e in group if e.kind == "join"] == ["李雷", "韩梅梅"]
    assert ctx.skipped == {"unknown_speaker": 1}
    private, ctx = run(ALL_CHATS, "王五")
    assert [(e.member_key, e.text) for e in private] == [
        ("王五", "周末有空吗"), ("self", "有空"), ("王五", ""), ("王五", "好"),
    ]  # fmt: skip
    assert ctx.skipped == {}


def test_all_chats_unknown_and_ambiguous_names(tmp_path):
    with pytest.raises(ImportRejected) as refused:
        run(ALL_CHATS, "没有这个群")
    assert refused.value.message == (
        f"This export has no chat named 没有这个群. Chats found: {CHATS_FOUND}."
    )
    # Two chats with one name: asked for the TalkerId; both given, both read (one chat
    # split over two merged databases).
    text = ALL_CHATS.read_text(encoding="utf-8-sig").replace("跑步群", "读书会")
    path = tmp_path / "all.csv"
    path.write_text(text, encoding="utf-8-sig")
    with pytest.raises(ImportRejected) as refused:
        run(path, "读书会")
    assert refused.value.message == (
        "Several chats are named 读书会; enter the TalkerId of the one to import (or several, "
        "separated by commas, for one chat split over databases): 读书会 (TalkerId 12): 10 "
        "rows; 读书会 / 周末跑步 (TalkerId 31): 6 rows."
    )
    found, _ = run(path, "12, 31")
    assert {e.external_id.split(":")[1] for e in found} == {"12", "31"}


def test_all_chats_is_told_from_the_rows(tmp_path):
    # Own rows signed "我", a Sender that cannot be a wxid, one NickName for three senders.
    # Members are then keyed and named by Sender, not named after the chat (NickName).
    signed = [said(1, "我", "读书会", is_me=1), said(2, "Ann", "读书会")]
    named = [said(1, "张 三", "读书会")]
    nick = [said(n, f"Reader{n}", "Club") for n in (1, 2, 3)]
    for rows, people in [
        (signed, [("self", "我"), ("Ann", "Ann")]),
        (named, [("张 三", "张 三")]),
        (nick, [("Reader1", "Reader1"), ("Reader2", "Reader2"), ("Reader3", "Reader3")]),
    ]:
        found, ctx = run(write(tmp_path, rows))
        assert ctx.problems == []
        assert [(e.member_key, e.member_name) for e in found] == people
    # A one-chat file with two TalkerIds (merged databases) and wxids stays one chat.
    rows = [said(1, "wxid_a", "A"), said(2, "wxid_b", "B")]
    rows[1][1] = 8
    found, _ = run(write(tmp_path, rows))
    assert [(e.member_key, e.member_name) for e in found] == [("wxid_a", "A"), ("wxid_b", "B")]


def test_the_unknown_speaker_label():
    assert "unknown_speaker" in SKIP_LABELS
    assert skipped_summary({"unknown_speaker": 2}) == "2 messages by unknown speakers skipped"
    with translation.override("zh-hans"):
        assert skipped_summary({"unknown_speaker": 1}) == "已跳过 1 条发言人未知的消息"


# --- Through the import ----------------------------------------------------------------


def community_members(community) -> set[str]:
    return set(
        Membership.objects.filter(community=community).values_list(
            "member__display_name", flat=True
        )
    )


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["wechat", "auto"])
def test_import_sysmsg_fixture_then_again(community_a, fmt):
    outcome = import_file(community=community_a, format=fmt, path=SYSMSG)
    assert outcome.ok, outcome.problems
    assert outcome.format == "wechat"
    assert outcome.result.events_created == 19
    assert outcome.result.members_created == 9
    assert outcome.skipped == {"recall": 2, "pat": 1, "system": 1}
    kinds = Counter(
        ActivityEvent.objects.filter(community=community_a).values_list("kind", flat=True)
    )
    assert kinds == {"message": 8, "reply": 1, "post": 1, "join": 8, "removed": 1}
    assert community_members(community_a) == {
        "群主小明", "张三", "李四", "王五", "赵六", "孙七", "周八", "吴九", "郑十",
    }  # fmt: skip
    removed = Membership.objects.get(community=community_a, member__display_name="王五")
    assert removed.left_on is not None
    again = import_file(community=community_a, format=fmt, path=SYSMSG)
    assert again.ok
    assert (again.result.events_created, again.result.members_created) == (0, 0)
    assert again.result.duplicates_skipped == 19
    assert Member.objects.filter(organization=community_a.organization).count() == 9


@pytest.mark.django_db
def test_import_sysmsg_fixture_in_gbk(community_a, tmp_path):
    gbk = tmp_path / "chat.csv"
    gbk.write_bytes(SYSMSG.read_text(encoding="utf-8-sig").encode("gbk"))
    outcome = import_file(community=community_a, format="auto", path=gbk)
    assert outcome.ok, outcome.problems
    assert outcome.result.events_created == 19
    assert "郑十" in community_members(community_a)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("time_zone", "expected"),
    [("", datetime(2026, 11, 21, 9, 15, tzinfo=SHANGHAI)),
     ("Europe/Berlin", datetime(2026, 11, 21, 9, 15, tzinfo=ZoneInfo("Europe/Berlin")))],
)  # fmt: skip
def test_strtime_is_read_in_the_chosen_zone(community_a, tmp_path, time_zone, expected):
    row = said(9, "wxid_a", "A")
    row[5], row[8] = "", "2026-11-21 09:15:00"  # no CreateTime: the local StrTime
    outcome = import_file(
        community=community_a, format="wechat", path=write(tmp_path, [row]), time_zone=time_zone
    )
    assert outcome.ok, outcome.problems
    assert ActivityEvent.objects.get(community=community_a).occurred_at == expected


@pytest.mark.django_db
def test_a_bad_row_writes_nothing(community_a, tmp_path):
    rows = [said(1, "wxid_a", "A"), said(2, "wxid_b", "B")]
    rows[1][5], rows[1][8] = "x", ""
    outcome = import_file(community=community_a, format="wechat", path=write(tmp_path, rows))
    assert [(p.where, p.message) for p in outcome.problems] == [
        ("row 3", "CreateTime “x” is not a Unix time and StrTime “” is not a date and time "
         "(YYYY-MM-DD HH:MM:SS)."),
    ]  # fmt: skip
    assert not ActivityEvent.objects.filter(community=community_a).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["wechat", "auto"])
def test_import_all_chats_asks_for_the_chat_and_writes_nothing(community_a, fmt):
    outcome = import_file(community=community_a, format=fmt, path=ALL_CHATS)
    assert outcome.format == "wechat"
    assert [p.message for p in outcome.problems] == [
        "This file is MemoTrace's export of all chats: enter the chat to import (its name "
        f"or TalkerId) and import it again. Chats found: {CHATS_FOUND}."
    ]
    assert outcome.skipped == {}  # the first chat's rows were read only provisionally
    assert not ActivityEvent.objects.filter(community=community_a).exists()
    assert not Member.objects.filter(organization=community_a.organization).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["wechat", "auto"])
def test_import_all_chats_one_group_then_again(community_a, community_b, fmt):
    outcome = import_file(community=community_a, format=fmt, path=ALL_CHATS, source_name="读书会")
    assert outcome.ok, outcome.problems
    assert outcome.result.events_created == 8
    assert outcome.result.members_created == 4
    assert outcome.skipped == {"unknown_speaker": 1, "recall": 1}
    assert community_members(community_a) == {"张三", "我", "赵六", "李四"}
    texts = set(ActivityEvent.objects.filter(community=community_a).values_list("text", flat=True))
    # Nothing of the private chat with 王五, nor of the other group.
    assert not texts & {"周末有空吗", "有空", "好", "6点集合", "加油"}
    again = import_file(community=community_a, format=fmt, path=ALL_CHATS, source_name="读书会")
    assert (again.result.events_created, again.result.members_created) == (0, 0)
    assert again.skipped == {"unknown_speaker": 1, "recall": 1}
    # The private chat, into another community, keeps to itself.
    private = import_file(community=community_b, format=fmt, path=ALL_CHATS, source_name="45")
    assert private.ok, private.problems
    assert private.result.events_created == 4
    assert community_members(community_b) == {"王五", "我"}
    assert ActivityEvent.objects.filter(community=community_a).count() == 8


def test_both_fixtures_are_recognised_as_wechat():
    assert recognise(SYSMSG, SYSMSG.name) == "wechat"
    assert recognise(ALL_CHATS, ALL_CHATS.name) == "wechat"
