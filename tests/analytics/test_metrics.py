"""The metrics of docs/metrics.md (analytics.metrics) on hand-checkable scenarios.

Every scenario goes the production way: events → ``ingest_events`` → rollups → metric.
Time is frozen: ``Community.local_today`` returns ``TODAY`` (Wednesday 2026-11-25), and
the silence alert's clock is patched where it matters.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import EventSource
from analytics.metrics import (
    ActivityPoint,
    LifecycleWeek,
    activity_series,
    health,
    indicators,
    lifecycle,
    retention,
)
from analytics.rollups import monday, rollups_refresh_all
from communities.models import Community
from tests.analytics.scenarios import TODAY, ago, event, make_community

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

THIS_WEEK = monday(TODAY)


def build(org, *, created: date, events) -> Community:
    """A community created on ``created`` whose log is ``events(community)``, rolled up."""
    community = make_community(org, created=created)
    ingest_events(community=community, source=EventSource.IMPORT, events=list(events(community)))
    rollups_refresh_all()
    return community


def on_days(key: str, days, kind: str = "message", per_day: int = 1):
    """``per_day`` events of ``key`` on each of the days (ago) ``days``."""

    def make(community):
        return [
            event(community, key, ago(n), kind, hour=8 + i // 60, minute=i % 60)
            for n in days
            for i in range(per_day)
        ]

    return make


def log(*parts):
    return lambda community: [e for part in parts for e in part(community)]


# --- Core indicators ----------------------------------------------------------------------

INDICATOR_CASES = {
    # 3 members active every day of the 30, one event a day each.
    "steady": (
        log(*(on_days(key, range(30)) for key in "abc")),
        dict(members=3, dau=3, wau=3, mau=3, stickiness=1.0, interaction_frequency=1.0,
             mainstream=3, mainstream_share=1.0, events_30=90),
    ),
    # a: 2 events on each of the 30 days. b: days 0–2 (3 days: not mainstream).
    # c: 5 events 29 days ago (in the MAU window). d: joined, never active (a member).
    # e: active 30 days ago, outside every window. Active member-days: 30 + 3 + 1 = 34;
    # events: 60 + 3 + 5 = 68. Stickiness = (34 / 30) / 3.
    "mixed": (
        log(
            on_days("a", range(30), per_day=2),
            on_days("b", [0, 1, 2]),
            on_days("c", [29], per_day=5),
            on_days("d", [12], "join"),
            on_days("e", [30]),
        ),
        dict(members=5, dau=2, wau=2, mau=3, stickiness=34 / 90, interaction_frequency=2.0,
             mainstream=1, mainstream_share=1 / 5, events_30=68),
    ),
    # Reactions and check-ins count as activity; joins and leaves do not.
    "kinds": (
        log(
            on_days("a", [0, 7, 14, 21], "reaction"),
            on_days("b", [3], "check_in", per_day=3),
            on_days("c", [0], "join"),
            on_days("d", [40], "join"),
            on_days("d", [0], "leave"),
        ),
        dict(members=3, dau=1, wau=2, mau=2, stickiness=(5 / 30) / 2,
             interaction_frequency=7 / 5, mainstream=1, mainstream_share=1 / 3, events_30=7),
    ),
    # Nobody active in 30 days: the ratios have no value, the share is 0 of 2 members.
    "silent": (
        log(on_days("a", [45]), on_days("b", [40])),
        dict(members=2, dau=0, wau=0, mau=0, stickiness=None, interaction_frequency=None,
             mainstream=0, mainstream_share=0.0, events_30=0),
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("events", "expected"), INDICATOR_CASES.values(), ids=INDICATOR_CASES.keys()
)
def test_indicators(org_a, events, expected):
    community = build(org_a, created=ago(60), events=events)
    result = indicators(communities=[community], day=TODAY)
    assert result.day == TODAY
    got = {key: getattr(result, key) for key in expected}
    assert got == pytest.approx(expected)


def test_indicators_on_a_past_day_use_the_30_days_to_it(org_a):
    # a: 10 and 12 days ago; b: 39 days ago (in the window of 10 days ago: 10…39).
    community = build(
        org_a, created=ago(60), events=log(on_days("a", [10, 12]), on_days("b", [39]))
    )
    result = indicators(communities=[community], day=ago(10))
    assert (result.dau, result.wau, result.mau, result.events_30) == (1, 1, 2, 3)
    assert result.stickiness == pytest.approx((3 / 30) / 2)


def test_indicators_add_communities(org_a):
    one = build(org_a, created=ago(60), events=on_days("a", range(4)))
    two = build(org_a, created=ago(60), events=on_days("a", [0]))  # the same person
    result = indicators(communities=[one, two], day=TODAY)
    assert (result.members, result.dau, result.mau, result.mainstream) == (2, 2, 2, 1)
    assert result.interaction_frequency == pytest.approx(1.0)


# --- Cohort retention -----------------------------------------------------------------------

W = THIS_WEEK - timedelta(weeks=3)  # Monday 2026-11-02


def in_week(week: date, weekday: int) -> int:
    """Days ago of ``week``'s day ``weekday`` (0 = Monday)."""
    return (TODAY - (week + timedelta(days=weekday))).days


