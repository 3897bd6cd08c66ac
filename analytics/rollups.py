"""Refreshing the rollups from the event log (docs/architecture.md §2 step 2, §4 definitions).

``rollups_refresh(community=…, days=…)`` rebuilds what the given local days can change:
their ``MemberDay`` rows, the ``CommunityDay`` rows whose 30-day windows include them,
the lifecycle weeks from theirs to the week after, the cohorts of the last 13 weeks
before them, first-month activation and the last activity. Everything is written by
delete-and-insert of whole (community, range) slices inside one transaction holding the
community's row lock, so two refreshes of the same community run one after the other
and a refresh run twice leaves the same rows: the effect of an upsert, without
per-row conflict handling.

``rollups_refresh_touched()`` (Celery, after each ingest) drains ``TouchedDay`` marks;
``rollups_refresh_all()`` (nightly) refreshes every day of every community.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from activities.models import ACTIVITY_KINDS, ActivityEvent, ActivityKind, TouchedDay
from analytics.metrics import COHORT_WEEKS, lifecycle_split, monday
from analytics.models import (
    CohortWeek,
    CommunityDay,
    CommunityPulse,
    CommunityWeek,
    MemberDay,
    TierDay,
)
from communities.models import Community
from members.models import PRESENT_STATUSES, Membership, MembershipStatus, TierChange

_KIND_FIELD = {
    ActivityKind.MESSAGE: "messages",
    ActivityKind.REPLY: "replies",
    ActivityKind.REACTION: "reactions",
    ActivityKind.CHECK_IN: "check_ins",
    ActivityKind.POST: "posts",
    ActivityKind.ATTEND: "attends",
}


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants that start ``first`` and end ``last`` in ``tz``."""
    start = datetime.combine(first, time.min, tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tz).astimezone(UTC)
    return start, end


