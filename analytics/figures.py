"""Figure builders: typed figures in, plotly figure dicts out (rendered by static/js/app.js)."""

import json

import plotly.graph_objects as go


def bar_figure(*, labels: list[str], values: list[int], title: str, y_title: str) -> dict:
    figure = go.Figure(
        go.Bar(
            x=labels, y=values, marker_color="#00895a", hovertemplate="%{x}: %{y}<extra></extra>"
        )
    )
    figure.update_layout(
        title={"text": title},
        yaxis={"title": {"text": y_title}, "rangemode": "tozero", "dtick": 1},
        margin={"l": 50, "r": 20, "t": 50, "b": 60},
        template="plotly_white",
        height=320,
    )
    # Through JSON so the page gets plain lists and dicts, never numpy types.
    return json.loads(figure.to_json())
