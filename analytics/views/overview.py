"""The overview (landing page): every active community as a row with its health."""

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from analytics import selectors
from analytics.alert_links import alert_links
from analytics.figures import sparkline_points, stage_figure
from analytics.forms import OverviewFilterForm
from analytics.metrics import SOP_ALERT_DAYS, SOP_ALERT_PHASE, STAGES
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members.transfer import csv_download, neutralise

SPARKLINE_WIDTH, SPARKLINE_HEIGHT = 100, 24

# Table columns in page order: (sort key or "" when not sortable, heading, the figure's
# entry in analytics.definitions for its ⓘ popover, or "").
COLUMNS = [
    ("name", gettext_lazy("Community"), ""),
    ("stage", gettext_lazy("Stage"), "stage"),
    ("", gettext_lazy("Programme"), ""),
    ("", gettext_lazy("Platform"), ""),
    ("members", gettext_lazy("Members"), "members"),
    ("wau", gettext_lazy("WAU"), "wau"),
    ("", gettext_lazy("Trend (13 weeks)"), ""),
    ("mainstream", gettext_lazy("Mainstream share"), "mainstream_share"),
    ("action", gettext_lazy("Action index"), "action_index"),
    ("value", gettext_lazy("Community value"), "community_value"),
    ("sop", gettext_lazy("SOP completion (30 days)"), "sop_completion"),
    ("", gettext_lazy("Silence"), "silence"),
    ("", gettext_lazy("Activation"), "activation"),
]
# Numbers read best largest first: their first click sorts descending.
DESCENDING_FIRST = {"members", "wau", "mainstream", "action", "value", "sop"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    next_sort: str  # the sort its link asks for ("" when not sortable)
    aria_sort: str  # "ascending" / "descending" on the sorted column, else ""
    definition: str = ""


def _columns(sort: str) -> list[Column]:
    columns = []
    for key, label, definition in COLUMNS:
        if not key:
            columns.append(Column(key, str(label), "", "", definition))
            continue
        if sort == key:
            next_sort, aria = f"-{key}", "ascending"
        elif sort == f"-{key}":
            next_sort, aria = key, "descending"
        else:
            next_sort, aria = (f"-{key}" if key in DESCENDING_FIRST else key), ""
        columns.append(Column(key, str(label), next_sort, aria, definition))
    return columns


def percent(share: float | None) -> int | None:
    return None if share is None else round(share * 100)


def value_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _table_row(row: selectors.OverviewRow) -> dict:
    values = row.health.sparkline
    return {
        "community": row.community,
        "health": row.health,
        "mainstream_percent": percent(row.health.mainstream_share),
        "action": row.action,
        "action_percent": percent(row.action.action_index),
        "value_text": value_text(row.action.community_value),
        "sop": row.sop,
        "sop_daily": row.sop_daily,
        "sparkline_points": sparkline_points(
            values, width=SPARKLINE_WIDTH, height=SPARKLINE_HEIGHT
        ),
        "sparkline_values": ", ".join(str(v) for v in values),
    }


def _sop_alert_row(row: selectors.OverviewRow, team: str) -> dict:
    """An SOP alert's row: its text, and the team view on the community's daily runs of the
    alert's 7 days ("" while there is no team view)."""
    today = row.community.local_today()
    query = {
        "from": (today - timedelta(days=SOP_ALERT_DAYS - 1)).isoformat(),
        "to": today.isoformat(),
        "community": row.community.slug,
        "phase": SOP_ALERT_PHASE,
    }
    return {
        **_table_row(row),
        "sop_text": sop_alert_text(row.sop_daily),
        "team_url": f"{team}?{urlencode(query)}" if team else "",
    }


def _alert_row(request: HtmxHttpRequest, kind: str, row: selectors.OverviewRow, team: str):
    """An alert's row, with what the apps above offer to answer it (``alert_links``)."""
    values = _sop_alert_row(row, team) if kind == "sop" else _table_row(row)
    values["answers"] = alert_links(request, kind, row.community)
    return values


def _alert_groups(request: HtmxHttpRequest, alerts: selectors.Alerts) -> list[dict]:
    """The non-empty alert lists, most urgent first, each with its heading."""
    groups = [
        (
            "dormant",
            _("Dormant: no activity for %(days)s days") % {"days": settings.ANALYTICS_DORMANT_DAYS},
            alerts.dormant,
        ),
        (
            "silent",
            _("Silent: no activity for more than %(hours)s hours")
            % {"hours": settings.ANALYTICS_SILENCE_HOURS},
            alerts.silent,
        ),
        (
            "sop",
            _("Daily SOP completion below %(percent)s%%") % {"percent": settings.SOP_ALERT_PERCENT},
            alerts.sop,
        ),
        ("decline", _("In decline"), alerts.decline),
        ("activation", _("First-month activation at risk"), alerts.activation_at_risk),
    ]
    team = team_url() if alerts.sop else ""
    return [
        {
            "kind": kind,
            "title": title,
            "rows": [_alert_row(request, kind, row, team) for row in rows],
        }
        for kind, title, rows in groups
        if rows
    ]


def sop_alert_text(completion) -> str:
    return _(
        "Daily SOP completion %(percent)s%% over the last %(days)s days (below %(threshold)s%%)"
    ) % {
        "percent": completion.percent,
        "days": SOP_ALERT_DAYS,
        "threshold": settings.SOP_ALERT_PERCENT,
    }


def team_url() -> str:
    """The checklists' team view, where the runs behind the SOP alert are ("" without it)."""
    try:
        return reverse("checklists:team")
    except NoReverseMatch:
        return ""


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_COMMUNITIES)
def overview(request: HtmxHttpRequest):
    form = OverviewFilterForm(request.GET or None, staff=request.staff)
    filters = form.filters()
    overview = selectors.community_overview(staff=request.staff, filters=filters)
    rows = [_table_row(row) for row in overview.rows]
    context = {
        "nav": "overview",
        "form": form,
        "filters": filters,
        "rows": rows,
        "columns": _columns(filters.sort),
        "sparkline_width": SPARKLINE_WIDTH,
        "sparkline_height": SPARKLINE_HEIGHT,
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "analytics/overview.html#overview-table", context)
    stages = [(stage, str(STAGES[stage]), n) for stage, n in overview.stage_counts.items()]
    context.update(
        {
            "overview": overview,
            "alerts": overview.alerts,
            "alert_groups": _alert_groups(request, overview.alerts),
            "activation_members": settings.ANALYTICS_ACTIVATION_MIN_MEMBERS,
            "stages": stages,
            "chart": stage_figure(
                stages=stages, title=_("Communities by stage"), y_title=_("Communities")
            ),
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
            "can_export": has_capability(request.staff, Capability.EXPORT_DATA),
        }
    )
    return render(request, "analytics/overview.html", context)


