"""Password reset by e-mail: Django's views with the same answer for every address, a
throttle, the mail in its recipient's language, and links that work once."""

import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse

from communities.models import Organization
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a whole new lantern 42"
LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^\s]+/)")


def ask_reset(client, email, **extra):
    return client.post(reverse("password_reset"), {"email": email}, follow=True, **extra)


def link_in(message) -> str:
    return LINK.search(message.body).group(1)


def set_new_password(client, path, password=NEW_PASSWORD):
    form_page = client.get(path, follow=True)
    return form_page, client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else path,
        {"new_password1": password, "new_password2": password},
    )


def test_the_login_page_links_to_the_reset(client, owner_a):
    html = client.get(reverse("login")).content.decode()
    assert reverse("password_reset") in html
    assert "Forgot your password?" in html


def test_known_and_unknown_addresses_get_the_same_page(client, owner_a):
    known = ask_reset(client, owner_a.user.email)
    unknown = ask_reset(client, "nobody-here@example.com")
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("password_reset_done"), 302)]
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"|csrftoken": "[^"]*"')
    assert strip.sub("", known.content.decode()) == strip.sub("", unknown.content.decode())
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [owner_a.user.email]


def test_the_mail_is_in_the_organisations_language(client, owner_a):
    owner_a.organization.language = "zh-hans"
    owner_a.organization.save()
    ask_reset(client, owner_a.user.email)  # the request itself is in English
    (message,) = mail.outbox
    assert message.subject == "重置你的 CommunityOps 密码"
    assert "链接只能使用一次" in message.body
    assert "Hello" not in message.body


def test_the_first_active_staff_record_decides_the_language(client, owner_a):
    owner_a.organization.language = "zh-hans"
    owner_a.organization.save()
    english = Organization.objects.create(name="English Org", slug="english-org", language="en")
    StaffFactory(organization=english, user=owner_a.user, role="operator")
    owner_a.deactivated_at = owner_a.created_at  # the Chinese one is no longer active
    owner_a.save()
    ask_reset(client, owner_a.user.email)
    (message,) = mail.outbox
    assert message.subject == "Reset your CommunityOps password"


def test_without_staff_record_the_request_language_is_used(client):
    user = UserFactory(email="lone@example.com")
    ask_reset(client, user.email, headers={"accept-language": "zh-hans"})
    (message,) = mail.outbox
    assert message.subject == "重置你的 CommunityOps 密码"


def test_the_link_sets_a_new_password_that_logs_in_and_works_once(client, owner_a):
    owner_a.user.must_change_password = True
    owner_a.user.save()
    ask_reset(client, owner_a.user.email)
    path = link_in(mail.outbox[0])

    _form_page, response = set_new_password(client, path)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_complete")
    owner_a.user.refresh_from_db()
    assert owner_a.user.check_password(NEW_PASSWORD)
    assert owner_a.user.must_change_password is False

    response = client.post(
        reverse("login"), {"username": owner_a.user.username, "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("overview")

    client.post(reverse("logout"))
    again = client.get(path, follow=True)
    assert "This link does not work" in again.content.decode()
    assert 'name="new_password1"' not in again.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/reset/MQ/wrong-token/",
        "/accounts/reset/not-base64!/abc-def/",
        "/accounts/reset/OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ/abc-def/",
    ],
)
def test_a_wrong_link_says_so_in_the_users_language(client, owner_a, path):
    response = client.get(path, headers={"accept-language": "zh-hans"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "此链接无法使用" in html
    assert 'name="new_password1"' not in html


def test_an_expired_link_says_so(client, owner_a, settings):
    ask_reset(client, owner_a.user.email)
    path = link_in(mail.outbox[0])
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link issued so far is past its time
    response = client.get(path, follow=True)
    assert "This link does not work" in response.content.decode()


def test_a_locked_out_user_logs_in_with_the_new_password(client, owner_a, settings):
    username = owner_a.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": username, "password": "wrong"})
    assert AccessAttempt.objects.filter(username=username).exists()
    ask_reset(client, owner_a.user.email)
    set_new_password(client, link_in(mail.outbox[0]))
    response = client.post(reverse("login"), {"username": username, "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_the_throttle_per_email_address_alike_for_known_and_unknown(client, owner_a, settings):
    settings.PASSWORD_RESET_LIMIT = 2
    for email in (owner_a.user.email, "nobody-here@example.com"):
        for n in range(settings.PASSWORD_RESET_LIMIT):
            # A new client address each time: only the e-mail address's counter fills up.
            response = ask_reset(client, email, REMOTE_ADDR=f"10.0.{len(email)}.{n}")
            assert response.status_code == 200
        refused = ask_reset(client, email.upper(), REMOTE_ADDR="10.9.9.9")
        assert refused.status_code == 429
        assert "Too many reset requests" in refused.content.decode()
    assert len(mail.outbox) == settings.PASSWORD_RESET_LIMIT  # the known address's


def test_the_throttle_per_client_address(client, owner_a, settings):
    settings.PASSWORD_RESET_LIMIT = 2
    for n in range(settings.PASSWORD_RESET_LIMIT):
        assert ask_reset(client, f"someone{n}@example.com").status_code == 200
    refused = ask_reset(client, owner_a.user.email, headers={"accept-language": "zh-hans"})
    assert refused.status_code == 429
    assert "重置请求过多" in refused.content.decode()
    assert mail.outbox == []
    assert ask_reset(client, owner_a.user.email, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert len(mail.outbox) == 1
