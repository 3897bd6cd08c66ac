"""Squads (小组制): small groups inside a community, added from the community page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from communities.forms import add_service_error
from communities.models import Community
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest
from members import services
from members.forms_squads import SquadForm


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def squad_create(request: HtmxHttpRequest, community: Community):
    """Add a squad. The community page posts here; errors come back on this page."""
    form = SquadForm(request.POST or None, community=community)
    if request.method == "POST" and form.is_valid():
        try:
            squad = services.squad_create(community=community, **form.cleaned_data)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, _("Squad “%(name)s” added.") % {"name": squad})
            return redirect(reverse("communities:detail", args=[community.slug]) + "#squads")
    return render(
        request,
        "members/squad_form.html",
        {"nav": "communities", "community": community, "form": form},
    )
