from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from analytics.figures import bar_figure
from communities import selectors as community_selectors
from communities.models import Platform
from communities.permissions import Capability, has_capability, staff_required
from communities.shortcuts import HtmxHttpRequest, render_coming_soon


@require_GET
@staff_required(Capability.VIEW_COMMUNITIES)
def overview(request: HtmxHttpRequest):
    counts = community_selectors.community_platform_counts(staff=request.staff)
    labels = dict(Platform.choices)
    chart = bar_figure(
        labels=[str(labels.get(code, code)) for code in counts],
        values=list(counts.values()),
        title=_("Active communities by platform"),
        y_title=_("Communities"),
    )
    return render(
        request,
        "analytics/overview.html",
        {
            "nav": "overview",
            "total": sum(counts.values()),
            "by_platform": [(labels.get(code, code), n) for code, n in counts.items()],
            "chart": chart,
            "can_manage": has_capability(request.staff, Capability.MANAGE_COMMUNITIES),
        },
    )


@require_GET
@staff_required(Capability.VIEW_ANALYTICS)
def analytics_home(request: HtmxHttpRequest):
    return render_coming_soon(
        request,
        nav="analytics",
        title=_("Analytics"),
        lead=_("Which groups are alive, which are dying, and whether newcomers stay."),
        items=[
            _("Daily, weekly and monthly active members, and stickiness."),
            _("Interaction frequency and the size of the mainstream group."),
            _("Weekly cohort retention and the member lifecycle."),
            _("Each community's lifecycle stage: 萌芽, 成长, 活跃, 衰退, 沉寂."),
        ],
    )
