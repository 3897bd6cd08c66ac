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


@pytest.mark.parametrize("day", ["0001-01-01", "1999-12-31"])
def test_the_members_csv_keeps_to_the_dates_of_every_form(operator_a, community_a, day):
    from members import transfer
    from tests.members.test_transfer import HEADER, csv_upload

    result = transfer.members_import_csv(
        community=community_a, file=csv_upload([HEADER, f"张三,,,,{day},,,,,,"]), by=operator_a.user
    )
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (2, "joined_on", "Dates must lie between 2000-01-01 and 2999-12-31.")
    ]


def test_adding_a_member_keeps_to_the_dates_of_every_form(client_for, operator_a, community_a):
    response = client_for(operator_a).post(
        reverse("members:create"),
        {"community": community_a.slug, "display_name": "张三", "joined_on": "0001-01-01"},
    )
    assert response.status_code == 200
    assert "Dates must lie between 2000-01-01 and 2999-12-31." in response.content.decode()
