"""The demo's team history: a pending invitation, a former moderator, their log entries.

Made through the team services, so the staff log reads as a real team's would."""

from django.contrib.auth import get_user_model

from communities import team
from communities.models import Invitation, Organization, Role, Staff
from communities.services import staff_user_create

FORMER_MODERATOR = "former_moderator"
INVITED_EMAIL = "chen.jing@demo.communityops.local"


def seed_team(*, organization: Organization, owner, password: str) -> None:
    """Idempotent: a second run adds nothing."""
    communities = list(organization.communities.filter(archived=False).order_by("name"))
    moderator = Staff.objects.filter(
        organization=organization, role=Role.MODERATOR, user__username="moderator"
    ).first()
    # The former moderator ran the current moderator's groups before them.
    handed_over = list(moderator.communities.all()) if moderator else communities[:2]
    if not get_user_model().objects.filter(username=FORMER_MODERATOR).exists():
        user = staff_user_create(
            organization=organization,
            username=FORMER_MODERATOR,
            password=password,
            role=Role.MODERATOR,
            email=f"{FORMER_MODERATOR}@demo.communityops.local",
            first_name="Wang Lei 王磊",
            communities=handed_over[:1],
        )
        former = Staff.objects.get(organization=organization, user=user)
        team.staff_communities_set(staff=former, communities=handed_over, actor=owner)
        team.staff_deactivate(staff=former, actor=owner)
    spare = [c for c in communities if c not in handed_over]
    if not Invitation.objects.filter(organization=organization, email=INVITED_EMAIL).exists():
        team.invitation_create(
            organization=organization,
            invited_by=owner,
            email=INVITED_EMAIL,
            role=Role.MODERATOR,
            language="zh-hans",
            communities=spare[:1],
        )