def cohorts(community):
    return [
        # Cohort W: p, q, r join; p and q are active in W+1, p in W+2; q leaves in W+1.
        event(community, "p", ago(in_week(W, 0)), "join"),
        event(community, "q", ago(in_week(W, 2)), "join"),
        event(community, "r", ago(in_week(W, 6)), "join", hour=23, minute=30),
        event(community, "p", ago(in_week(W + timedelta(weeks=1), 1))),
        event(community, "q", ago(in_week(W + timedelta(weeks=1), 3))),
        event(community, "q", ago(in_week(W + timedelta(weeks=1), 4)), "leave"),
        event(community, "p", ago(in_week(W + timedelta(weeks=2), 0)), "reaction"),
        # Cohort W+1: s and t join; s is active in W+2 (t never).
        event(community, "s", ago(in_week(W + timedelta(weeks=1), 0)), "join", hour=0),
        event(community, "t", ago(in_week(W + timedelta(weeks=1), 5)), "join"),
        event(community, "s", ago(in_week(W + timedelta(weeks=2), 6)), "check_in"),
    ]


def test_cohort_retention_rates(org_a):
    community = build(org_a, created=W - timedelta(weeks=2), events=cohorts)
    result = retention(communities=[community], end=TODAY)
    by_week = {c.week: c for c in result.cohorts}
    assert len(result.cohorts) == 12
    assert list(by_week) == [THIS_WEEK - timedelta(weeks=n) for n in range(11, -1, -1)]

    first = by_week[W]
    assert first.size == 3  # q left, and stays in the denominator
    assert first.retained == [0, 2, 1, 0] + [None] * 9  # W+3 is this week; W+4 not begun
    assert first.rates[:4] == pytest.approx([0, 2 / 3, 1 / 3, 0])
    second = by_week[W + timedelta(weeks=1)]
    assert (second.size, second.retained[:3]) == (2, [0, 1, 0])
    assert second.retained[3:] == [None] * 10
    assert by_week[THIS_WEEK].size == 0
    assert by_week[THIS_WEEK].rates == [None] * 13


def test_retention_curve_pools_the_cohorts_that_reached_each_offset(org_a):
    community = build(org_a, created=W - timedelta(weeks=2), events=cohorts)
    curve = retention(communities=[community], end=TODAY).curve
    # offset 0: 0 of 5; 1: (2 + 1) of 5; 2: (1 + 0) of 5; 3: only cohort W reached it, 0 of 3.
    assert curve[:4] == pytest.approx([0, 3 / 5, 1 / 5, 0])
    assert curve[4:] == [None] * 9


# --- Member lifecycle ------------------------------------------------------------------------

