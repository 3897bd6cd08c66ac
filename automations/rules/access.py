"""``rule_id`` in a URL resolves to the organisation's rule, or 404 (another
organisation's rule); registered by AutomationsConfig.ready."""

from django.shortcuts import get_object_or_404

from automations.models import AutomationRule
from communities.models import Staff


def get_rule_or_404(staff: Staff, rule_id: int) -> AutomationRule:
    return get_object_or_404(
        AutomationRule.objects.filter(organization_id=staff.organization_id).select_related(
            "organization"
        ),
        pk=rule_id,
    )


RESOLVERS = {"rule_id": ("rule", get_rule_or_404)}
