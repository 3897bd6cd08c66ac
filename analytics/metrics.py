"""The metrics of docs/metrics.md as query units: typed input → typed result, rollups only.

Each function reads ``CommunityDay`` / ``CommunityWeek`` / ``CohortWeek`` / ``TierDay`` /
``CommunityPulse`` (never ``ActivityEvent``) in a fixed number of queries, whatever the
number of members or days. Action power reads the calendar's closed occurrences and
challenges instead (``activities.calendar``): a row per call to action. Figures for several
communities (a programme, the whole organisation) add the communities' figures: a person in
two groups counts in each — the unit is a membership, as operators count their groups'
members.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from activities.calendar.models import Challenge, ChallengeParticipant, Participation
from analytics.models import (
    CohortWeek,
    CommunityDay,
    CommunityPulse,
    CommunityWeek,
    MemberDay,
    TierDay,
)
from checklists.selectors.completion import ALERT_WINDOW_DAYS, WINDOW_DAYS, Completion
from checklists.selectors.completion import completion_last_days as _completion_last_days
from communities.models import Community

INTERVALS = ("day", "week", "month")
COHORT_WEEKS = 12  # offsets 0…12 of the cohorts of the last 12 weeks


def monday(day: date) -> date:
    """The first day of ``day``'s week (ISO weeks start on Monday)."""
    return day - timedelta(days=day.weekday())


def _ids(communities: Sequence[Community] | Sequence[int]) -> list[int]:
    return [c if isinstance(c, int) else c.pk for c in communities]


def month_start(day: date) -> date:
    return day.replace(day=1)


def period_start(day: date, interval: str) -> date:
    if interval == "week":
        return monday(day)
    if interval == "month":
        return month_start(day)
    return day


# --- Activity over time -------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityPoint:
    start: date  # first day of the period
    events: int
    active: int  # DAU (day); WAU at the week's last day (week); MAU at the month's (month)


def activity_series(
    *, communities: Sequence, start: date, end: date, interval: str = "day"
) -> list[ActivityPoint]:
    """Events and active members per day, week or month from ``start`` to ``end``.

    A week's active members are its WAU on its last day in range (for a whole ISO week:
    exactly those active in that week); a month's are its MAU on its last day in range
    (the 30 days to it)."""
    rows = CommunityDay.objects.filter(
        community_id__in=_ids(communities), day__gte=start, day__lte=end
    ).values_list("day", "events", "dau", "wau", "mau")
    events: dict[date, int] = defaultdict(int)
    last_day: dict[date, date] = {}
    active: dict[tuple[date, date], int] = defaultdict(int)
    for day, n, dau, wau, mau in rows:
        key = period_start(day, interval)
        events[key] += n
        last_day[key] = max(last_day.get(key, day), day)
        active[(key, day)] += {"day": dau, "week": wau, "month": mau}[interval]
    points = []
    key = period_start(start, interval)
    while key <= end:
        points.append(
            ActivityPoint(key, events.get(key, 0), active.get((key, last_day.get(key)), 0))
        )
        key = _next(key, interval)
    return points


def _next(key: date, interval: str) -> date:
    if interval == "week":
        return key + timedelta(weeks=1)
    if interval == "month":
        return (key.replace(day=28) + timedelta(days=4)).replace(day=1)
    return key + timedelta(days=1)


# --- Core indicators ------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicators:
    day: date
    members: int
    dau: int
    wau: int
    mau: int
    stickiness: float | None  # mean DAU over the 30 days / MAU
    interaction_frequency: float | None  # events per active member-day over the 30 days
    mainstream: int
    mainstream_share: float | None  # of the members at that day
    events_30: int


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def indicators(*, communities: Sequence, day: date) -> Indicators:
    ids = _ids(communities)
    window = CommunityDay.objects.filter(
        community_id__in=ids, day__gt=day - timedelta(days=30), day__lte=day
    ).aggregate(events=Sum("events"), dau=Sum("dau"))
    on_day = CommunityDay.objects.filter(community_id__in=ids, day=day).aggregate(
        members=Sum("members"),
        dau=Sum("dau"),
        wau=Sum("wau"),
        mau=Sum("mau"),
        mainstream=Sum("mainstream"),
    )
    members = on_day["members"] or 0
    mau = on_day["mau"] or 0
    dau_30 = window["dau"] or 0
    events_30 = window["events"] or 0
    return Indicators(
        day=day,
        members=members,
        dau=on_day["dau"] or 0,
        wau=on_day["wau"] or 0,
        mau=mau,
        stickiness=_ratio(dau_30 / 30, mau),
        interaction_frequency=_ratio(events_30, dau_30),
        mainstream=on_day["mainstream"] or 0,
        mainstream_share=_ratio(on_day["mainstream"] or 0, members),
        events_30=events_30,
    )