# Weeks 0…5, week 5 being this week; each member is active on the Tuesday of the listed
# weeks. Expected (active, new, returning, resurrecting, dormant) for weeks 0…5.
LIFECYCLE_CASES = {
    "one-member": (
        {"m": [0, 1, 3, 4]},
        [(1, 1, 0, 0, 0), (1, 0, 1, 0, 0), (0, 0, 0, 0, 1),
         (1, 0, 0, 1, 0), (1, 0, 1, 0, 0), (0, 0, 0, 0, 1)],
    ),
    "four-members": (
        {"m1": [0, 1, 2, 3, 4, 5], "m2": [1, 3, 5], "m3": [0, 4], "m4": [2, 3]},
        [(2, 2, 0, 0, 0), (2, 1, 1, 0, 1), (2, 1, 1, 0, 1),
         (3, 0, 2, 1, 0), (2, 0, 1, 1, 2), (2, 0, 1, 1, 1)],
    ),
    "late-starters": (
        {"a": [2], "b": [2, 5], "c": [5]},
        [(0, 0, 0, 0, 0), (0, 0, 0, 0, 0), (2, 2, 0, 0, 0),
         (0, 0, 0, 0, 2), (0, 0, 0, 0, 0), (2, 1, 0, 1, 0)],
    ),
    "nobody": ({}, [(0, 0, 0, 0, 0)] * 6),
}  # fmt: skip


def week_start(index: int) -> date:
    return THIS_WEEK - timedelta(weeks=5 - index)


@pytest.mark.parametrize(
    ("activity", "expected"), LIFECYCLE_CASES.values(), ids=LIFECYCLE_CASES.keys()
)
def test_member_lifecycle_per_week(org_a, activity, expected):
    def events(community):
        return [
            event(community, key, week_start(w) + timedelta(days=1))
            for key, weeks in activity.items()
            for w in weeks
        ]

    community = build(org_a, created=week_start(0), events=events)
    weeks = lifecycle(communities=[community], start=week_start(0), end=TODAY)
    assert [w.week for w in weeks] == [week_start(i) for i in range(6)]
    assert [(w.active, w.new, w.returning, w.resurrecting, w.dormant) for w in weeks] == expected
    for before, week in itertools.pairwise(weeks):
        assert week.active == week.new + week.returning + week.resurrecting
        assert week.dormant == before.active - week.returning


def test_lifecycle_counts_activity_only_and_local_iso_weeks(org_a):
    sunday = THIS_WEEK - timedelta(days=1)

    def events(community):
        return [
            # j joins two weeks ago but is first *active* this week: new this week.
            event(community, "j", sunday - timedelta(days=7), "join"),
            event(community, "j", THIS_WEEK, "message", hour=9),
            # k: Sunday 23:30 and Monday 00:30 local are two ISO weeks (k returns).
            event(community, "k", sunday, hour=23, minute=30),
            event(community, "k", THIS_WEEK, hour=0, minute=30),
            # l: active last week, and only leaves this week: dormant.
            event(community, "l", sunday - timedelta(days=3)),
            event(community, "l", TODAY, "leave"),
        ]

    community = build(org_a, created=sunday - timedelta(days=13), events=events)
    weeks = lifecycle(communities=[community], start=sunday - timedelta(days=13), end=TODAY)
    assert weeks == [
        LifecycleWeek(THIS_WEEK - timedelta(weeks=2), 0, 0, 0, 0, 0),
        LifecycleWeek(THIS_WEEK - timedelta(weeks=1), 2, 2, 0, 0, 0),
        LifecycleWeek(THIS_WEEK, 2, 1, 1, 0, 1),
    ]


# --- Community lifecycle stage ----------------------------------------------------------------


def members(prefix: str, count: int, day: int):
    """``count`` members, each with one message ``day`` days ago."""
    return log(*(on_days(f"{prefix}{i}", [day]) for i in range(count)))


