"""The login form bounds the user name before anything is recorded (found by the URL walk
on PostgreSQL: a 5,000-character name reached django-axes' 255-character column)."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("length", [151, 256, 5000])
def test_an_over_long_user_name_is_refused_by_the_form(client, length):
    response = client.post(reverse("login"), {"username": "x" * length, "password": "guess"})
    assert response.status_code == 200
    assert "Ensure this value has at most 150 characters" in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_a_wrong_password_still_counts(client, owner_a):
    client.post(reverse("login"), {"username": owner_a.user.username, "password": "guess"})
    assert AccessAttempt.objects.get().username == owner_a.user.username
