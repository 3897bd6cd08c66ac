"""Metric results → plain JSON data and CSV tables: the one formatting step for the API,
the CSV downloads and ``manage.py export_metrics``, so all three show the same numbers.

Every function returns only ``dict`` / ``list`` / ``str`` / ``int`` / ``float`` / ``bool`` /
``None`` (dates as ISO strings), so ``to_json`` and ``csv_table`` need no special cases.
The queries are the units of ``analytics.metrics`` and, for the portfolio (every
community at once), ``analytics.selectors.portfolio``: the pages' own numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from analytics import metrics
from analytics.selectors import PortfolioRow
from communities.models import Community
from members.transfer import neutralise

CSV_METRICS = (
    "activity",
    "retention",
    "lifecycle",
    "indicators",
    "action_power",
    "calls_to_action",
    "sop_completion",
)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def to_json(data) -> str:
    """The exact text the API answers and the export command prints."""
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


# --- Sections of the metrics document ------------------------------------------------------


def indicators_data(result: metrics.Indicators) -> dict:
    return {
        "day": _day(result.day),
        "members": result.members,
        "dau": result.dau,
        "wau": result.wau,
        "mau": result.mau,
        "stickiness": result.stickiness,
        "interaction_frequency": result.interaction_frequency,
        "mainstream": result.mainstream,
        "mainstream_share": result.mainstream_share,
        "events_30": result.events_30,
    }


def activity_data(points: Sequence[metrics.ActivityPoint]) -> list[dict]:
    return [
        {"start": _day(point.start), "events": point.events, "active": point.active}
        for point in points
    ]


def retention_data(result: metrics.Retention) -> dict:
    return {
        "cohorts": [
            {
                "week": _day(cohort.week),
                "size": cohort.size,
                "offsets": [
                    {"offset": offset, "retained": retained, "rate": rate}
                    for offset, (retained, rate) in enumerate(
                        zip(cohort.retained, cohort.rates, strict=True)
                    )
                ],
            }
            for cohort in result.cohorts
        ],
        "curve": [{"offset": offset, "rate": rate} for offset, rate in enumerate(result.curve)],
    }


def lifecycle_data(weeks: Sequence[metrics.LifecycleWeek]) -> list[dict]:
    return [
        {
            "week": _day(week.week),
            "active": week.active,
            "new": week.new,
            "returning": week.returning,
            "resurrecting": week.resurrecting,
            "dormant": week.dormant,
        }
        for week in weeks
    ]


def stage_data(health: metrics.Health) -> dict:
    return {
        "code": health.stage,
        "label": health.stage_label,
        "figures": {
            "events_7": health.events_7,
            "events_28": health.events_28,
            "events_prev_28": health.events_prev_28,
            "events_change": health.events_change,
            "wau": health.wau,
            "members": health.members,
            "wau_share": health.wau_share,
            "members_28_ago": health.members_28_ago,
            "members_change": health.members_change,
            "age_days": health.age_days,
        },
        "reasons": [
            {"rule": reason.rule, "figures": reason.figures, "thresholds": reason.thresholds}
            for reason in health.reasons
        ],
        "thresholds": {
            "dormant_days": settings.ANALYTICS_DORMANT_DAYS,
            "budding_days": settings.ANALYTICS_BUDDING_DAYS,
            "decline_drop_percent": settings.ANALYTICS_DECLINE_DROP_PERCENT,
            "decline_wau_share_percent": settings.ANALYTICS_DECLINE_WAU_SHARE_PERCENT,
            "growth_percent": settings.ANALYTICS_GROWTH_PERCENT,
        },
    }


def activation_data(health: metrics.Health) -> dict:
    return {
        "status": health.activation_status,
        "activated_members": health.activated_members,
        "min_members": settings.ANALYTICS_ACTIVATION_MIN_MEMBERS,
        "min_active_days": settings.ANALYTICS_ACTIVATION_MIN_DAYS,
        "first_month_over": health.activation_done,
    }


def silence_data(health: metrics.Health) -> dict:
    return {
        "silent": health.silent,
        "last_activity_at": (
            health.last_activity_at.isoformat() if health.last_activity_at else None
        ),
        "hours": settings.ANALYTICS_SILENCE_HOURS,
    }


def check_in_data(completion: metrics.CheckInCompletion) -> dict:
    return {
        "check_in_completion": completion.rate,
        "running_challenges": completion.running_challenges,
        "challenge_participants": completion.participants,
        "days_elapsed": completion.days_elapsed,
        "check_ins": completion.check_ins,
        "expected_check_ins": completion.expected,
    }


def action_headline(power: metrics.ActionPower) -> dict:
    """The three figures every row shows: action index, community value, check-in rate."""
    return {
        "action_index": power.action_index,
        "community_value": power.community_value,
        "check_in_completion": power.check_in_completion.rate,
    }


def trend_data(points: Sequence[metrics.ActionPoint]) -> list[dict]:
    return [
        {"day": _day(point.day), "calls": point.calls, "action_index": point.action_index}
        for point in points
    ]


def calls_data(calls: Sequence[metrics.CallToAction]) -> list[dict]:
    return [
        {
            "day": _day(call.day),
            "kind": call.kind,
            "title": call.title,
            "participants": call.participants,
            "invited": call.invited,
            "ratio": call.ratio,
        }
        for call in calls
    ]


def action_power_data(report: metrics.ActionReport) -> dict:
    power = report.power
    return {
        "day": _day(power.day),
        "window_days": metrics.ACTION_WINDOW_DAYS,
        "members": power.members,
        "calls": power.calls,
        "action_index": power.action_index,
        "community_value": power.community_value,
        **check_in_data(power.check_in_completion),
        "action_trend": trend_data(report.trend),
        "calls_to_action": calls_data(report.calls),
    }


def sop_data(completion: metrics.Completion) -> dict:
    """SOP completion over the last 30 days: items done on time ÷ items due (null when
    nothing fell due, never 0), with its counts."""
    return {
        "rate": completion.rate,
        "due": completion.due,
        "on_time": completion.on_time,
        "done": completion.done,
        "window_days": metrics.SOP_WINDOW_DAYS,
    }


def community_data(community: Community) -> dict:
    return {
        "slug": community.slug,
        "name": community.name,
        "platform": community.platform,
        "time_zone": community.time_zone,
    }


# --- Whole documents -------------------------------------------------------------------------


def community_metrics(*, community: Community, start: date, end: date, interval: str) -> dict:
    """Everything about one community from ``start`` to ``end``; indicators and stage
    at ``end``. What ``GET communities/<slug>/metrics`` answers."""
    health = metrics.health(communities=[community], today=end)[community.pk]
    indicators = metrics.indicators(communities=[community], day=end)
    report = metrics.action_report(
        community=community, start=start, end=end, members=indicators.members
    )
    return {
        "community": community_data(community),
        "params": {"from": _day(start), "to": _day(end), "interval": interval},
        "indicators": indicators_data(indicators),
        "activity": activity_data(
            metrics.activity_series(
                communities=[community], start=start, end=end, interval=interval
            )
        ),
        "retention": retention_data(metrics.retention(communities=[community], end=end)),
        "lifecycle": lifecycle_data(
            metrics.lifecycle(communities=[community], start=start, end=end)
        ),
        "stage": stage_data(health),
        "activation": activation_data(health),
        "silence": silence_data(health),
        "action_power": action_power_data(report),
        "sop_completion": sop_data(
            metrics.sop_completion(communities=[community], day=end)[community.pk]
        ),
    }


def community_list_data(communities: Sequence[Community]) -> list[dict]:
    """Each community's headline figures today (its own local day); five queries in all."""
    healths = metrics.health(communities=communities)
    power = metrics.action_power(
        communities=communities, members={pk: h.members for pk, h in healths.items()}
    )
    sop = metrics.sop_completion(communities=communities)
    rows = []
    for community in communities:
        health = healths[community.pk]
        rows.append(
            {
                **community_data(community),
                "stage": health.stage,
                "members": health.members,
                "wau": health.wau,
                "mainstream_share": health.mainstream_share,
                "silent": health.silent,
                "activation": health.activation_status,
                **action_headline(power[community.pk]),
                "sop_completion": sop_data(sop[community.pk]),
            }
        )
    return rows