STAGE_CASES = {
    # 1. dormant: nothing in the last 7 days (days 0–6), however old.
    "dormant": (100, log(on_days("a", [7, 8, 9]), on_days("b", [20])), "dormant"),
    # A young community with no activity in 7 days is dormant, not budding.
    "dormant-before-budding": (10, on_days("a", [7, 9]), "dormant"),
    # A member joining is not activity.
    "dormant-despite-a-join": (100, log(on_days("a", [20]), on_days("b", [1], "join")),
                               "dormant"),
    # 2. budding: younger than 30 days (created 10 or 29 days ago).
    "budding": (10, on_days("a", [1]), "budding"),
    "budding-29-days": (29, on_days("a", [1]), "budding"),
    # Budding before decline: 1 of 11 active this week, but 20 days young.
    "budding-before-decline": (20, log(members("m", 11, 15), on_days("m0", [1])), "budding"),
    # 3. decline: 10 events in days 28–55, 7 (−30 %) in days 0–27.
    "decline-events": (
        100,
        log(on_days("a", [40], per_day=5), on_days("b", [50], per_day=5),
            on_days("a", [3], per_day=4), on_days("b", [2], per_day=3)),
        "decline",
    ),
    # 8 events (−20 %): not a decline.
    "events-fell-20-percent": (
        100,
        log(on_days("a", [40], per_day=5), on_days("b", [50], per_day=5),
            on_days("a", [3], per_day=4), on_days("b", [2], per_day=4)),
        "active",
    ),
    # Weekly-active share 1 of 11 (9 %) < 10 %: decline.
    "decline-wau-share": (100, log(members("m", 11, 60), on_days("m0", [1])), "decline"),
    # 1 of 10 is exactly 10 %: not below.
    "wau-share-10-percent": (100, log(members("m", 10, 60), on_days("m0", [1])), "active"),
    # 4. growth: 10 members 28 days ago, 11 today (+10 %); 2 of 11 active this week.
    "growth": (100, log(members("m", 10, 60), on_days("n", [5]), on_days("m0", [3])),
               "growth"),
    # Members joining on day 28 count in the base: 11 → 11 is not growth.
    "no-growth-joined-on-day-28": (
        100,
        log(members("m", 10, 60), on_days("n", [28]), on_days("m0", [3]), on_days("m1", [2])),
        "active",
    ),
    # Decline before growth: members +100 %, but the WAU share is 1 of 22.
    "decline-before-growth": (
        100, log(members("m", 11, 60), members("n", 11, 20), on_days("m0", [1])), "decline"
    ),
    # 5. active: otherwise.
    "active": (100, log(*(on_days(k, [1, 10, 20, 30, 40, 50]) for k in "abc")), "active"),
}  # fmt: skip


@pytest.mark.parametrize(("age", "events", "stage"), STAGE_CASES.values(), ids=STAGE_CASES.keys())
def test_community_lifecycle_stage(org_a, age, events, stage):
    community = build(org_a, created=ago(age), events=events)
    result = health(communities=[community])[community.pk]
    assert result.age_days == age
    assert result.stage == stage


def test_stage_reports_the_figures_that_decided_it(org_a):
    community = build(org_a, created=ago(100), events=STAGE_CASES["decline-events"][1])
    result = health(communities=[community])[community.pk]
    assert (result.events_7, result.events_28, result.events_prev_28) == (7, 7, 10)
    assert result.events_change == pytest.approx(-0.3)
    assert (result.wau, result.members, result.members_28_ago) == (2, 2, 2)
    assert result.wau_share == 1.0
    assert result.members_change == 0.0


def test_an_exact_30_percent_drop_is_a_decline_at_any_size(org_a):
    # 90 events in days 28–55, 63 in days 0–27: −30 %.
    events = log(on_days("a", [40], per_day=45), on_days("b", [50], per_day=45),
                 on_days("a", [3], per_day=32), on_days("b", [2], per_day=31))  # fmt: skip
    community = build(org_a, created=ago(100), events=events)
    result = health(communities=[community])[community.pk]
    assert (result.events_28, result.events_prev_28) == (63, 90)
    assert result.stage == "decline"


def test_exact_10_percent_growth_is_growth_at_any_size(org_a):
    events = log(members("m", 50, 60), members("n", 5, 5), on_days("m0", [3]))
    community = build(org_a, created=ago(100), events=events)
    result = health(communities=[community])[community.pk]
    assert (result.members_28_ago, result.members, result.wau) == (50, 55, 6)
    assert result.stage == "growth"


def test_dormant_threshold_is_configurable(org_a, settings):
    settings.ANALYTICS_DORMANT_DAYS = 3
    community = build(org_a, created=ago(100), events=on_days("a", [3, 10, 20, 30]))
    assert health(communities=[community])[community.pk].stage == "dormant"


