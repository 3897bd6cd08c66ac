import csv
import io
from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from communities.models import Platform
from members import services, transfer
from members.models import (
    Member,
    MemberRole,
    Membership,
    MembershipRole,
    MembershipStatus,
    PlatformHandle,
    PointsEntry,
    Squad,
    Tag,
    TagKind,
    TierChange,
)
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

HEADER = ",".join(transfer.COLUMNS)
GOOD_ROWS = [
    "王芳,wechat,wxid_wang,active,2026-03-01,活跃成员,admin;kol,晨跑小组,interest:阅读;region:上海;早起,120,爱读书",
    "Li Lei,telegram,1001,lurker,2026-04-02,,,晨跑小组,interest:阅读,,",
    "Zhao,,,,,,,,,,",
]


def csv_upload(
    lines: list[str], *, bom: bool = False, encoding: str = "utf-8"
) -> SimpleUploadedFile:
    text = "\r\n".join(lines) + "\r\n"
    content = (("\ufeff" if bom else "") + text).encode(encoding)
    return SimpleUploadedFile("members.csv", content, content_type="text/csv")


def import_url(community) -> str:
    return reverse("members:import", args=[community.slug])


def export_url(community) -> str:
    return reverse("members:export", args=[community.slug])


def counts() -> dict[str, int]:
    models = [Member, PlatformHandle, Membership, MembershipRole, Tag, Squad, PointsEntry]
    return {model.__name__: model.objects.count() for model in [*models, TierChange]}


