"""A community's outlets page: the list with each outlet's last test, the add form (the
chosen platform's fields only), switching an outlet off and on, deleting it, and "send a
test message", which answers htmx with the outlet's row and the platform's answer.

Credentials are sensitive, so every view needs ``MANAGE_COMMUNITIES`` (owners and
operators); an outlet outside what the staff member may see is a 404 (automations/access.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from automations.forms import OutletForm, PlatformChoiceForm, platform_for
from automations.models import Outlet
from automations.selectors.outlets import outlet_list, outlet_row
from automations.services import outlets as services
from communities.forms import add_service_error
from communities.models import Community
from communities.panels import links_for
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest

TEMPLATE = "automations/outlets.html"

OUTCOME_LABELS = {
    "sent": gettext_lazy("Sent"),
    "rejected": gettext_lazy("Rejected"),
    "retry": gettext_lazy("Not sent, try again later"),
    "unknown": gettext_lazy("Unknown: sent, but no answer came"),
}


def _chosen_platform(request: HtmxHttpRequest, community: Community) -> str:
    choice = PlatformChoiceForm(request.GET)
    if choice.is_valid():
        return choice.cleaned_data["platform"]
    return platform_for(community.platform)


def _page(request: HtmxHttpRequest, community: Community, form: OutletForm, *, status=200):
    return render(
        request,
        TEMPLATE,
        {
            "nav": "communities",
            "community": community,
            "rows": outlet_list(community=community),
            "form": form,
            "platform_form": PlatformChoiceForm(initial={"platform": form.platform}),
            "outcomes": OUTCOME_LABELS,
            "links": links_for(request, community),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def outlets(request: HtmxHttpRequest, community: Community) -> HttpResponse:
    platform = _chosen_platform(request, community)
    if request.method == "GET":
        form = OutletForm(platform=platform)
        if request.htmx and request.htmx.target == "outlet-form":
            return render(
                request,
                f"{TEMPLATE}#outlet-form",
                {"community": community, "form": form},
            )
        return _page(request, community, form)
    form = OutletForm(request.POST, platform=platform)
    if form.is_valid():
        data = form.cleaned_data
        try:
            outlet = services.outlet_create(
                community=community,
                by=request.user,
                name=data["name"],
                platform=data["platform"],
                url=data.get("url", ""),
                secret=data.get("secret", ""),
                token=data.get("token", ""),
                chat_id=data.get("chat_id", ""),
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Outlet “%(name)s” added. Send it a test message to see that it works.")
                % {"name": outlet.name},
            )
            return redirect("automations:outlets", community_slug=community.slug)
    return _page(request, community, form)


def _row(request: HtmxHttpRequest, outlet: Outlet) -> HttpResponse:
    return render(
        request,
        f"{TEMPLATE}#outlet-row",
        {"row": outlet_row(outlet), "community": outlet.community, "outcomes": OUTCOME_LABELS},
    )


def _back(outlet: Outlet):
    return redirect("automations:outlets", community_slug=outlet.community.slug)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def outlet_test(request: HtmxHttpRequest, outlet: Outlet) -> HttpResponse:
    result = services.outlet_test_send(outlet=outlet)
    if request.htmx:
        return _row(request, outlet)
    label = OUTCOME_LABELS.get(str(result.outcome), result.outcome)
    text = _("Test message to “%(name)s”: %(outcome)s.") % {"name": outlet.name, "outcome": label}
    (messages.success if result.outcome == "sent" else messages.warning)(request, text)
    return _back(outlet)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def outlet_disable(request: HtmxHttpRequest, outlet: Outlet) -> HttpResponse:
    services.outlet_set_enabled(outlet=outlet, enabled=False)
    return _row(request, outlet) if request.htmx else _back(outlet)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def outlet_enable(request: HtmxHttpRequest, outlet: Outlet) -> HttpResponse:
    services.outlet_set_enabled(outlet=outlet, enabled=True)
    return _row(request, outlet) if request.htmx else _back(outlet)


@require_POST
@staff_required(Capability.MANAGE_COMMUNITIES)
def outlet_delete(request: HtmxHttpRequest, outlet: Outlet) -> HttpResponse:
    services.outlet_delete(outlet=outlet)
    messages.success(request, _("Outlet “%(name)s” deleted.") % {"name": outlet.name})
    return _back(outlet)