# --- Cohort retention -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    week: date
    size: int
    retained: list[int | None]  # by offset 0…12; None: that week has not begun

    @property
    def rates(self) -> list[float | None]:
        return [None if r is None or not self.size else r / self.size for r in self.retained]


@dataclass(frozen=True)
class Retention:
    cohorts: list[Cohort]
    curve: list[float | None]  # week-N: Σ retained / Σ size over cohorts that reached N


def retention(*, communities: Sequence, end: date, cohorts: int = 12) -> Retention:
    """The last ``cohorts`` weekly cohorts up to ``end``'s week, offsets 0…12."""
    last = monday(end)
    first = last - timedelta(weeks=cohorts - 1)
    cells: dict[date, dict[int, tuple[int, int]]] = defaultdict(dict)
    for cohort, offset, size, retained in CohortWeek.objects.filter(
        community_id__in=_ids(communities), cohort__gte=first, cohort__lte=last
    ).values_list("cohort", "offset", "size", "retained"):
        previous = cells[cohort].get(offset, (0, 0))
        cells[cohort][offset] = (previous[0] + size, previous[1] + retained)
    rows = []
    totals = [[0, 0] for _ in range(COHORT_WEEKS + 1)]
    week = first
    while week <= last:
        offsets = cells.get(week, {})
        size = offsets.get(0, (0, 0))[0]
        retained = []
        for offset in range(COHORT_WEEKS + 1):
            cell = offsets.get(offset)
            reached = week + timedelta(weeks=offset) <= last
            retained.append(cell[1] if cell else (0 if reached and size else None))
            if cell and size:
                totals[offset][0] += cell[0]
                totals[offset][1] += cell[1]
        rows.append(Cohort(week, size, retained))
        week += timedelta(weeks=1)
    curve = [_ratio(kept, size) for size, kept in totals]
    return Retention(rows, curve)


# --- Member lifecycle --------------------------------------------------------------------------

# docs/metrics.md, member lifecycle of week P: each group as (active in P, active in P−1,
# active at some time before P−1), None where it does not matter. The one definition: the
# rollup counts the groups by it (``lifecycle_split``) and the drill-down lists their
# members by it (``lifecycle_conditions``).
LIFECYCLE_RULES: dict[str, tuple[bool, bool, bool | None]] = {
    "new": (True, False, False),  # first activity ever in P
    "returning": (True, True, None),
    "resurrecting": (True, False, True),
    "dormant": (False, True, None),  # drawn as a negative bar
}
LIFECYCLE_GROUPS = tuple(LIFECYCLE_RULES)


def lifecycle_split(
    *, in_week: set[int], in_previous: set[int], before_previous: set[int]
) -> dict[str, set[int]]:
    """The members of each group, from who was active in P, in P−1 and before P−1.

    ``before_previous`` is asked only about members active in P but not in P−1 (the only
    rows whose third test matters), so a caller may pass just those of them."""
    groups = {}
    for group, tests in LIFECYCLE_RULES.items():
        members = in_week | in_previous
        for wanted, active in zip(tests, (in_week, in_previous, before_previous), strict=True):
            if wanted is True:
                members = members & active
            elif wanted is False:
                members = members - active
        groups[group] = members
    return groups


def lifecycle_conditions(*, community: Community, week: date, group: str) -> list:
    """Filters for rows with a ``member_id`` (memberships) that keep the members of
    ``group`` in week ``week`` (a Monday), read from ``MemberDay``: one query in all."""
    if group not in LIFECYCLE_RULES:
        raise ValueError(group)
    previous = week - timedelta(weeks=1)
    days = MemberDay.objects.filter(community=community, member_id=OuterRef("member_id"))
    actives = (
        Exists(days.filter(day__gte=week, day__lt=week + timedelta(weeks=1))),
        Exists(days.filter(day__gte=previous, day__lt=week)),
        Exists(days.filter(day__lt=previous)),
    )
    conditions = []
    for wanted, active in zip(LIFECYCLE_RULES[group], actives, strict=True):
        if wanted is True:
            conditions.append(active)
        elif wanted is False:
            conditions.append(~active)
    return conditions


@dataclass(frozen=True)
class LifecycleWeek:
    week: date
    active: int
    new: int
    returning: int
    resurrecting: int
    dormant: int


