"""Property tests: random activity → ingest → rollups, checked against docs/metrics.md taken
literally and computed in plain Python from the raw events.

Each example gets a fresh community (the database transaction is shared by all the
examples of a test), and ``Community.local_today`` is frozen at ``TODAY``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import MEMBERSHIP_KINDS, ActivityKind, EventSource
from analytics.metrics import LIFECYCLE_GROUPS
from analytics.models import CommunityDay, CommunityWeek
from analytics.rollups import monday, rollups_refresh_touched
from analytics.views.community import drilldown_memberships
from communities.models import Community
from tests.analytics.scenarios import TODAY
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

DAYS = 70  # the last 10 weeks

ZONES = ["Asia/Shanghai", "America/Los_Angeles", "UTC"]

raw_event = st.tuples(
    st.integers(min_value=0, max_value=7),  # member
    st.integers(min_value=0, max_value=DAYS - 1),  # days ago
    st.integers(min_value=0, max_value=23),  # local hour
    st.sampled_from(ActivityKind.values),  # every kind, joins and leaves included
)


def build(zone: str, raw: list[tuple[int, int, int, str]]):
    """A fresh community with ``raw`` ingested and rolled up; the events as sent."""
    tz = ZoneInfo(zone)
    community = CommunityFactory(time_zone=zone)
    Community.objects.filter(pk=community.pk).update(created_on=TODAY - timedelta(days=DAYS - 1))
    community.refresh_from_db()
    events = [
        IncomingEvent(
            external_id=f"e{index}",
            kind=kind,
            # A distinct second per event: no two membership events share an instant.
            occurred_at=datetime.combine(
                TODAY - timedelta(days=ago), time(hour, index // 60, index % 60), tz
            ),
            member_key=f"m{member}",
            member_name=f"m{member}",
        )
        for index, (member, ago, hour, kind) in enumerate(raw)
    ]
    ingest_events(community=community, source=EventSource.IMPORT, events=events)
    rollups_refresh_touched()
    return community, events


def active_days(events, tz: ZoneInfo) -> dict[str, set[date]]:
    days: dict[str, set[date]] = defaultdict(set)
    for e in events:
        if e.kind not in MEMBERSHIP_KINDS:
            days[e.member_key].add(e.occurred_at.astimezone(tz).date())
    return days


def expected_lifecycle(events, tz: ZoneInfo, week: date) -> dict[str, int]:
    """docs/metrics.md, member lifecycle per week P, word for word."""
    weeks = {m: {monday(d) for d in days} for m, days in active_days(events, tz).items()}
    previous = week - timedelta(weeks=1)
    new = returning = resurrecting = dormant = active = 0
    for active_weeks in weeks.values():
        in_p, in_prev = week in active_weeks, previous in active_weeks
        active += in_p
        new += min(active_weeks) == week
        returning += in_p and in_prev
        resurrecting += in_p and not in_prev and any(w < previous for w in active_weeks)
        dormant += in_prev and not in_p
    return {
        "active": active,
        "new": new,
        "returning": returning,
        "resurrecting": resurrecting,
        "dormant": dormant,
    }


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(zone=st.sampled_from(ZONES), raw=st.lists(raw_event, min_size=1, max_size=60))
def test_lifecycle_invariants_and_definition(frozen_today, zone, raw):
    community, events = build(zone, raw)
    tz = ZoneInfo(zone)
    rows = {
        r["week"]: r
        for r in CommunityWeek.objects.filter(community=community).values(
            "week", "active", "new", "returning", "resurrecting", "dormant"
        )
    }
    assert rows, "the refresh wrote no lifecycle weeks"
    assert max(rows) == monday(TODAY)
    for week, row in rows.items():
        assert row["active"] == row["new"] + row["returning"] + row["resurrecting"]
        before = rows.get(week - timedelta(weeks=1), {"active": 0})
        assert row["dormant"] == before["active"] - row["returning"]
        assert {k: v for k, v in row.items() if k != "week"} == expected_lifecycle(
            events, tz, week
        ), week


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(zone=st.sampled_from(ZONES), raw=st.lists(raw_event, min_size=1, max_size=60))
def test_last_day_figures_match_the_raw_events(frozen_today, zone, raw):
    community, events = build(zone, raw)
    tz = ZoneInfo(zone)
    days = active_days(events, tz)
    week = {TODAY - timedelta(days=n) for n in range(7)}
    month = {TODAY - timedelta(days=n) for n in range(30)}
    # Members at a day: the latest join / leave / removal decides; anyone seen is a
    # member from their first event on.
    latest: dict[str, str] = {}
    for e in sorted(events, key=lambda e: e.occurred_at):
        if e.kind in MEMBERSHIP_KINDS:
            latest[e.member_key] = e.kind
    seen = {e.member_key for e in events}
    present = {m for m in seen if latest.get(m, ActivityKind.JOIN) == ActivityKind.JOIN}
    today_events = sum(
        1
        for e in events
        if e.kind not in MEMBERSHIP_KINDS and e.occurred_at.astimezone(tz).date() == TODAY
    )

    row = CommunityDay.objects.get(community=community, day=TODAY)
    assert row.dau == sum(TODAY in d for d in days.values())
    assert row.wau == sum(bool(d & week) for d in days.values())
    assert row.mau == sum(bool(d & month) for d in days.values())
    assert row.mainstream == sum(len(d & month) >= 4 for d in days.values())
    assert row.events == today_events
    assert row.members == len(present)


def expected_lifecycle_members(events, tz: ZoneInfo, week: date) -> dict[str, set[str]]:
    """docs/metrics.md again, word for word, as the members of each group."""
    weeks = {m: {monday(d) for d in days} for m, days in active_days(events, tz).items()}
    previous = week - timedelta(weeks=1)
    groups: dict[str, set[str]] = {g: set() for g in LIFECYCLE_GROUPS}
    for member, active_weeks in weeks.items():
        in_p, in_prev = week in active_weeks, previous in active_weeks
        if min(active_weeks) == week:
            groups["new"].add(member)
        if in_p and in_prev:
            groups["returning"].add(member)
        if in_p and not in_prev and any(w < previous for w in active_weeks):
            groups["resurrecting"].add(member)
        if in_prev and not in_p:
            groups["dormant"].add(member)
    return groups


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(zone=st.sampled_from(ZONES), raw=st.lists(raw_event, min_size=1, max_size=60))
def test_lifecycle_drilldown_lists_the_members_the_rollup_counts(frozen_today, zone, raw):
    """The lifecycle bars and the members listed behind them share one definition."""
    community, events = build(zone, raw)
    tz = ZoneInfo(zone)
    for row in CommunityWeek.objects.filter(community=community):
        expected = expected_lifecycle_members(events, tz, row.week)
        for group in LIFECYCLE_GROUPS:
            listed = drilldown_memberships(community=community, week=row.week, group=group)
            names = {membership.member.display_name for membership in listed}
            assert names == expected[group], (row.week, group)
            assert len(listed) == getattr(row, group), (row.week, group)