def portfolio_data(rows: Sequence[PortfolioRow]) -> list[dict]:
    """The portfolio page's rows (``analytics.selectors.portfolio``): week-4 retention,
    stickiness and mainstream share of each community at its own today."""
    return [
        {
            **community_data(row.community),
            "day": _day(row.today),
            "members": row.members,
            "retention_week_4": row.retention_week_4,
            "stickiness": row.stickiness,
            "mainstream_share": row.mainstream_share,
            **action_headline(row.action),
            "sop_completion": sop_data(row.sop),
        }
        for row in rows
    ]


# --- CSV -------------------------------------------------------------------------------------


def metric_section(
    *, community: Community, metric: str, start: date, end: date, interval: str
) -> dict | list:
    """One section of ``community_metrics`` (only its queries run)."""
    if metric == "activity":
        return activity_data(
            metrics.activity_series(
                communities=[community], start=start, end=end, interval=interval
            )
        )
    if metric == "retention":
        return retention_data(metrics.retention(communities=[community], end=end))
    if metric == "lifecycle":
        return lifecycle_data(metrics.lifecycle(communities=[community], start=start, end=end))
    if metric == "indicators":
        return indicators_data(metrics.indicators(communities=[community], day=end))
    if metric in ("action_power", "calls_to_action"):
        report = metrics.action_report(community=community, start=start, end=end)
        return action_power_data(report)
    if metric == "sop_completion":
        completion = metrics.sop_completion(communities=[community], day=end)[community.pk]
        return {"day": _day(end), **sop_data(completion)}
    raise ValueError(f"Unknown metric {metric!r}")