def lifecycle(*, communities: Sequence, start: date, end: date) -> list[LifecycleWeek]:
    sums: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in CommunityWeek.objects.filter(
        community_id__in=_ids(communities), week__gte=monday(start), week__lte=monday(end)
    ).values_list("week", "active", "new", "returning", "resurrecting", "dormant"):
        total = sums[row[0]]
        for index, value in enumerate(row[1:]):
            total[index] += value
    weeks, week = [], monday(start)
    while week <= monday(end):
        weeks.append(LifecycleWeek(week, *sums.get(week, [0, 0, 0, 0, 0])))
        week += timedelta(weeks=1)
    return weeks


# --- Tier pyramid over time ----------------------------------------------------------------------


def pyramid_series(*, community: Community, start: date, end: date) -> dict[str, list]:
    """``{"days": [...], "tiers": [(rank, name, [members per day])]}`` from the snapshots."""
    rows = list(
        TierDay.objects.filter(community=community, day__gte=start, day__lte=end)
        .order_by("day", "rank")
        .values_list("day", "rank", "name", "members")
    )
    days = sorted({row[0] for row in rows})
    names: dict[int, str] = {}
    counts: dict[tuple[int, date], int] = {}
    for day, rank, name, members in rows:
        names[rank] = name
        counts[(rank, day)] = members
    tiers = [
        (rank, names[rank], [counts.get((rank, day), 0) for day in days]) for rank in sorted(names)
    ]
    return {"days": days, "tiers": tiers}


# --- Community lifecycle stage, activation, silence -----------------------------------------


STAGES = {
    "budding": _("Budding (萌芽)"),
    "growth": _("Growth (成长)"),
    "active": _("Active (活跃)"),
    "decline": _("Decline (衰退)"),
    "dormant": _("Dormant (沉寂)"),
}


# The tests of the stage rules, in the order they are tried (StageReason.rule).
STAGE_RULES = (
    "no_recent_activity",
    "young",
    "events_fell",
    "few_weekly_active",
    "members_grew",
    "otherwise",
)


@dataclass(frozen=True)
class StageReason:
    """A test of docs/metrics.md's stage rules that held, with the figures it compared and its
    thresholds: what decided the stage, for the page, the overview and the API to show.

    ``rule``: ``no_recent_activity`` (dormant), ``young`` (budding), ``events_fell`` or
    ``few_weekly_active`` (decline: either or both), ``members_grew`` (growth),
    ``otherwise`` (active)."""

    rule: str
    figures: dict[str, int] = field(default_factory=dict)
    thresholds: dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        f, t = self.figures, self.thresholds
        if self.rule == "no_recent_activity":
            return ngettext(
                "No activity in the last day.",
                "No activity in the last %(days)s days.",
                t["days"],
            ) % {"days": t["days"]}
        if self.rule == "young":
            return ngettext(
                "%(age)s day old: younger than %(days)s days.",
                "%(age)s days old: younger than %(days)s days.",
                f["age_days"],
            ) % {"age": f["age_days"], "days": t["days"]}
        if self.rule == "events_fell":
            return ngettext(
                "Activity over the last 28 days fell by %(drop)s%% or more against the 28 days "
                "before: %(now)s event against %(before)s.",
                "Activity over the last 28 days fell by %(drop)s%% or more against the 28 days "
                "before: %(now)s events against %(before)s.",
                f["events_28"],
            ) % {"drop": t["drop_percent"], "now": f["events_28"], "before": f["events_prev_28"]}
        if self.rule == "few_weekly_active":
            return gettext(
                "Fewer than %(share)s%% of the members were active in the last 7 days: "
                "%(wau)s of %(members)s."
            ) % {"share": t["share_percent"], "wau": f["wau"], "members": f["members"]}
        if self.rule == "members_grew":
            return gettext(
                "Members grew by %(growth)s%% or more over the last 28 days: from %(before)s "
                "to %(now)s."
            ) % {
                "growth": t["growth_percent"],
                "before": f["members_28_ago"],
                "now": f["members"],
            }
        return gettext("Active, neither growing fast nor declining.")


