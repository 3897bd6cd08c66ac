"""What every plotly chart shares, for every app (the lowest app, so all may import it).

Pages get figures as plain dicts through ``json_script``; static/js/app.js draws them.

Labels are escaped here, for every chart: plotly draws a subset of HTML in text (``<a
href>``, ``<b>``, ``<br>``…), so a tier or community named ``<a href=…>`` would become a
link. Builders put user text only in the attributes below, never in a ``hovertemplate``
(which is markup: name a trace in it as ``%{fullData.name}``, a point as ``%{x}``).
"""

import html

import plotly.graph_objects as go

# plotly's "plotly_white" look as a small template that plotly.js applies in the
# browser: the named template would put ~10 kB of JSON into every chart.
WHITE = {
    "layout": {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"color": "#2a3f5f"},
        "xaxis": {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "automargin": True},
        "yaxis": {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "automargin": True},
    }
}


# Trace attributes that plotly draws as text (legend, ticks, hover, bar labels).
TRACE_TEXT = ("name", "x", "y", "text", "hovertext", "labels")
# Layout keys whose values are drawn as text (titles, annotations, custom ticks).
LAYOUT_TEXT = ("text", "ticktext")


def label(value):
    """A label as plotly should show it: ``& < >`` as entities, which plotly draws as the
    characters (quotes stay: plotly reads no ``&quot;``, and without ``<`` there is no tag)."""
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, list | tuple):
        return [label(item) for item in value]
    return value


def _escape_trace(trace: dict) -> dict:
    return {key: label(value) if key in TRACE_TEXT else value for key, value in trace.items()}


def _escape_layout(value):
    if isinstance(value, dict):
        return {
            key: label(item) if key in LAYOUT_TEXT else _escape_layout(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_escape_layout(item) for item in value]
    return value


def figure_dict(figure: go.Figure, **layout) -> dict:
    """What the page gets (through ``json_script``): the traces and a plain layout dict,
    every label escaped (see the module's docstring).

    Not ``update_layout``: it deep-copies and validates the whole layout, ~16 ms a chart,
    which was most of a dashboard's server time."""
    return {
        "data": [_escape_trace(trace.to_plotly_json()) for trace in figure.data],
        "layout": {"template": WHITE, **_escape_layout(layout)},
    }