def exported_rows(response) -> list[dict[str, str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


# --- Import ------------------------------------------------------------------------------


def test_a_valid_file_creates_members_memberships_tags_roles_squad_and_points(
    client_for, operator_a, community_a
):
    response = client_for(operator_a).post(
        import_url(community_a), {"file": csv_upload([HEADER, *GOOD_ROWS])}
    )
    assert response.status_code == 302
    assert response["Location"] == import_url(community_a)

    memberships = {
        m.member.display_name: m for m in Membership.objects.filter(community=community_a)
    }
    assert set(memberships) == {"王芳", "Li Lei", "Zhao"}
    wang = memberships["王芳"]
    assert wang.member.handles.get().external_id == "wxid_wang"
    assert wang.member.handles.get().platform == Platform.WECHAT
    assert wang.status == MembershipStatus.ACTIVE
    assert wang.joined_on == date(2026, 3, 1)
    assert wang.tier.name == "活跃成员" and wang.tier_set_by_staff
    assert set(wang.roles.values_list("role", flat=True)) == {MemberRole.ADMIN, MemberRole.KOL}
    assert wang.squad.name == "晨跑小组"
    assert wang.points_balance == 120
    entry = wang.points_entries.get()
    assert entry.delta == 120 and entry.created_by == operator_a.user
    with translation.override(community_a.announcement_language):
        assert entry.reason == gettext("Imported")  # in the community's language
    assert set(wang.member.tags.values_list("kind", "name")) == {
        (TagKind.INTEREST, "阅读"),
        (TagKind.REGION, "上海"),
        (TagKind.OTHER, "早起"),
    }
    assert wang.member.notes == "爱读书"

    li = memberships["Li Lei"]
    assert li.status == MembershipStatus.LURKER
    assert li.tier.rank == 1 and not li.tier_set_by_staff
    assert li.squad == wang.squad  # one squad, created once
    assert li.points_balance == 0 and not li.points_entries.exists()
    assert Tag.objects.filter(kind=TagKind.INTEREST, name="阅读").count() == 1

    zhao = memberships["Zhao"]
    assert not zhao.member.handles.exists()
    assert zhao.status == MembershipStatus.ACTIVE
    assert zhao.joined_on == community_a.local_today()
    assert zhao.squad is None and not zhao.roles.exists()

    page = client_for(operator_a).get(import_url(community_a))
    summary = page.content.decode()
    assert 'data-testid="import-summary"' in summary
    assert "3 rows imported." in summary and "3 new people" in summary
    assert "1 squad created" in summary
    # Shown once: a reload does not repeat it.
    assert (
        'data-testid="import-summary"'
        not in client_for(operator_a).get(import_url(community_a)).content.decode()
    )


def test_a_known_platform_id_is_the_same_person(operator_a, community_a, org_a):
    other = CommunityFactory(organization=org_a, slug="other")
    known = services.member_create(
        organization=org_a, display_name="老王", handles=[("wechat", "wxid_wang")], notes="老会员"
    )
    services.membership_create(community=other, member=known)

    result = transfer.members_import_csv(
        community=community_a, file=csv_upload([HEADER, *GOOD_ROWS]), by=operator_a.user
    )

    assert result.ok, result.errors
    assert (result.members_created, result.members_matched) == (2, 1)
    known.refresh_from_db()
    assert known.display_name == "老王" and known.notes == "老会员"  # kept as they were
    assert known.memberships.count() == 2
    assert set(known.tags.values_list("name", flat=True)) == {"阅读", "上海", "早起"}
    assert Member.objects.filter(organization=org_a).count() == 3


def test_one_bad_row_among_good_ones_writes_nothing_and_reports_it(
    client_for, operator_a, community_a
):
    before = counts()
    lines = [HEADER, *GOOD_ROWS[:2], "孙悟空,wechat,wxid_sun,active,2026-13-45,,,,,,", GOOD_ROWS[2]]

    response = client_for(operator_a).post(import_url(community_a), {"file": csv_upload(lines)})

    assert response.status_code == 200
    assert counts() == before
    errors = response.context["result"].errors
    assert [(e.row, e.column, e.name) for e in errors] == [(4, "joined_on", "孙悟空")]
    html = response.content.decode()
    assert "Nothing was imported" in html
    assert "<td>4</td>" in html and "<code>joined_on</code>" in html
    assert "Write the date as year-month-day" in html


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (",wechat,wxid_x,,,,,,,,", "display_name", "A display name is required."),
        ("张三,wechatt,wxid_x,,,,,,,,", "platform", "Unknown platform “wechatt”"),
        ("张三,wechat,,,,,,,,,", "external_id", "Give the platform id too"),
        ("张三,,wxid_x,,,,,,,,", "platform", "Say which platform this id is on."),
        ("张三,,,gone,,,,,,,", "status", "Unknown status “gone”"),
        ("张三,,,,2999-01-01,,,,,,", "joined_on", "The joining date is in the future."),
        ("张三,,,,,大佬,,,,,", "tier", "This community has no tier “大佬”"),
        ("张三,,,,,9,,,,,", "tier", "This community has no tier “9”"),
        ("张三,,,,,,admin;boss,,,,", "roles", "Unknown role “boss”"),
        ("张三,,,,,,,,hobby:跑步,,", "tags", "Unknown tag kind in “hobby:跑步”"),
        ("张三,,,,,,,,interest:,,", "tags", "has no name"),
        ("张三,,,,,,,,,12.5,", "points", "Points must be a whole number"),
        ("张三,,,,,,,,,99999999999,", "points", "Points must be between"),
        ("张三,,,,,,," + "组" * 61 + ",,,", "squad", "At most 60 characters (this one has 61)."),
        ("张三,,,,,,,,,,,extra", "", "more cells than the header has columns"),
        (
            "张三,wechat,wxid_wang,,,,,,,,",
            "external_id",
            "The same platform id is already on row 2",
        ),
    ],
)
def test_each_kind_of_invalid_row_is_reported_with_its_row_number(
    row, column, message, operator_a, community_a
):
    before = counts()
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload([HEADER, GOOD_ROWS[0], row]), by=operator_a.user
    )
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [(3, column)]
    assert message in result.errors[0].message
    assert counts() == before


def test_a_person_already_in_the_community_is_an_error(operator_a, community_a, org_a):
    member = services.member_create(
        organization=org_a, display_name="老王", handles=[("wechat", "wxid_wang")]
    )
    services.membership_create(community=community_a, member=member)
    before = counts()

    result = transfer.members_import_csv(
        community=community_a, file=csv_upload([HEADER, *GOOD_ROWS]), by=operator_a.user
    )

    assert [(e.row, e.column) for e in result.errors] == [(2, "external_id")]
    assert "“老王” is already a member of this community." in result.errors[0].message
    assert counts() == before