@dataclass(frozen=True)
class Health:
    """Stage (first matching rule of docs/metrics.md), with the figures that decided it."""

    community_id: int
    stage: str
    events_7: int
    events_dormant_window: int  # events of the last ANALYTICS_DORMANT_DAYS days
    events_28: int
    events_prev_28: int
    wau: int
    members: int
    members_28_ago: int
    age_days: int
    last_activity_at: datetime | None
    activated_members: int
    activation_done: bool  # the first 30 days are over
    sparkline: list[int] = field(default_factory=list)  # WAU of the last 12 weeks' Sundays
    mainstream: int = 0
    reasons: tuple[StageReason, ...] = ()  # the tests that decided ``stage``

    @property
    def stage_label(self) -> str:
        return str(STAGES[self.stage])

    @property
    def events_change(self) -> float | None:
        return _ratio(self.events_28 - self.events_prev_28, self.events_prev_28)

    @property
    def wau_share(self) -> float | None:
        return _ratio(self.wau, self.members)

    @property
    def members_change(self) -> float | None:
        return _ratio(self.members - self.members_28_ago, self.members_28_ago)

    @property
    def mainstream_share(self) -> float | None:
        return _ratio(self.mainstream, self.members)

    @property
    def silent(self) -> bool:
        """Silence alert: no activity for more than 24 hours (configurable)."""
        if self.last_activity_at is None:
            return self.age_days >= 1
        limit = timedelta(hours=settings.ANALYTICS_SILENCE_HOURS)
        return timezone.now() - self.last_activity_at > limit

    first_activity_at: datetime | None = None
    created_on: date | None = None
    time_zone: str = "Asia/Shanghai"

    @property
    def activation_known(self) -> bool:
        """The log reaches back into the community's first 30 days (else: no verdict)."""
        if self.first_activity_at is None or self.created_on is None:
            return False
        first_day = self.first_activity_at.astimezone(ZoneInfo(self.time_zone)).date()
        return first_day < self.created_on + timedelta(days=30)

    @property
    def activated(self) -> bool:
        return self.activated_members >= settings.ANALYTICS_ACTIVATION_MIN_MEMBERS

    @property
    def activation_status(self) -> str:
        """First-month activation: ``unknown`` while the log does not reach back into the
        first 30 days (no verdict either way), else ``activated`` or ``at_risk``. The one
        definition the overview, its CSV and the API show."""
        if not self.activation_known:
            return "unknown"
        return "activated" if self.activated else "at_risk"

    @property
    def activation_at_risk(self) -> bool:
        """First-month activation not reached (flagged once the log covers that month)."""
        return self.activation_status == "at_risk"


def stage_decide(h: dict[str, int]) -> tuple[str, tuple[StageReason, ...]]:
    """docs/metrics.md, first match wins: the stage and the tests that decided it, each with
    its figures and thresholds. Percentages compared in integers (63 of 90 is a 30 % drop
    exactly; 0.7 × 90 in floating point is a hair below 63)."""
    if h["events_dormant_window"] == 0:
        days = settings.ANALYTICS_DORMANT_DAYS
        return "dormant", (StageReason("no_recent_activity", {"events": 0}, {"days": days}),)
    if h["age_days"] < settings.ANALYTICS_BUDDING_DAYS:
        return "budding", (
            StageReason(
                "young", {"age_days": h["age_days"]}, {"days": settings.ANALYTICS_BUDDING_DAYS}
            ),
        )
    drop = settings.ANALYTICS_DECLINE_DROP_PERCENT
    share = settings.ANALYTICS_DECLINE_WAU_SHARE_PERCENT
    decline = []
    if h["events_prev_28"] > 0 and h["events_28"] * 100 <= h["events_prev_28"] * (100 - drop):
        decline.append(
            StageReason(
                "events_fell",
                {"events_28": h["events_28"], "events_prev_28": h["events_prev_28"]},
                {"drop_percent": drop},
            )
        )
    if h["members"] > 0 and h["wau"] * 100 < h["members"] * share:
        decline.append(
            StageReason(
                "few_weekly_active",
                {"wau": h["wau"], "members": h["members"]},
                {"share_percent": share},
            )
        )
    if decline:
        return "decline", tuple(decline)
    growth = settings.ANALYTICS_GROWTH_PERCENT
    grew = h["members"] * 100 >= h["members_28_ago"] * (100 + growth)
    if h["members"] > h["members_28_ago"] and grew:
        return "growth", (
            StageReason(
                "members_grew",
                {"members_28_ago": h["members_28_ago"], "members": h["members"]},
                {"growth_percent": growth},
            ),
        )
    return "active", (StageReason("otherwise"),)


