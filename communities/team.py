"""Staff management: invitations, accounts, roles, assigned communities, deactivation.

Every write here records a staff-log entry (``staff_log_record``). Invitation links carry a
random token of which only the digest is stored (``communities.tokens.key_digest``, the
API keys' digest); a link is accepted once, under a lock on its row. An organisation always
keeps one active owner: the last one can be neither demoted nor deactivated.
"""

import secrets
import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communities.models import (
    Community,
    Invitation,
    Organization,
    Role,
    Staff,
    StaffAction,
    StaffLogEntry,
)
from communities.services import staff_log_record
from communities.tokens import key_digest

INVITATION_PREFIX = "inv_"
MAX_TOKEN_LENGTH = 128


def _new_token() -> str:
    return INVITATION_PREFIX + secrets.token_urlsafe(32)


def _expiry(now):
    return now + timedelta(days=settings.INVITATION_DAYS)


def _checked_communities(organization: Organization, role: str, communities) -> list[Community]:
    """Only a moderator has assigned communities, and only their organisation's."""
    if role != Role.MODERATOR:
        return []
    communities = list(communities or [])
    if any(community.organization_id != organization.pk for community in communities):
        raise ValidationError({"communities": _("Choose communities of this organisation.")})
    return communities


def _role_label(role: str) -> str:
    return str(Role(role).label)


def _names(communities) -> str:
    return ", ".join(sorted(community.name for community in communities))


# --- Invitations -------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *,
    organization: Organization,
    invited_by,
    email: str,
    role: str,
    language: str,
    communities=(),
    now=None,
) -> tuple[Invitation, str]:
    """A new invitation; returns it and its token (the link's secret, not stored)."""
    now = now or timezone.now()
    chosen = _checked_communities(organization, role, communities)
    token = _new_token()
    invitation = Invitation(
        organization=organization,
        email=email.strip(),
        role=role,
        language=language,
        digest=key_digest(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=_expiry(now),
    )
    invitation.full_clean()
    invitation.save()
    invitation.communities.set(chosen)
    staff_log_record(
        organization=organization,
        actor=invited_by,
        action=StaffAction.INVITED,
        detail=f"{invitation.email} · {_role_label(role)}",
    )
    return invitation, token


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor, now=None) -> str:
    """A new token and a new expiry for a pending invitation; the old link stops working."""
    now = now or timezone.now()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise ValidationError(_("This invitation was already accepted or revoked."))
    token = _new_token()
    invitation.digest = key_digest(token)
    invitation.expires_at = _expiry(now)
    invitation.save(update_fields=["digest", "expires_at"])
    staff_log_record(
        organization=invitation.organization,
        actor=actor,
        action=StaffAction.INVITED,
        detail=_("%(email)s (sent again)") % {"email": invitation.email},
    )
    return token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor, now=None) -> None:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(_("This invitation was already accepted."))
    if invitation.revoked_at is None:
        invitation.revoked_at = now or timezone.now()
        invitation.save(update_fields=["revoked_at"])
        staff_log_record(
            organization=invitation.organization,
            actor=actor,
            action=StaffAction.INVITATION_REVOKED,
            detail=invitation.email,
        )


def invitation_send(*, invitation: Invitation, link: str) -> None:
    """Mail the link, in the invitation's language (plain text)."""
    # The expiry in the organisation's time zone, the words in the invitation's language.
    with (
        translation.override(invitation.language),
        timezone.override(invitation.organization.time_zone),
    ):
        context = {
            "invitation": invitation,
            "organization": invitation.organization,
            "role": invitation.get_role_display(),
            "link": link,
        }
        subject = _("You are invited to %(organization)s on CommunityOps") % {
            "organization": invitation.organization.name
        }
        body = render_to_string("communities/team/invitation_email.txt", context)
    send_mail(subject, body, None, [invitation.email])


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a link names, whatever its state, or ``None`` for an unknown one."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(INVITATION_PREFIX):
        return None
    return (
        Invitation.objects.select_related("organization").filter(digest=key_digest(token)).first()
    )


def invitation_problem(invitation: Invitation | None, now=None) -> str:
    """Why a link cannot be used, in the user's words; empty when it can."""
    now = now or timezone.now()
    if invitation is None:
        return _("This invitation link is not valid. Ask for a new one.")
    if invitation.accepted_at is not None:
        return _("This invitation was already used. Sign in instead.")
    if invitation.revoked_at is not None:
        return _("This invitation was withdrawn. Ask for a new one.")
    if now >= invitation.expires_at:
        return _("This invitation has expired. Ask for a new one.")
    return ""


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str, now=None):
    """Create the user and their staff record from a usable invitation; returns the user.

    The invitation's row is locked, so two submissions of one link make one account."""
    now = now or timezone.now()
    found = invitation_for_token(token)
    invitation = (
        Invitation.objects.select_for_update().select_related("organization").get(pk=found.pk)
        if found
        else None
    )
    problem = invitation_problem(invitation, now)
    if problem:
        raise ValidationError(problem)
    user = _user_create(username=username, email=invitation.email, password=password)
    staff = Staff.objects.create(
        organization=invitation.organization, user=user, role=invitation.role
    )
    staff.communities.set(
        invitation.communities.filter(organization=invitation.organization)
        if invitation.role == Role.MODERATOR
        else []
    )
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    staff_log_record(
        organization=invitation.organization,
        actor=user,
        action=StaffAction.INVITATION_ACCEPTED,
        target_user=user,
        detail=f"{invitation.email} · {_role_label(invitation.role)}",
    )
    return user


