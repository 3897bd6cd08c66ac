"""Figure builders for the members area (plotly dicts, drawn by static/js/app.js)."""

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from communities.charts import figure_dict


def pyramid_figure(*, levels) -> dict:
    """Members per tier as a centred horizontal funnel: the top tier on top.

    ``levels`` is members.selectors.tier_pyramid(...) (bottom tier first).
    """
    top_first = list(reversed(levels))
    figure = go.Figure(
        go.Funnel(
            y=[level.tier.name for level in top_first],
            x=[level.members for level in top_first],
            textinfo="value",
            marker={
                "color": ["#00895a", "#2aa876", "#63c297", "#a6dcc0", "#d3eedf"][: len(top_first)]
            },
            hovertemplate="%{y}: %{x}<extra></extra>",
            connector={"visible": False},
        )
    )
    return figure_dict(
        figure,
        title={"text": _("Member pyramid")},
        margin={"l": 110, "r": 20, "t": 50, "b": 30},
        height=80 + 55 * max(len(top_first), 1),
    )
