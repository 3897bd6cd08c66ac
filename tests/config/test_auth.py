import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


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
