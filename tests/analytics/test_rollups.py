"""Rollups (analytics.rollups) on hand-built event logs, docs/architecture.md §2 step 2 and §4.

Time is frozen: ``Community.local_today`` is patched to ``TODAY`` (a Wednesday), so
every expected number below can be checked by hand from the events listed beside it.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import EventSource, TouchedDay
from analytics import rollups
from analytics.models import (
    CohortWeek,
    CommunityDay,
    CommunityPulse,
    CommunityWeek,
    MemberDay,
    TierDay,
)
from analytics.rollups import (
    monday,
    rollups_refresh,
    rollups_refresh_all,
    rollups_refresh_touched,
)
from members.models import Member, Membership, MembershipStatus
from tests.analytics.scenarios import TODAY, ago, at, event, make_community

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def ingest(community, events) -> None:
    ingest_events(community=community, source=EventSource.IMPORT, events=list(events))


def member_id(community, key: str) -> int:
    return Member.objects.get(organization=community.organization, handles__external_id=key).pk


def rows(model, community, *exclude) -> list[dict]:
    fields = [
        f.attname
        for f in model._meta.concrete_fields
        if f.attname not in {"id", "community_id", *exclude}
    ]
    return list(model.objects.filter(community=community).order_by(*fields).values(*fields))


def snapshot(community) -> dict[str, list[dict]]:
    return {
        "member_day": rows(MemberDay, community),
        "community_day": rows(CommunityDay, community),
        "community_week": rows(CommunityWeek, community),
        "cohort_week": rows(CohortWeek, community),
        "tier_day": rows(TierDay, community),
        "pulse": rows(CommunityPulse, community, "refreshed_at"),
    }


def refresh_days(community, first: date, last: date = TODAY):
    return rollups_refresh(
        community=community,
        days=[first + timedelta(days=n) for n in range((last - first).days + 1)],
    )


# --- MemberDay ------------------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/Los_Angeles"])
def test_member_day_counts_by_kind_and_local_day(org_a, tz):
    community = make_community(org_a, created=ago(30), time_zone=tz)
    ingest(
        community,
        [
            event(community, "a", ago(3), "join", hour=8),
            event(community, "a", ago(3), "reaction", hour=9),
            event(community, "a", ago(3), "reply", hour=10),
            event(community, "a", ago(3), "message", hour=23, minute=30),
            # 00:30 the next local day: a different day, though one hour later.
            event(community, "a", ago(2), "check_in", hour=0, minute=30),
            event(community, "a", ago(2), "post", hour=1),
            event(community, "a", ago(2), "attend", hour=2),
            event(community, "a", ago(2), "message", hour=2),
            event(community, "a", ago(1), "leave", hour=12),
            event(community, "b", ago(2), "join", hour=12),  # joined, never active
        ],
    )
    rollups_refresh_touched()

    a = member_id(community, "a")
    zero = dict(messages=0, replies=0, reactions=0, check_ins=0, posts=0, attends=0)
    assert rows(MemberDay, community) == [
        {"member_id": a, "day": ago(3), "events": 3, **zero, "messages": 1, "replies": 1,
         "reactions": 1},
        {"member_id": a, "day": ago(2), "events": 4, **zero, "messages": 1, "check_ins": 1,
         "posts": 1, "attends": 1},
    ]  # fmt: skip


# --- CommunityDay -----------------------------------------------------------------------------

# Days (ago) each member was active; A has two events today, everyone else one a day.
ACTIVE_DAYS = {"A": [0, 0, 1, 2, 3], "B": [5, 10, 20, 29], "C": [6, 35], "D": [7, 30]}


@pytest.fixture
def four_members(org_a):
    """A: 4 days (0–3). B: 4 days spread over the 30-day window. C: 6 and 35 days ago.
    D: 7 and 30 days ago (just outside the 7- and the 30-day windows of today).
    E joins today; F joined 10 days ago and leaves today."""
    community = make_community(org_a, created=ago(40))
    events = [
        event(community, key, ago(n), hour=10 + i)
        for key, days in ACTIVE_DAYS.items()
        for i, n in enumerate(days)
    ]
    events += [
        event(community, "E", ago(0), "join", hour=9),
        event(community, "F", ago(10), "join", hour=9),
        event(community, "F", ago(0), "leave", hour=9),
    ]
    ingest(community, events)
    rollups_refresh_all()
    return community


def community_day(community, day: date) -> dict:
    return (
        CommunityDay.objects.filter(community=community, day=day)
        .values("events", "dau", "wau", "mau", "mainstream", "joins", "leaves", "members")
        .get()
    )


def test_community_day_today(four_members):
    # DAU: A. WAU (days 0–6): A, B (5), C (6). MAU (days 0–29): A, B, C, D (7).
    # Mainstream (≥ 4 days of 0–29): A (0–3) and B (5, 10, 20, 29).
    # Members: A (joined 3 days ago), B, C, D, E; F left today.
    assert community_day(four_members, TODAY) == {
        "events": 2, "dau": 1, "wau": 3, "mau": 4, "mainstream": 2,
        "joins": 1, "leaves": 1, "members": 5,
    }  # fmt: skip


def test_community_day_in_the_past(four_members):
    # 7 days ago: DAU D. WAU (7–13): B (10), D (7). MAU (7–36): B, C (35), D (7, 30).
    # B has only 3 days (10, 20, 29) in 7–36. Members: B (29), C (35), D (30), F (10).
    assert community_day(four_members, ago(7)) == {
        "events": 1, "dau": 1, "wau": 2, "mau": 3, "mainstream": 0,
        "joins": 0, "leaves": 0, "members": 4,
    }  # fmt: skip
    # 10 days ago F joined; 30 days ago D was first seen (its membership starts then).
    assert community_day(four_members, ago(10))["joins"] == 1
    assert community_day(four_members, ago(30))["joins"] == 1
    assert community_day(four_members, ago(30))["members"] == 2  # C, D


@pytest.mark.parametrize(("threshold", "expected"), [(1, 4), (2, 2), (4, 2), (5, 0)])
def test_mainstream_threshold_is_configurable(four_members, settings, threshold, expected):
    # Distinct active days in the 30 days to today: A 4, B 4, C 1 (6), D 1 (7).
    settings.ANALYTICS_MAINSTREAM_MIN_DAYS = threshold
    refresh_days(four_members, ago(40))
    assert community_day(four_members, TODAY)["mainstream"] == expected


def test_every_day_from_creation_to_today_has_a_row(four_members):
    days = list(CommunityDay.objects.filter(community=four_members).values_list("day", flat=True))
    assert days == [ago(n) for n in range(40, -1, -1)]


WAU_CASES = {
    # y: 10 days ago (F − 7) and 5 days ago (inside F's window); z: F.
    "also-active-inside-the-window": ({"y": [10, 5], "z": [3]}, {3: 2, 2: 2, 1: 2, 0: 2}),
    # x: only F − 7, outside every window from F on.
    "only-the-day-before-the-window": ({"x": [10], "z": [3]}, {3: 1, 2: 1, 1: 1, 0: 1}),
}


@pytest.mark.parametrize(("log", "wau"), WAU_CASES.values(), ids=WAU_CASES.keys())
def test_incremental_refresh_keeps_wau_right_from_its_first_day(org_a, log, wau):
    """A refresh starting at day F (3 days ago) must give the WAU a full refresh gives."""
    community = make_community(org_a, created=ago(30))
    ingest(community, [event(community, key, ago(n)) for key, days in log.items() for n in days])
    rollups_refresh_all()
    full = {r["day"]: r["wau"] for r in rows(CommunityDay, community)}
    assert {n: full[ago(n)] for n in wau} == wau

    rollups_refresh(community=community, days=[ago(3)])
    incremental = {r["day"]: r["wau"] for r in rows(CommunityDay, community)}
    assert {n: incremental[ago(n)] for n in wau} == wau
    assert incremental == full


# --- Idempotence ----------------------------------------------------------------------------


def test_refresh_twice_gives_identical_rows(four_members):
    before = snapshot(four_members)
    assert all(before.values())
    refresh_days(four_members, ago(40))
    rollups_refresh_all()
    assert snapshot(four_members) == before


# --- Touched days ---------------------------------------------------------------------------


def test_refresh_touched_drains_the_marks_of_exactly_the_touched_communities(org_a, monkeypatch):
    one = make_community(org_a, created=ago(20))
    two = make_community(org_a, created=ago(20))
    untouched = make_community(org_a, created=ago(20))
    ingest(one, [event(one, "a", ago(2), hour=23, minute=30), event(one, "a", ago(1), hour=0)])
    ingest(two, [event(two, "b", ago(5), "join"), event(two, "b", ago(4))])
    marks = set(TouchedDay.objects.values_list("community_id", "day"))
    assert marks == {(one.pk, ago(2)), (one.pk, ago(1)), (two.pk, ago(5)), (two.pk, ago(4))}

    calls = []
    original = rollups.rollups_refresh

    def spy(*, community, days):
        calls.append((community.pk, sorted(days)))
        return original(community=community, days=days)

    monkeypatch.setattr(rollups, "rollups_refresh", spy)
    results = rollups_refresh_touched()

    assert sorted(calls) == sorted([(one.pk, [ago(2), ago(1)]), (two.pk, [ago(5), ago(4)])])
    assert sorted((r.community_id, r.days) for r in results) == sorted([(one.pk, 2), (two.pk, 2)])
    assert not TouchedDay.objects.exists()
    assert CommunityDay.objects.filter(community=one).exists()
    assert CommunityDay.objects.filter(community=two).exists()
    assert not CommunityDay.objects.filter(community=untouched).exists()
    assert rollups_refresh_touched() == []  # nothing left to do


def test_an_ingest_that_lands_mid_refresh_is_picked_up_by_the_next_run(org_a, monkeypatch):
    community = make_community(org_a, created=ago(20))
    ingest(community, [event(community, "a", ago(1))])
    original = rollups.rollups_refresh

    def refresh_then_ingest(*, community, days):
        result = original(community=community, days=days)
        # Arrives after the refresh read the events, before the marks are deleted.
        ingest(community, [event(community, "b", ago(1))])
        return result

    monkeypatch.setattr(rollups, "rollups_refresh", refresh_then_ingest)
    rollups_refresh_touched()
    monkeypatch.setattr(rollups, "rollups_refresh", original)
    rollups_refresh_touched()

    assert CommunityDay.objects.get(community=community, day=ago(1)).dau == 2


# --- Incremental equals full ------------------------------------------------------------------


def random_log(community, seed: int, first: int, last: int) -> list[IncomingEvent]:
    """Dense, seeded activity of 6 members on the days ``first``…``last`` ago."""
    rng = random.Random(seed)
    kinds = ["message", "message", "reply", "reaction", "check_in", "post", "attend"]
    events = []
    for n in range(first, last - 1, -1):
        for key in "pqrstu":
            if rng.random() < 0.45:
                events.append(event(community, key, ago(n), rng.choice(kinds), rng.randrange(24)))
        if rng.random() < 0.1:
            events.append(event(community, rng.choice("vw"), ago(n), "join", rng.randrange(24)))
        if rng.random() < 0.05:
            events.append(event(community, rng.choice("pq"), ago(n), "leave", 23, 59))
    return events


def test_incremental_refreshes_equal_one_full_refresh(org_a):
    community = make_community(org_a, created=ago(70))
    # Middle period, then a backfill of older history, then the recent days.
    for first, last in [(45, 25), (70, 46), (24, 0)]:
        ingest(community, random_log(community, seed=first, first=first, last=last))
        rollups_refresh_touched()
    incremental = snapshot(community)

    CommunityDay.objects.filter(community=community).delete()
    CommunityWeek.objects.filter(community=community).delete()
    CohortWeek.objects.filter(community=community).delete()
    MemberDay.objects.filter(community=community).delete()
    rollups_refresh_all()
    full = snapshot(community)

    assert full["community_week"] == incremental["community_week"]
    assert full["cohort_week"] == incremental["cohort_week"]
    assert full["member_day"] == incremental["member_day"]
    assert full["community_day"] == incremental["community_day"]


# --- Tiers and pulse --------------------------------------------------------------------------


def test_tier_snapshot_counts_present_members_per_tier(org_a):
    community = make_community(org_a, created=ago(20))
    ingest(
        community,
        [event(community, key, ago(3)) for key in "abcde"]
        + [event(community, "e", ago(1), "leave")],
    )
    ladder = list(community.tiers.order_by("rank"))
    assert len(ladder) >= 3
    Membership.objects.filter(community=community, member_id=member_id(community, "a")).update(
        tier=ladder[2]
    )
    Membership.objects.filter(community=community, member_id=member_id(community, "b")).update(
        tier=ladder[1], status=MembershipStatus.LURKER
    )
    rollups_refresh_touched()

    expected = [(t.rank, t.name, 0) for t in ladder]
    expected[0] = (ladder[0].rank, ladder[0].name, 2)  # c, d (e left)
    expected[1] = (ladder[1].rank, ladder[1].name, 1)  # b, a lurker is present
    expected[2] = (ladder[2].rank, ladder[2].name, 1)  # a
    assert (
        list(
            TierDay.objects.filter(community=community)
            .order_by("rank")
            .values_list("rank", "name", "members")
        )
        == expected
    )
    assert set(TierDay.objects.filter(community=community).values_list("day", flat=True)) == {TODAY}


def test_pulse_first_and_last_activity_ignore_membership_events(org_a):
    community = make_community(org_a, created=ago(40))
    ingest(
        community,
        [
            event(community, "a", ago(5), "join", hour=8),  # earlier, but not activity
            event(community, "a", ago(4), "message", hour=9),
            event(community, "b", ago(1), "reaction", hour=22),
            event(community, "a", ago(0), "leave", hour=10),  # later, not activity
        ],
    )
    rollups_refresh_touched()
    pulse = CommunityPulse.objects.get(community=community)
    assert pulse.first_activity_at == at(community, ago(4), 9)
    assert pulse.last_activity_at == at(community, ago(1), 22)


def test_pulse_counts_members_activated_in_the_first_30_days(org_a):
    # Created 40 days ago: the first 30 days are 40…11 days ago.
    community = make_community(org_a, created=ago(40))
    ingest(
        community,
        [event(community, "x", ago(n)) for n in (40, 30, 20, 11)]  # 4 days: activated
        + [event(community, "y", ago(n)) for n in (39, 38, 37, 10, 9)]  # 3 days inside
        + [event(community, "z", ago(n)) for n in (12, 12, 11, 11, 10)]  # 2 days inside
        + [event(community, "w", ago(n)) for n in (25, 24, 23, 22)]  # 4 days: activated
        # 23:30 on the last day of the first month is still inside (local days) …
        + [event(community, "v", ago(n), hour=23, minute=30) for n in (14, 13, 12, 11)]
        # … and 07:00 on the day after is outside, though in UTC it is the day before.
        + [event(community, "u", ago(n), hour=7) for n in (13, 12, 11, 10)],
    )
    rollups_refresh_touched()
    assert CommunityPulse.objects.get(community=community).activated_members == 3


def test_pulse_of_a_community_without_activity(org_a):
    community = make_community(org_a, created=ago(3))
    refresh_days(community, ago(3))
    pulse = CommunityPulse.objects.get(community=community)
    assert (pulse.first_activity_at, pulse.last_activity_at, pulse.activated_members) == (
        None,
        None,
        0,
    )


def test_weeks_are_iso_weeks_in_the_community_zone(org_a):
    community = make_community(org_a, created=ago(20))
    sunday = monday(TODAY) - timedelta(days=1)
    ingest(
        community,
        [
            event(community, "a", sunday, hour=23, minute=30),
            event(community, "b", monday(TODAY), hour=0, minute=30),
        ],
    )
    rollups_refresh_touched()
    weeks = {
        r["week"]: (r["active"], r["new"], r["dormant"]) for r in rows(CommunityWeek, community)
    }
    assert weeks[monday(sunday)] == (1, 1, 0)
    assert weeks[monday(TODAY)] == (1, 1, 1)