CSV_HEADERS = {  # the JSON keys, in their order
    "activity": ["start", "events", "active"],
    "lifecycle": ["week", "active", "new", "returning", "resurrecting", "dormant"],
    "indicators": [
        "day",
        "members",
        "dau",
        "wau",
        "mau",
        "stickiness",
        "interaction_frequency",
        "mainstream",
        "mainstream_share",
        "events_30",
    ],
    "retention": ["cohort_week", "size", "offset", "retained", "rate"],
    # The trend, each day with the index on it (the last row: the index at ``to``).
    "action_power": ["day", "calls", "action_index"],
    # The calls behind the index at ``to``.
    "calls_to_action": ["day", "kind", "title", "participants", "invited", "ratio"],
    # The last 30 days to ``to``: one row.
    "sop_completion": ["day", "window_days", "due", "on_time", "done", "rate"],
}


def _cell(value) -> str:
    # str(float) is the shortest text that reads back as the same float: what JSON prints.
    return "" if value is None else str(value)


def csv_table(metric: str, section: dict | list) -> tuple[list[str], list[list[str]]]:
    """The header (English, so files import anywhere) and rows of a section."""
    if metric == "retention":
        header = CSV_HEADERS[metric]
        rows = [
            [cohort["week"], cohort["size"], cell["offset"], cell["retained"], cell["rate"]]
            for cohort in section["cohorts"]
            for cell in cohort["offsets"]
        ]
    elif metric in ("action_power", "calls_to_action"):
        header = CSV_HEADERS[metric]
        records = section["action_trend" if metric == "action_power" else "calls_to_action"]
        # Titles are user text: a formula never reaches a spreadsheet as one.
        rows = [
            [neutralise(record[name]) if name == "title" else record[name] for name in header]
            for record in records
        ]
    else:
        records = [section] if isinstance(section, dict) else section
        header = CSV_HEADERS[metric]
        rows = [[record[name] for name in header] for record in records]
    return header, [[_cell(value) for value in row] for row in rows]
