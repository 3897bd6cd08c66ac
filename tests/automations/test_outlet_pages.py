"""A community's outlets page through its URLs: adding an outlet (credentials never shown
again), refusing bad addresses and missing credentials with nothing written, the test
message against the stand-in, and who may see the page."""

import pytest
from django.urls import reverse

from automations.models import Outlet
from automations.platforms import pacing
from communities.models import Role
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db

KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5wxyz"
QUERIES = 5  # the session, the user, the staff, the community, the outlets
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture
def private_allowed(settings):
    settings.CONNECTOR_ALLOW_PRIVATE_URLS = True


def page(community):
    return reverse("automations:outlets", kwargs={"community_slug": community.slug})


def add(client, community, platform="wecom", **fields):
    return client.post(f"{page(community)}?platform={platform}", {"platform": platform, **fields})


def wecom_outlet(client, community, standin, name="读书会企业微信群"):
    url = f"{standin.url}/cgi-bin/webhook/send?key={KEY}"
    response = add(client, community, name=name, url=url)
    assert response.status_code == 302, response.content.decode()
    return Outlet.objects.get(community=community, name=name), url


def test_a_wecom_outlet_is_added_and_its_key_never_shown_again(
    client_for, owner_a, community_a, standin, private_allowed
):
    client = client_for(owner_a)
    outlet, url = wecom_outlet(client, community_a, standin)
    assert (outlet.platform, outlet.url, outlet.created_by) == ("wecom", url, owner_a.user)
    html = client.get(page(community_a)).content.decode()
    assert "读书会企业微信群" in html
    assert url not in html and KEY not in html
    assert "…wxyz" in html  # the last four characters tell robots apart
    assert "not tested yet" in html


def test_a_signing_secret_is_never_shown_again(
    client_for, owner_a, community_a, standin, private_allowed
):
    client = client_for(owner_a)
    secret = "SEC0123456789abcdef0123456789abcdef"
    url = f"{standin.url}/robot/send?access_token=abcdef0123456789ffff"
    response = add(client, community_a, "dingtalk", name="钉钉群", url=url, secret=secret)
    assert response.status_code == 302
    assert Outlet.objects.get(name="钉钉群").secret == secret
    html = client.get(page(community_a)).content.decode()
    assert secret not in html and url not in html and "abcdef0123456789" not in html


def test_a_loopback_address_is_refused_when_the_setting_is_off(
    client_for, owner_a, community_a, settings
):
    settings.CONNECTOR_ALLOW_PRIVATE_URLS = False
    response = add(
        client_for(owner_a), community_a, name="内网", url="http://127.0.0.1:8080/send?key=abc"
    )
    assert response.status_code == 200
    assert "resolves to a loopback or private address" in response.content.decode()
    assert not Outlet.objects.exists()


def test_an_ftp_address_is_refused(client_for, owner_a, community_a, private_allowed):
    response = add(client_for(owner_a), community_a, name="ftp", url="ftp://example.com/x?key=a")
    assert "The address must start with http:// or https://." in response.content.decode()
    assert not Outlet.objects.exists()


def test_telegram_without_a_token_is_refused(client_for, owner_a, community_a, private_allowed):
    client = client_for(owner_a)
    response = add(client, community_a, "telegram", name="TG", token="", chat_id="-100123")
    assert "This field is required." in response.content.decode()
    response = add(client, community_a, "telegram", name="TG", token="nope", chat_id="-100123")
    assert "does not look like a Telegram bot token" in response.content.decode()
    assert not Outlet.objects.exists()


def test_the_telegram_form_shows_its_own_fields(client_for, owner_a, community_a):
    html = client_for(owner_a).get(page(community_a), {"platform": "telegram"}).content.decode()
    assert 'name="token"' in html and 'name="chat_id"' in html and 'name="secret"' not in html
    html = client_for(owner_a).get(page(community_a), {"platform": "wecom"}).content.decode()
    assert 'name="token"' not in html and 'name="secret"' not in html and 'name="url"' in html


def test_a_telegram_outlet_shows_only_its_tokens_end(
    client_for, owner_a, community_a, standin, private_allowed
):
    client = client_for(owner_a)
    response = add(
        client, community_a, "telegram", name="TG", url=standin.url, token=TOKEN, chat_id="-1001"
    )
    assert response.status_code == 302
    html = client.get(page(community_a)).content.decode()
    assert TOKEN not in html and "…Dsaw" in html


