"""How the checklists app's URL parameters resolve, within what the staff may see.

A run (and its items) is found through the communities the staff may see, so a
moderator's URL for a group not assigned to them is a 404, like another organisation's.
Templates belong to the organisation.
"""

from django.shortcuts import get_object_or_404

from checklists.models import ChecklistRun, RunItem, SopItem, SopTemplate
from communities.models import Staff
from communities.permissions import communities_for


def get_run_or_404(staff: Staff, run_id: int) -> ChecklistRun:
    return get_object_or_404(
        ChecklistRun.objects.filter(community__in=communities_for(staff)).select_related(
            "community", "assignee__user", "template"
        ),
        pk=run_id,
    )


def get_run_item_or_404(staff: Staff, item_id: int) -> RunItem:
    return get_object_or_404(
        RunItem.objects.filter(run__community__in=communities_for(staff)).select_related(
            "run__community"
        ),
        pk=item_id,
    )


def get_template_or_404(staff: Staff, template_id: int) -> SopTemplate:
    return get_object_or_404(
        SopTemplate.objects.filter(organization_id=staff.organization_id), pk=template_id
    )


def get_sop_item_or_404(staff: Staff, sop_item_id: int) -> SopItem:
    return get_object_or_404(
        SopItem.objects.filter(template__organization_id=staff.organization_id).select_related(
            "template"
        ),
        pk=sop_item_id,
    )


RESOLVERS = {
    "run_id": ("run", get_run_or_404),
    "run_item_id": ("run_item", get_run_item_or_404),
    "template_id": ("template", get_template_or_404),
    "sop_item_id": ("sop_item", get_sop_item_or_404),
}
