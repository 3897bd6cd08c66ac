"""Every CSV download, found by walking the URLconf: a UTF-8 attachment that no cache keeps.

The files hold members' names and an organisation's figures, so each one says
``Cache-Control: no-store`` (from the one helper, ``members.transfer.csv_download``).
A new ``….csv`` URL fails ``test_every_csv_url_is_covered`` until it is listed here.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from analytics.serializers import CSV_METRICS
from analytics.views.community import CHART_ROWS
from communities.tokens import api_token_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def csv_url_names(resolver=None, namespace="") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= csv_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern) and str(pattern.pattern).endswith(".csv"):
            names.add(namespace + pattern.name)
    return names


def downloads(community) -> list[tuple[str, str, bool]]:
    """(url name, url, needs a token) of every CSV download of ``community``."""
    slug = community.slug
    return [
        ("overview-csv", reverse("overview-csv"), False),
        ("analytics:portfolio-csv", reverse("analytics:portfolio-csv"), False),
        ("members:export", reverse("members:export", args=[slug]), False),
        ("checklists:team-csv", reverse("checklists:team-csv"), False),
        *(
            ("analytics:chart-csv", reverse("analytics:chart-csv", args=[slug, chart]), False)
            for chart in CHART_ROWS
        ),
        *(
            ("api:metric-csv", reverse("api:metric-csv", args=[slug, metric]), True)
            for metric in CSV_METRICS
        ),
    ]


def test_every_csv_url_is_covered(community_a):
    assert {name for name, _url, _token in downloads(community_a)} == csv_url_names()


def test_every_csv_download_is_never_stored(client_for, manager_a, community_a):
    MembershipFactory(community=community_a, member__display_name="王芳")
    key = api_token_create(staff=manager_a, name="BI")[1]
    client = client_for(manager_a)
    for _name, url, token in downloads(community_a):
        headers = {"authorization": f"Bearer {key}"} if token else {}
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "text/csv; charset=utf-8", url
        assert response["Content-Disposition"].startswith("attachment; filename="), url
        assert response.content.startswith(b"\xef\xbb\xbf"), url  # the BOM Excel needs
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= cache_control, url
