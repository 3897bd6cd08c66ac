"""Figure builders of the community analytics page: metric results in, plotly dicts out.

Drawn by static/js/app.js from ``json_script`` blocks. Axes are categories labelled with
ISO dates (``2026-03-02``, ``2026-03`` for months): plotly's own date ticks would name the
months in English whatever the user's language. Points that open a drill-down carry
its query string in ``customdata`` (static/js/drilldown.js reads it).
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from analytics.metrics import ActionPoint, ActivityPoint, LifecycleWeek, Retention
from communities.charts import figure_dict

GREEN = "#00895a"
BLUE = "#1e6fd9"
AMBER = "#d98e04"
RED = "#c62828"
TIER_COLOURS = ["#d3eedf", "#a6dcc0", "#63c297", "#2aa876", "#00895a", "#005f3e"]
LIFECYCLE_COLOURS = {"new": BLUE, "returning": GREEN, "resurrecting": AMBER, "dormant": RED}


def period_label(start: date, interval: str) -> str:
    return start.strftime("%Y-%m") if interval == "month" else start.isoformat()


def lifecycle_labels() -> dict[str, str]:
    return {
        "new": _("New"),
        "returning": _("Returning"),
        "resurrecting": _("Resurrecting"),
        "dormant": _("Dormant"),
    }


def _interval_title(interval: str) -> str:
    return {"day": _("Day"), "week": _("Week starting"), "month": _("Month")}[interval]


def _layout(figure: go.Figure, *, title: str, height: int = 340, **extra) -> dict:
    """The page's figure dict. Plain dicts for the layout: ``update_layout`` deep-copies
    and validates the whole layout, which cost ~16 ms a chart and most of the page."""
    layout = {
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "margin": {"l": 60, "r": 60, "t": 60, "b": 60},
        "height": height,
        "legend": {"orientation": "h", "y": -0.2, "x": 0},
        "hoverlabel": {"namelength": -1},
        **extra,
    }
    return figure_dict(figure, **layout)


def _hover(value: str = "%{y}") -> str:
    # The trace's name is read from the trace (escaped there by figure_dict): a name put
    # into the template would be markup, and a "%{" in it would be read as a field.
    return "%{x}<br>%{fullData.name}: " + value + "<extra></extra>"


def activity_figure(*, points: list[ActivityPoint], interval: str) -> dict:
    """Events per period as bars; active members (DAU, WAU or MAU) as a line, right axis."""
    labels = [period_label(p.start, interval) for p in points]
    events_name = _("Events")
    active_name = {
        "day": _("Active members (DAU)"),
        "week": _("Active members (WAU)"),
        "month": _("Active members (MAU)"),
    }[interval]
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=labels,
            y=[p.events for p in points],
            name=events_name,
            marker_color="#9fd8bd",
            hovertemplate=_hover(),
        )
    )
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=[p.active for p in points],
            name=active_name,
            mode="lines+markers" if len(points) <= 60 else "lines",
            line={"color": GREEN, "width": 2},
            yaxis="y2",
            hovertemplate=_hover(),
        )
    )
    return _layout(
        figure,
        title=_("Activity over time"),
        xaxis={"type": "category", "title": {"text": _interval_title(interval)}},
        yaxis={"title": {"text": events_name}, "rangemode": "tozero"},
        yaxis2={
            "title": {"text": _("Active members")},
            "overlaying": "y",
            "side": "right",
            "rangemode": "tozero",
            "showgrid": False,
            # Its own round ticks, not the events axis' grid scaled (uneven decimals).
            "tickmode": "auto",
            "tickformat": ",d",
        },
    )


def cohort_label(week: date, size: int) -> str:
    return _("%(week)s (%(size)s)") % {"week": week.isoformat(), "size": size}


def retention_heatmap_figure(*, retention: Retention) -> dict:
    """Cohorts (rows, oldest on top) × weeks since joining (columns); rate in percent.

    Cells with no data (the week has not begun, or an empty cohort) stay blank."""
    offsets = list(range(len(retention.curve)))
    columns = [str(offset) for offset in offsets]
    rows = [cohort_label(c.week, c.size) for c in retention.cohorts]
    z, text, customdata = [], [], []
    for cohort in retention.cohorts:
        rates = cohort.rates
        z.append([None if rate is None else round(rate * 100, 1) for rate in rates])
        text.append(["" if rate is None else f"{rate * 100:.0f}%" for rate in rates])
        customdata.append(
            [
                ""
                if rate is None
                else urlencode({"cohort": cohort.week.isoformat(), "offset": offset})
                for offset, rate in zip(offsets, rates, strict=True)
            ]
        )
    retained = _("Retained")
    figure = go.Figure(
        go.Heatmap(
            x=columns,
            y=rows,
            z=z,
            text=text,
            texttemplate="%{text}",
            customdata=customdata,
            zmin=0,
            zmax=100,
            xgap=2,
            ygap=2,
            colorscale=[[0, "#f1f8f4"], [0.5, "#63c297"], [1, "#005f3e"]],
            colorbar={"title": {"text": "%"}, "ticksuffix": "%"},
            hoverongaps=False,
            hovertemplate=(
                _("Cohort")
                + ": %{y}<br>"
                + _("Weeks after joining")
                + ": %{x}<br>"
                + retained
                + ": %{z}%<extra></extra>"
            ),
        )
    )
    return _layout(
        figure,
        title=_("Weekly cohort retention"),
        height=120 + 28 * max(len(rows), 1),
        xaxis={"type": "category", "title": {"text": _("Weeks after joining")}, "side": "top"},
        yaxis={
            "type": "category",
            "autorange": "reversed",
            "title": {"text": _("Cohort (join week, size)")},
        },
        margin={"l": 130, "r": 30, "t": 90, "b": 30},
    )


def retention_curve_figure(*, retention: Retention) -> dict:
    """Week-N retention over every cohort that reached week N."""
    name = _("Retained")
    figure = go.Figure(
        go.Scatter(
            x=[str(offset) for offset in range(len(retention.curve))],
            y=[None if rate is None else round(rate * 100, 1) for rate in retention.curve],
            mode="lines+markers",
            line={"color": GREEN, "width": 2},
            name=name,
            hovertemplate=_("Week %{x}") + ": %{y}%<extra></extra>",
        )
    )
    return _layout(
        figure,
        title=_("Retention curve (all cohorts)"),
        height=300,
        xaxis={"type": "category", "title": {"text": _("Weeks after joining")}},
        yaxis={"title": {"text": name}, "ticksuffix": "%", "range": [0, 105]},
        showlegend=False,
    )


def lifecycle_figure(*, weeks: list[LifecycleWeek]) -> dict:
    """New, returning and resurrecting above the axis; dormant below it."""
    labels = [week.week.isoformat() for week in weeks]
    names = lifecycle_labels()
    figure = go.Figure()
    for group in ("new", "returning", "resurrecting", "dormant"):
        sign = -1 if group == "dormant" else 1
        values = [getattr(week, group) for week in weeks]
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[sign * value for value in values],
                name=names[group],
                marker_color=LIFECYCLE_COLOURS[group],
                customdata=[
                    urlencode({"week": week.week.isoformat(), "group": group}) if value else ""
                    for week, value in zip(weeks, values, strict=True)
                ],
                text=[str(value) for value in values],
                textposition="none",
                hovertemplate=_hover("%{text}"),
            )
        )
    return _layout(
        figure,
        title=_("Member lifecycle per week"),
        barmode="relative",
        xaxis={"type": "category", "title": {"text": _("Week starting")}},
        yaxis={"title": {"text": _("Members")}, "zeroline": True, "zerolinewidth": 2},
    )


def pyramid_over_time_figure(*, series: dict) -> dict:
    """Members per tier per day as stacked areas, the bottom tier at the bottom.

    Snapshots start on the day tiers were first counted: with fewer than three days an
    area would be a line or nothing, so those few days are drawn as stacked bars."""
    labels = [day.isoformat() for day in series["days"]]
    as_bars = len(labels) < 3
    figure = go.Figure()
    for index, (_rank, name, counts) in enumerate(series["tiers"]):
        colour = TIER_COLOURS[min(index, len(TIER_COLOURS) - 1)]
        if as_bars:
            trace = go.Bar(
                x=labels, y=counts, name=name, marker_color=colour, hovertemplate=_hover()
            )
        else:
            trace = go.Scatter(
                x=labels,
                y=counts,
                name=name,
                mode="lines",
                stackgroup="tiers",
                line={"color": colour, "width": 1},
                fillcolor=colour,
                hovertemplate=_hover(),
            )
        figure.add_trace(trace)
    return _layout(
        figure,
        title=_("Tier pyramid over time"),
        barmode="stack",
        bargap=0.6,
        xaxis={"type": "category", "title": {"text": _("Day")}, "nticks": 12},
        yaxis={"title": {"text": _("Members")}, "rangemode": "tozero"},
    )


def action_figure(*, points: list[ActionPoint]) -> dict:
    """The action index of each day (its trailing 30 days) as a line in percent on the right
    axis, the calls to action behind it as bars. Days without any call leave a gap."""
    labels = [point.day.isoformat() for point in points]
    index_name = _("Action index")
    calls_name = _("Calls to action, last 30 days")
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            x=labels,
            y=[point.calls for point in points],
            name=calls_name,
            marker_color="#d3eedf",
            hovertemplate=_hover(),
        )
    )
    figure.add_trace(
        go.Scatter(
            x=labels,
            y=[
                None if point.action_index is None else round(point.action_index * 100, 1)
                for point in points
            ],
            name=index_name,
            mode="lines+markers" if len(points) <= 60 else "lines",
            line={"color": BLUE, "width": 2},
            connectgaps=False,
            yaxis="y2",
            hovertemplate=_hover("%{y}%"),
        )
    )
    return _layout(
        figure,
        title=_("Action power over time"),
        xaxis={"type": "category", "title": {"text": _("Day")}, "nticks": 12},
        yaxis={"title": {"text": calls_name}, "rangemode": "tozero", "tickformat": ",d"},
        yaxis2={
            "title": {"text": index_name},
            "overlaying": "y",
            "side": "right",
            "ticksuffix": "%",
            "range": [0, 105],
            "showgrid": False,
        },
    )


def week_after(week: date, offset: int) -> date:
    return week + timedelta(weeks=offset)
