import runpy
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import translation
from django.utils.timezone import now as timezone_now

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
SETTINGS_FILE = Path(__file__).resolve().parents[2] / "config" / "settings.py"


def test_login_reaches_the_overview_and_logout_leaves(client, owner_a):
    response = client.post(
        reverse("login"), {"username": owner_a.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("overview")
    page = client.get(reverse("overview")).content.decode()
    assert owner_a.organization.name in page

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("overview")).status_code == 302


def test_logout_is_post_only(client_for, owner_a):
    client = client_for(owner_a)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("overview")).status_code == 200


def test_wrong_password_is_explained(client, owner_a):
    response = client.post(reverse("login"), {"username": owner_a.user.username, "password": "x"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_lockout_after_five_failures_even_with_the_right_password(client, owner_a, settings):
    username = owner_a.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert client.get(reverse("overview")).status_code == 302  # still not signed in


def test_lockout_is_per_user(client, owner_a, operator_a, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": owner_a.user.username, "password": "wrong"})
    response = client.post(
        reverse("login"), {"username": operator_a.user.username, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_password_change(client_for, owner_a):
    client = client_for(owner_a)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a much longer new secret 2026",
            "new_password2": "a much longer new secret 2026",
        },
    )
    assert response.status_code == 302
    owner_a.user.refresh_from_db()
    assert owner_a.user.check_password("a much longer new secret 2026")


# --- Behind proxies ------------------------------------------------------------------------


@pytest.fixture
def behind_proxies(settings, monkeypatch):
    """Apply the client-address settings that config/settings.py derives from PROXY_COUNT."""

    def apply(count: int) -> None:
        monkeypatch.setenv("PROXY_COUNT", str(count))
        derived = runpy.run_path(str(SETTINGS_FILE))
        for name, value in derived.items():
            if name.startswith(("AXES_IPWARE_", "IPWARE_")):
                setattr(settings, name, value)

    return apply


LOAD_BALANCER = "10.0.0.2"  # REMOTE_ADDR of every request that came through the proxy
ATTACKER = "203.0.113.66"
OWNER_AT_HOME = "198.51.100.7"


def login_via(client, username, password, forwarded_for, remote_addr=LOAD_BALANCER):
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        HTTP_X_FORWARDED_FOR=forwarded_for,
        REMOTE_ADDR=remote_addr,
    )


def test_behind_a_proxy_the_lockout_is_per_client_address(
    client, owner_a, settings, behind_proxies
):
    behind_proxies(1)
    username = owner_a.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_via(client, username, "wrong", ATTACKER)
    assert login_via(client, username, PASSWORD, ATTACKER).status_code == 429
    # Same user name, same load balancer, another client: not locked out.
    response = login_via(client, username, PASSWORD, OWNER_AT_HOME)
    assert response.status_code == 302


@pytest.mark.parametrize(
    "forwarded_for",
    [
        # What the attacker sent first, then what the load balancer appended.
        f"{OWNER_AT_HOME}, {ATTACKER}",
        f"1.1.1.1, 8.8.8.8, {OWNER_AT_HOME}, {ATTACKER}",
        f"not-an-address, {ATTACKER}",
        f"unknown,, {ATTACKER}",
    ],
)
def test_a_spoofed_forwarded_entry_does_not_escape_the_lockout(
    client, owner_a, settings, behind_proxies, forwarded_for
):
    behind_proxies(1)
    username = owner_a.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_via(client, username, "wrong", ATTACKER)
    assert login_via(client, username, PASSWORD, forwarded_for).status_code == 429


def test_spoofed_entries_do_not_lock_out_the_address_they_name(
    client, owner_a, settings, behind_proxies
):
    behind_proxies(1)
    username = owner_a.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_via(client, username, "wrong", f"{OWNER_AT_HOME}, {ATTACKER}")
    assert login_via(client, username, PASSWORD, OWNER_AT_HOME).status_code == 302


def test_two_proxies_trust_the_second_entry_from_the_right(
    client, owner_a, settings, behind_proxies
):
    behind_proxies(2)  # a CDN (which appends the client) and the load balancer (the CDN)
    cdn = "192.0.2.10"
    username = owner_a.user.username
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login_via(client, username, "wrong", f"{ATTACKER}, {cdn}")
    assert (
        login_via(client, username, PASSWORD, f"{OWNER_AT_HOME}, {ATTACKER}, {cdn}").status_code
        == 429
    )
    assert login_via(client, username, PASSWORD, f"{OWNER_AT_HOME}, {cdn}").status_code == 302


def test_without_proxies_a_forwarded_header_is_ignored(client, owner_a, settings, behind_proxies):
    behind_proxies(0)
    username = owner_a.user.username
    for n in range(settings.AXES_FAILURE_LIMIT):
        login_via(client, username, "wrong", f"203.0.113.{n}", remote_addr="198.51.100.99")
    response = login_via(client, username, PASSWORD, OWNER_AT_HOME, remote_addr="198.51.100.99")
    assert response.status_code == 429
    assert (
        login_via(client, username, PASSWORD, ATTACKER, remote_addr=OWNER_AT_HOME).status_code
        == 302
    )


# --- Password change: wrong old passwords count towards the lockout ------------------------

NEW_PASSWORD = "a much longer new secret 2026"


def change_password(client, old_password, **extra):
    return client.post(
        reverse("password_change"),
        {
            "old_password": old_password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        **extra,
    )


def test_wrong_old_passwords_lock_the_password_change(client_for, owner_a, settings):
    client = client_for(owner_a)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = change_password(client, "guess")
        assert response.status_code == 200
        assert "Your old password was entered incorrectly" in response.content.decode()
    response = change_password(client, "guess")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many wrong passwords" in page
    assert f"After {settings.AXES_FAILURE_LIMIT} wrong current passwords" in page
    # Even the right old password is refused now, and nothing changed.
    assert change_password(client, PASSWORD).status_code == 429
    owner_a.user.refresh_from_db()
    assert owner_a.user.check_password(PASSWORD)
    # One rule: the login of that user from that address is locked too.
    client.logout()
    login = client.post(reverse("login"), {"username": owner_a.user.username, "password": PASSWORD})
    assert login.status_code == 429


def test_the_password_change_lockout_is_explained_in_chinese(client_for, owner_a, settings):
    client = client_for(owner_a)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        change_password(client, "guess", HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = change_password(client, PASSWORD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 429
    with translation.override("zh-hans"):
        title = translation.gettext("Too many wrong passwords")
    assert title != "Too many wrong passwords"
    assert title in response.content.decode()


def test_the_password_change_lockout_ends_after_the_cool_off(client_for, owner_a, settings):
    client = client_for(owner_a)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        change_password(client, "guess")
    assert change_password(client, PASSWORD).status_code == 429
    # Move the recorded failures back past the cool-off instead of waiting for it.
    AccessAttempt.objects.update(
        attempt_time=timezone_now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )
    assert change_password(client, PASSWORD).status_code == 302
    owner_a.user.refresh_from_db()
    assert owner_a.user.check_password(NEW_PASSWORD)


def test_the_lockout_counts_per_address_behind_a_proxy(
    client_for, owner_a, settings, behind_proxies
):
    behind_proxies(1)
    client = client_for(owner_a)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        change_password(client, "guess", HTTP_X_FORWARDED_FOR=ATTACKER, REMOTE_ADDR=LOAD_BALANCER)
    locked = change_password(
        client, PASSWORD, HTTP_X_FORWARDED_FOR=ATTACKER, REMOTE_ADDR=LOAD_BALANCER
    )
    assert locked.status_code == 429
    response = change_password(
        client, PASSWORD, HTTP_X_FORWARDED_FOR=OWNER_AT_HOME, REMOTE_ADDR=LOAD_BALANCER
    )
    assert response.status_code == 302


def test_failed_password_changes_do_not_record_the_passwords(client_for, owner_a):
    change_password(client_for(owner_a), "my old secret guess")
    attempt = AccessAttempt.objects.get()
    assert "my old secret guess" not in attempt.post_data
    assert NEW_PASSWORD not in attempt.post_data