def test_a_test_message_shows_sent_then_the_platforms_refusal(
    client_for, owner_a, community_a, standin, private_allowed
):
    client = client_for(owner_a)
    outlet, url = wecom_outlet(client, community_a, standin)
    test_url = reverse("automations:outlet-test", kwargs={"outlet_id": outlet.pk})

    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    standin.reply(200, json_body={"errcode": 93000, "errmsg": "invalid webhook url"})
    response = client.post(test_url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert (
        'data-outcome="sent"' in html
        and "Sent" in html
        and "&quot;errmsg&quot;: &quot;ok&quot;" in html
    )
    [request] = standin.requests
    assert request.path == f"/cgi-bin/webhook/send?key={KEY}"
    assert "读书会" in request.json["text"]["content"]
    outlet.refresh_from_db()
    assert outlet.last_test_result == "sent"

    # WeCom's pace is one message every 3 s per robot: a second test at once waits its turn.
    html = client.post(test_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="retry"' in html and "try again in 3 seconds" in html
    assert len(standin.requests) == 1
    pacing.forget_all()
    html = client.post(test_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="rejected"' in html and "Rejected" in html
    assert "invalid webhook url" in html and "93000" in html
    assert KEY not in html and url not in html
    outlet.refresh_from_db()
    assert (outlet.last_test_result, "93000" in outlet.last_test_detail) == ("rejected", True)


def test_a_test_message_without_htmx_comes_back_to_the_page(
    client_for, owner_a, community_a, standin, private_allowed
):
    client = client_for(owner_a)
    outlet, _url = wecom_outlet(client, community_a, standin)
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    test_url = reverse("automations:outlet-test", kwargs={"outlet_id": outlet.pk})
    response = client.post(test_url, follow=True)
    assert "Test message to “读书会企业微信群”: Sent." in response.content.decode()


def test_disable_enable_and_delete(client_for, owner_a, community_a, standin, private_allowed):
    client = client_for(owner_a)
    outlet, _url = wecom_outlet(client, community_a, standin)
    kwargs = {"outlet_id": outlet.pk}
    html = client.post(
        reverse("automations:outlet-disable", kwargs=kwargs), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "disabled" in html and "Enable" in html
    outlet.refresh_from_db()
    assert outlet.disabled_at is not None
    client.post(reverse("automations:outlet-enable", kwargs=kwargs))
    outlet.refresh_from_db()
    assert outlet.disabled_at is None
    response = client.post(reverse("automations:outlet-delete", kwargs=kwargs))
    assert response.status_code == 302
    assert not Outlet.objects.filter(pk=outlet.pk).exists()


@pytest.mark.parametrize(
    ("role", "status"), [(Role.OPERATOR, 200), (Role.MANAGER, 403), (Role.MODERATOR, 403)]
)
def test_only_those_who_manage_communities_see_the_page(
    client_for, org_a, community_a, role, status
):
    staff = StaffFactory(organization=org_a, role=role)
    staff.communities.add(community_a)
    outlet = Outlet.objects.create(
        community=community_a,
        name="群",
        platform="wecom",
        url="https://qyapi.weixin.qq.com/x?key=k",
    )
    client = client_for(staff)
    assert client.get(page(community_a)).status_code == status
    test_url = reverse("automations:outlet-test", kwargs={"outlet_id": outlet.pk})
    assert client.post(test_url).status_code == (302 if status == 200 else 403)


def test_another_organisations_outlet_is_a_404(client_for, owner_a, community_b):
    outlet = Outlet.objects.create(
        community=community_b, name="B 的群", platform="wecom", url="http://127.0.0.1:9/?key=k"
    )
    client = client_for(owner_a)
    assert client.get(page(community_b)).status_code == 404
    for name in ("outlet-test", "outlet-disable", "outlet-delete"):
        response = client.post(reverse(f"automations:{name}", kwargs={"outlet_id": outlet.pk}))
        assert response.status_code == 404
    assert Outlet.objects.filter(pk=outlet.pk, disabled_at=None).exists()


def test_an_outlets_name_is_escaped(client_for, owner_a, community_a, standin, private_allowed):
    client = client_for(owner_a)
    wecom_outlet(client, community_a, standin, name="<script>alert(1)</script>")
    html = client.get(page(community_a)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_community_page_links_to_it_for_owners_only(
    client_for, owner_a, manager_a, community_a
):
    detail = reverse("communities:detail", kwargs={"community_slug": community_a.slug})
    assert page(community_a) in client_for(owner_a).get(detail).content.decode()
    assert page(community_a) not in client_for(manager_a).get(detail).content.decode()


def test_the_list_costs_a_constant_number_of_queries(
    client_for, owner_a, community_a, django_assert_num_queries
):
    for n in range(5):
        Outlet.objects.create(
            community=community_a, name=f"群{n}", platform="wecom", url=f"https://h/x?key={n}"
        )
    other = CommunityFactory(organization=owner_a.organization, slug="other")
    Outlet.objects.create(community=other, name="别的群", platform="wecom", url="https://h/?key=z")
    client = client_for(owner_a)
    with django_assert_num_queries(QUERIES):
        html = client.get(page(community_a)).content.decode()
    assert html.count('data-testid="outlet"') == 5


def test_a_test_message_to_a_loopback_address_is_refused_before_sending(
    client_for, owner_a, community_a, standin, settings
):
    # Saved while such addresses were allowed; now they are not: nothing leaves.
    outlet = Outlet.objects.create(
        community=community_a, name="群", platform="wecom", url=f"{standin.url}/send?key={KEY}"
    )
    settings.CONNECTOR_ALLOW_PRIVATE_URLS = False
    test_url = reverse("automations:outlet-test", kwargs={"outlet_id": outlet.pk})
    html = client_for(owner_a).post(test_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-outcome="rejected"' in html and "loopback or private address" in html
    assert standin.requests == []


def test_the_page_with_a_tested_outlet_is_fully_chinese(
    client_for, owner_a, community_a, standin, private_allowed
):
    from tests.config.test_i18n import KEEP_AS_IS, english_left_in

    client = client_for(owner_a)
    client.cookies[settings_language_cookie()] = "zh-hans"
    outlet, _url = wecom_outlet(client, community_a, standin)
    standin.reply(200, json_body={"errcode": 0, "errmsg": "ok"})
    test_url = reverse("automations:outlet-test", kwargs={"outlet_id": outlet.pk})
    client.post(test_url, HTTP_HX_REQUEST="true")
    owner_a.organization.name = "示例组织"
    owner_a.organization.save()
    owner_a.user.username = "王芳"
    owner_a.user.save()
    html = client.get(page(community_a)).content.decode()
    assert "已发送" in html and "发送测试消息" in html
    assert english_left_in(html, KEEP_AS_IS | {"reading"}) == []


def settings_language_cookie() -> str:
    from django.conf import settings

    return settings.LANGUAGE_COOKIE_NAME
