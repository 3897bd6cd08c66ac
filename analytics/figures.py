"""Figure builders: typed figures in, plotly figure dicts out (rendered by static/js/app.js)."""

import plotly.graph_objects as go

from communities.charts import figure_dict


def bar_figure(*, labels: list[str], values: list[int], title: str, y_title: str) -> dict:
    figure = go.Figure(
        go.Bar(
            x=labels, y=values, marker_color="#00895a", hovertemplate="%{x}: %{y}<extra></extra>"
        )
    )
    return figure_dict(
        figure,
        title={"text": title},
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "dtick": 1},
        margin={"l": 50, "r": 20, "t": 50, "b": 60},
        height=320,
    )


# --- Overview and portfolio ----------------------------------------------------------------

STAGE_COLORS = {
    "budding": "#7cb342",
    "growth": "#00895a",
    "active": "#1e6fd9",
    "decline": "#e08a00",
    "dormant": "#8a8a8a",
}


def sparkline_points(values: list[int], *, width: int = 100, height: int = 24) -> str:
    """SVG ``points`` of a polyline through ``values``, scaled to the box (1px margin).

    All-zero or flat series lie on the bottom line; a single value is a flat line."""
    if not values:
        return ""
    top = max(values) or 1
    step = (width - 2) / (len(values) - 1) if len(values) > 1 else 0
    points = []
    for index, value in enumerate(values):
        x = 1 + index * step
        y = height - 1 - (value / top) * (height - 2)
        points.append(f"{x:.1f},{y:.1f}")
    if len(points) == 1:
        points.append(f"{width - 1:.1f},{points[0].split(',')[1]}")
    return " ".join(points)


def stage_figure(*, stages: list[tuple[str, str, int]], title: str, y_title: str) -> dict:
    """Communities per lifecycle stage: ``(stage, label, count)`` in stage order."""
    figure = go.Figure(
        go.Bar(
            x=[label for _stage, label, _n in stages],
            y=[n for _stage, _label, n in stages],
            marker_color=[STAGE_COLORS.get(stage, "#00895a") for stage, _label, _n in stages],
            hovertemplate="%{x}: %{y}<extra></extra>",
        )
    )
    return figure_dict(
        figure,
        title={"text": title},
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "dtick": 1},
        margin={"l": 50, "r": 20, "t": 50, "b": 60},
        height=300,
    )


def grouped_percent_figure(
    *, categories: list[str], series: list[tuple[str, list[float | None]]], title: str
) -> dict:
    """Grouped bars of shares (0…1) drawn as percentages; ``None`` is a missing bar.

    Categories are user text (community names): ``figure_dict`` escapes them."""
    colors = ["#00895a", "#1e6fd9", "#e08a00", "#8e44ad", "#c0392b"]
    figure = go.Figure(
        [
            go.Bar(
                name=name,
                x=categories,
                y=[None if v is None else round(v * 100, 1) for v in values],
                marker_color=colors[index % len(colors)],
                hovertemplate="%{x}<br>%{fullData.name}: %{y:.1f}%<extra></extra>",
            )
            for index, (name, values) in enumerate(series)
        ]
    )
    return figure_dict(
        figure,
        title={"text": title},
        barmode="group",
        yaxis={"ticksuffix": "%", "rangemode": "tozero"},
        # Long names slant under the bars; the legend stays clear of them, at the top.
        xaxis={"automargin": True, "tickangle": -30},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
        margin={"l": 50, "r": 20, "t": 70, "b": 40},
        height=420,
    )