@pytest.mark.parametrize(
    ("setting", "value", "stage"),
    [
        ("ANALYTICS_BUDDING_DAYS", 30, "budding"),
        ("ANALYTICS_BUDDING_DAYS", 11, "budding"),
        ("ANALYTICS_BUDDING_DAYS", 10, "growth"),
        ("ANALYTICS_DECLINE_WAU_SHARE_PERCENT", 40, "decline"),
        ("ANALYTICS_DECLINE_WAU_SHARE_PERCENT", 37, "growth"),
        ("ANALYTICS_DECLINE_DROP_PERCENT", 20, "decline"),
        ("ANALYTICS_DECLINE_DROP_PERCENT", 21, "growth"),
        ("ANALYTICS_GROWTH_PERCENT", 33, "growth"),
        ("ANALYTICS_GROWTH_PERCENT", 34, "active"),
    ],
)
def test_stage_thresholds_are_configurable(org_a, settings, setting, value, stage):
    # 10 days old. 6 members 28 days ago (5 active 40 days ago, 1 only joined), 8 today
    # (+33 %); 3 of 8 active this week (37.5 %); events 4 in days 0–27 against 5 in days
    # 28–55 (−20 %). With budding over at 5 days, the defaults say growth.
    settings.ANALYTICS_BUDDING_DAYS = 5
    setattr(settings, setting, value)
    events = log(
        members("m", 5, 40),
        on_days("j", [40], "join"),
        on_days("n0", [4]),
        on_days("n1", [3]),
        on_days("m1", [2], per_day=2),
    )
    community = build(org_a, created=ago(10), events=events)
    result = health(communities=[community])[community.pk]
    assert (result.wau, result.members, result.members_28_ago) == (3, 8, 6)
    assert (result.events_28, result.events_prev_28) == (4, 5)
    assert result.stage == stage


# --- First-month activation -------------------------------------------------------------------

FIRST_MONTH = [40, 30, 20, 11]  # created 40 days ago: the first 30 days are 40…11 ago


@pytest.mark.parametrize(
    ("activated", "expected"),
    [(10, (10, True, True, False)), (9, (9, False, True, True)), (12, (12, True, True, False))],
)
def test_first_month_activation(org_a, activated, expected):
    events = log(
        *(on_days(f"a{i}", FIRST_MONTH) for i in range(activated)),
        # Active on 3 days inside and 2 after the first month: not activated.
        *(on_days(f"b{i}", [39, 38, 37, 10, 9]) for i in range(5)),
    )
    community = build(org_a, created=ago(40), events=events)
    h = health(communities=[community])[community.pk]
    assert (h.activated_members, h.activated, h.activation_known, h.activation_at_risk) == (
        expected
    )
    assert h.activation_done


def test_activation_unknown_without_data_for_the_first_month(org_a):
    community = build(org_a, created=ago(40), events=on_days("a", [10, 5, 3, 1]))
    h = health(communities=[community])[community.pk]
    assert (h.activated_members, h.activated, h.activation_known, h.activation_at_risk) == (
        0,
        False,
        False,
        False,
    )


def test_activation_unknown_without_any_activity(org_a):
    community = build(org_a, created=ago(40), events=lambda community: [])
    h = health(communities=[community])[community.pk]
    assert (h.activation_known, h.activation_at_risk) == (False, False)


def test_activation_known_uses_local_days(org_a):
    # Created 40 days ago; the first event is at 07:00 local on day 31 (10 days ago).
    community = build(
        org_a,
        created=ago(40),
        events=lambda c: [event(c, "a", ago(10), hour=7), event(c, "a", ago(1))],
    )
    h = health(communities=[community])[community.pk]
    assert (h.activation_known, h.activation_at_risk) == (False, False)


def test_activation_known_from_the_last_day_of_the_first_month(org_a):
    community = build(
        org_a, created=ago(40), events=lambda c: [event(c, "a", ago(11), hour=23, minute=30)]
    )
    h = health(communities=[community])[community.pk]
    assert (h.activation_known, h.activation_at_risk) == (True, True)


# --- Silence alert ----------------------------------------------------------------------------

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(("hours", "silent"), [(1, False), (23, False), (24, False), (25, True)])
def test_silence_alert_after_more_than_24_hours(org_a, monkeypatch, hours, silent):
    last = NOW - timedelta(hours=hours)
    community = build(
        org_a,
        created=ago(60),
        events=lambda c: [
            event(c, "a", ago(3)),
            IncomingEvent("last", "message", last, "a", "a"),
            # A later join or leave is not activity.
            IncomingEvent("left", "leave", NOW - timedelta(minutes=5), "b", "b"),
        ],
    )
    monkeypatch.setattr("analytics.metrics.timezone.now", lambda: NOW)
    h = health(communities=[community])[community.pk]
    assert h.last_activity_at == last
    assert h.silent is silent


