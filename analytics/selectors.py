"""Reads for the overview and portfolio pages: every visible community at once.

Each read costs a fixed number of queries whatever the number of communities: the
communities, then the rollups of all of them (``metrics.health`` for the overview; one
``CohortWeek`` and one ``CommunityDay`` query for the portfolio), and their action power
(``metrics.action_power``: two queries, the members being known already), and their SOP
completion (``metrics.sop_completion``: one grouped query, two on the overview, which also
reads the daily runs of the last 7 days for the SOP alert).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from analytics import metrics
from analytics.models import CohortWeek, CommunityDay
from analytics.rollups import monday
from communities.models import Community, Staff
from communities.permissions import communities_for

# --- Overview ------------------------------------------------------------------------------

STAGE_ORDER = list(metrics.STAGES)  # budding, growth, active, decline, dormant
OVERVIEW_SORTS = ("name", "stage", "members", "wau", "mainstream", "action", "value", "sop")
DEFAULT_OVERVIEW_SORT = "name"


@dataclass(frozen=True)
class OverviewFilters:
    programme_id: int | None = None
    platform: str = ""
    funnel_role: str = ""
    stage: str = ""
    sort: str = DEFAULT_OVERVIEW_SORT


@dataclass(frozen=True)
class OverviewRow:
    community: Community
    health: metrics.Health
    action: metrics.ActionPower
    sop: metrics.Completion  # the last 30 days, every phase
    sop_daily: metrics.Completion  # the alert's: daily runs, 7 days

    @property
    def sop_alert(self) -> bool:
        return metrics.sop_alert(self.sop_daily)


@dataclass(frozen=True)
class Alerts:
    silent: list[OverviewRow]  # silent, and not already dormant
    activation_at_risk: list[OverviewRow]
    decline: list[OverviewRow]
    dormant: list[OverviewRow]
    sop: list[OverviewRow] = field(default_factory=list)  # daily SOP completion too low

    def __bool__(self) -> bool:
        return bool(
            self.silent or self.activation_at_risk or self.decline or self.dormant or self.sop
        )

    @property
    def communities(self) -> int:
        """How many communities need attention (each counted once)."""
        rows = self.silent + self.activation_at_risk + self.decline + self.dormant + self.sop
        return len({row.community.pk for row in rows})


@dataclass(frozen=True)
class Overview:
    rows: list[OverviewRow]  # filtered and sorted
    total: int  # visible active communities, before the filters
    members: int  # of all visible active communities
    wau: int
    stage_counts: dict[str, int]  # of all visible active communities, in stage order
    alerts: Alerts  # of all visible active communities: the filters never hide an alarm


def _sort_key(sort: str):
    field = sort.lstrip("-")

    def key(row: OverviewRow):
        health = row.health
        if field == "stage":
            return STAGE_ORDER.index(health.stage)
        if field == "members":
            return health.members
        if field == "wau":
            return health.wau
        if field == "mainstream":
            return health.mainstream_share if health.mainstream_share is not None else -1.0
        if field == "action":
            index = row.action.action_index
            return index if index is not None else -1.0
        if field == "value":
            value = row.action.community_value
            return value if value is not None else -1.0
        if field == "sop":
            rate = row.sop.rate
            return rate if rate is not None else -1.0
        return row.community.name.casefold()

    return key


def _sorted(rows: list[OverviewRow], sort: str) -> list[OverviewRow]:
    # By name first, then (stable) by the chosen column: ties stay in name order.
    rows = sorted(rows, key=lambda row: (row.community.name.casefold(), row.community.pk))
    if sort.lstrip("-") == "name":
        return list(reversed(rows)) if sort.startswith("-") else rows
    return sorted(rows, key=_sort_key(sort), reverse=sort.startswith("-"))


def community_overview(*, staff: Staff, filters: OverviewFilters | None = None) -> Overview:
    """Every active community the staff member may see, with its health, action power and
    SOP completion (seven queries)."""
    filters = filters or OverviewFilters()
    communities = list(
        communities_for(staff).filter(archived=False).select_related("programme").order_by("name")
    )
    health = metrics.health(communities=communities)
    action = metrics.action_power(
        communities=communities, members={pk: h.members for pk, h in health.items()}
    )
    sop = metrics.sop_completion(communities=communities)
    sop_daily = metrics.sop_completion(
        communities=communities, days=metrics.SOP_ALERT_DAYS, phase=metrics.SOP_ALERT_PHASE
    )
    everything = [
        OverviewRow(c, health[c.pk], action[c.pk], sop[c.pk], sop_daily[c.pk]) for c in communities
    ]

    def keep(row: OverviewRow) -> bool:
        community = row.community
        return (
            (filters.programme_id is None or community.programme_id == filters.programme_id)
            and (not filters.platform or community.platform == filters.platform)
            and (not filters.funnel_role or community.funnel_role == filters.funnel_role)
            and (not filters.stage or row.health.stage == filters.stage)
        )

    stage_counts = dict.fromkeys(STAGE_ORDER, 0)
    for row in everything:
        stage_counts[row.health.stage] += 1
    alerts = Alerts(
        silent=[r for r in everything if r.health.silent and r.health.stage != "dormant"],
        activation_at_risk=[r for r in everything if r.health.activation_at_risk],
        decline=[r for r in everything if r.health.stage == "decline"],
        dormant=[r for r in everything if r.health.stage == "dormant"],
        sop=[r for r in everything if r.sop_alert],
    )
    return Overview(
        rows=_sorted([row for row in everything if keep(row)], filters.sort),
        total=len(everything),
        members=sum(row.health.members for row in everything),
        wau=sum(row.health.wau for row in everything),
        stage_counts=stage_counts,
        alerts=alerts,
    )


# --- Portfolio -----------------------------------------------------------------------------

RETENTION_OFFSET = 4
RETENTION_COHORTS = 12
STICKINESS_DAYS = 30


@dataclass(frozen=True)
class PortfolioRow:
    community: Community
    today: date  # the community's local day the figures are for
    members: int
    retention_week_4: float | None  # Σ retained / Σ size, cohorts that reached week 4
    stickiness: float | None  # mean DAU over the 30 days to today / MAU today
    mainstream_share: float | None  # mainstream / members today
    action: metrics.ActionPower  # action index, community value, check-in completion today
    sop: metrics.Completion  # SOP completion, the 30 days to today


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def portfolio(*, staff: Staff, programme_id: int | None = None) -> list[PortfolioRow]:
    """Retention week 4, stickiness, mainstream share, action power and SOP completion of
    every visible active community (six queries for any number: the communities, their
    cohorts, their days, their closed occurrences, their challenges, their checklist items).

    Each figure is the one the community page shows: ``metrics.retention(...).curve[4]``
    and ``metrics.indicators(...)``, read for all communities at once."""
    queryset = communities_for(staff).filter(archived=False)
    if programme_id is not None:
        queryset = queryset.filter(programme_id=programme_id)
    communities = list(queryset.select_related("programme").order_by("name"))
    if not communities:
        return []
    ids = [c.pk for c in communities]
    today = {c.pk: c.local_today() for c in communities}
    earliest_today = min(today.values())

    # Cohorts of the last 12 weeks whose week 4 has begun by this week.
    cohorts: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # community → [size, retained]
    first_cohort = monday(earliest_today) - timedelta(weeks=RETENTION_COHORTS - 1)
    for community_id, cohort, size, retained in CohortWeek.objects.filter(
        community_id__in=ids, offset=RETENTION_OFFSET, cohort__gte=first_cohort
    ).values_list("community_id", "cohort", "size", "retained"):
        this_week = monday(today[community_id])
        in_range = this_week - timedelta(weeks=RETENTION_COHORTS - 1) <= cohort <= this_week
        if in_range and cohort + timedelta(weeks=RETENTION_OFFSET) <= this_week and size:
            cohorts[community_id][0] += size
            cohorts[community_id][1] += retained

    dau_sum: dict[int, int] = defaultdict(int)
    on_day: dict[int, tuple[int, int, int]] = {}  # community → (members, mau, mainstream)
    for community_id, day, dau, mau, members, mainstream in CommunityDay.objects.filter(
        community_id__in=ids, day__gt=earliest_today - timedelta(days=STICKINESS_DAYS)
    ).values_list("community_id", "day", "dau", "mau", "members", "mainstream"):
        local_today = today[community_id]
        if local_today - timedelta(days=STICKINESS_DAYS) < day <= local_today:
            dau_sum[community_id] += dau
        if day == local_today:
            on_day[community_id] = (members, mau, mainstream)

    action = metrics.action_power(
        communities=communities,
        day=today,
        members={pk: figures[0] for pk, figures in on_day.items()},
    )
    sop = metrics.sop_completion(communities=communities, day=today)
    rows = []
    for community in communities:
        members, mau, mainstream = on_day.get(community.pk, (0, 0, 0))
        size, retained = cohorts.get(community.pk, (0, 0))
        rows.append(
            PortfolioRow(
                community=community,
                today=today[community.pk],
                members=members,
                retention_week_4=_ratio(retained, size),
                stickiness=_ratio(dau_sum.get(community.pk, 0) / STICKINESS_DAYS, mau),
                mainstream_share=_ratio(mainstream, members),
                action=action[community.pk],
                sop=sop[community.pk],
            )
        )
    return rows
