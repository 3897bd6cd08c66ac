"""What the checklists app adds to lower apps' pages (registered from apps.py): its panel
on a community's page — the community's open runs with their progress, the templates it
uses, and for those who manage communities a button to start a setup run.

Three queries whatever the number of runs and items (two for those who cannot start runs).
"""

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone

from checklists.models import ChecklistRun, Phase, SopTemplate, TemplateUse
from communities.models import Community
from communities.panels import Panel, register_panel
from communities.permissions import Capability, has_capability

OPEN_RUNS = 10
SETUP_TEMPLATES = 3


def checklists_panel(request: HttpRequest, community: Community) -> dict | None:
    staff = getattr(request, "staff", None)
    if not has_capability(staff, Capability.VIEW_COMMUNITIES):
        return None
    if community.organization_id != staff.organization_id:
        return None
    now = timezone.now()
    runs = list(
        ChecklistRun.objects.filter(
            community=community, cancelled_at__isnull=True, opens_at__lte=now, closes_at__gt=now
        )
        .annotate(total=Count("items"), done=Count("items", filter=Q(items__done_at__isnull=False)))
        .order_by("closes_at", "pk")[:OPEN_RUNS]
    )
    uses = list(
        TemplateUse.objects.filter(community=community)
        .select_related("template")
        .order_by("template__phase", "template__name", "pk")
    )
    setup_templates = []
    if has_capability(staff, Capability.MANAGE_COMMUNITIES) and not community.archived:
        setup_templates = list(
            SopTemplate.objects.filter(
                organization_id=community.organization_id, phase=Phase.SETUP
            ).order_by("name", "pk")[:SETUP_TEMPLATES]
        )
    return {
        "community": community,
        "runs": runs,
        "uses": uses,
        "setup_templates": setup_templates,
    }


register_panel(
    Panel(
        key="checklists.community",
        template="checklists/community_panel.html",
        context=checklists_panel,
        order=45,
    )
)