def health(*, communities: Sequence[Community], today: date | None = None) -> dict[int, Health]:
    """Stage, alerts and sparkline of each community, in two queries for any number."""
    communities = list(communities)
    if not communities:
        return {}
    days = {c.pk: today or c.local_today() for c in communities}
    earliest = min(days.values()) - timedelta(days=12 * 7 + 56)
    series: dict[int, dict[date, tuple[int, int, int, int]]] = defaultdict(dict)
    for community_id, day, events, wau, members, mainstream in CommunityDay.objects.filter(
        community_id__in=[c.pk for c in communities], day__gte=earliest
    ).values_list("community_id", "day", "events", "wau", "members", "mainstream"):
        series[community_id][day] = (events, wau, members, mainstream)
    pulses = {
        p.community_id: p
        for p in CommunityPulse.objects.filter(community_id__in=[c.pk for c in communities])
    }
    result = {}
    for community in communities:
        today_ = days[community.pk]
        rows = series.get(community.pk, {})

        def events_between(first: int, last: int, rows=rows, today_=today_) -> int:
            return sum(
                rows.get(today_ - timedelta(days=n), (0, 0, 0, 0))[0] for n in range(first, last)
            )

        now = rows.get(today_, (0, 0, 0, 0))
        ago = rows.get(today_ - timedelta(days=28), (0, 0, 0, 0))
        pulse = pulses.get(community.pk)
        last_sunday = monday(today_) - timedelta(days=1)
        figures = {
            "events_7": events_between(0, 7),
            "events_dormant_window": events_between(0, settings.ANALYTICS_DORMANT_DAYS),
            "events_28": events_between(0, 28),
            "events_prev_28": events_between(28, 56),
            "wau": now[1],
            "members": now[2],
            "members_28_ago": ago[2],
            "age_days": (today_ - community.created_on).days,
        }
        stage, reasons = stage_decide(figures)
        result[community.pk] = Health(
            community_id=community.pk,
            stage=stage,
            reasons=reasons,
            last_activity_at=pulse.last_activity_at if pulse else None,
            activated_members=pulse.activated_members if pulse else 0,
            activation_done=figures["age_days"] >= 30,
            sparkline=[
                rows.get(last_sunday - timedelta(weeks=n), (0, 0, 0, 0))[1]
                for n in range(11, -1, -1)
            ]
            + [now[1]],
            mainstream=now[3],
            first_activity_at=pulse.first_activity_at if pulse else None,
            created_on=community.created_on,
            time_zone=community.time_zone,
            **figures,
        )
    return result


# --- Action power (一致行动力) -------------------------------------------------------------------
#
# Read from the calendar's own tables (``activities.calendar``): closed occurrences with
# their frozen invitations, and challenges with their check-ins. Two queries for any number
# of communities, calls and days (the occurrences' participations grouped per community,
# the challenges with their check-ins grouped per day), plus one for the members when the
# caller does not already have them.

ACTION_WINDOW_DAYS = 30
CHALLENGE_MAX_DAYS = 366  # Challenge.days' upper bound: how far back a running one began


@dataclass(frozen=True)
class CallToAction:
    """One call to action of one community: a closed occurrence, or an elapsed challenge day."""

    day: date  # local day in the community's time zone
    kind: str  # "occurrence" or "challenge_day"
    title: str
    community_id: int
    participants: int
    invited: int
    occurrence_id: int | None = None
    challenge_id: int | None = None
    entry_id: int | None = None
    original_start: datetime | None = None  # with ``entry_id``: the occurrence's URL key

    @property
    def ratio(self) -> float:
        return self.participants / self.invited


@dataclass(frozen=True)
class ActionPoint:
    day: date
    calls: int  # calls to action in the 30 days ending on ``day``
    action_index: float | None  # their mean ratio; None without any call


@dataclass(frozen=True)
class CheckInCompletion:
    """The community's challenges running on ``day``: check-ins recorded on their elapsed
    days ÷ (participants × days elapsed). ``rate`` is None without an elapsed day."""

    day: date
    running_challenges: int
    participants: int
    days_elapsed: int  # summed over the running challenges
    check_ins: int
    expected: int  # Σ participants × days elapsed

    @property
    def rate(self) -> float | None:
        return _ratio(self.check_ins, self.expected)


@dataclass(frozen=True)
class ActionPower:
    community_id: int
    day: date
    members: int
    calls: int
    action_index: float | None
    check_in_completion: CheckInCompletion

    @property
    def community_value(self) -> float | None:
        """Members × action index; None when there is no index."""
        return None if self.action_index is None else self.members * self.action_index


@dataclass(frozen=True)
class _ChallengeRow:
    id: int
    community_id: int
    title: str
    start_date: date
    days: int
    deadline: object  # datetime.time
    participants: int
    check_ins: dict[date, int]

    @property
    def last_day(self) -> date:
        return self.start_date + timedelta(days=self.days - 1)


def _deadline_passed(day: date, deadline, tz: ZoneInfo, now: datetime) -> bool:
    """As the challenge page counts its closed days (``challenges.closed_days``): after the
    day's deadline, local wall-clock time in the community's zone."""
    return now > datetime.combine(day, deadline, tz)


def _days_of(communities: Sequence[Community], day: date | dict | None) -> dict[int, date]:
    if isinstance(day, dict):
        return {c.pk: day[c.pk] for c in communities}
    return {c.pk: day or c.local_today() for c in communities}