def test_silence_hours_are_configurable(org_a, monkeypatch, settings):
    settings.ANALYTICS_SILENCE_HOURS = 48
    community = build(
        org_a,
        created=ago(60),
        events=lambda c: [IncomingEvent("x", "message", NOW - timedelta(hours=30), "a")],
    )
    monkeypatch.setattr("analytics.metrics.timezone.now", lambda: NOW)
    assert health(communities=[community])[community.pk].silent is False


@pytest.mark.parametrize(("age", "silent"), [(0, False), (1, True)])
def test_silence_without_any_activity(org_a, age, silent):
    community = build(org_a, created=ago(age), events=lambda community: [])
    assert health(communities=[community])[community.pk].silent is silent


# --- Activity series ---------------------------------------------------------------------------


def series_log(community):
    # Days in November 2026 (TODAY is the 25th) and late October.
    def on(key, day, kind="message", n=1):
        return [event(community, key, day, kind, hour=8 + i) for i in range(n)]

    return [
        *on("a", date(2026, 10, 1)),  # only in the MAU of October's first days
        *on("b", date(2026, 10, 20), n=2),
        *on("a", date(2026, 11, 2), n=3),  # Monday of week 11-02
        *on("b", date(2026, 11, 8), "reaction"),  # Sunday of week 11-02
        *on("c", date(2026, 11, 8), "join"),  # not activity
        *on("c", date(2026, 11, 10)),  # week 11-09
        *on("a", date(2026, 11, 19)),  # Thursday of week 11-16
        *on("b", date(2026, 11, 24), n=2),  # week 11-23
        *on("c", date(2026, 11, 25)),
    ]


def test_activity_series_by_day(org_a):
    community = build(org_a, created=date(2026, 9, 1), events=series_log)
    points = activity_series(
        communities=[community], start=date(2026, 11, 7), end=date(2026, 11, 10), interval="day"
    )
    assert points == [
        ActivityPoint(date(2026, 11, 7), 0, 0),
        ActivityPoint(date(2026, 11, 8), 1, 1),
        ActivityPoint(date(2026, 11, 9), 0, 0),
        ActivityPoint(date(2026, 11, 10), 1, 1),
    ]


def test_activity_series_by_week(org_a):
    community = build(org_a, created=date(2026, 9, 1), events=series_log)
    points = activity_series(
        communities=[community], start=date(2026, 11, 2), end=TODAY, interval="week"
    )
    # Whole weeks: the members active in that week. The current, partial week: the WAU
    # at its last day in range (Nov 19–25: a, b, c).
    assert points == [
        ActivityPoint(date(2026, 11, 2), 4, 2),
        ActivityPoint(date(2026, 11, 9), 1, 1),
        ActivityPoint(date(2026, 11, 16), 1, 1),
        ActivityPoint(date(2026, 11, 23), 3, 3),
    ]


def test_activity_series_by_week_starting_mid_week(org_a):
    community = build(org_a, created=date(2026, 9, 1), events=series_log)
    points = activity_series(
        communities=[community], start=date(2026, 11, 4), end=date(2026, 11, 15), interval="week"
    )
    # The first period is keyed by its Monday and holds only the days in range (4–8).
    assert points == [
        ActivityPoint(date(2026, 11, 2), 1, 2),
        ActivityPoint(date(2026, 11, 9), 1, 1),
    ]


def test_activity_series_by_month(org_a):
    community = build(org_a, created=date(2026, 9, 1), events=series_log)
    points = activity_series(
        communities=[community], start=date(2026, 9, 1), end=TODAY, interval="month"
    )
    # A month's active members: its MAU at its last day in range, i.e. the 30 days to it.
    # October 31: Oct 2–31 → b only (a on Oct 1 is out). November 25: Oct 27–Nov 25.
    assert points == [
        ActivityPoint(date(2026, 9, 1), 0, 0),
        ActivityPoint(date(2026, 10, 1), 3, 1),
        ActivityPoint(date(2026, 11, 1), 9, 3),
    ]
