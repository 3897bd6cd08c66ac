"""Dates outside what the product computes with are refused, never computed with (issue 9).

One rule (``communities.validators``) for the analytics pages, their CSVs, the drill-down,
its tag action and the metrics API: 2000-01-01 to 2999-12-31.
"""

import pytest
from django.urls import reverse

from communities.tokens import api_token_create
from members.models import Tag

pytestmark = pytest.mark.django_db

BOUNDS = "Dates must lie between 2000-01-01 and 2999-12-31."
FAR_DATES = ["9999-12-31", "0001-01-01", "1999-12-31", "3000-01-01"]


def text(response) -> str:
    return response.content.decode()


@pytest.mark.parametrize("far", FAR_DATES)
@pytest.mark.parametrize("name", ["from", "to"])
def test_community_page_refuses_far_dates(client_for, manager_a, community_a, name, far):
    url = reverse("analytics:community", args=[community_a.slug])
    client = client_for(manager_a)
    response = client.get(url, {name: far})
    assert response.status_code == 400
    assert BOUNDS in text(response)
    # To htmx: 200 (htmx swaps no error answer) with the same message in the form.
    response = client.get(url, {name: far}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert BOUNDS in text(response)


def test_the_bounds_themselves_are_accepted(client_for, manager_a, community_a):
    url = reverse("analytics:community", args=[community_a.slug])
    client = client_for(manager_a)
    assert client.get(url, {"from": "2000-01-01", "to": "2000-03-01"}).status_code == 200
    assert client.get(url, {"from": "2999-11-01", "to": "2999-12-31"}).status_code == 200


@pytest.mark.parametrize("chart", ["activity", "retention", "lifecycle", "pyramid", "indicators"])
@pytest.mark.parametrize("far", ["9999-12-31", "0001-01-01"])
def test_chart_csv_refuses_far_dates(client_for, manager_a, community_a, chart, far):
    url = reverse("analytics:chart-csv", args=[community_a.slug, chart])
    response = client_for(manager_a).get(url, {"to": far})
    assert response.status_code == 400
    assert BOUNDS in text(response)


@pytest.mark.parametrize(
    "query",
    [
        {"cohort": "9999-12-31", "offset": "12"},
        {"cohort": "0001-01-01"},
        {"week": "0001-01-01", "group": "dormant"},
        {"week": "9999-12-31", "group": "new"},
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_drilldown_refuses_far_dates(client_for, manager_a, community_a, query, htmx):
    url = reverse("analytics:members", args=[community_a.slug])
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client_for(manager_a).get(url, query, **headers)
    assert response.status_code == 400
    assert BOUNDS in text(response)


def test_drilldown_page_refuses_a_far_range(client_for, manager_a, community_a):
    # Without htmx the drill-down is the whole page, whose range comes along.
    url = reverse("analytics:members", args=[community_a.slug])
    response = client_for(manager_a).get(url, {"cohort": "2026-03-02", "to": "9999-12-31"})
    assert response.status_code == 400
    assert BOUNDS in text(response)


@pytest.mark.parametrize(
    "selection",
    [{"cohort": "9999-12-31", "offset": "12"}, {"week": "0001-01-01", "group": "dormant"}],
)
def test_tag_action_refuses_far_dates(client_for, operator_a, community_a, selection):
    url = reverse("analytics:tag-members", args=[community_a.slug])
    response = client_for(operator_a).post(url, {**selection, "name": "唤醒"})
    assert response.status_code == 400
    assert BOUNDS in text(response)
    assert not Tag.objects.exists()


def test_drilldown_partial_without_a_selection_is_the_hint(client_for, manager_a, community_a):
    url = reverse("analytics:members", args=[community_a.slug])
    response = client_for(manager_a).get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Pick a retention cell or a lifecycle bar" in text(response)
    assert "<html" not in text(response)  # the partial, not the page


@pytest.mark.parametrize("far", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_api_refuses_far_dates_with_the_same_rule(client, manager_a, community_a, far):
    _token, key = api_token_create(staff=manager_a, name="BI")
    url = reverse("api:metrics", args=[community_a.slug])
    response = client.get(url, {"to": far}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 400
    assert any(BOUNDS in error for error in response.json()["errors"])


def test_api_refuses_unknown_parameters_and_takes_empty_ones_as_the_default(
    client, manager_a, community_a
):
    _token, key = api_token_create(staff=manager_a, name="BI")
    url = reverse("api:metrics", args=[community_a.slug])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    response = client.get(url, {"form": "2026-01-01"}, **auth)  # a misspelt "from"
    assert response.status_code == 400
    assert response.json()["errors"] == ["Unknown parameter: “form”."]
    response = client.get(url, {"from": "", "to": "", "interval": ""}, **auth)
    assert response.status_code == 200
    assert response.json()["params"]["interval"] == "week"


@pytest.mark.parametrize("token", ["9" * 5000, "99999999999999999999", "-1", "١", ""])
def test_revoking_a_token_by_an_id_no_database_holds_is_a_404(client_for, manager_a, token):
    # 5,000 digits passed the old isdigit() test and broke int() (found by the URL walk).
    kept, _key = api_token_create(staff=manager_a, name="BI")
    response = client_for(manager_a).post(reverse("tokens:revoke"), {"token": token})
    assert response.status_code == 404
    kept.refresh_from_db()
    assert kept.revoked_at is None