def _occurrence_calls(
    communities: Sequence[Community], first: date, last: date
) -> list[CallToAction]:
    """Closed, not cancelled occurrences starting on a local day ``first``…``last`` (of
    some community): one call per community whose members were invited (one query)."""
    zones = {c.pk: ZoneInfo(c.time_zone) for c in communities}
    # Every zone's local days lie within a day of UTC's; the local day is checked below.
    lower = datetime.combine(first - timedelta(days=1), datetime.min.time(), ZoneInfo("UTC"))
    upper = datetime.combine(last + timedelta(days=2), datetime.min.time(), ZoneInfo("UTC"))
    rows = (
        Participation.objects.filter(
            membership__community_id__in=list(zones),
            occurrence__attendance_closed_at__isnull=False,
            occurrence__cancelled=False,
            occurrence__starts_at__gte=lower,
            occurrence__starts_at__lt=upper,
        )
        .order_by()
        .values(
            "occurrence_id",
            "occurrence__starts_at",
            "occurrence__original_start",
            "occurrence__entry_id",
            "occurrence__entry__title",
            "membership__community_id",
        )
        .annotate(invited=Count("pk"), participants=Count("pk", filter=Q(attended=True)))
    )
    calls = []
    for row in rows:
        community_id = row["membership__community_id"]
        day = row["occurrence__starts_at"].astimezone(zones[community_id]).date()
        calls.append(
            CallToAction(
                day=day,
                kind="occurrence",
                title=row["occurrence__entry__title"],
                community_id=community_id,
                participants=row["participants"],
                invited=row["invited"],
                occurrence_id=row["occurrence_id"],
                entry_id=row["occurrence__entry_id"],
                original_start=row["occurrence__original_start"],
            )
        )
    return calls