def test_two_platform_ids_of_one_person_in_one_file_are_an_error(operator_a, community_a, org_a):
    services.member_create(
        organization=org_a, display_name="老王", handles=[("wechat", "w1"), ("qq", "q1")]
    )
    lines = [HEADER, "王,wechat,w1,,,,,,,,", "王,qq,q1,,,,,,,,"]
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload(lines), by=operator_a.user
    )
    assert [(e.row, e.message) for e in result.errors] == [
        (3, "This is the same person as on row 2.")
    ]
    assert not Membership.objects.filter(community=community_a).exists()


def test_every_problem_of_the_file_is_reported_in_row_order(operator_a, community_a):
    lines = [HEADER, "A,qq,1,nope,,,,,,,", GOOD_ROWS[0], ",,,,yesterday,,,,,,"]
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload(lines), by=operator_a.user
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "status"),
        (4, "display_name"),
        (4, "joined_on"),
    ]


def test_header_problems_are_reported_on_row_1(operator_a, community_a):
    lines = ["name,platform,platform,points", "王芳,wechat,x,1"]
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload(lines), by=operator_a.user
    )
    assert [(e.row, e.column) for e in result.errors] == [
        (1, "name"),
        (1, "platform"),
        (1, "display_name"),
    ]
    assert "Unknown column “name”" in result.errors[0].message
    assert "appears twice" in result.errors[1].message


def test_semicolon_separated_columns_get_a_hint(operator_a, community_a):
    lines = [HEADER.replace(",", ";"), "王芳;wechat;x;;;;;;;;"]
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload(lines), by=operator_a.user
    )
    assert [(e.row, e.message) for e in result.errors] == [(1, "Separate the columns with commas.")]


def test_only_the_display_name_column_is_required_and_columns_may_come_in_any_order(
    operator_a, community_a
):
    lines = ["Points, DISPLAY_NAME", "7,王芳", "", ",李雷", ","]  # blank rows are skipped
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload(lines), by=operator_a.user
    )
    assert result.ok, result.errors
    assert result.rows == 2
    balances = dict(
        Membership.objects.filter(community=community_a).values_list(
            "member__display_name", "points_balance"
        )
    )
    assert balances == {"王芳": 7, "李雷": 0}


def test_values_may_be_written_as_their_labels_in_the_users_language(operator_a, community_a):
    with translation.override("zh-hans"):
        result = transfer.members_import_csv(
            community=community_a,
            file=csv_upload([HEADER, "王芳,微信,wxid_w,ACTIVE,,2,ADMIN,,,,"]),
            by=operator_a.user,
        )
    assert result.ok, result.errors
    membership = Membership.objects.get(community=community_a)
    assert membership.member.handles.get().platform == Platform.WECHAT
    assert membership.tier.rank == 2
    assert list(membership.roles.values_list("role", flat=True)) == [MemberRole.ADMIN]


def test_errors_are_in_the_users_language(client_for, operator_a, community_a):
    client = client_for(operator_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post(
        import_url(community_a), {"file": csv_upload([HEADER, "王芳,wechatt,x,,,,,,,,"])}
    )
    with translation.override("zh-hans"):
        expected = gettext("Unknown platform “%(value)s”. Use one of: %(choices)s.") % {
            "value": "wechatt",
            "choices": ", ".join(Platform.values),
        }
    assert [e.message for e in response.context["result"].errors] == [expected]


def test_a_hostile_name_is_escaped_on_the_error_report(client_for, operator_a, community_a):
    hostile = "<script>alert(1)</script>"
    lines = [HEADER, f'"{hostile}",nowhere,x,,,,,,,,', f'Ok,wechat,y,,,"{hostile}",,,,,']

    response = client_for(operator_a).post(import_url(community_a), {"file": csv_upload(lines)})

    html = response.content.decode()
    assert [(e.row, e.column) for e in response.context["result"].errors] == [
        (2, "platform"),
        (3, "tier"),
    ]
    assert hostile not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "This community has no tier “&lt;script&gt;" in html
    assert not Member.objects.exists()


# --- Encoding and limits -----------------------------------------------------------------


@pytest.mark.parametrize("bom", [True, False])
def test_utf8_with_or_without_a_byte_order_mark(bom, operator_a, community_a):
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload([HEADER, *GOOD_ROWS], bom=bom), by=operator_a.user
    )
    assert result.ok, result.errors
    # The BOM is not part of the first column's name nor of the first value.
    assert Member.objects.filter(display_name="王芳").exists()


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_error(operator_a, community_a):
    result = transfer.members_import_csv(
        community=community_a,
        file=csv_upload([HEADER, *GOOD_ROWS], encoding="gb18030"),
        by=operator_a.user,
    )
    assert [e.row for e in result.errors] == [None]
    assert "not UTF-8" in result.errors[0].message and "line 2" in result.errors[0].message
    assert not Member.objects.exists()


