"""The metrics API (/api/v1/), its API tokens, and an independent check of its numbers."""

import csv
import hashlib
import io
import json
import random
import re
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils import timezone

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ACTIVITY_KINDS, EventSource
from analytics import metrics
from analytics.rollups import rollups_refresh
from communities.models import ApiToken, Role
from communities.permissions import ROLE_CAPABILITIES, Capability
from communities.tokens import api_token_create, api_token_revoke
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACTIVITY = sorted(ACTIVITY_KINDS)


# --- Data ----------------------------------------------------------------------------------


def generated_events(today: date, *, seed: int = 7, members: int = 30, days: int = 60):
    """Random but seeded: members join over the period, act at random times of day (so
    many events fall near local midnight) and some leave. Nothing after now."""
    rng = random.Random(seed)
    first = datetime.combine(today - timedelta(days=days - 1), time.min, SHANGHAI)
    now = timezone.now() - timedelta(seconds=1)
    span = (now - first).total_seconds()
    events = []
    for n in range(members):
        key = f"wxid_{n}"
        joined = first + timedelta(seconds=rng.uniform(0, span * 0.8))
        events.append(IncomingEvent(f"join-{n}", "join", joined, key, f"成员{n}"))
        leaves = rng.random() < 0.2
        until = joined + (now - joined) * (rng.uniform(0.3, 0.9) if leaves else 1)
        for k in range(rng.randint(0, 45)):
            when = joined + (until - joined) * rng.random()
            events.append(IncomingEvent(f"m-{n}-{k}", rng.choice(ACTIVITY), when, key, f"成员{n}"))
        if leaves:
            events.append(IncomingEvent(f"leave-{n}", "leave", until, key, f"成员{n}"))
    return events


def load(community, events, *, days: int = 60) -> None:
    ingest_events(community=community, source=EventSource.IMPORT, events=events)
    today = community.local_today()
    rollups_refresh(community=community, days=[today - timedelta(days=n) for n in range(days + 1)])


@pytest.fixture
def reading(org_a):
    community = CommunityFactory(
        organization=org_a, name="读书会", slug="reading", time_zone="Asia/Shanghai"
    )
    community.created_on = community.local_today() - timedelta(days=70)
    community.save()
    events = generated_events(community.local_today())
    load(community, events)
    community.generated = events
    return community


@pytest.fixture
def key(manager_a):
    return api_token_create(staff=manager_a, name="BI")[1]


def get(client, name, key=None, data=None, **kwargs):
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return client.get(reverse(f"api:{name}", kwargs=kwargs), data or {}, headers=headers)


# --- Authentication ----------------------------------------------------------------------


ENDPOINTS = [
    ("communities", {}),
    ("metrics", {"community_slug": "reading"}),
    ("metric-csv", {"community_slug": "reading", "metric": "activity"}),
    ("portfolio", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), ENDPOINTS, ids=[n for n, _ in ENDPOINTS])
