"""A community's automatic messages and spam guard: its event announcements, its topic
prompt after a silent day, and what its spam guard looks for (MANAGE_COMMUNITIES)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from automations.forms_settings import CommunityAutomationForm
from automations.placeholders import PLACEHOLDERS
from automations.services.community_settings import (
    community_automation_get,
    community_automation_update,
)
from communities.forms import add_service_error
from communities.models import Community
from communities.panels import links_for
from communities.permissions import Capability, staff_required
from communities.shortcuts import HtmxHttpRequest


@require_http_methods(["GET", "POST"])
@staff_required(Capability.MANAGE_COMMUNITIES)
def community_settings(request: HtmxHttpRequest, community: Community) -> HttpResponse:
    current = community_automation_get(community=community)
    if request.method == "POST":
        form = CommunityAutomationForm(request.POST, instance=current, community=community)
        if form.is_valid():
            try:
                community_automation_update(community=community, data=form.cleaned_data)
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, _("Automatic messages and spam guard saved."))
                return redirect("automations:community-settings", community_slug=community.slug)
    else:
        form = CommunityAutomationForm(instance=current, community=community)
    return render(
        request,
        "automations/community_settings.html",
        {
            "nav": "communities",
            "community": community,
            "form": form,
            "links": links_for(request, community),
            "has_forbidden_rules": form.fields["spam_rule"].queryset.exists(),
            "has_outlet": community.outlets.filter(disabled_at__isnull=True).exists(),
            # {member} is for rules and welcome messages: a silence is about nobody.
            "placeholders": [(n, label) for n, label in PLACEHOLDERS.items() if n != "member"],
        },
    )