def _challenges(communities: Sequence[Community], first: date, last: date) -> list[_ChallengeRow]:
    """Challenges of the communities that may have a day in ``first``…``last``, with their
    participants and their check-ins per day (one query)."""
    participants = (
        ChallengeParticipant.objects.filter(challenge=OuterRef("pk"))
        .order_by()
        .values("challenge")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = (
        Challenge.objects.filter(
            community_id__in=_ids(communities),
            start_date__lte=last,
            start_date__gt=first - timedelta(days=CHALLENGE_MAX_DAYS),
        )
        .order_by()
        .annotate(participant_count=Coalesce(Subquery(participants), 0))
        .values(
            "pk",
            "community_id",
            "entry__title",
            "start_date",
            "days",
            "deadline",
            "participant_count",
            "participants__check_ins__day",
        )
        .annotate(check_ins=Count("participants__check_ins"))
    )
    found: dict[int, _ChallengeRow] = {}
    for row in rows:
        challenge = found.get(row["pk"])
        if challenge is None:
            challenge = found[row["pk"]] = _ChallengeRow(
                id=row["pk"],
                community_id=row["community_id"],
                title=row["entry__title"],
                start_date=row["start_date"],
                days=row["days"],
                deadline=row["deadline"],
                participants=row["participant_count"],
                check_ins={},
            )
        if row["participants__check_ins__day"] is not None:
            challenge.check_ins[row["participants__check_ins__day"]] = row["check_ins"]
    return [c for c in found.values() if c.last_day >= first]


def _challenge_calls(
    challenges: Sequence[_ChallengeRow],
    zones: dict[int, ZoneInfo],
    first: date,
    last: date,
    now: datetime,
) -> list[CallToAction]:
    """Each challenge day in ``first``…``last`` whose deadline has passed, for challenges
    with participants: checked in that day ÷ participants."""
    calls = []
    for challenge in challenges:
        if not challenge.participants:
            continue
        tz = zones[challenge.community_id]
        day = max(challenge.start_date, first)
        while day <= min(challenge.last_day, last):
            if not _deadline_passed(day, challenge.deadline, tz, now):
                break
            calls.append(
                CallToAction(
                    day=day,
                    kind="challenge_day",
                    title=challenge.title,
                    community_id=challenge.community_id,
                    participants=min(challenge.check_ins.get(day, 0), challenge.participants),
                    invited=challenge.participants,
                    challenge_id=challenge.id,
                )
            )
            day += timedelta(days=1)
    return calls


def _window(days: dict[int, date], first_days: dict[int, date]) -> tuple[date, date]:
    return min(first_days.values()), max(days.values())


def _calls(
    communities: Sequence[Community],
    first_days: dict[int, date],
    days: dict[int, date],
    now: datetime,
) -> tuple[list[CallToAction], list[_ChallengeRow]]:
    """The calls of each community from its first day to its last (two queries), sorted by
    day, community and title; and the challenges read (for the check-in completion)."""
    first, last = _window(days, first_days)
    zones = {c.pk: ZoneInfo(c.time_zone) for c in communities}
    challenges = _challenges(communities, first, last)
    calls = _occurrence_calls(communities, first, last) + _challenge_calls(
        challenges, zones, first, last, now
    )
    calls = [c for c in calls if first_days[c.community_id] <= c.day <= days[c.community_id]]
    calls.sort(key=lambda c: (c.day, c.community_id, c.kind, c.title, c.occurrence_id or 0))
    return calls, challenges


def _mean_ratio(calls: Sequence[CallToAction]) -> float | None:
    return sum(c.ratio for c in calls) / len(calls) if calls else None


def calls_to_action(
    *,
    communities: Sequence[Community],
    start: date,
    end: date,
    now: datetime | None = None,
) -> list[CallToAction]:
    """The calls to action of the communities on their local days ``start``…``end``
    (docs/metrics.md, action power), by day: two queries for any number."""
    communities = list(communities)
    if not communities:
        return []
    days = _days_of(communities, end)
    calls, _challenges_read = _calls(
        communities, _days_of(communities, start), days, now or timezone.now()
    )
    return calls


def action_index(
    *, communities: Sequence[Community], day: date | None = None, now: datetime | None = None
) -> dict[int, float | None]:
    """Each community's action index on ``day`` (default: its own today): the mean ratio of
    its calls to action of the 30 days ending that day; None without any. Two queries."""
    power = action_power(communities=communities, day=day, members={}, now=now)
    return {pk: result.action_index for pk, result in power.items()}


def _trend(calls: Sequence[CallToAction], start: date, end: date) -> list[ActionPoint]:
    by_day: dict[date, list[float]] = defaultdict(list)
    for call in calls:
        by_day[call.day].append(call.ratio)
    points = []
    day = start
    while day <= end:
        ratios = [
            ratio
            for offset in range(ACTION_WINDOW_DAYS)
            for ratio in by_day.get(day - timedelta(days=offset), ())
        ]
        points.append(ActionPoint(day, len(ratios), sum(ratios) / len(ratios) if ratios else None))
        day += timedelta(days=1)
    return points


def action_trend(
    *, community: Community, start: date, end: date, now: datetime | None = None
) -> list[ActionPoint]:
    """The action index of each day ``start``…``end`` (the trailing 30-day mean), from one
    read of the calls of ``start`` − 29 … ``end`` (two queries)."""
    calls = calls_to_action(
        communities=[community],
        start=start - timedelta(days=ACTION_WINDOW_DAYS - 1),
        end=end,
        now=now,
    )
    return _trend(calls, start, end)


def _completion(
    challenges: Sequence[_ChallengeRow], community: Community, day: date, now: datetime
) -> CheckInCompletion:
    tz = ZoneInfo(community.time_zone)
    running = participants = days_elapsed = check_ins = expected = 0
    for challenge in challenges:
        if challenge.community_id != community.pk:
            continue
        if not challenge.start_date <= day <= challenge.last_day:
            continue
        running += 1
        participants += challenge.participants
        elapsed = [
            d
            for d in (
                challenge.start_date + timedelta(days=n)
                for n in range((day - challenge.start_date).days + 1)
            )
            if _deadline_passed(d, challenge.deadline, tz, now)
        ]
        days_elapsed += len(elapsed)
        expected += challenge.participants * len(elapsed)
        check_ins += sum(
            min(challenge.check_ins.get(d, 0), challenge.participants) for d in elapsed
        )
    return CheckInCompletion(day, running, participants, days_elapsed, check_ins, expected)


def _by_community(challenges: Sequence[_ChallengeRow]) -> dict[int, list[_ChallengeRow]]:
    grouped: dict[int, list[_ChallengeRow]] = defaultdict(list)
    for challenge in challenges:
        grouped[challenge.community_id].append(challenge)
    return grouped


def check_in_completion(
    *, communities: Sequence[Community], day: date | None = None, now: datetime | None = None
) -> dict[int, CheckInCompletion]:
    """The check-in completion of each community's challenges running on ``day`` (default:
    its today), counting only days whose deadline has passed. One query."""
    communities = list(communities)
    if not communities:
        return {}
    now = now or timezone.now()
    days = _days_of(communities, day)
    challenges = _challenges(communities, min(days.values()), max(days.values()))
    mine = _by_community(challenges)
    return {c.pk: _completion(mine.get(c.pk, ()), c, days[c.pk], now) for c in communities}


def community_value(
    *,
    communities: Sequence[Community],
    day: date | None = None,
    members: dict[int, int] | None = None,
    now: datetime | None = None,
) -> dict[int, float | None]:
    """Members × action index on ``day``; None without an index (three queries, two when
    the caller passes the members)."""
    power = action_power(communities=communities, day=day, members=members, now=now)
    return {pk: result.community_value for pk, result in power.items()}


def _members_on(communities: Sequence[Community], days: dict[int, date]) -> dict[int, int]:
    members = {}
    for community_id, day, count in CommunityDay.objects.filter(
        community_id__in=list(days), day__in=set(days.values())
    ).values_list("community_id", "day", "members"):
        if days[community_id] == day:
            members[community_id] = count
    return members


def action_power(
    *,
    communities: Sequence[Community],
    day: date | dict[int, date] | None = None,
    members: dict[int, int] | None = None,
    now: datetime | None = None,
) -> dict[int, ActionPower]:
    """Action index, community value and check-in completion of each community on ``day``
    (a day, a day per community, or each one's today): the figures of the card, the
    overview and the portfolio, from one read (two queries, three without ``members``)."""
    communities = list(communities)
    if not communities:
        return {}
    now = now or timezone.now()
    days = _days_of(communities, day)
    first_days = {pk: d - timedelta(days=ACTION_WINDOW_DAYS - 1) for pk, d in days.items()}
    calls, challenges = _calls(communities, first_days, days, now)
    if members is None:
        members = _members_on(communities, days)
    by_community: dict[int, list[CallToAction]] = defaultdict(list)
    for call in calls:
        by_community[call.community_id].append(call)
    mine = _by_community(challenges)
    return {
        c.pk: ActionPower(
            community_id=c.pk,
            day=days[c.pk],
            members=members.get(c.pk, 0),
            calls=len(by_community.get(c.pk, ())),
            action_index=_mean_ratio(by_community.get(c.pk, ())),
            check_in_completion=_completion(mine.get(c.pk, ()), c, days[c.pk], now),
        )
        for c in communities
    }


@dataclass(frozen=True)
class ActionReport:
    power: ActionPower  # on ``end``
    trend: list[ActionPoint]  # each day ``start``…``end``
    calls: list[CallToAction]  # behind ``power``: the 30 days ending on ``end``


def action_report(
    *,
    community: Community,
    start: date,
    end: date,
    members: int | None = None,
    now: datetime | None = None,
) -> ActionReport:
    """One community's action power on ``end``, its trend over ``start``…``end`` and the
    calls behind it, from one read of the calls of ``start`` − 29 … ``end`` (two queries,
    three without ``members``): what the community page and the API show."""
    now = now or timezone.now()
    first = start - timedelta(days=ACTION_WINDOW_DAYS - 1)
    calls, challenges = _calls([community], {community.pk: first}, {community.pk: end}, now)
    behind = [c for c in calls if c.day > end - timedelta(days=ACTION_WINDOW_DAYS)]
    if members is None:
        members = _members_on([community], {community.pk: end}).get(community.pk, 0)
    power = ActionPower(
        community_id=community.pk,
        day=end,
        members=members,
        calls=len(behind),
        action_index=_mean_ratio(behind),
        check_in_completion=_completion(challenges, community, end, now),
    )
    return ActionReport(power, _trend(calls, start, end), behind)


# --- SOP completion ---------------------------------------------------------------------------
#
# The checklists' own figure (``checklists.selectors.completion``, docs/metrics.md): items
# done on time ÷ items due over the last 30 local days. Analytics only picks the days.

SOP_WINDOW_DAYS = WINDOW_DAYS
SOP_ALERT_DAYS = ALERT_WINDOW_DAYS
SOP_ALERT_PHASE = "daily"


def sop_completion(
    *,
    communities: Sequence[Community],
    day: date | dict[int, date] | None = None,
    days: int = SOP_WINDOW_DAYS,
    phase: str | None = None,
) -> dict[int, Completion]:
    """Each community's SOP completion over the ``days`` local days ending on ``day`` (a
    day, a day per community, or each one's today); nothing due: ``Completion()``, whose
    rate is None. One grouped query per distinct last day: one whenever the communities
    share their local day (a single time zone, or most of the day across zones)."""
    communities = list(communities)
    if not communities:
        return {}
    ends = _days_of(communities, day)
    by_end: dict[date, list[int]] = defaultdict(list)
    for pk, end in ends.items():
        by_end[end].append(pk)
    found: dict[int, Completion] = {}
    for end, ids in sorted(by_end.items()):
        found.update(_completion_last_days(community_ids=ids, end=end, days=days, phase=phase))
    return {pk: found.get(pk, Completion()) for pk in ends}


def sop_alert(completion: Completion) -> bool:
    """The SOP alert: a rate below ``SOP_ALERT_PERCENT`` (compared in integers); no items
    due, no alert."""
    return bool(completion.due) and completion.on_time * 100 < (
        completion.due * settings.SOP_ALERT_PERCENT
    )