def _spans(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted days → inclusive runs of consecutive days."""
    spans: list[list[date]] = []
    for day in sorted(set(days)):
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return [(first, last) for first, last in spans]


@dataclass(frozen=True)
class RefreshResult:
    community_id: int
    days: int
    member_days: int


def rollups_refresh(*, community: Community, days: Iterable[date]) -> RefreshResult:
    days = sorted(set(days))
    if not days:
        return RefreshResult(community.pk, 0, 0)
    tz = ZoneInfo(community.time_zone)
    today = community.local_today()
    with transaction.atomic():
        # One refresh of a community at a time (PostgreSQL row lock; SQLite serialises
        # writers anyway).
        Community.objects.select_for_update().filter(pk=community.pk).first()
        member_days = sum(
            _refresh_member_days(community, first, last, tz) for first, last in _spans(days)
        )
        _refresh_community_days(
            community,
            days[0],
            min(max(days[-1] + timedelta(days=29), today), today) if days[0] <= today else days[-1],
        )
        _refresh_weeks(community, monday(days[0]), monday(max(days[-1], today)))
        _refresh_cohorts(community, monday(days[0]) - timedelta(weeks=COHORT_WEEKS), monday(today))
        _refresh_pulse(community, tz)
        _snapshot_tiers(community, today)
    return RefreshResult(community.pk, len(days), member_days)


# --- MemberDay --------------------------------------------------------------------------


def _refresh_member_days(community: Community, first: date, last: date, tz: ZoneInfo) -> int:
    start, end = day_bounds(first, last, tz)
    counts = (
        ActivityEvent.objects.filter(
            community=community,
            occurred_at__gte=start,
            occurred_at__lt=end,
            kind__in=ACTIVITY_KINDS,
        )
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values_list("member_id", "day", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows: dict[tuple[int, date], MemberDay] = {}
    for member_id, day, kind, n in counts:
        row = rows.get((member_id, day))
        if row is None:
            row = rows[(member_id, day)] = MemberDay(
                community=community, member_id=member_id, day=day
            )
        setattr(row, _KIND_FIELD[kind], getattr(row, _KIND_FIELD[kind]) + n)
        row.events += n
    MemberDay.objects.filter(community=community, day__gte=first, day__lte=last).delete()
    MemberDay.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)


# --- CommunityDay -----------------------------------------------------------------------


def _refresh_community_days(community: Community, first: date, last: date) -> None:
    """Rebuild the day rows ``first``…``last``; the windows reach 29 days further back.

    Sliding windows: each day adds its active members to the 7- and 30-day counters
    and drops the day that left the window, so a year costs a pass over its member-days.
    """
    if last < first:
        return
    if (last - first).days < SQL_WINDOW_DAYS:
        _refresh_few_community_days(community, first, last)
        return
    window_start = first - timedelta(days=29)
    active: dict[date, list[int]] = defaultdict(list)
    events: dict[date, int] = defaultdict(int)
    for member_id, day, n in MemberDay.objects.filter(
        community=community, day__gte=window_start, day__lte=last
    ).values_list("member_id", "day", "events"):
        active[day].append(member_id)
        events[day] += n
    joins: dict[date, int] = defaultdict(int)
    leaves: dict[date, int] = defaultdict(int)
    present = 0  # members at the end of the day before ``first``
    for joined, left in (
        Membership.objects.filter(community=community)
        .exclude(status="applicant")
        .values_list("joined_on", "left_on")
    ):
        joins[joined] += 1
        if left is not None:
            leaves[left] += 1
        if joined < first and (left is None or left >= first):
            present += 1
    threshold = settings.ANALYTICS_MAINSTREAM_MIN_DAYS
    in_30: dict[int, int] = defaultdict(int)  # member → active days in the 30-day window
    in_7: dict[int, int] = defaultdict(int)
    mainstream = 0

    def add(counter, member_id, step):
        counter[member_id] += step
        if counter[member_id] == 0:
            del counter[member_id]

    # Fill the windows with the 29 days before ``first``.
    day = window_start
    while day < first:
        for member_id in active.get(day, ()):
            add(in_30, member_id, 1)
            if in_30[member_id] == threshold:
                mainstream += 1
            if day >= first - timedelta(days=7):  # the 7 days that day F drops one of
                add(in_7, member_id, 1)
        day += timedelta(days=1)
    rows = []
    while day <= last:
        for member_id in active.get(day, ()):
            add(in_30, member_id, 1)
            if in_30[member_id] == threshold:
                mainstream += 1
            add(in_7, member_id, 1)
        gone_30, gone_7 = day - timedelta(days=30), day - timedelta(days=7)
        for member_id in active.get(gone_30, ()):
            if in_30[member_id] == threshold:
                mainstream -= 1
            add(in_30, member_id, -1)
        for member_id in active.get(gone_7, ()):
            add(in_7, member_id, -1)
        present += joins.get(day, 0) - leaves.get(day, 0)
        rows.append(
            CommunityDay(
                community=community,
                day=day,
                events=events.get(day, 0),
                dau=len(active.get(day, ())),
                wau=len(in_7),
                mau=len(in_30),
                mainstream=mainstream,
                joins=joins.get(day, 0),
                leaves=leaves.get(day, 0),
                members=present,
            )
        )
        day += timedelta(days=1)
    CommunityDay.objects.filter(community=community, day__gte=first, day__lte=last).delete()
    CommunityDay.objects.bulk_create(rows, batch_size=1000)


# Up to this many days (the incremental case: today, perhaps yesterday) the database
# counts the windows; a longer range is cheaper as one pass in Python.
SQL_WINDOW_DAYS = 3


def _refresh_few_community_days(community: Community, first: date, last: date) -> None:
    """The same rows as the sliding windows, counted by the database day by day: for a
    day or two this reads counts, not the 30 days of member-days of a big community."""
    memberships = Membership.objects.filter(community=community).exclude(status="applicant")
    threshold = settings.ANALYTICS_MAINSTREAM_MIN_DAYS
    rows = []
    day = first
    while day <= last:
        member_days = MemberDay.objects.filter(community=community)
        today = member_days.filter(day=day).aggregate(dau=Count("id"), events=Sum("events"))
        month = member_days.filter(day__gt=day - timedelta(days=30), day__lte=day)
        rows.append(
            CommunityDay(
                community=community,
                day=day,
                events=today["events"] or 0,
                dau=today["dau"],
                wau=month.filter(day__gt=day - timedelta(days=7))
                .values("member_id")
                .distinct()
                .count(),
                mau=month.values("member_id").distinct().count(),
                mainstream=month.values("member_id")
                .annotate(days=Count("id"))
                .filter(days__gte=threshold)
                .count(),
                joins=memberships.filter(joined_on=day).count(),
                leaves=memberships.filter(left_on=day).count(),
                members=memberships.filter(joined_on__lte=day).exclude(left_on__lte=day).count(),
            )
        )
        day += timedelta(days=1)
    CommunityDay.objects.filter(community=community, day__gte=first, day__lte=last).delete()
    CommunityDay.objects.bulk_create(rows)


# --- Weeks: lifecycle and cohorts --------------------------------------------------------


def _active_weeks(community: Community, first_week: date, last_week: date) -> dict[date, set[int]]:
    weeks: dict[date, set[int]] = defaultdict(set)
    for member_id, day in MemberDay.objects.filter(
        community=community, day__gte=first_week, day__lt=last_week + timedelta(days=7)
    ).values_list("member_id", "day"):
        weeks[monday(day)].add(member_id)
    return weeks


def _refresh_weeks(community: Community, first_week: date, last_week: date) -> None:
    """Lifecycle of the weeks ``first_week``…``last_week`` (and the week after the
    first changes dormant, so callers pass the range up to the current week).

    The groups are ``metrics.LIFECYCLE_RULES``. Only the members active in P but not in
    P−1 (*new* or *resurrecting*) need their earlier history: one query per week asks which
    of those few had any activity before P−1, instead of reading everyone's history."""
    weeks = _active_weeks(community, first_week - timedelta(weeks=1), last_week)
    rows = []
    week = first_week
    while week <= last_week:
        now_active = weeks.get(week, set())
        before = weeks.get(week - timedelta(weeks=1), set())
        candidates = sorted(now_active - before)
        earlier: set[int] = set()
        for start in range(0, len(candidates), 1000):
            earlier.update(
                MemberDay.objects.filter(
                    community=community,
                    member_id__in=candidates[start : start + 1000],
                    day__lt=week - timedelta(weeks=1),
                )
                .values_list("member_id", flat=True)
                .distinct()
            )
        groups = lifecycle_split(in_week=now_active, in_previous=before, before_previous=earlier)
        rows.append(
            CommunityWeek(
                community=community,
                week=week,
                active=len(now_active),
                **{group: len(members) for group, members in groups.items()},
            )
        )
        week += timedelta(weeks=1)
    CommunityWeek.objects.filter(
        community=community, week__gte=first_week, week__lte=last_week
    ).delete()
    CommunityWeek.objects.bulk_create(rows, batch_size=1000)


def _refresh_cohorts(community: Community, first_cohort: date, last_week: date) -> None:
    """Cohorts from ``first_cohort`` (a Monday) to ``last_week``, offsets 0…12 that have
    begun by ``last_week``."""
    cohorts: dict[date, set[int]] = defaultdict(set)
    for member_id, joined in (
        Membership.objects.filter(community=community, joined_on__gte=first_cohort)
        .exclude(status="applicant")
        .values_list("member_id", "joined_on")
    ):
        cohorts[monday(joined)].add(member_id)
    # Only the cohorts' members' days: a fraction of everyone's.
    weeks: dict[date, set[int]] = defaultdict(set)
    members_all = sorted(set().union(*cohorts.values())) if cohorts else []
    for start in range(0, len(members_all), 1000):
        for member_id, day in MemberDay.objects.filter(
            community=community,
            member_id__in=members_all[start : start + 1000],
            day__gte=first_cohort,
            day__lt=last_week + timedelta(days=7),
        ).values_list("member_id", "day"):
            weeks[monday(day)].add(member_id)
    rows = []
    for cohort, members in cohorts.items():
        for offset in range(COHORT_WEEKS + 1):
            week = cohort + timedelta(weeks=offset)
            if week > last_week:
                break
            rows.append(
                CohortWeek(
                    community=community,
                    cohort=cohort,
                    offset=offset,
                    size=len(members),
                    retained=len(members & weeks.get(week, set())),
                )
            )
    CohortWeek.objects.filter(community=community, cohort__gte=first_cohort).delete()
    CohortWeek.objects.bulk_create(rows, batch_size=1000)


# --- Pulse and tiers ---------------------------------------------------------------------


def _refresh_pulse(community: Community, tz: ZoneInfo) -> None:
    bounds = ActivityEvent.objects.filter(community=community, kind__in=ACTIVITY_KINDS).aggregate(
        first=Min("occurred_at"), last=Max("occurred_at")
    )
    first, last = bounds["first"], bounds["last"]
    start = community.created_on
    threshold = settings.ANALYTICS_ACTIVATION_MIN_DAYS
    activated = (
        MemberDay.objects.filter(
            community=community, day__gte=start, day__lt=start + timedelta(days=30)
        )
        .values("member_id")
        .annotate(days=Count("id"))
        .filter(days__gte=threshold)
        .count()
    )
    CommunityPulse.objects.update_or_create(
        community=community,
        defaults={
            "first_activity_at": first,
            "last_activity_at": last,
            "activated_members": activated,
            "refreshed_at": timezone.now(),
        },
    )


def _snapshot_tiers(community: Community, today: date) -> None:
    counts = dict(
        Membership.objects.filter(community=community, status__in=PRESENT_STATUSES)
        .values_list("tier_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = [
        TierDay(
            community=community, day=today, rank=tier.rank, name=tier.name,
            members=counts.get(tier.pk, 0),
        )
        for tier in community.tiers.order_by("rank")
    ]  # fmt: skip
    TierDay.objects.filter(community=community, day=today).delete()
    TierDay.objects.bulk_create(rows)


def tier_days_backfill(*, community: Community) -> int:
    """Reconstruct the tier snapshots of the days before the first one; the rows written.

    Snapshots are taken from the day the rollups first ran, so a community that came
    with its past (the demo, members imported with their join dates) would chart its
    pyramid from that day only. Each past day counts the members of that day as every
    "members" figure does (joined on or before it, not left by then, never applicants),
    each on the tier that their last ``TierChange`` up to the day's end (in the community's
    time zone) gave them: before their first change, the tier it started from; after
    their last, their tier now. Days that already have a snapshot are left as taken."""
    tz = ZoneInfo(community.time_zone)
    first_snapshot = TierDay.objects.filter(community=community).aggregate(first=Min("day"))[
        "first"
    ]
    last = (first_snapshot or community.local_today()) - timedelta(days=1)
    memberships = list(
        Membership.objects.filter(community=community)
        .exclude(status=MembershipStatus.APPLICANT)
        .values_list("pk", "joined_on", "left_on", "tier_id")
    )
    if not memberships:
        return 0
    first = min(joined for _pk, joined, _left, _tier in memberships)
    if first > last:
        return 0
    changes: dict[int, list[tuple[date, int | None, int]]] = defaultdict(list)
    for membership_id, from_tier, to_tier, at in (
        TierChange.objects.filter(membership__community=community)
        .order_by("created_at", "pk")
        .values_list("membership_id", "from_tier_id", "to_tier_id", "created_at")
    ):
        changes[membership_id].append((at.astimezone(tz).date(), from_tier, to_tier))
    span = (last - first).days + 1
    steps: dict[int, list[int]] = defaultdict(lambda: [0] * (span + 1))

    def on_tier(tier_id: int | None, start: date, end: date) -> None:
        """The membership stood on ``tier_id`` at the end of ``start``…``end``."""
        start, end = max(start, first), min(end, last)
        if tier_id is None or start > end:
            return
        steps[tier_id][(start - first).days] += 1
        steps[tier_id][(end - first).days + 1] -= 1

    for pk, joined, left, tier_id in memberships:
        history = changes.get(pk, [])
        end = left - timedelta(days=1) if left else last
        current, since = (history[0][1] if history else tier_id), joined
        for day, _from_tier, to_tier in history:
            on_tier(current, since, min(day - timedelta(days=1), end))
            current, since = to_tier, max(day, joined)
        on_tier(tier_id, since, end)
    rows = []
    for tier in community.tiers.order_by("rank"):
        running = 0
        for offset, step in enumerate(steps.get(tier.pk, [0] * (span + 1))[:span]):
            running += step
            rows.append(
                TierDay(
                    community=community,
                    day=first + timedelta(days=offset),
                    rank=tier.rank,
                    name=tier.name,
                    members=running,
                )
            )
    with transaction.atomic():
        Community.objects.select_for_update().filter(pk=community.pk).first()
        TierDay.objects.filter(community=community, day__gte=first, day__lte=last).delete()
        TierDay.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


# --- Entry points -------------------------------------------------------------------------


def rollups_refresh_touched(*, community: Community | None = None) -> list[RefreshResult]:
    """Drain the (community, day) marks left by ingestion, one community at a time; with
    ``community``, only that community's marks (what an import just left: the
    ``activities.hooks`` step registered in ``analytics.apps``).

    A mark is deleted only if it was not touched again while its refresh ran, so an
    ingest that lands mid-refresh is picked up by the next run."""
    results = []
    marked = TouchedDay.objects.all()
    if community is not None:
        marked = marked.filter(community=community)
    community_ids = marked.values_list("community_id", flat=True).distinct()
    for each in Community.objects.filter(pk__in=list(community_ids)):
        marks = list(
            TouchedDay.objects.filter(community=each).values_list("pk", "day", "marked_at")
        )
        results.append(rollups_refresh(community=each, days=[day for _pk, day, _at in marks]))
        for pk, _day, marked_at in marks:
            TouchedDay.objects.filter(pk=pk, marked_at=marked_at).delete()
    return results


def rollups_refresh_all() -> list[RefreshResult]:
    """Every day of every community, from its first activity or creation to today."""
    results = []
    for community in Community.objects.all():
        first = ActivityEvent.objects.filter(community=community).aggregate(
            first=Min("occurred_at")
        )["first"]
        tz = ZoneInfo(community.time_zone)
        start = (
            min(community.created_on, first.astimezone(tz).date())
            if first
            else community.created_on
        )
        today = community.local_today()
        days = [start + timedelta(days=n) for n in range((today - start).days + 1)]
        results.append(rollups_refresh(community=community, days=days))
    return results
