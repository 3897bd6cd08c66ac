"""One source for every rule: the stage's explanation, the activation status and the
lifecycle groups are decided once (``analytics.metrics``) and every page, CSV and API
answer shows that decision.

Scenarios are built the production way (events → ingestion → rollups) on the frozen
``TODAY`` of tests/analytics/scenarios.py.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse

from analytics.metrics import STAGE_RULES, health
from communities.models import Community
from communities.tokens import api_token_create
from tests.analytics.scenarios import ago
from tests.analytics.test_metrics import STAGE_CASES, build, log, members, on_days

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

# 90 events in days 28–55, 63 in days 0–27: a drop of exactly 30 %.
EXACT_DROP = log(
    on_days("a", [40], per_day=45),
    on_days("b", [50], per_day=45),
    on_days("a", [3], per_day=32),
    on_days("b", [2], per_day=31),
)
RULES_OF_STAGE = {
    "dormant": {"no_recent_activity"},
    "budding": {"young"},
    "decline": {"events_fell", "few_weekly_active"},
    "growth": {"members_grew"},
    "active": {"otherwise"},
}


def stage_card(client, community) -> str:
    html = client.get(reverse("analytics:community", args=[community.slug])).content.decode()
    return html.split('data-testid="stage"')[1].split("</article>")[0]


def explanation(card: str) -> str:
    """The card's sentences: its text before the list of figures, tags removed."""
    return " ".join(re.sub(r"<[^>]+>", " ", card.split("</h2>")[1].split("<dl")[0]).split())