def test_a_file_over_5_mb_is_refused(client_for, operator_a, community_a):
    notes = "x" * 1000
    line = f"王芳,,,,,,,,,,{notes}"
    lines = [HEADER] + [line] * (transfer.MAX_BYTES // len(line.encode()) + 1)
    upload = csv_upload(lines)
    assert upload.size > 5 * 1024 * 1024

    response = client_for(operator_a).post(import_url(community_a), {"file": upload})

    errors = response.context["result"].errors
    assert [e.message for e in errors] == [
        "The file is larger than 5 MB. Split it into smaller files."
    ]
    assert "The file is larger than 5 MB." in response.content.decode()
    assert not Member.objects.exists()


def test_a_file_over_the_row_limit_is_refused(operator_a, community_a):
    lines = [HEADER] + [f"成员{n}" for n in range(transfer.MAX_ROWS + 1)]
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload(lines), by=operator_a.user
    )
    assert [e.message for e in result.errors] == [
        "The file has more than 2,000 member rows. Split it into smaller files."
    ]
    assert not Member.objects.exists()


def test_empty_files_are_refused(operator_a, community_a):
    empty = transfer.members_import_csv(
        community=community_a, file=csv_upload([""]), by=operator_a.user
    )
    header_only = transfer.members_import_csv(
        community=community_a, file=csv_upload([HEADER]), by=operator_a.user
    )
    assert [e.message for e in empty.errors] == ["The file is empty."]
    assert [e.message for e in header_only.errors] == ["The file has a header but no member rows."]


def test_a_nul_character_is_refused_not_stored(operator_a, community_a):
    result = transfer.members_import_csv(
        community=community_a, file=csv_upload([HEADER, "王\0芳,,,,,,,,,,"]), by=operator_a.user
    )
    assert [(e.row, e.column) for e in result.errors] == [(2, "display_name")]
    assert not Member.objects.exists()


# --- Export ------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\0"])
def test_every_dangerous_first_character_is_neutralised(prefix):
    value = f'{prefix}HYPERLINK("http://evil")'
    assert transfer.neutralise(value) == "'" + value
    assert transfer.unneutralise(transfer.neutralise(value)) == value
    # Quotes in front do not hide a formula, and the inverse stays exact.
    assert transfer.neutralise("'" + value) == "''" + value
    assert transfer.unneutralise("''" + value) == "'" + value


@pytest.mark.parametrize("value", ["王芳", "a=b", "1+1", "'quoted", "", "100"])
def test_harmless_cells_are_written_as_they_are(value):
    assert transfer.neutralise(value) == value
    assert transfer.unneutralise(value) == value


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_the_export_neutralises_formulas_in_every_column(
    prefix, client_for, manager_a, community_a, org_a
):
    dangerous = f'{prefix}HYPERLINK("http://evil","x")'
    member = services.member_create(
        organization=org_a,
        display_name=dangerous,
        handles=[("wechat", dangerous)],
        notes=dangerous,
        tags=[services.tag_get_or_create(organization=org_a, kind="other", name="x")],
    )
    membership = services.membership_create(community=community_a, member=member)
    squad = services.squad_create(community=community_a, name=dangerous)
    services.memberships_assign_squad(memberships=[membership], squad=squad)
    services.points_add(membership=membership, delta=-5, reason="test")

    response = client_for(manager_a).get(export_url(community_a))

    [row] = exported_rows(response)
    for column in ("display_name", "squad", "notes"):
        assert row[column] == "'" + dangerous, column
    # Platform ids are stored stripped of surrounding whitespace.
    assert row["external_id"] == transfer.neutralise(member.handles.get().external_id)
    assert row["points"] == "'-5"
    # What a spreadsheet would read as a formula is never at the start of a cell.
    assert not any(value.startswith(transfer.DANGEROUS_PREFIXES) for value in row.values())


