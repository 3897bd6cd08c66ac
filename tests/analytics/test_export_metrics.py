"""``manage.py export_metrics`` prints what the API answers, from the same serializer."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from communities.tokens import api_token_create
from tests.analytics.test_api import generated_events, load
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reading(org_a):
    community = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    load(community, generated_events(community.local_today(), seed=3, members=20))
    return community


def export(*args) -> str:
    out = io.StringIO()
    call_command("export_metrics", *args, stdout=out)
    return out.getvalue()


def api_json(client, staff, params) -> bytes:
    key = api_token_create(staff=staff, name="cmp")[1]
    url = reverse("api:metrics", kwargs={"community_slug": "reading"})
    response = client.get(url, params, headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200
    return response.content


@pytest.mark.parametrize(
    "params",
    [{}, {"interval": "day"}, {"interval": "month", "from": "offset:-200", "to": "offset:-20"}],
    ids=["defaults", "day", "month-range"],
)
def test_json_is_the_apis_json(client, reading, manager_a, params):
    today = reading.local_today()
    params = {
        name: (
            (today + timedelta(days=int(value.split(":")[1]))).isoformat()
            if value.startswith("offset:")
            else value
        )
        for name, value in params.items()
    }
    args = ["--community", "reading", "--format", "json"]
    for name, value in params.items():
        args += [f"--{name}", value]
    printed = export(*args)
    answered = api_json(client, manager_a, params)
    assert json.loads(printed) == json.loads(answered)
    assert printed.rstrip("\n") == answered.decode()  # the very same text
    if "to" not in params:
        assert json.loads(printed)["indicators"]["mau"] > 0  # real figures, not all zeros


def test_csv_is_the_apis_csv(client, reading, manager_a):
    key = api_token_create(staff=manager_a, name="cmp")[1]
    for metric in ("activity", "retention", "lifecycle", "indicators"):
        printed = export("--community", "reading", "--format", "csv", "--metric", metric)
        url = reverse("api:metric-csv", kwargs={"community_slug": "reading", "metric": metric})
        response = client.get(url, headers={"authorization": f"Bearer {key}"})
        downloaded = response.content.decode("utf-8").removeprefix("\ufeff")
        assert list(csv.reader(io.StringIO(printed))) == list(csv.reader(io.StringIO(downloaded)))


def test_organisation_picks_among_communities_of_the_same_slug(reading, org_b):
    CommunityFactory(organization=org_b, slug="reading", name="B 的读书会")
    with pytest.raises(CommandError, match="--organization"):
        export("--community", "reading")
    data = json.loads(export("--community", "reading", "--organization", "org-b"))
    assert data["community"]["name"] == "B 的读书会"
    data = json.loads(export("--community", "reading", "--organization", "org-a"))
    assert data["community"]["name"] == "读书会"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--community", "nope"], "No community"),
        (["--community", "reading", "--from", "2026-02-30"], "from:"),
        (["--community", "reading", "--from", "2026-03-01", "--to", "2026-02-01"], "after"),
        (["--community", "reading", "--format", "csv"], "--metric"),
    ],
)
def test_bad_arguments_are_command_errors(reading, args, message):
    with pytest.raises(CommandError, match=message):
        export(*args)
