"""The bulk action never answers 500 for what a form can send (issue 9): a service's error
on a field the form lacks becomes a message, and ids are bounded before any query."""

import pytest
from django.urls import reverse

from members.models import Tag
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reading(community_a):
    return community_a


@pytest.mark.parametrize("htmx", [True, False])
def test_an_empty_tag_kind_is_explained(client_for, operator_a, reading, htmx):
    membership = MembershipFactory(community=reading)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client_for(operator_a).post(
        reverse("members:bulk"),
        {"filters": "", "action": "tag", "tag_kind": "", "tag_name": "x",
         "memberships": [membership.pk]},
        follow=not htmx,
        **headers,
    )  # fmt: skip
    assert response.status_code == 200
    assert "This field cannot be blank." in response.content.decode()
    assert not Tag.objects.exists()


@pytest.mark.parametrize(
    "ids", [["99999999999999999999"], ["-1"], ["0"], ["9223372036854775808"], ["1e3"], ["١٢"]]
)
def test_ids_a_database_cannot_hold_are_refused(client_for, operator_a, reading, ids):
    membership = MembershipFactory(community=reading)
    response = client_for(operator_a).post(
        reverse("members:bulk"),
        {"filters": "", "action": "tag", "tag_kind": "other", "tag_name": "x",
         "memberships": [membership.pk, *ids]},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert not membership.member.tags.exists()


def test_the_largest_id_is_simply_unknown(client_for, operator_a, reading):
    membership = MembershipFactory(community=reading)
    client_for(operator_a).post(
        reverse("members:bulk"),
        {"filters": "", "action": "tag", "tag_kind": "other", "tag_name": "x",
         "memberships": [membership.pk, str(2**63 - 1)]},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert [t.name for t in membership.member.tags.all()] == ["x"]
