"""Positioning card, rules as data, the announcement, and the community matrix."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from communities import services
from communities.announcement import announcement_text
from communities.models import (
    AnnouncementLanguage,
    Community,
    FunnelRole,
    Penalty,
    Platform,
    Programme,
    Role,
    Rule,
    RuleKind,
)
from members import services as member_services
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script>" hx-get="/x" \'quoted\''


def community_data(community: Community | None = None, **overrides) -> dict:
    data = {
        "name": community.name if community else "早起打卡营",
        "slug": community.slug if community else "",
        "platform": Platform.WECHAT,
        "time_zone": "Asia/Shanghai",
        "created_on": "2026-11-01",
        "goal": "",
        "funnel_role": "",
        "programme": "",
        "capacity": "",
        "start_date": "",
        "end_date": "",
        "demotion_grace_days": "14",
    }
    data.update(overrides)
    return data


@pytest.fixture
def programme_a(org_a):
    return services.programme_create(organization=org_a, name="读书矩阵")


@pytest.fixture
def programme_b(org_b):
    return services.programme_create(organization=org_b, name="B 的矩阵")


# --- Positioning -------------------------------------------------------------------------


def test_positioning_card_is_saved_from_the_edit_page(
    client_for, operator_a, community_a, programme_a
):
    client = client_for(operator_a)
    response = client.post(
        reverse("communities:edit", args=[community_a.slug]),
        community_data(
            community_a,
            goal="一年一起读 50 本书",
            funnel_role=FunnelRole.CAMP,
            programme=programme_a.pk,
            capacity="200",
            start_date="2026-12-01",
            end_date="2026-12-21",
            why="让想读书的人坚持下去",
            what="书单、共读、笔记点评",
            where="微信群",
            who="25–35 岁的上班族",
            when="21 天一期",
            how="付费训练营",
            demotion_enabled="on",
            demotion_grace_days="7",
        ),
    )
    assert response.status_code == 302
    community_a.refresh_from_db()
    assert community_a.goal == "一年一起读 50 本书"
    assert community_a.funnel_role == FunnelRole.CAMP
    assert community_a.programme == programme_a
    assert community_a.capacity == 200
    assert community_a.start_date.isoformat() == "2026-12-01"
    assert community_a.end_date.isoformat() == "2026-12-21"
    assert (community_a.why, community_a.how) == ("让想读书的人坚持下去", "付费训练营")
    assert community_a.demotion_enabled is True
    assert community_a.demotion_grace_days == 7

    page = client.get(reverse("communities:detail", args=[community_a.slug])).content.decode()
    for text in ("一年一起读 50 本书", "书单、共读、笔记点评", "25–35 岁的上班族", "读书矩阵"):
        assert text in page


def test_new_community_with_its_positioning(client_for, operator_a, programme_a):
    client = client_for(operator_a)
    response = client.post(
        reverse("communities:create"),
        community_data(
            name="双十一快闪群",
            funnel_role=FunnelRole.FLASH,
            programme=programme_a.pk,
            start_date="2026-11-08",
            end_date="2026-11-12",
            capacity="500",
            demotion_grace_days="",  # left empty: the model's default
        ),
    )
    assert response.status_code == 302
    community = Community.objects.get(name="双十一快闪群")
    assert community.funnel_role == FunnelRole.FLASH
    assert community.end_date.isoformat() == "2026-11-12"
    assert community.programme == programme_a
    assert community.demotion_grace_days == 14


@pytest.mark.parametrize(
    ("role", "start", "end", "error"),
    [
        (FunnelRole.TRAFFIC, "", "2026-12-31", "Only flash groups and training camps"),
        ("", "", "2026-12-31", "Only flash groups and training camps"),
        (FunnelRole.FLASH, "2026-12-10", "2026-12-01", "The end date is before the start date"),
        (FunnelRole.CAMP, "2026-12-10", "2026-12-09", "The end date is before the start date"),
        (FunnelRole.FLASH, "2026-12-10", "2026-12-10", None),
        (FunnelRole.CAMP, "", "2026-12-31", None),
    ],
)
def test_end_date_only_for_flash_and_camp_and_not_before_start(
    role, start, end, error, client_for, operator_a, community_a
):
    client = client_for(operator_a)
    response = client.post(
        reverse("communities:edit", args=[community_a.slug]),
        community_data(community_a, funnel_role=role, start_date=start, end_date=end),
    )
    community_a.refresh_from_db()
    if error:
        assert response.status_code == 200
        assert error in response.content.decode()
        assert community_a.end_date is None
    else:
        assert response.status_code == 302
        assert community_a.end_date.isoformat() == end


def test_another_organisations_programme_cannot_be_chosen(
    client_for, operator_a, community_a, programme_a, programme_b
):
    client = client_for(operator_a)
    page = client.get(reverse("communities:edit", args=[community_a.slug])).content.decode()
    assert programme_a.name in page
    assert programme_b.name not in page
    response = client.post(
        reverse("communities:edit", args=[community_a.slug]),
        community_data(community_a, programme=programme_b.pk),
    )
    assert response.status_code == 200
    community_a.refresh_from_db()
    assert community_a.programme is None


def test_positioning_dates_are_iso_in_chinese(client_for, operator_a, org_a):
    community = CommunityFactory(
        organization=org_a,
        funnel_role=FunnelRole.CAMP,
        start_date=timezone.localdate(),
        end_date=timezone.localdate() + timedelta(days=20),
    )
    client = client_for(operator_a)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("communities:edit", args=[community.slug])).content.decode()
    assert f'value="{community.start_date.isoformat()}"' in page
    assert f'value="{community.end_date.isoformat()}"' in page
    for legend in ("<legend>", "5W1H"):
        assert legend in page


def test_programmes_is_not_a_community_slug(org_a):
    with pytest.raises(ValidationError):
        services.community_create(organization=org_a, name="x", platform="qq", slug="programmes")
    community = services.community_create(organization=org_a, name="Programmes", platform="qq")
    assert community.slug != "programmes"


@pytest.mark.parametrize(
    ("role", "end_offset", "finished"),
    [
        (FunnelRole.CAMP, -1, True),
        (FunnelRole.FLASH, -30, True),
        (FunnelRole.CAMP, 0, False),  # the last day is still on
        (FunnelRole.FLASH, 3, False),
        (FunnelRole.FAN, None, False),
    ],
)
def test_finished_badge(role, end_offset, finished, client_for, manager_a, org_a):
    community = CommunityFactory(organization=org_a, funnel_role=role, time_zone="Asia/Shanghai")
    if end_offset is not None:
        community.end_date = community.local_today() + timedelta(days=end_offset)
        community.save()
    page = client_for(manager_a).get(reverse("communities:detail", args=[community.slug]))
    assert ('data-testid="finished"' in page.content.decode()) is finished


# --- Rules -------------------------------------------------------------------------------


def management(prefix: str, total: int, initial: int) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def texts(**overrides) -> dict:
    data = {
        "texts-value_statement": "每天读 20 页，一年读完 50 本书。",
        "texts-entry_standard": "愿意每天打卡的读者",
        "texts-vision": "做一个终身阅读的社群。",
        "texts-announcement_language": AnnouncementLanguage.CHINESE,
    }
    data.update(overrides)
    return data


def test_rules_are_created_changed_and_deleted_through_the_page(
    client_for, operator_a, community_a
):
    client = client_for(operator_a)
    url = reverse("communities:rules", args=[community_a.slug])
    page = client.get(url).content.decode()
    assert 'name="encouraged-TOTAL_FORMS"' in page and 'name="forbidden-TOTAL_FORMS"' in page

    # Add two encouraged and one forbidden behaviour; blank rows are ignored.
    response = client.post(
        url,
        {
            **texts(),
            **management("encouraged", 3, 0),
            "encouraged-0-title": "分享读书笔记",
            "encouraged-0-points": "10",
            "encouraged-1-title": "每日打卡",
            "encouraged-1-points": "2",
            "encouraged-2-title": "",
            "encouraged-2-points": "0",
            **management("forbidden", 2, 0),
            "forbidden-0-title": "发广告",
            "forbidden-0-penalty": Penalty.WARNING,
            "forbidden-0-points": "20",
            "forbidden-0-strikes_to_removal": "2",
            "forbidden-1-title": "",
            "forbidden-1-penalty": "",
            "forbidden-1-points": "0",
            "forbidden-1-strikes_to_removal": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#rules")
    community_a.refresh_from_db()
    assert community_a.value_statement == "每天读 20 页，一年读完 50 本书。"
    assert community_a.vision == "做一个终身阅读的社群。"
    notes, check_in = community_a.rules.filter(kind=RuleKind.ENCOURAGED).order_by("position")
    assert (notes.title, notes.points, check_in.title, check_in.points) == (
        "分享读书笔记",
        10,
        "每日打卡",
        2,
    )
    ads = community_a.rules.get(kind=RuleKind.FORBIDDEN)
    assert (ads.penalty, ads.points, ads.strikes_to_removal) == (Penalty.WARNING, 20, 2)

    # The page shows them; change one, delete another, keep the third as it is.
    page = client.get(url).content.decode()
    assert "分享读书笔记" in page and "发广告" in page
    response = client.post(
        url,
        {
            **texts(**{"texts-vision": "十年后还在一起读书。"}),
            **management("encouraged", 2, 2),
            "encouraged-0-id": str(notes.pk),
            "encouraged-0-title": "分享读书笔记",
            "encouraged-0-points": "15",
            "encouraged-1-id": str(check_in.pk),
            "encouraged-1-title": "每日打卡",
            "encouraged-1-points": "2",
            "encouraged-1-DELETE": "on",
            **management("forbidden", 1, 1),
            "forbidden-0-id": str(ads.pk),
            "forbidden-0-title": "发广告",
            "forbidden-0-penalty": Penalty.WARNING,
            "forbidden-0-points": "20",
            "forbidden-0-strikes_to_removal": "2",
        },
    )
    assert response.status_code == 302
    notes.refresh_from_db()
    assert notes.points == 15
    assert not Rule.objects.filter(pk=check_in.pk).exists()
    assert Rule.objects.filter(pk=ads.pk).exists()
    community_a.refresh_from_db()
    assert community_a.vision == "十年后还在一起读书。"


def test_a_forbidden_behaviour_needs_a_penalty(client_for, operator_a, community_a):
    client = client_for(operator_a)
    response = client.post(
        reverse("communities:rules", args=[community_a.slug]),
        {
            **texts(),
            **management("encouraged", 0, 0),
            **management("forbidden", 1, 0),
            "forbidden-0-title": "刷屏",
            "forbidden-0-penalty": "",
            "forbidden-0-points": "0",
            "forbidden-0-strikes_to_removal": "",
        },
    )
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    assert not community_a.rules.exists()
    community_a.refresh_from_db()
    assert community_a.value_statement == ""  # all or nothing


@pytest.mark.parametrize("delete", [False, True])
def test_rules_of_another_community_cannot_be_edited_through_this_one(
    delete, client_for, operator_a, community_a, org_a
):
    other = CommunityFactory(organization=org_a)
    foreign = services.rule_create(
        by=None, community=other, kind=RuleKind.ENCOURAGED, title="别人的", points=1
    )
    row = {
        "encouraged-0-id": str(foreign.pk),
        "encouraged-0-title": "改掉",
        "encouraged-0-points": "99",
    }
    if delete:
        row["encouraged-0-DELETE"] = "on"
    client_for(operator_a).post(
        reverse("communities:rules", args=[community_a.slug]),
        {**texts(), **management("encouraged", 1, 1), **row, **management("forbidden", 0, 0)},
    )
    foreign.refresh_from_db()
    assert (foreign.title, foreign.points) == ("别人的", 1)
    assert not community_a.rules.exists()


def test_a_rule_with_violations_stays(client_for, operator_a, community_a):
    rule = services.rule_create(
        by=None,
        community=community_a,
        kind=RuleKind.FORBIDDEN,
        title="发广告",
        penalty=Penalty.WARNING,
    )
    membership = MembershipFactory(community=community_a)
    member_services.violation_record(membership=membership, rule=rule, evidence="广告链接")
    response = client_for(operator_a).post(
        reverse("communities:rules", args=[community_a.slug]),
        {
            **texts(),
            **management("encouraged", 0, 0),
            **management("forbidden", 1, 1),
            "forbidden-0-id": str(rule.pk),
            "forbidden-0-title": "发广告",
            "forbidden-0-penalty": Penalty.WARNING,
            "forbidden-0-points": "0",
            "forbidden-0-strikes_to_removal": "",
            "forbidden-0-DELETE": "on",
        },
    )
    assert response.status_code == 200
    assert "has recorded violations" in response.content.decode()
    assert Rule.objects.filter(pk=rule.pk).exists()
    community_a.refresh_from_db()
    assert community_a.value_statement == ""  # rolled back with the failed deletion


@pytest.mark.parametrize("role", [Role.MANAGER, Role.MODERATOR])
def test_only_owners_and_operators_edit_rules(role, client_for, org_a, community_a):
    staff = StaffFactory(organization=org_a, role=role)
    staff.communities.add(community_a)
    client = client_for(staff)
    url = reverse("communities:rules", args=[community_a.slug])
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            **texts(),
            **management("encouraged", 1, 0),
            "encouraged-0-title": "偷偷加的",
            "encouraged-0-points": "5",
            **management("forbidden", 0, 0),
        },
    )
    assert response.status_code == 403
    assert not community_a.rules.exists()
    community_a.refresh_from_db()
    assert community_a.value_statement == ""
    # They still read the rules on the community page, without the edit link.
    page = client.get(reverse("communities:detail", args=[community_a.slug])).content.decode()
    assert 'data-testid="rules"' in page
    assert url not in page


# --- The announcement --------------------------------------------------------------------


def community_with_rules(org, language) -> Community:
    community = CommunityFactory(
        organization=org,
        announcement_language=language,
        value_statement="VALUE-每天读 20 页",
        entry_standard="ENTRY-愿意打卡的读者",
        vision="VISION-终身阅读",
    )
    services.rule_create(
        by=None, community=community, kind=RuleKind.ENCOURAGED, title="NOTES", points=10
    )
    services.rule_create(
        by=None, community=community, kind=RuleKind.ENCOURAGED, title="CHECKIN", points=1
    )
    services.rule_create(
        by=None,
        community=community,
        kind=RuleKind.FORBIDDEN,
        title="ADS",
        penalty=Penalty.WARNING,
        strikes_to_removal=3,
    )
    services.rule_create(
        by=None,
        community=community,
        kind=RuleKind.FORBIDDEN,
        title="SPAM",
        penalty=Penalty.DEDUCTION,
        points=5,
    )
    return community


@pytest.mark.parametrize("language", [AnnouncementLanguage.CHINESE, AnnouncementLanguage.ENGLISH])
def test_announcement_is_value_first_and_vision_last(language, org_a):
    text = announcement_text(community_with_rules(org_a, language))
    order = ["VALUE-", "ENTRY-", "NOTES", "CHECKIN", "ADS", "SPAM", "VISION-"]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert text.rstrip().endswith("VISION-终身阅读")
    assert "VALUE-" in text.split("\n\n")[0]  # the value is the first section
    assert "3" in text.split("ADS", 1)[1].split("\n", 1)[0]  # the strike count
    assert "5" in text.split("SPAM", 1)[1].split("\n", 1)[0]  # the points deducted


def test_announcement_is_written_in_the_group_language(org_a):
    english = announcement_text(community_with_rules(org_a, AnnouncementLanguage.ENGLISH))
    assert "[What you gain here]" in english
    assert "[Our vision]" in english
    assert "NOTES: +10 points" in english
    assert "ADS: Warning; removed at violation no. 3" in english
    assert "SPAM: Points deduction; 5 points deducted" in english

    # Whatever language the operator reads the page in, the group's language is used.
    chinese = announcement_text(community_with_rules(org_a, AnnouncementLanguage.CHINESE))
    assert "【" in chinese and "】" in chinese
    assert "愿景" in chinese
    assert "Warning" not in chinese and "points" not in chinese


def test_empty_rules_make_no_announcement(org_a):
    assert announcement_text(CommunityFactory(organization=org_a)) == ""


def test_detail_page_shows_the_announcement_with_a_copy_button(client_for, manager_a, org_a):
    community = community_with_rules(org_a, AnnouncementLanguage.ENGLISH)
    client = client_for(manager_a)
    client.cookies["django_language"] = "zh-hans"  # the operator's language does not matter
    page = client.get(reverse("communities:detail", args=[community.slug])).content.decode()
    assert '<textarea id="announcement-text"' in page and "readonly" in page
    assert 'data-copy-target="announcement-text"' in page
    assert 'data-copy-status="announcement-status"' in page
    assert "NOTES: +10 points" in page
    assert "<script>" not in page.split('id="announcement"', 1)[1].split("</article>", 1)[0]


def test_copy_handler_is_in_the_static_script_not_inline():
    from django.conf import settings

    script = (settings.BASE_DIR / "static" / "js" / "app.js").read_text()
    assert "data-copy-target" in script
    assert "navigator.clipboard.writeText" in script
    assert ".select()" in script


# --- The community matrix ----------------------------------------------------------------


def test_matrix_groups_by_funnel_role_with_member_counts(
    client_for, manager_a, org_a, programme_a, django_assert_max_num_queries
):
    def group(name, role, members, **extra):
        community = CommunityFactory(
            organization=org_a,
            name=name,
            slug=name,
            programme=programme_a,
            funnel_role=role,
            **extra,
        )
        MembershipFactory.create_batch(members, community=community)
        return community

    group("fan-1", FunnelRole.FAN, 1)
    group("traffic-1", FunnelRole.TRAFFIC, 4)
    group("traffic-2", FunnelRole.TRAFFIC, 2)
    group("local-1", FunnelRole.LOCAL, 3)
    group("no-role", "", 0)
    group("archived", FunnelRole.CONVERSION, 9, archived=True)
    CommunityFactory(organization=org_a, slug="elsewhere", funnel_role=FunnelRole.CONVERSION)

    client = client_for(manager_a)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("communities:programme", args=[programme_a.pk]))
    page = response.content.decode()
    roles = [chunk.split('"', 1)[0] for chunk in page.split('data-role="')[1:]]
    assert roles == ["traffic", "conversion", "fan", "local", "none"]
    traffic = page.split('data-role="traffic"')[1].split("</section>")[0]
    assert "traffic-1" in traffic and "traffic-2" in traffic
    assert '<span data-members="traffic-1">4</span>' in traffic
    assert '<span data-members="traffic-2">2</span>' in traffic
    assert "6 members" in traffic
    conversion = page.split('data-role="conversion"')[1].split("</section>")[0]
    assert "archived" not in conversion and "elsewhere" not in conversion
    assert "0 members" in conversion
    assert '<span data-members="local-1">3</span>' in page


def test_moderator_sees_only_assigned_groups_in_the_matrix(
    client_for, moderator_a, org_a, programme_a
):
    mine = CommunityFactory(organization=org_a, name="我的群", programme=programme_a)
    CommunityFactory(organization=org_a, name="别人的群", programme=programme_a)
    moderator_a.communities.add(mine)
    client = client_for(moderator_a)
    page = client.get(reverse("communities:programme", args=[programme_a.pk])).content.decode()
    assert "我的群" in page and "别人的群" not in page
    listing = client.get(reverse("communities:programmes")).content.decode()
    assert "<td>1</td>" in listing


def test_programmes_are_listed_and_created(client_for, operator_a, org_a, programme_a):
    client = client_for(operator_a)
    assert (
        reverse("communities:programmes")
        in client.get(reverse("communities:list")).content.decode()
    )
    CommunityFactory(organization=org_a, programme=programme_a)
    listing = client.get(reverse("communities:programmes")).content.decode()
    assert programme_a.name in listing and "<td>1</td>" in listing

    response = client.post(
        reverse("communities:programme-create"), {"name": "健身矩阵", "description": "三层漏斗"}
    )
    programme = Programme.objects.get(organization=org_a, name="健身矩阵")
    assert response["Location"] == reverse("communities:programme", args=[programme.pk])
    response = client.post(reverse("communities:programme-create"), {"name": "健身矩阵"})
    assert response.status_code == 200
    assert "already has a programme of that name" in response.content.decode()


def test_managers_cannot_create_programmes(client_for, manager_a, org_a):
    client = client_for(manager_a)
    assert client.get(reverse("communities:programme-create")).status_code == 403
    assert client.post(reverse("communities:programme-create"), {"name": "x"}).status_code == 403
    assert not Programme.objects.filter(organization=org_a).exists()


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.MODERATOR])
def test_another_organisations_programme_is_a_404(role, client_for, org_a, programme_b, org_b):
    CommunityFactory(organization=org_b, name="B 的秘密群", programme=programme_b)
    client = client_for(StaffFactory(organization=org_a, role=role))
    response = client.get(reverse("communities:programme", args=[programme_b.pk]))
    assert response.status_code == 404
    assert "B 的秘密群" not in response.content.decode()
    assert programme_b.name not in response.content.decode()


# --- Hostile input -----------------------------------------------------------------------


def test_hostile_text_renders_inert_on_detail_rules_and_matrix(client_for, owner_a, org_a):
    programme = services.programme_create(organization=org_a, name=HOSTILE, description=HOSTILE)
    community = CommunityFactory(
        organization=org_a,
        name=HOSTILE,
        slug="hostile",
        programme=programme,
        funnel_role=FunnelRole.TRAFFIC,
        goal=HOSTILE,
        why=HOSTILE,
        value_statement=HOSTILE,
        entry_standard=HOSTILE,
        vision=HOSTILE,
    )
    services.rule_create(
        by=None, community=community, kind=RuleKind.ENCOURAGED, title=HOSTILE, points=1
    )
    services.rule_create(
        by=None, community=community, kind=RuleKind.FORBIDDEN, title=HOSTILE, penalty=Penalty.MUTE
    )
    client = client_for(owner_a)
    pages = [
        reverse("communities:detail", args=[community.slug]),
        reverse("communities:rules", args=[community.slug]),
        reverse("communities:edit", args=[community.slug]),
        reverse("communities:programme", args=[programme.pk]),
        reverse("communities:programmes"),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert "<script>alert(1)" not in page, url
        assert 'hx-get="/x"' not in page, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, url


HX = {"HX-Request": "true"}


def test_add_a_behaviour_row_in_place_with_htmx(client_for, operator_a, community_a):
    client = client_for(operator_a)
    url = reverse("communities:rules", args=[community_a.slug])
    response = client.get(url, {"add_row": "encouraged", "encouraged-TOTAL_FORMS": "2"}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="encouraged-2-title"' in html  # the third row
    assert 'name="encouraged-TOTAL_FORMS" value="3"' in html and 'hx-swap-oob="true"' in html
    assert "<form" not in html  # just the row
    # Odd counts add nothing and never fail.
    for count in ("abc", "-1", "100", "10" * 30):
        odd = client.get(url, {"add_row": "forbidden", "forbidden-TOTAL_FORMS": count}, headers=HX)
        assert odd.status_code == 204


def test_add_a_behaviour_without_javascript_keeps_the_typed_text_and_saves_nothing(
    client_for, operator_a, community_a
):
    client = client_for(operator_a)
    url = reverse("communities:rules", args=[community_a.slug])
    data = {
        **texts(),
        **management("encouraged", 2, 0),
        **management("forbidden", 2, 0),
        "encouraged-0-title": "分享读书笔记",
        "encouraged-0-points": "10",
        "add_row": "encouraged",
    }
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'value="分享读书笔记"' in html and 'name="encouraged-2-title"' in html
    assert not community_a.rules.exists()
