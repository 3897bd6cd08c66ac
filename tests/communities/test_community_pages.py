import pytest
from django.urls import reverse
from django.utils import translation

from communities.models import Community, Platform
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

HOSTILE_NAME = '<script>alert(1)</script>" hx-get="/x" \'quoted\''


def form_data(**overrides):
    data = {
        "name": "早起打卡营",
        "slug": "",
        "platform": Platform.WECHAT,
        "time_zone": "Asia/Shanghai",
        "created_on": "2026-11-01",
    }
    data.update(overrides)
    return data


def test_operator_creates_a_community_with_a_chinese_name(client_for, operator_a):
    client = client_for(operator_a)
    response = client.post(reverse("communities:create"), form_data())
    community = Community.objects.get(organization=operator_a.organization)
    # A Chinese name gets a pinyin slug.
    assert community.slug == "zaoqi-daka-ying"
    assert community.name == "早起打卡营"
    assert response["Location"] == reverse("communities:detail", args=[community.slug])
    page = client.get(response["Location"]).content.decode()
    assert "早起打卡营" in page
    assert "Asia/Shanghai" in page


def test_slug_is_unique_within_an_organisation_only(client_for, operator_a, community_b):
    client = client_for(operator_a)
    # Organisation B already uses "secret-b"; A may use it too.
    response = client.post(reverse("communities:create"), form_data(slug=community_b.slug))
    assert response.status_code == 302
    # But not twice in A: a clear error, nothing written.
    response = client.post(reverse("communities:create"), form_data(slug=community_b.slug))
    assert response.status_code == 200
    assert "already uses this slug" in response.content.decode()
    assert Community.objects.filter(organization=operator_a.organization).count() == 1