def _user_create(*, username: str, email: str, password: str, must_change_password=False):
    User = get_user_model()
    user = User(username=username.strip(), email=email, must_change_password=must_change_password)
    user.full_clean(exclude=["password"])
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def staff_account_create(
    *,
    organization: Organization,
    actor,
    username: str,
    email: str,
    role: str,
    password: str,
    communities=(),
) -> Staff:
    """An account made by an owner, with a temporary password changed at first sign-in."""
    chosen = _checked_communities(organization, role, communities)
    user = _user_create(
        username=username, email=email, password=password, must_change_password=True
    )
    staff = Staff.objects.create(organization=organization, user=user, role=role)
    staff.communities.set(chosen)
    staff_log_record(
        organization=organization,
        actor=actor,
        action=StaffAction.ACCOUNT_CREATED,
        target_user=user,
        detail=_role_label(role),
    )
    return staff


# --- Staff -------------------------------------------------------------------------------


def _locked(staff: Staff) -> Staff:
    return Staff.objects.select_for_update().select_related("organization", "user").get(pk=staff.pk)


def _ensure_another_owner(staff: Staff) -> None:
    """Refuse to take away the organisation's last active owner (counted under a lock)."""
    owners = list(
        Staff.objects.select_for_update()
        .filter(organization_id=staff.organization_id, role=Role.OWNER, deactivated_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if owners == [staff.pk] or not owners:
        raise ValidationError(
            _("This is the organisation's last owner. Make someone else owner first.")
        )


@transaction.atomic
def staff_role_change(*, staff: Staff, role: str, actor) -> Staff:
    staff = _locked(staff)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    if staff.role == role:
        return staff
    if staff.role == Role.OWNER and staff.deactivated_at is None:
        _ensure_another_owner(staff)
    before = staff.role
    staff.role = role
    staff.save(update_fields=["role"])
    staff_log_record(
        organization=staff.organization,
        actor=actor,
        action=StaffAction.ROLE_CHANGED,
        target_user=staff.user,
        detail=f"{_role_label(before)} → {_role_label(role)}",
    )
    return staff


@transaction.atomic
def staff_communities_set(*, staff: Staff, communities, actor, community=None) -> None:
    """Assign exactly ``communities`` to a moderator (this organisation's only)."""
    communities = list(communities)
    if any(c.organization_id != staff.organization_id for c in communities):
        raise ValidationError({"communities": _("Choose communities of this organisation.")})
    if staff.role != Role.MODERATOR:
        raise ValidationError(_("Only moderators have assigned communities."))
    before = set(staff.communities.values_list("pk", flat=True))
    if before == {c.pk for c in communities}:
        return
    staff.communities.set(communities)
    staff_log_record(
        organization=staff.organization,
        actor=actor,
        action=StaffAction.COMMUNITIES_ASSIGNED,
        target_user=staff.user,
        community=community,
        detail=_names(communities) or _("none"),
    )


def staff_community_assign(*, staff: Staff, community: Community, assigned: bool, actor) -> None:
    """Add or remove one community of a moderator (from the community page)."""
    current = set(staff.communities.all())
    wanted = current | {community} if assigned else current - {community}
    staff_communities_set(staff=staff, communities=wanted, actor=actor, community=community)


@transaction.atomic
def staff_deactivate(*, staff: Staff, actor, now=None) -> None:
    """The staff member is refused from their next request on; their records stay."""
    staff = _locked(staff)
    if staff.deactivated_at is not None:
        return
    if staff.role == Role.OWNER:
        _ensure_another_owner(staff)
    staff.deactivated_at = now or timezone.now()
    staff.save(update_fields=["deactivated_at"])
    staff_log_record(
        organization=staff.organization,
        actor=actor,
        action=StaffAction.DEACTIVATED,
        target_user=staff.user,
        detail=_role_label(staff.role),
    )


@transaction.atomic
def staff_reactivate(*, staff: Staff, actor) -> None:
    staff = _locked(staff)
    if staff.deactivated_at is None:
        return
    staff.deactivated_at = None
    staff.save(update_fields=["deactivated_at"])
    staff_log_record(
        organization=staff.organization,
        actor=actor,
        action=StaffAction.REACTIVATED,
        target_user=staff.user,
        detail=_role_label(staff.role),
    )


# --- Reads (the staff log page) ----------------------------------------------------------


def staff_log(*, organization: Organization, action="", person=None, start=None, end=None):
    """The organisation's log, newest first; ``start``/``end`` are days in its time zone."""
    entries = StaffLogEntry.objects.filter(organization=organization).select_related(
        "actor", "target_user", "community"
    )
    if action:
        entries = entries.filter(action=action)
    if person:
        entries = entries.filter(Q(actor_id=person) | Q(target_user_id=person))
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    if start:
        entries = entries.filter(at__gte=datetime.combine(start, time.min, tzinfo=zone))
    if end:
        after = end + timedelta(days=1)
        entries = entries.filter(at__lt=datetime.combine(after, time.min, tzinfo=zone))
    return entries.order_by("-at", "-pk")


def staff_log_people(*, organization: Organization) -> list:
    """Everyone who was ever staff of the organisation, for the log's person filter."""
    return list(
        get_user_model()
        .objects.filter(staff_roles__organization=organization)
        .order_by("username")
        .distinct()
    )


def community_moderator_choices(community: Community) -> list[Staff]:
    """The organisation's active moderators, who may be assigned to ``community``."""
    return list(
        Staff.objects.filter(
            organization_id=community.organization_id,
            role=Role.MODERATOR,
            deactivated_at__isnull=True,
        )
        .select_related("user")
        .order_by("user__username")
    )
