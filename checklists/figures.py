"""Figure builders of the team view: typed rows in, plotly figure dicts out (drawn by
static/js/app.js from ``json_script``). Names are user text: ``figure_dict`` escapes them,
and no builder puts them in a ``hovertemplate``."""

from __future__ import annotations

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from checklists.selectors.team import CompletionRow, DayPoint
from communities.charts import figure_dict

GREEN = "#00895a"
BLUE = "#1e6fd9"


def completion_by_day_figure(*, days: list[DayPoint], name: str) -> dict:
    """Completion per local day in percent; a day with nothing due is a gap, not 0 %."""
    figure = go.Figure(
        go.Scatter(
            name=name,
            x=[point.day.isoformat() for point in days],
            y=[point.figures.percent for point in days],
            customdata=[[point.figures.on_time, point.figures.due] for point in days],
            mode="lines+markers" if len(days) <= 60 else "lines",
            line={"color": GREEN, "width": 2},
            connectgaps=False,
            hovertemplate="%{x}: %{y}% (%{customdata[0]} / %{customdata[1]})<extra></extra>",
        )
    )
    return _percent_figure(figure, title=_("SOP completion per day"), height=320)


def completion_by_moderator_figure(*, rows: list[CompletionRow]) -> dict:
    """One bar per moderator (and the unassigned runs): their completion in percent."""
    figure = go.Figure(
        go.Bar(
            x=[row.name for row in rows],
            y=[row.percent for row in rows],
            customdata=[[row.on_time, row.due] for row in rows],
            marker_color=BLUE,
            hovertemplate="%{x}: %{y}% (%{customdata[0]} / %{customdata[1]})<extra></extra>",
        )
    )
    return _percent_figure(
        figure, title=_("SOP completion per moderator"), height=320, xaxis={"tickangle": -30}
    )


def _percent_figure(figure: go.Figure, *, title: str, height: int, **layout) -> dict:
    return figure_dict(
        figure,
        title={"text": title},
        yaxis={"ticksuffix": "%", "range": [0, 105]},
        margin={"l": 50, "r": 20, "t": 50, "b": 60},
        height=height,
        **layout,
    )