def test_bad_input_is_explained_in_chinese(client_for, operator_a):
    client = client_for(operator_a)
    with translation.override("zh-hans"):
        response = client.post(
            reverse("communities:create"),
            form_data(name="", platform="myspace", time_zone="Mars/Olympus"),
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert "这个字段是必填项" in page  # name is required
    assert "不是可用的选项" in page or "不在可用的选项中" in page or "选择一个有效的选项" in page
    assert not Community.objects.exists()


def test_edit_changes_only_what_changed(client_for, operator_a, community_a):
    client = client_for(operator_a)
    url = reverse("communities:edit", args=[community_a.slug])
    response = client.post(
        url,
        form_data(
            name="读书会 2.0",
            slug=community_a.slug,
            platform=Platform.TELEGRAM,
            created_on=community_a.created_on.isoformat(),
            archived="on",
        ),
    )
    assert response.status_code == 302
    community_a.refresh_from_db()
    assert (community_a.name, community_a.platform, community_a.archived) == (
        "读书会 2.0",
        Platform.TELEGRAM,
        True,
    )


def test_list_filters_and_hides_archived(client_for, operator_a, org_a):
    CommunityFactory(organization=org_a, name="Telegram runners", platform=Platform.TELEGRAM)
    CommunityFactory(organization=org_a, name="WeChat readers", platform=Platform.WECHAT)
    CommunityFactory(organization=org_a, name="Old flash group", archived=True)
    client = client_for(operator_a)

    page = client.get(reverse("communities:list")).content.decode()
    assert "Telegram runners" in page and "WeChat readers" in page
    assert "Old flash group" not in page

    page = client.get(reverse("communities:list"), {"platform": "telegram"}).content.decode()
    assert "Telegram runners" in page and "WeChat readers" not in page

    page = client.get(reverse("communities:list"), {"archived": "on"}).content.decode()
    assert "Old flash group" in page and "Telegram runners" not in page

    page = client.get(reverse("communities:list"), {"q": "reader"}).content.decode()
    assert "WeChat readers" in page and "Telegram runners" not in page


def test_htmx_filter_returns_only_the_table(client_for, operator_a, community_a):
    client = client_for(operator_a)
    response = client.get(reverse("communities:list"), {"q": "读书"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="community-table"')
    assert "<nav" not in page
    assert community_a.name in page
    assert response.headers.get("Vary") and "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("count", [3, 30])
def test_list_query_count_is_constant(
    count, client_for, operator_a, org_a, django_assert_num_queries
):
    CommunityFactory.create_batch(count, organization=org_a)
    client = client_for(operator_a)
    # session, user, staff + organisation, communities
    with django_assert_num_queries(4):
        response = client.get(reverse("communities:list"))
    assert response.content.decode().count("/communities/community-") == count


@pytest.mark.parametrize("count", [2, 20])
def test_overview_query_count_is_constant(
    count, client_for, operator_a, org_a, django_assert_num_queries
):
    for i in range(count):
        CommunityFactory(organization=org_a, platform=list(Platform)[i % len(Platform)])
    client = client_for(operator_a)
    # session, user, staff, programme choices, communities, CommunityDay, CommunityPulse,
    # action power's two (closed occurrences, challenges with their check-ins) and SOP
    # completion's two (the 30-day column, the 7-day daily alert)
    with django_assert_num_queries(11):
        response = client.get(reverse("overview"))
    assert f'data-testid="active-communities">{count}<' in response.content.decode()


def test_hostile_names_render_inert_everywhere(client_for, owner_a, org_a):
    community = CommunityFactory(organization=org_a, name=HOSTILE_NAME, slug="hostile")
    owner_a.user.username = "<img src=x onerror=alert(1)>"
    owner_a.user.save()
    client = client_for(owner_a)
    pages = [
        reverse("overview"),
        reverse("communities:list"),
        reverse("communities:detail", args=[community.slug]),
        reverse("communities:edit", args=[community.slug]),
        reverse("settings"),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert "<script>alert(1)" not in page, url
        assert 'hx-get="/x"' not in page, url
        assert "<img src=x" not in page, url
    detail = client.get(reverse("communities:detail", args=[community.slug])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail


def test_chart_data_travels_as_json_not_script(client_for, operator_a, org_a):
    CommunityFactory(organization=org_a, platform=Platform.DISCORD)
    page = client_for(operator_a).get(reverse("overview")).content.decode()
    assert '<script id="stage-chart" type="application/json">' in page
    assert "Plotly.newPlot" not in page


def test_form_defaults_and_iso_dates_in_chinese(client_for, operator_a, community_a):
    client = client_for(operator_a)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("communities:create")).content.decode()
    assert '<option value="Asia/Shanghai" selected>' in page
    page = client.get(reverse("communities:edit", args=[community_a.slug])).content.decode()
    # <input type="date"> only accepts ISO dates, whatever the interface language.
    assert f'value="{community_a.created_on.isoformat()}"' in page


def time_zone_select(html: str) -> str:
    start = html.index('<select name="time_zone"')
    return html[start : html.index("</select>", start)]


def test_the_time_zone_list_offers_the_common_zones_first_in_chinese(client_for, operator_a):
    page = client_for(operator_a).get(reverse("communities:create"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    select = time_zone_select(page.content.decode())
    assert '<optgroup label="常用时区">' in select
    assert '<option value="Asia/Shanghai" selected>北京时间 (Asia/Shanghai)</option>' in select
    for label in ("香港 (Asia/Hong_Kong)", "东京 (Asia/Tokyo)", "伦敦 (Europe/London)"):
        assert label in select
    assert "协调世界时 (UTC)" in select
    # The common zones come first, then all the others, each zone once.
    assert select.index("纽约 (America/New_York)") < select.index('<optgroup label="全部时区">')
    assert select.index('<optgroup label="全部时区">') < select.index('value="Africa/Abidjan"')
    assert select.count('value="Asia/Shanghai"') == 1
    assert select.count('value="Europe/Paris"') == 1
    assert "Beijing time" not in select


def test_the_time_zone_list_in_english(client_for, operator_a):
    select = time_zone_select(
        client_for(operator_a).get(reverse("communities:create")).content.decode()
    )
    assert '<optgroup label="Common time zones">' in select
    assert "Beijing time (Asia/Shanghai)" in select


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Africa/Nairobi", "UTC"])
def test_a_zone_from_either_group_can_be_chosen(client_for, operator_a, zone):
    client_for(operator_a).post(reverse("communities:create"), form_data(time_zone=zone))
    assert Community.objects.get(organization=operator_a.organization).time_zone == zone


def test_typing_a_name_shows_the_address_it_makes(client_for, operator_a):
    client = client_for(operator_a)
    page = client.get(reverse("communities:create")).content.decode()
    assert 'hx-get="/communities/new/"' in page and 'hx-select="#id_slug"' in page
    suggestion = client.get(
        reverse("communities:create"),
        {"name": "周末读书会", "slug": ""},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert 'placeholder="zhoumo-dushu-hui"' in suggestion
    # What was typed in the slug field stays.
    typed = client.get(reverse("communities:create"), {"name": "周末读书会", "slug": "weekend"})
    assert 'value="weekend"' in typed.content.decode()
    # Saved with the field left empty: the address that was shown.
    response = client.post(reverse("communities:create"), form_data(name="周末读书会"))
    assert response["Location"] == reverse("communities:detail", args=["zhoumo-dushu-hui"])
