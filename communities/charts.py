"""What every plotly chart shares, for every app (the lowest app, so all may import it).

Pages get figures as plain dicts through ``json_script``; static/js/app.js draws them.
"""

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


def figure_dict(figure: go.Figure, **layout) -> dict:
    """What the page gets (through ``json_script``): the traces and a plain layout dict.

    Not ``update_layout``: it deep-copies and validates the whole layout, ~16 ms a chart,
    which was most of a dashboard's server time."""
    return {
        "data": [trace.to_plotly_json() for trace in figure.data],
        "layout": {"template": WHITE, **layout},
    }
