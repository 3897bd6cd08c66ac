"""The portfolio: communities side by side on retention, stickiness, mainstream share and
action power."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from analytics import selectors
from analytics.figures import grouped_percent_figure
from analytics.forms import PortfolioFilterForm
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members.transfer import csv_download, neutralise

CSV_HEADER = [
    "community",
    "slug",
    "programme",
    "platform",
    "day",
    "members",
    "retention_week_4_percent",
    "stickiness_percent",
    "mainstream_share_percent",
    "sop_completion",
    "action_index",
    "community_value",
    "check_in_completion",
]


def _percent(share: float | None, digits: int = 1) -> float | None:
    return None if share is None else round(share * 100, digits)


def _rows(request: HtmxHttpRequest) -> tuple[PortfolioFilterForm, list[selectors.PortfolioRow]]:
    form = PortfolioFilterForm(request.GET or None, staff=request.staff)
    return form, selectors.portfolio(staff=request.staff, programme_id=form.programme_id)


@require_GET
@vary_on_headers("HX-Request")
@staff_required(Capability.VIEW_ANALYTICS)
def portfolio(request: HtmxHttpRequest):
    form, rows = _rows(request)
    table = [
        {
            "row": row,
            "retention": _percent(row.retention_week_4),
            "stickiness": _percent(row.stickiness),
            "mainstream": _percent(row.mainstream_share),
            "action": _percent(row.action.action_index),
            "value": None
            if row.action.community_value is None
            else f"{row.action.community_value:.1f}",
            "check_in": _percent(row.action.check_in_completion.rate),
            "sop": row.sop,
        }
        for row in rows
    ]
    chart = grouped_percent_figure(
        categories=[row.community.name for row in rows],
        series=[
            (_("Week-4 retention"), [row.retention_week_4 for row in rows]),
            (_("Stickiness (DAU/MAU)"), [row.stickiness for row in rows]),
            (_("Mainstream share"), [row.mainstream_share for row in rows]),
            (_("Action index"), [row.action.action_index for row in rows]),
            (_("SOP completion"), [row.sop.rate for row in rows]),
        ],
        title=_("Communities compared"),
    )
    template = "analytics/portfolio.html"
    if request.htmx and not request.htmx.boosted:
        template += "#portfolio-results"
    return render(
        request,
        template,
        {
            "nav": "analytics",
            "form": form,
            "table": table,
            "chart": chart,
            "can_export": has_capability(request.staff, Capability.EXPORT_DATA),
        },
    )


@require_GET
@staff_required(Capability.EXPORT_DATA)
def portfolio_csv(request: HtmxHttpRequest):
    """The portfolio table as CSV (UTF-8 with a BOM for Excel; the header stays English)."""
    _form, rows = _rows(request)
    response, writer = csv_download(f"portfolio-{timezone.localdate().isoformat()}.csv")
    writer.writerow(CSV_HEADER)
    for row in rows:
        community = row.community
        writer.writerow(
            [
                neutralise(community.name),
                community.slug,
                neutralise(community.programme.name if community.programme else ""),
                community.platform,
                row.today.isoformat(),
                row.members,
                *("" if v is None else v for v in map(_percent, _shares(row))),
                "" if row.sop.rate is None else row.sop.rate,  # a ratio, as the API writes it
                *("" if v is None else v for v in _action(row)),
            ]
        )
    return response


def _shares(row: selectors.PortfolioRow) -> list[float | None]:
    return [row.retention_week_4, row.stickiness, row.mainstream_share]


def _action(row: selectors.PortfolioRow) -> list[float | None]:
    """As the API writes them: the index and the completion as ratios, the value as is."""
    action = row.action
    return [action.action_index, action.community_value, action.check_in_completion.rate]