@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer coa_wrong", "Basic dXNlcjpwYXNz", "Bearer coa_\x00\x01", "x" * 5000],
    ids=["missing", "empty", "unknown", "basic", "garbage", "huge"],
)
def test_without_a_valid_token_is_401(client, reading, name, kwargs, authorization):
    headers = {"authorization": authorization} if authorization else {}
    response = client.get(reverse(f"api:{name}", kwargs=kwargs), headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in response.json()


def test_a_revoked_token_is_401(client, reading, manager_a):
    token, key = api_token_create(staff=manager_a, name="old script")
    assert get(client, "communities", key).status_code == 200
    api_token_revoke(token=token)
    response = get(client, "communities", key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_inactive_users_token_is_401(client, reading, manager_a, key):
    manager_a.user.is_active = False
    manager_a.user.save()
    assert get(client, "communities", key).status_code == 401


def test_a_token_works_and_records_its_use_at_most_once_a_minute(client, reading, manager_a):
    token, key = api_token_create(staff=manager_a, name="BI")
    assert token.last_used_at is None
    assert get(client, "communities", key).status_code == 200
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    assert get(client, "communities", key).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first_use
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    get(client, "communities", key)
    token.refresh_from_db()
    assert token.last_used_at > first_use - timedelta(minutes=1)


@pytest.mark.parametrize(("name", "kwargs"), ENDPOINTS, ids=[n for n, _ in ENDPOINTS])
def test_a_signed_in_browser_session_does_not_authenticate(
    client_for, manager_a, owner_a, reading, name, kwargs
):
    # The API is CSRF-exempt; that is safe only because no cookie acts as anyone here.
    client = client_for(owner_a)
    response = client.get(reverse(f"api:{name}", kwargs=kwargs))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert get(client, "communities", "coa_wrong").status_code == 401
    # With a token, the token decides, whoever's session the browser holds.
    key = api_token_create(staff=manager_a, name="BI")[1]
    assert get(client, "communities", key).status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("signed_in", [False, True])
def test_only_get_and_other_methods_get_the_json_405_not_the_csrf_page(
    reading, key, owner_a, method, signed_in
):
    client = Client(enforce_csrf_checks=True)  # as a browser or script meets it
    if signed_in:
        client.force_login(owner_a.user)
    for name, kwargs in [*ENDPOINTS, ("openapi", {})]:
        url = reverse(f"api:{name}", kwargs=kwargs)
        for headers in ({"authorization": f"Bearer {key}"}, {}):
            response = getattr(client, method)(url, headers=headers)
            assert response.status_code == 405, (url, headers)
            assert response["Content-Type"].startswith("application/json")
            assert response.json()["detail"]
            assert response["Allow"] == "GET, HEAD"


def test_a_role_without_analytics_is_403(client, reading, moderator_a, org_b):
    moderator_a.communities.add(reading)
    CommunityFactory(organization=org_b, slug="secret-b")
    key = api_token_create(staff=moderator_a, name="mine")[1]
    response = get(client, "communities", key)
    assert response.status_code == 403
    assert response.json()["detail"]
    assert get(client, "metrics", key, community_slug="reading").status_code == 403
    # Out of reach is a 404 before the role check: a 403 never confirms a community.
    assert get(client, "metrics", key, community_slug="secret-b").status_code == 404


def test_a_tokens_rights_follow_its_owners_current_role(client, reading, manager_a, key):
    assert get(client, "communities", key).status_code == 200
    manager_a.role = Role.MODERATOR
    manager_a.save()
    assert get(client, "communities", key).status_code == 403


# --- Scope ----------------------------------------------------------------------------------


def test_another_organisations_community_or_an_unknown_slug_is_404(client, reading, key, org_b):
    CommunityFactory(organization=org_b, slug="secret-b", name="B 的秘密群")
    for slug in ("secret-b", "nope"):
        for name, kwargs in (("metrics", {}), ("metric-csv", {"metric": "activity"})):
            response = get(client, name, key, community_slug=slug, **kwargs)
            assert response.status_code == 404
            assert "秘密" not in response.content.decode()
    listed = get(client, "communities", key).json()["communities"]
    assert [row["slug"] for row in listed] == ["reading"]


def test_same_slug_in_another_organisation_shows_ones_own(client, reading, key, org_b):
    CommunityFactory(organization=org_b, slug="reading", name="B 的读书会")
    body = get(client, "metrics", key, community_slug="reading").json()
    assert body["community"]["name"] == "读书会"


def test_a_moderators_token_sees_only_assigned_communities(
    client, reading, org_a, moderator_a, monkeypatch
):
    # Moderators have no analytics by default (test above); should a deployment grant it,
    # their tokens still reach only the groups assigned to them.
    monkeypatch.setitem(
        ROLE_CAPABILITIES,
        Role.MODERATOR,
        ROLE_CAPABILITIES[Role.MODERATOR] | {Capability.VIEW_ANALYTICS},
    )
    mine = CommunityFactory(organization=org_a, slug="mine", name="分配给我的群")
    moderator_a.communities.add(mine)
    key = api_token_create(staff=moderator_a, name="mine")[1]
    assert [c["slug"] for c in get(client, "communities", key).json()["communities"]] == ["mine"]
    assert [c["slug"] for c in get(client, "portfolio", key).json()["communities"]] == ["mine"]
    assert get(client, "metrics", key, community_slug="mine").status_code == 200
    assert get(client, "metrics", key, community_slug="reading").status_code == 404
    response = get(client, "metric-csv", key, community_slug="reading", metric="retention")
    assert response.status_code == 404


# --- The numbers ----------------------------------------------------------------------------


def test_metrics_are_the_metric_functions_values(client, reading, key):
    to = reading.local_today() - timedelta(days=3)
    start = to - timedelta(days=40)
    body = get(
        client,
        "metrics",
        key,
        {"from": start.isoformat(), "to": to.isoformat(), "interval": "day"},
        community_slug="reading",
    ).json()
    scope = [reading]
    assert body["params"] == {"from": start.isoformat(), "to": to.isoformat(), "interval": "day"}
    assert body["community"]["slug"] == "reading"

    indicators = metrics.indicators(communities=scope, day=to)
    assert body["indicators"] == {**asdict(indicators), "day": to.isoformat()}
    assert indicators.mau > 0  # the data set is not empty

    series = metrics.activity_series(communities=scope, start=start, end=to, interval="day")
    assert body["activity"] == [
        {"start": p.start.isoformat(), "events": p.events, "active": p.active} for p in series
    ]
    assert len(body["activity"]) == 41

    retention = metrics.retention(communities=scope, end=to)
    assert [c["week"] for c in body["retention"]["cohorts"]] == [
        c.week.isoformat() for c in retention.cohorts
    ]
    for got, want in zip(body["retention"]["cohorts"], retention.cohorts, strict=True):
        assert got["size"] == want.size
        assert [cell["retained"] for cell in got["offsets"]] == want.retained
        assert [cell["rate"] for cell in got["offsets"]] == want.rates
        assert [cell["offset"] for cell in got["offsets"]] == list(range(13))
    assert [point["rate"] for point in body["retention"]["curve"]] == retention.curve

    lifecycle = metrics.lifecycle(communities=scope, start=start, end=to)
    assert body["lifecycle"] == [{**asdict(w), "week": w.week.isoformat()} for w in lifecycle]

    health = metrics.health(communities=scope, today=to)[reading.pk]
    assert body["stage"]["code"] == health.stage
    assert body["stage"]["figures"]["events_28"] == health.events_28
    assert body["stage"]["figures"]["wau_share"] == health.wau_share
    assert body["stage"]["figures"]["age_days"] == 67
    assert body["activation"]["activated_members"] == health.activated_members
    assert body["activation"]["status"] in {"activated", "at_risk", "unknown"}
    assert body["silence"]["silent"] == health.silent
    assert body["silence"]["last_activity_at"] == health.last_activity_at.isoformat()


def test_defaults_are_the_last_90_days_by_week(client, reading, key):
    body = get(client, "metrics", key, community_slug="reading").json()
    today = reading.local_today()
    assert body["params"] == {
        "from": (today - timedelta(days=89)).isoformat(),
        "to": today.isoformat(),
        "interval": "week",
    }
    assert (
        body["activity"][0]["start"]
        == metrics.period_start(today - timedelta(days=89), "week").isoformat()
    )


def test_communities_list(client, reading, key, org_a):
    CommunityFactory(organization=org_a, slug="aaa-archived", name="旧群", archived=True)
    (row,) = get(client, "communities", key).json()["communities"]
    health = metrics.health(communities=[reading])[reading.pk]
    assert row == {
        "slug": "reading",
        "name": "读书会",
        "platform": reading.platform,
        "time_zone": "Asia/Shanghai",
        "stage": health.stage,
        "members": health.members,
        "wau": health.wau,
        "mainstream_share": health.mainstream_share,
        "silent": health.silent,
        "activation": row["activation"],
        # No calendar here: no action index, no value, no completion (null, never 0).
        "action_index": None,
        "community_value": None,
        "check_in_completion": None,
        # No checklists: no SOP completion (null, never 0).
        "sop_completion": {"rate": None, "due": 0, "on_time": 0, "done": 0, "window_days": 30},
    }
    assert row["activation"] == (
        "activated" if health.activated else "at_risk" if health.activation_at_risk else "unknown"
    )


def test_portfolio_equals_the_metric_functions_in_a_fixed_number_of_queries(
    client, reading, key, org_a
):
    url = reverse("api:portfolio")
    headers = {"authorization": f"Bearer {key}"}
    client.get(url, headers=headers)  # records the token's use: not part of the count
    with CaptureQueriesContext(connection) as one:
        body = client.get(url, headers=headers).json()
    (row,) = body["communities"]
    today = reading.local_today()
    indicators = metrics.indicators(communities=[reading], day=today)
    assert row["day"] == today.isoformat()
    assert row["retention_week_4"] == metrics.retention(communities=[reading], end=today).curve[4]
    assert row["retention_week_4"] is not None
    assert row["stickiness"] == pytest.approx(indicators.stickiness)
    assert row["mainstream_share"] == indicators.mainstream_share
    assert row["members"] == indicators.members

    for n, seed in enumerate((11, 12)):
        other = CommunityFactory(organization=org_a, slug=f"more-{n}")
        load(other, generated_events(other.local_today(), seed=seed, members=8))
    with CaptureQueriesContext(connection) as three:
        rows = client.get(url, headers=headers).json()["communities"]
    assert len(rows) == 3
    # Token, communities, cohort cells, day rows, action power's two (closed
    # occurrences, challenges) and SOP completion's one (checklist items): whatever the
    # number of communities.
    assert len(three) == len(one) == 7


def test_list_queries_do_not_grow_with_communities(client, reading, key, org_a):
    url, headers = reverse("api:communities"), {"authorization": f"Bearer {key}"}
    client.get(url, headers=headers)
    with CaptureQueriesContext(connection) as one:
        client.get(url, headers=headers)
    for n in range(3):
        CommunityFactory(organization=org_a, slug=f"more-{n}")
    with CaptureQueriesContext(connection) as four:
        assert len(client.get(url, headers=headers).json()["communities"]) == 4
    assert len(four) == len(one)


def test_endpoints_never_read_the_event_log(client, reading, key):
    with CaptureQueriesContext(connection) as queries:
        for name, kwargs in ENDPOINTS:
            assert get(client, name, key, **kwargs).status_code == 200
    assert not [q for q in queries if "activities_activityevent" in q["sql"]]


# --- Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"from": "20260101"},
        {"from": "2026-01-01\x00"},
        {"interval": "year"},
        {"from": "2026-03-01", "to": "2026-02-01"},
        {"from": "0001-01-01", "to": "0001-01-05"},
        {"from": "9999-12-25", "to": "9999-12-31"},
        {"from": "2001-01-01", "to": "2026-01-01"},
        {"from": "x", "to": "y", "interval": "z"},
    ],
)
@pytest.mark.parametrize("name", ["metrics", "metric-csv"])
def test_bad_parameters_are_a_400_with_every_error(client, reading, key, params, name):
    kwargs = {"community_slug": "reading"} | ({"metric": "lifecycle"} if name != "metrics" else {})
    response = get(client, name, key, params, **kwargs)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(isinstance(error, str) for error in errors)
    if set(params) == {"from", "to", "interval"}:
        assert len(errors) == 3