def api_stage(client, key, community) -> dict:
    response = client.get(
        reverse("api:metrics", kwargs={"community_slug": community.slug}),
        headers={"authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200
    return json.loads(response.content)["stage"]


# --- The stage and why ---------------------------------------------------------------------


def test_an_exact_30_percent_drop_is_a_decline_and_the_card_says_why(org_a, manager_a, client_for):
    community = build(org_a, created=ago(100), events=EXACT_DROP)
    card = stage_card(client_for(manager_a), community)
    assert 'data-stage="decline"' in card
    assert explanation(card) == (
        "Activity over the last 28 days fell by 30% or more against the 28 days before: "
        "63 events against 90."
    )
    key = api_token_create(staff=manager_a, name="BI")[1]
    stage = api_stage(client_for(manager_a), key, community)
    assert stage["code"] == "decline"
    assert stage["reasons"] == [
        {
            "rule": "events_fell",
            "figures": {"events_28": 63, "events_prev_28": 90},
            "thresholds": {"drop_percent": 30},
        }
    ]


def test_a_drop_of_just_under_30_percent_is_not_explained_as_one(org_a, manager_a, client_for):
    events = log(
        on_days("a", [40], per_day=45),
        on_days("b", [50], per_day=45),
        on_days("a", [3], per_day=32),
        on_days("b", [2], per_day=32),
    )
    community = build(org_a, created=ago(100), events=events)
    card = stage_card(client_for(manager_a), community)
    assert 'data-stage="active"' in card
    assert explanation(card) == "Active, neither growing fast nor declining."


def test_the_dormant_explanation_names_the_configured_window(
    org_a, manager_a, client_for, settings
):
    settings.ANALYTICS_DORMANT_DAYS = 3
    community = build(org_a, created=ago(100), events=on_days("a", [3, 10, 20, 30]))
    card = stage_card(client_for(manager_a), community)
    assert 'data-stage="dormant"' in card
    assert explanation(card) == "No activity in the last 3 days."
    key = api_token_create(staff=manager_a, name="BI")[1]
    stage = api_stage(client_for(manager_a), key, community)
    assert stage["thresholds"]["dormant_days"] == 3
    assert stage["reasons"] == [
        {"rule": "no_recent_activity", "figures": {"events": 0}, "thresholds": {"days": 3}}
    ]


def test_both_decline_tests_are_explained_when_both_hold(org_a, manager_a, client_for):
    # 11 members; 10 events 40–50 days ago, 1 event this week: −90 % and 1 of 11 active.
    events = log(members("m", 10, 40), on_days("m0", [50]), on_days("x", [1]))
    community = build(org_a, created=ago(100), events=events)
    text = explanation(stage_card(client_for(manager_a), community))
    assert "fell by 30% or more" in text and "1 event against 11" in text
    assert "Fewer than 10% of the members were active in the last 7 days: 1 of 11." in text


@pytest.mark.parametrize(("age", "events", "stage"), STAGE_CASES.values(), ids=STAGE_CASES.keys())
def test_every_stage_comes_with_the_rules_that_decided_it(org_a, age, events, stage):
    community = build(org_a, created=ago(age), events=events)
    result = health(communities=[community])[community.pk]
    assert result.stage == stage
    rules = {reason.rule for reason in result.reasons}
    assert rules and rules <= RULES_OF_STAGE[stage] and rules <= set(STAGE_RULES)
    assert all(reason.text for reason in result.reasons)


def test_the_overview_decline_alert_shows_the_rule_that_matched(org_a, manager_a, client_for):
    community = build(org_a, created=ago(100), events=EXACT_DROP)
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    alert = html.split('data-testid="alert-decline"')[1].split("</div>")[0]
    assert community.name in alert
    assert 'data-stage-rule="events_fell"' in alert and "63 events against 90" in alert


# --- First-month activation ------------------------------------------------------------------

FIRST_MONTH = [40, 30, 20, 11]  # created 40 days ago: the first 30 days are 40…11 ago


def activated_group(org):
    return build(
        org,
        created=ago(40),
        events=log(*(on_days(f"a{i}", FIRST_MONTH) for i in range(10))),
    )


def moved_creation(org):
    """Activated by its log, then its creation date corrected to 80 days ago: the rollup
    still counts the old first month until it runs again, but the log no longer reaches
    back into the first month, so there is no verdict."""
    community = activated_group(org)
    Community.objects.filter(pk=community.pk).update(created_on=ago(80))
    community.refresh_from_db()
    return community


def without_a_threshold(org, settings):
    """ANALYTICS_ACTIVATION_MIN_MEMBERS = 0 and no activity at all: no verdict."""
    settings.ANALYTICS_ACTIVATION_MIN_MEMBERS = 0
    return build(org, created=ago(40), events=lambda community: [])


ACTIVATION_CASES = {
    "activated": (lambda org, settings: activated_group(org), "activated"),
    "at-risk": (
        lambda org, settings: build(org, created=ago(40), events=on_days("a", FIRST_MONTH)),
        "at_risk",
    ),
    "unknown": (
        lambda org, settings: build(org, created=ago(40), events=on_days("a", [5, 3])),
        "unknown",
    ),
    "creation-moved-before-the-log": (lambda org, settings: moved_creation(org), "unknown"),
    "no-threshold-no-log": (without_a_threshold, "unknown"),
}


@pytest.mark.parametrize(
    ("make", "expected"), ACTIVATION_CASES.values(), ids=ACTIVATION_CASES.keys()
)
def test_activation_status_is_the_same_everywhere(
    org_a, owner_a, client_for, settings, make, expected
):
    community = make(org_a, settings)
    client = client_for(owner_a)

    page = client.get(reverse("overview")).content.decode()
    row = page.split(f'<tr data-community="{community.slug}">')[1].split("</tr>")[0]
    shown = re.search(r'data-activation="([a-z-]+)"', row).group(1)
    alert = page.split('data-testid="alert-activation"')
    flagged = len(alert) > 1 and community.name in alert[1].split("</div>")[0]

    response = client.get(reverse("overview-csv"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    in_csv = next(r for r in rows if r["slug"] == community.slug)["activation"]

    key = api_token_create(staff=owner_a, name="BI")[1]
    headers = {"authorization": f"Bearer {key}"}
    listed = json.loads(client.get(reverse("api:communities"), headers=headers).content)
    in_list = next(c for c in listed["communities"] if c["slug"] == community.slug)
    metrics_url = reverse("api:metrics", kwargs={"community_slug": community.slug})
    in_metrics = json.loads(client.get(metrics_url, headers=headers).content)["activation"]

    assert (shown.replace("-", "_"), in_csv, in_list["activation"], in_metrics["status"]) == (
        expected,
        expected,
        expected,
        expected,
    )
    assert flagged == (expected == "at_risk")
    assert health(communities=[community])[community.pk].activation_status == expected


def test_moving_the_creation_date_is_visible_to_the_test_above(org_a):
    # The "creation-moved" case only means something if the rollup still says activated.
    community = moved_creation(org_a)
    result = health(communities=[community])[community.pk]
    assert (result.activated, result.activation_known) == (True, False)
    assert result.created_on == ago(80)
    assert result.first_activity_at.date() >= ago(80) + timedelta(days=30)