CSV_HEADER = [
    "community", "slug", "programme", "platform", "stage", "members", "wau",
    "mainstream_share_percent", "events_last_28_days", "events_previous_28_days",
    "silent", "activation", "last_activity_at",
    "action_index", "community_value", "check_in_completion",
    "sop_completion", "sop_items_due", "sop_items_on_time", "sop_alert",
]  # fmt: skip


@require_GET
@staff_required(Capability.EXPORT_DATA)
def overview_csv(request: HtmxHttpRequest):
    """The overview table (with the filters and sort of the page) as CSV: the data of the
    table and of the stage chart. UTF-8 with a BOM for Excel; the header stays English."""
    form = OverviewFilterForm(request.GET or None, staff=request.staff)
    overview = selectors.community_overview(staff=request.staff, filters=form.filters())
    response, writer = csv_download(f"overview-{timezone.localdate().isoformat()}.csv")
    writer.writerow(CSV_HEADER)
    for row in overview.rows:
        community, health = row.community, row.health
        writer.writerow(
            [
                neutralise(community.name),
                community.slug,
                neutralise(community.programme.name if community.programme else ""),
                community.platform,
                health.stage,
                health.members,
                health.wau,
                "" if health.mainstream_share is None else percent(health.mainstream_share),
                health.events_28,
                health.events_prev_28,
                "yes" if health.silent else "no",
                health.activation_status,
                health.last_activity_at.isoformat() if health.last_activity_at else "",
                *_numbers(row.action),
                "" if row.sop.rate is None else row.sop.rate,
                row.sop.due,
                row.sop.on_time,
                "yes" if row.sop_alert else "no",
            ]
        )
    return response


def _numbers(action) -> list:
    """Action index, community value, check-in completion: ratios as the API writes them
    (the metrics' own figures), empty when there is none."""
    values = (action.action_index, action.community_value, action.check_in_completion.rate)
    return ["" if value is None else value for value in values]
