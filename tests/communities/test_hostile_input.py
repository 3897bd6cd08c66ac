"""Community pages bound what a post may make the server build (found by the URL walk,
tests/test_fuzz_urls.py)."""

import re

import pytest
from django.urls import reverse

from communities.forms import MAX_RULES_PER_KIND
from communities.models import Community

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("total", ["99999999999999999999", "2000", str(MAX_RULES_PER_KIND + 1)])
def test_a_post_cannot_ask_for_thousands_of_rule_forms(client_for, owner_a, community_a, total):
    response = client_for(owner_a).post(
        reverse("communities:rules", args=[community_a.slug]),
        {"encouraged-TOTAL_FORMS": total, "encouraged-INITIAL_FORMS": "0",
         "forbidden-TOTAL_FORMS": "0", "forbidden-INITIAL_FORMS": "0"},
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert f"Please submit at most {MAX_RULES_PER_KIND} forms." in page
    rows = set(re.findall(r'name="encouraged-(\d+)-title"', page))
    assert len(rows) <= MAX_RULES_PER_KIND
    assert not community_a.rules.exists()


@pytest.mark.parametrize("field", ["created_on", "start_date", "end_date"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1999-12-31"])
def test_a_community_keeps_to_the_dates_of_every_form(
    client_for, operator_a, community_a, field, day
):
    data = {"name": "读书会", "slug": community_a.slug, "platform": "wechat",
            "time_zone": "Asia/Shanghai", "created_on": "2026-01-05", field: day}  # fmt: skip
    before = Community.objects.values().get(pk=community_a.pk)
    response = client_for(operator_a).post(
        reverse("communities:edit", args=[community_a.slug]), data
    )
    assert response.status_code == 200
    assert "Dates must lie between 2000-01-01 and 2999-12-31." in response.content.decode()
    assert Community.objects.values().get(pk=community_a.pk) == before