def test_errors_are_in_the_requests_language(client, reading, key):
    url = reverse("api:metrics", kwargs={"community_slug": "reading"})
    response = client.get(
        url,
        {"from": "not-a-date"},
        headers={"authorization": f"Bearer {key}", "accept-language": "zh-hans"},
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error.startswith("from: ")
    assert re.search(r"[\u4e00-\u9fff]", error), error


# --- CSV ------------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def test_csv_downloads_carry_the_json_numbers(client, reading, key):
    params = {"interval": "day"}
    body = get(client, "metrics", key, params, community_slug="reading").json()

    def download(metric):
        response = get(client, "metric-csv", key, params, community_slug="reading", metric=metric)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert response["Content-Disposition"].startswith("attachment;")
        return read_csv(response)

    header, *rows = download("activity")
    assert header == ["start", "events", "active"]
    assert rows == [[p["start"], str(p["events"]), str(p["active"])] for p in body["activity"]]

    header, *rows = download("lifecycle")
    assert header == ["week", "active", "new", "returning", "resurrecting", "dormant"]
    assert rows == [[str(week[name]) for name in header] for week in body["lifecycle"]]

    header, *rows = download("indicators")
    assert header == list(body["indicators"])
    assert rows == [["" if v is None else str(v) for v in body["indicators"].values()]]

    header, *rows = download("retention")
    assert header == ["cohort_week", "size", "offset", "retained", "rate"]
    assert len(rows) == 12 * 13
    expected = [
        [c["week"], str(c["size"]), str(cell["offset"])]
        + ["" if cell[k] is None else str(cell[k]) for k in ("retained", "rate")]
        for c in body["retention"]["cohorts"]
        for cell in c["offsets"]
    ]
    assert rows == expected
    assert any(row[4] for row in rows)
    assert all(float(row[4]) == cell["rate"] for row, cell in zip(
        rows, [cell for c in body["retention"]["cohorts"] for cell in c["offsets"]], strict=True
    ) if row[4])  # fmt: skip


def test_an_unknown_csv_metric_is_404(client, reading, key):
    response = get(client, "metric-csv", key, community_slug="reading", metric="pyramid")
    assert response.status_code == 404


# --- OpenAPI --------------------------------------------------------------------------------------


def api_routes() -> set[str]:
    resolver = next(
        p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "api"
    )
    return {
        "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        for pattern in resolver.url_patterns
    }


def resolve(document: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}


def check(document: dict, schema: dict, value, where="$") -> None:
    """A small JSON Schema check (the subset the document uses)."""
    schema = resolve(document, schema)
    types = schema.get("type")
    if types:
        types = [types] if isinstance(types, str) else types
        ok = any(
            isinstance(value, TYPES[t])
            and not (t in {"integer", "number"} and value is True)
            and not (t in {"integer", "number"} and value is False)
            for t in types
        )
        assert ok, f"{where}: {value!r} is not {types}"
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if isinstance(value, dict) and "properties" in schema:
        assert set(schema.get("required", [])) <= set(value), where
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(schema["properties"]), f"{where}: {set(value)}"
        for name, inner in schema["properties"].items():
            if name in value:
                check(document, inner, value[name], f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for n, item in enumerate(value):
            check(document, schema["items"], item, f"{where}[{n}]")


def test_the_openapi_document_describes_every_endpoint(client, reading, key):
    response = client.get(reverse("api:openapi"))  # public: no token
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    document = json.loads(response.content)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "/api/v1"}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert set(document["paths"]) == api_routes()
    for path, item in document["paths"].items():
        parameters = {resolve(document, p)["name"] for p in item["get"].get("parameters", [])}
        assert set(re.findall(r"{(\w+)}", path)) <= parameters, path
        for answer in item["get"]["responses"].values():
            assert resolve(document, answer)["description"]

    # The schemas describe the real answers.
    def schema_of(path, status="200"):
        answer = resolve(document, document["paths"][path]["get"]["responses"][status])
        return answer["content"]["application/json"]["schema"]

    for path, name, kwargs, params in [
        ("/communities", "communities", {}, {}),
        ("/portfolio", "portfolio", {}, {}),
        ("/communities/{community_slug}/metrics", "metrics", {"community_slug": "reading"}, {}),
        (
            "/communities/{community_slug}/metrics",
            "metrics",
            {"community_slug": "reading"},
            {"interval": "month"},
        ),
    ]:
        check(document, schema_of(path), get(client, name, key, params, **kwargs).json())
    bad = get(client, "metrics", key, {"interval": "x"}, community_slug="reading").json()
    check(document, schema_of("/communities/{community_slug}/metrics", "400"), bad)
    check(document, schema_of("/communities", "401"), get(client, "communities").json())


def test_the_api_does_not_shadow_the_ingest_webhook():
    assert reverse("activities:api-ingest", kwargs={"connector_id": "abc"}) == (
        "/api/v1/ingest/abc/events"
    )
    from django.urls import resolve as url_resolve

    assert url_resolve("/api/v1/ingest/abc/events").view_name == "activities:api-ingest"


# --- The tokens page ----------------------------------------------------------------------------


def test_a_new_key_is_shown_once_and_only_its_digest_is_stored(client_for, manager_a):
    client = client_for(manager_a)
    response = client.post(reverse("tokens:create"), {"name": "周报脚本"})
    assert response.status_code == 200
    key = re.search(r'data-testid="token-key">(coa_[\w-]+)<', response.content.decode()).group(1)
    assert len(key) > 40
    token = ApiToken.objects.get()
    assert (token.staff, token.name, token.prefix) == (manager_a, "周报脚本", key[:8])
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
    stored = json.dumps(list(ApiToken.objects.values()), default=str)
    assert key not in stored and key[8:] not in stored

    page = client.get(reverse("tokens:list")).content.decode()
    assert "周报脚本" in page and key[:8] in page
    assert key not in page

    assert get(client_for(manager_a), "communities", key).status_code == 200


def test_an_empty_name_is_refused(client_for, manager_a):
    response = client_for(manager_a).post(reverse("tokens:create"), {"name": "  "})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert 'data-testid="token-key"' not in response.content.decode()


def test_revoke_ones_own_token_only(client_for, manager_a, owner_a, client):
    mine, key = api_token_create(staff=manager_a, name="mine")
    theirs, _ = api_token_create(staff=owner_a, name="theirs")
    browser = client_for(manager_a)
    assert browser.post(reverse("tokens:revoke"), {"token": theirs.pk}).status_code == 404
    assert browser.post(reverse("tokens:revoke"), {"token": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    response = browser.post(reverse("tokens:revoke"), {"token": mine.pk})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    client.logout()
    assert get(client, "communities", key).status_code == 401
    page = client_for(manager_a).get(reverse("tokens:list")).content.decode()
    assert "theirs" not in page  # only one's own tokens are listed


def test_token_views_are_post_only_and_need_analytics(client_for, moderator_a, manager_a):
    assert client_for(manager_a).get(reverse("tokens:create")).status_code == 405
    assert client_for(manager_a).get(reverse("tokens:revoke")).status_code == 405
    client = client_for(moderator_a)
    assert client.get(reverse("tokens:list")).status_code == 403
    assert client.post(reverse("tokens:create"), {"name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


# --- Independent check: the numbers straight from the raw events --------------------------------


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def test_api_numbers_equal_a_plain_python_count_of_the_raw_events(client, reading, key):
    """docs/metrics.md applied literally to the generated events, in Asia/Shanghai days."""
    events = reading.generated
    to = reading.local_today()
    start = to - timedelta(days=59)

    def local_day(event):
        return event.occurred_at.astimezone(SHANGHAI).date()

    active_on: dict[date, set[str]] = defaultdict(set)
    events_on: dict[date, int] = defaultdict(int)
    joined, left = {}, {}
    for event in events:
        if event.kind in ACTIVITY_KINDS:
            active_on[local_day(event)].add(event.member_key)
            events_on[local_day(event)] += 1
        elif event.kind == "join":
            joined[event.member_key] = local_day(event)
        elif event.kind == "leave":
            left[event.member_key] = local_day(event)
    assert sum(events_on.values()) > 300
    # Some activity falls on the other side of midnight in UTC than in Shanghai.
    assert any(
        e.occurred_at.astimezone(UTC).date() != local_day(e)
        for e in events
        if e.kind in ACTIVITY_KINDS
    )

    def active_in(last: date, days: int) -> set[str]:
        return set().union(*(active_on[last - timedelta(days=n)] for n in range(days)))

    body = get(
        client,
        "metrics",
        key,
        {"from": start.isoformat(), "to": to.isoformat(), "interval": "day"},
        community_slug="reading",
    ).json()

    # DAU / WAU / MAU on the last day, and the daily series.
    indicators = body["indicators"]
    assert indicators["dau"] == len(active_on[to])
    assert indicators["wau"] == len(active_in(to, 7))
    assert indicators["mau"] == len(active_in(to, 30))
    assert body["activity"] == [
        {
            "start": (start + timedelta(days=n)).isoformat(),
            "events": events_on[start + timedelta(days=n)],
            "active": len(active_on[start + timedelta(days=n)]),
        }
        for n in range(60)
    ]
    # Members at the day; mainstream (≥ 4 active days of 30); the two core indicators.
    members = [m for m in joined if joined[m] <= to and (m not in left or left[m] > to)]
    assert indicators["members"] == len(members)
    window = [to - timedelta(days=n) for n in range(30)]
    mainstream = [m for m in active_in(to, 30) if sum(m in active_on[d] for d in window) >= 4]
    assert indicators["mainstream"] == len(mainstream)
    assert indicators["mainstream_share"] == pytest.approx(len(mainstream) / len(members))
    member_days = sum(len(active_on[d]) for d in window)
    assert indicators["events_30"] == sum(events_on[d] for d in window)
    assert indicators["interaction_frequency"] == pytest.approx(
        sum(events_on[d] for d in window) / member_days
    )
    assert indicators["stickiness"] == pytest.approx(member_days / 30 / len(active_in(to, 30)))

    # Weekly member lifecycle.
    active_week: dict[date, set[str]] = defaultdict(set)
    for day, people in active_on.items():
        active_week[monday(day)] |= people
    first_week = {}
    for day in sorted(active_on):
        for member in active_on[day]:
            first_week.setdefault(member, monday(day))
    expected_weeks = []
    week = monday(start)
    while week <= monday(to):
        now, before = active_week[week], active_week[week - timedelta(weeks=1)]
        earlier = set().union(
            *(people for w, people in active_week.items() if w < week - timedelta(weeks=1))
        )
        new = {m for m in now if first_week[m] == week}
        expected_weeks.append(
            {
                "week": week.isoformat(),
                "active": len(now),
                "new": len(new),
                "returning": len(now & before),
                "resurrecting": len({m for m in now - before if m in earlier}),
                "dormant": len(before - now),
            }
        )
        week += timedelta(weeks=1)
    assert body["lifecycle"] == expected_weeks
    assert sum(w["resurrecting"] for w in expected_weeks) > 0
    for w in body["lifecycle"]:  # the invariant of §4
        assert w["active"] == w["new"] + w["returning"] + w["resurrecting"]

    # Cohort retention: join week W, active in week W+k; leavers stay in the denominator.
    last = monday(to)
    cohorts = body["retention"]["cohorts"]
    assert [c["week"] for c in cohorts] == [
        (last - timedelta(weeks=11 - n)).isoformat() for n in range(12)
    ]
    totals = defaultdict(lambda: [0, 0])
    checked = 0
    for cohort in cohorts:
        week = date.fromisoformat(cohort["week"])
        people = {m for m, day in joined.items() if monday(day) == week}
        assert cohort["size"] == len(people)
        if not people:
            continue
        for cell in cohort["offsets"]:
            target = week + timedelta(weeks=cell["offset"])
            if target > last:
                assert cell["retained"] is None
                continue
            kept = len(people & active_week[target])
            assert cell["retained"] == kept
            assert cell["rate"] == pytest.approx(kept / len(people))
            totals[cell["offset"]][0] += len(people)
            totals[cell["offset"]][1] += kept
            checked += 1
    assert checked > 20
    assert left  # some members left; they stay in their cohort's denominator
    for point in body["retention"]["curve"]:
        size, kept = totals.get(point["offset"], (0, 0))
        assert point["rate"] == (pytest.approx(kept / size) if size else None)


def test_token_service_never_stores_the_key(manager_a):
    token, key = api_token_create(staff=manager_a, name="x")
    assert key.startswith("coa_") and token.prefix == key[:8]
    assert token.digest == hashlib.sha256(key.encode()).hexdigest()
