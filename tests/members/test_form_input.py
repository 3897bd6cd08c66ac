"""Member forms answer hostile input with a message, never a 500 (found by the URL walk,
tests/test_fuzz_urls.py)."""

import pytest
from django.urls import reverse

from members.models import Application, ApplicationStatus
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("tags", [["99999999999999999999"], ["-1"], ["0"]])
def test_member_edit_refuses_tag_ids_no_database_holds(client_for, operator_a, community_a, tags):
    member = MembershipFactory(community=community_a).member
    response = client_for(operator_a).post(
        reverse("members:edit", args=[member.pk]), {"display_name": "新名字", "tags": tags}
    )
    assert response.status_code == 200
    assert "is not a valid value." in response.content.decode()
    member.refresh_from_db()
    assert member.display_name != "新名字"


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("next_url", ["9999-12-31", "members:list", "//evil.example/", ""])
def test_a_decision_goes_back_only_to_a_path_of_this_site(
    client_for, operator_a, community_a, decision, next_url
):
    application = Application.objects.create(
        community=community_a, display_name="申请人", platform="wechat", external_id="wxid_x"
    )
    response = client_for(operator_a).post(
        reverse(f"members:application-{decision}", args=[application.pk]),
        {"next": next_url, "reason": "不合适"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("members:applications")
    application.refresh_from_db()
    assert application.status != ApplicationStatus.PENDING