def test_export_is_a_utf8_csv_download_named_after_the_community_and_date(
    client_for, manager_a, community_a
):
    MembershipFactory(community=community_a, member__display_name="王芳")
    response = client_for(manager_a).get(export_url(community_a))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = community_a.local_today().isoformat()
    assert response["Content-Disposition"] == (
        f'attachment; filename="members-reading-{today}.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")
    assert [r["display_name"] for r in exported_rows(response)] == ["王芳"]


def test_export_holds_only_this_community_and_applies_the_list_filters(
    client_for, manager_a, community_a, org_a
):
    other = CommunityFactory(organization=org_a, slug="other")
    MembershipFactory(community=community_a, member__display_name="在群")
    MembershipFactory(
        community=community_a, member__display_name="已退", status=MembershipStatus.LEFT
    )
    MembershipFactory(community=other, member__display_name="别的群")
    client = client_for(manager_a)

    # By default the community's members, as the list counts them; everyone on request.
    current = exported_rows(client.get(export_url(community_a)))
    everyone = exported_rows(client.get(export_url(community_a), {"status": "all"}))
    left = exported_rows(client.get(export_url(community_a), {"status": "left"}))
    # A community in the query string cannot widen the export.
    widened = exported_rows(
        client.get(export_url(community_a), {"community": "other", "status": "all"})
    )

    assert [r["display_name"] for r in current] == ["在群"]
    assert sorted(r["display_name"] for r in everyone) == ["在群", "已退"]
    assert [r["display_name"] for r in left] == ["已退"]
    assert sorted(r["display_name"] for r in widened) == ["在群", "已退"]


def test_export_costs_the_same_queries_whatever_the_number_of_members(
    client_for, manager_a, community_a, django_assert_max_num_queries, org_a
):
    client = client_for(manager_a)
    tag = services.tag_get_or_create(organization=org_a, kind="interest", name="阅读")

    def add_members(n):
        for i in range(n):
            member = services.member_create(
                organization=org_a,
                display_name=f"成员{i}",
                handles=[("wechat", f"w{Member.objects.count()}")],
                tags=[tag],
            )
            services.membership_create(community=community_a, member=member, roles=["admin"])

    add_members(2)
    with CaptureQueriesContext(connection) as few:
        client.get(export_url(community_a))
    add_members(10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(export_url(community_a))
    assert len(exported_rows(response)) == 12


def test_an_export_reimports_as_it_was(client_for, owner_a, community_a, org_a, org_b):
    client = client_for(owner_a)
    client.post(import_url(community_a), {"file": csv_upload([HEADER, *GOOD_ROWS])})
    zhao = Membership.objects.get(community=community_a, member__display_name="Zhao")
    services.memberships_set_tier(
        memberships=[zhao], tier=community_a.tiers.get(rank=4), by=owner_a.user
    )
    hostile = services.member_create(
        organization=org_a,
        display_name='=HYPERLINK("http://evil","点我")',
        handles=[("qq", "@10086")],
        notes="-1+1\n第二行, with a comma",
    )
    left = services.membership_create(
        community=community_a,
        member=hostile,
        status=MembershipStatus.LEFT,
        joined_on=date(2025, 12, 31),
        roles=["lurker"],
    )
    services.points_add(membership=left, delta=-30, reason="扣分")
    exported = client.get(export_url(community_a), {"status": "all"})  # leavers too
    original_rows = exported_rows(exported)
    assert len(original_rows) == 4

    # Into another organisation: everyone is a new person there.
    community_b = CommunityFactory(organization=org_b, slug="copy")
    file = SimpleUploadedFile("members.csv", exported.content, content_type="text/csv")
    result = transfer.members_import_csv(community=community_b, file=file, by=owner_a.user)
    assert result.ok, result.errors
    assert (result.members_created, result.members_matched) == (4, 0)
    copied = Membership.objects.filter(community=community_b).select_related("member", "tier")
    copied_rows = [
        dict(zip(transfer.COLUMNS, transfer.membership_row(m), strict=True))
        for m in copied.prefetch_related("member__tags", "member__handles", "roles")
    ]
    originals = [{k: transfer.unneutralise(v) for k, v in row.items()} for row in original_rows]
    assert sorted(copied_rows, key=str) == sorted(originals, key=str)
    assert Membership.objects.get(community=community_b, member__display_name="Zhao").tier.rank == 4

    # Into another community of the same organisation: the same people, matched by platform id.
    sibling = CommunityFactory(organization=org_a, slug="sibling")
    file = SimpleUploadedFile("members.csv", exported.content, content_type="text/csv")
    result = transfer.members_import_csv(community=sibling, file=file, by=owner_a.user)
    assert result.ok, result.errors
    assert (result.members_created, result.members_matched) == (1, 3)  # Zhao has no platform id

    # Into the same community: everyone with a platform id is already there; nothing changes.
    before = counts()
    file = SimpleUploadedFile("members.csv", exported.content, content_type="text/csv")
    result = transfer.members_import_csv(community=community_a, file=file, by=owner_a.user)
    assert len(result.errors) == 3
    assert all("already a member of this community" in e.message for e in result.errors)
    assert counts() == before


# --- Permissions -------------------------------------------------------------------------


def test_another_organisations_community_is_a_404(client_for, owner_a, community_b):
    MembershipFactory(community=community_b, member__display_name="B 的成员")
    client = client_for(owner_a)
    before = counts()

    assert client.get(export_url(community_b)).status_code == 404
    assert client.get(import_url(community_b)).status_code == 404
    response = client.post(import_url(community_b), {"file": csv_upload([HEADER, *GOOD_ROWS])})
    assert response.status_code == 404
    assert community_b.name.encode() not in response.content
    assert counts() == before


def test_a_manager_exports_but_does_not_import(client_for, manager_a, community_a):
    client = client_for(manager_a)
    assert client.get(export_url(community_a)).status_code == 200
    assert client.get(import_url(community_a)).status_code == 403
    response = client.post(import_url(community_a), {"file": csv_upload([HEADER, *GOOD_ROWS])})
    assert response.status_code == 403
    assert not Member.objects.exists()


def test_an_operator_imports_but_does_not_export(client_for, operator_a, community_a):
    client = client_for(operator_a)
    assert client.get(import_url(community_a)).status_code == 200
    assert client.get(export_url(community_a)).status_code == 403


def test_a_moderator_does_neither_and_an_unassigned_group_is_a_404(
    client_for, moderator_a, community_a, org_a
):
    moderator_a.communities.add(community_a)
    unassigned = CommunityFactory(organization=org_a, slug="unassigned")
    client = client_for(moderator_a)
    assert client.get(export_url(community_a)).status_code == 403
    assert client.get(import_url(community_a)).status_code == 403
    assert client.get(export_url(unassigned)).status_code == 404
    assert client.get(import_url(unassigned)).status_code == 404


def test_the_import_page_documents_the_format(client_for, owner_a, community_a):
    response = client_for(owner_a).get(import_url(community_a))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html and "csrfmiddlewaretoken" in html
    assert f"<code>{HEADER}</code>" in html
    for tier in community_a.tiers.all():
        assert tier.name in html


def test_a_write_that_fails_late_rolls_back_the_rows_already_written(
    monkeypatch, operator_a, community_a
):
    # Every check passed, then the last write fails (say, a squad created meanwhile).
    def refuse(**kwargs):
        raise ValidationError("This community already has a squad of that name.")

    monkeypatch.setattr(services, "squad_create", refuse)
    before = counts()

    result = transfer.members_import_csv(
        community=community_a, file=csv_upload([HEADER, *GOOD_ROWS]), by=operator_a.user
    )

    assert [e.message for e in result.errors] == [
        "This community already has a squad of that name."
    ]
    assert counts() == before


@pytest.mark.parametrize(
    ("language", "limit", "patched"), [("en", "2,000", "1,234"), ("zh-hans", "2000", "1234")]
)
def test_the_import_page_states_the_limits_the_import_applies(
    client_for, owner_a, community_a, monkeypatch, language, limit, patched
):
    client = client_for(owner_a)
    page = client.get(import_url(community_a), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert "20,000" not in page and "20000" not in page
    assert page.count(limit) == 2  # the file field's help and the format's limits
    # The page reads the constant the import checks.
    monkeypatch.setattr(transfer, "MAX_ROWS", 1234)
    page = client.get(import_url(community_a), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert page.count(patched) == 2 and limit not in page
