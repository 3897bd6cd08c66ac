"""Every write to members, memberships, the ladder and the ledgers goes through here."""

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communities.models import Community, Organization, Penalty, Rule, RuleKind
from members import hooks
from members.models import (
    Application,
    ApplicationLink,
    ApplicationQuestion,
    ApplicationStatus,
    DepositEntry,
    Member,
    MemberRole,
    Membership,
    MembershipRole,
    MembershipStatus,
    PlatformHandle,
    PointsEntry,
    QuestionKind,
    Squad,
    Tag,
    Tier,
    TierChange,
    Violation,
)
from members.selectors import deposit_held

# --- Members -----------------------------------------------------------------------------


def tag_get_or_create(*, organization: Organization, kind: str, name: str) -> Tag:
    name = name.strip()
    tag = Tag.objects.filter(organization=organization, kind=kind, name=name).first()
    if tag is None:
        tag = Tag(organization=organization, kind=kind, name=name)
        tag.full_clean()
        tag.save()
    return tag


@transaction.atomic
def member_create(
    *,
    organization: Organization,
    display_name: str,
    handles: Iterable[tuple[str, str]] = (),
    tags: Iterable[Tag] = (),
    notes: str = "",
) -> Member:
    member = Member(organization=organization, display_name=display_name, notes=notes)
    member.full_clean()
    member.save()
    for platform, external_id in handles:
        handle_add(member=member, platform=platform, external_id=external_id)
    if tags:
        member.tags.add(*tags)
    return member


@transaction.atomic
def member_update(
    *, member: Member, display_name: str, notes: str, tags: Iterable[Tag] | None = None
) -> Member:
    """Change a person's name, notes and (when given) their whole set of tags."""
    member.display_name = display_name
    member.notes = notes
    member.full_clean()
    member.save(update_fields=["display_name", "notes"])
    if tags is not None:
        tags = list(tags)
        if any(tag.organization_id != member.organization_id for tag in tags):
            raise ValidationError(_("Choose tags of this organisation."))
        member.tags.set(tags)
    return member


@transaction.atomic
def member_add_to_community(
    *,
    community: Community,
    display_name: str,
    platform: str = "",
    external_id: str = "",
    joined_on: date | None = None,
) -> Membership:
    """Add a person to a community by hand: the known person if the platform id matches."""
    member = None
    if platform and external_id.strip():
        member = member_find_by_handle(
            organization=community.organization, platform=platform, external_id=external_id
        )
    if member is None:
        handles = [(platform, external_id)] if platform and external_id.strip() else []
        member = member_create(
            organization=community.organization, display_name=display_name, handles=handles
        )
    if Membership.objects.filter(community=community, member=member).exists():
        raise ValidationError(_("This person is already in this community."))
    return membership_create(community=community, member=member, joined_on=joined_on)


def handle_add(*, member: Member, platform: str, external_id: str) -> PlatformHandle:
    handle = PlatformHandle(
        organization_id=member.organization_id,
        member=member,
        platform=platform,
        external_id=external_id.strip(),
    )
    handle.full_clean()
    handle.save()
    return handle


def member_find_by_handle(
    *, organization: Organization, platform: str, external_id: str
) -> Member | None:
    handle = (
        PlatformHandle.objects.filter(
            organization=organization, platform=platform, external_id=external_id.strip()
        )
        .select_related("member")
        .first()
    )
    return handle.member if handle else None


def members_tag(*, memberships: Iterable[Membership], tag: Tag) -> int:
    """Add a tag to the members behind these memberships; returns how many got it."""
    member_ids = {m.member_id for m in memberships}
    through = Member.tags.through
    existing = set(
        through.objects.filter(tag=tag, member_id__in=member_ids).values_list(
            "member_id", flat=True
        )
    )
    new = [through(member_id=pk, tag_id=tag.pk) for pk in member_ids - existing]
    through.objects.bulk_create(new)
    return len(new)


# --- The ladder --------------------------------------------------------------------------

# (rank, English name, Chinese name, min points, min active days of 30, min tenure days)
DEFAULT_LADDER = [
    (1, "Newcomer", "新人", 0, 0, 0),
    (2, "Active", "活跃成员", 50, 4, 7),
    (3, "Core", "核心成员", 200, 10, 30),
    (4, "Leader", "骨干领袖", 500, 15, 90),
]


def tiers_create_default(*, community: Community) -> list[Tier]:
    """The four-level ladder newcomer → active → core → leader, named in the group's language."""
    if community.tiers.exists():
        return list(community.tiers.all())
    chinese = community.announcement_language == "zh-hans"
    return Tier.objects.bulk_create(
        Tier(
            community=community,
            rank=rank,
            name=zh if chinese else en,
            min_points=points,
            min_active_days_30=days,
            min_tenure_days=tenure,
        )
        for rank, en, zh, points, days, tenure in DEFAULT_LADDER
    )


def tier_update(*, tier: Tier, data: dict) -> Tier:
    fields = ["name", "min_points", "min_active_days_30", "min_tenure_days"]
    for field in fields:
        if field in data:
            setattr(tier, field, data[field])
    tier.full_clean()
    tier.save(update_fields=fields)
    return tier


@dataclass(frozen=True)
class LadderFigures:
    points: int
    active_days_30: int
    tenure_days: int


def _qualifies(tier: Tier, figures: LadderFigures) -> bool:
    return (
        figures.points >= tier.min_points
        and figures.active_days_30 >= tier.min_active_days_30
        and figures.tenure_days >= tier.min_tenure_days
    )


def _reason(tier: Tier, figures: LadderFigures) -> str:
    return _(
        "points %(points)s ≥ %(min_points)s, active days %(days)s ≥ %(min_days)s, "
        "tenure %(tenure)s ≥ %(min_tenure)s days"
    ) % {
        "points": figures.points,
        "min_points": tier.min_points,
        "days": figures.active_days_30,
        "min_days": tier.min_active_days_30,
        "tenure": figures.tenure_days,
        "min_tenure": tier.min_tenure_days,
    }


@transaction.atomic
def membership_promote(
    *,
    membership: Membership,
    points: int,
    active_days_30: int,
    tenure_days: int,
    ladder: Sequence[Tier] | None = None,
    today: date | None = None,
    at: datetime | None = None,
) -> TierChange | None:
    """Move a member to the highest tier they qualify for, and say why.

    The figures are passed in (the nightly job in analytics computes them from the
    rollups). Never touches a tier staff set. Moves down only when the community allows
    demotion, and only after the member has failed to qualify for the grace period.
    Reasons are written in the community's announcement language. ``at`` dates the
    change (default now): the demo's history of promotions.
    """
    if membership.tier_set_by_staff:
        return None
    community = membership.community
    ladder = list(ladder) if ladder is not None else list(community.tiers.order_by("rank"))
    if not ladder:
        return None
    today = today or community.local_today()
    figures = LadderFigures(points, active_days_30, tenure_days)
    qualified = ladder[0]
    for tier in ladder:
        if _qualifies(tier, figures):
            qualified = tier
    current = membership.tier
    with translation.override(community.announcement_language):
        if current is None or qualified.rank > current.rank:
            reason = _("Promoted: %(why)s") % {"why": _reason(qualified, figures)}
            return _tier_change(membership, qualified, reason, by=None, at=at)
        if qualified.rank == current.rank:
            if membership.below_tier_since is not None:
                membership.below_tier_since = None
                membership.save(update_fields=["below_tier_since"])
            return None
        # Below the current tier.
        if not community.demotion_enabled:
            return None
        if membership.below_tier_since is None:
            membership.below_tier_since = today
            membership.save(update_fields=["below_tier_since"])
            return None
        waited = (today - membership.below_tier_since).days
        if waited < community.demotion_grace_days:
            return None
        reason = _("Demoted after %(days)s days below “%(tier)s” (grace period %(grace)s days)") % {
            "days": waited,
            "tier": current.name,
            "grace": community.demotion_grace_days,
        }
        return _tier_change(membership, qualified, reason, by=None, at=at)


def _tier_change(
    membership: Membership, tier: Tier, reason: str, *, by, at: datetime | None = None
) -> TierChange:
    change = TierChange.objects.create(
        membership=membership,
        from_tier=membership.tier,
        to_tier=tier,
        reason=reason[:300],
        changed_by=by,
        created_at=at or timezone.now(),
    )
    membership.tier = tier
    membership.below_tier_since = None
    membership.save(update_fields=["tier", "below_tier_since"])
    return change


@transaction.atomic
def memberships_set_tier(
    *, memberships: Iterable[Membership], tier: Tier, by, reason: str = ""
) -> int:
    """Staff put members on a tier; the nightly promotion leaves them there from now on."""
    count = 0
    for membership in memberships:
        if membership.community_id != tier.community_id:
            raise ValidationError(_("Choose a tier of the member's own community."))
        if membership.tier_id == tier.id and membership.tier_set_by_staff:
            continue
        membership.tier_set_by_staff = True
        _tier_change(membership, tier, reason or _("Set by staff"), by=by)
        membership.save(update_fields=["tier_set_by_staff"])
        count += 1
    return count


# --- Memberships -------------------------------------------------------------------------


@transaction.atomic
def membership_create(
    *,
    community: Community,
    member: Member,
    joined_on: date | None = None,
    status: str = MembershipStatus.ACTIVE,
    roles: Iterable[str] = (),
    announce: bool = True,
) -> Membership:
    """Open a membership. ``announce=False``: the caller (a roster import of many) calls
    ``hooks.membership_changed`` once itself."""
    # Every community has its ladder from creation (community_create's setup steps).
    bottom = community.tiers.order_by("rank").first()
    membership = Membership(
        community=community,
        member=member,
        status=status,
        joined_on=joined_on or community.local_today(),
        tier=bottom,
    )
    membership.full_clean()
    membership.save()
    roles_assign(membership=membership, roles=roles)
    if announce:
        hooks.membership_changed(community_id=community.pk, since=membership.joined_on)
    return membership


def roles_assign(*, membership: Membership, roles: Iterable[str]) -> None:
    """Make the membership's roles exactly ``roles``."""
    wanted = set(roles)
    unknown = wanted - set(MemberRole.values)
    if unknown:
        raise ValidationError(_("Unknown role: %(roles)s") % {"roles": ", ".join(sorted(unknown))})
    current = set(membership.roles.values_list("role", flat=True))
    membership.roles.filter(role__in=current - wanted).delete()
    MembershipRole.objects.bulk_create(
        MembershipRole(membership=membership, role=role) for role in sorted(wanted - current)
    )


def membership_set_status(*, membership: Membership, status: str, on: date | None = None) -> None:
    today = membership.community.local_today()
    # The counts change from the day it takes effect (a reopened membership: from the
    # day it had been left).
    since = min(d for d in (membership.left_on, on, today) if d is not None)
    membership.status = status
    fields = ["status"]
    if status in (MembershipStatus.LEFT, MembershipStatus.REMOVED):
        membership.left_on = on or today
        fields.append("left_on")
    membership.full_clean()
    membership.save(update_fields=fields)
    hooks.membership_changed(community_id=membership.community_id, since=since)


@transaction.atomic
def squad_create(*, community: Community, name: str, leader: Member | None = None) -> Squad:
    """A squad (小组); its leader, any member of the group, gets the squad-leader role."""
    squad = Squad(community=community, name=name, leader=leader)
    squad.full_clean()
    squad.save()
    if leader is not None:
        membership = Membership.objects.filter(community=community, member=leader).first()
        if membership is not None:
            current = set(membership.roles.values_list("role", flat=True))
            roles_assign(membership=membership, roles=current | {MemberRole.SQUAD_LEADER})
    return squad


def memberships_assign_squad(*, memberships: Iterable[Membership], squad: Squad | None) -> int:
    """Put members in a squad (or none); one squad per member per community."""
    count = 0
    for membership in memberships:
        if squad is not None and membership.community_id != squad.community_id:
            raise ValidationError(_("Choose a squad of the member's own community."))
        membership.squad = squad
        membership.save(update_fields=["squad"])
        count += 1
    return count


# --- Ledgers -----------------------------------------------------------------------------


@transaction.atomic
def points_add(
    *, membership: Membership, delta: int, reason: str, rule: Rule | None = None, by=None
) -> PointsEntry:
    """Append to the points ledger and move the cached balance by the same amount."""
    if delta == 0:
        raise ValidationError(_("A points entry must change the balance."))
    if rule is not None and rule.community_id != membership.community_id:
        raise ValidationError(_("Choose a rule of the member's own community."))
    entry = PointsEntry(membership=membership, delta=delta, reason=reason, rule=rule, created_by=by)
    entry.full_clean()
    entry.save()
    Membership.objects.filter(pk=membership.pk).update(points_balance=F("points_balance") + delta)
    membership.refresh_from_db(fields=["points_balance"])
    return entry


def points_for_rule(*, membership: Membership, rule: Rule, by=None) -> PointsEntry:
    """Credit an encouraged behaviour with the points the rules give it."""
    if rule.kind != RuleKind.ENCOURAGED:
        raise ValidationError(_("Only an encouraged behaviour earns points."))
    return points_add(membership=membership, delta=rule.points, reason=rule.title, rule=rule, by=by)


@transaction.atomic
def deposit_record(
    *, membership: Membership, kind: str, amount: Decimal, note: str = "", by=None
) -> DepositEntry:
    """Hold, refund or forfeit a commitment deposit; never more than is held."""
    amount = Decimal(amount)
    if amount <= 0:
        raise ValidationError(_("The amount must be more than zero."))
    if kind != "held":
        held = deposit_held(membership=membership)
        if amount > held:
            raise ValidationError(
                _("Only %(held)s is held for this member.") % {"held": f"{held:.2f}"}
            )
    entry = DepositEntry(membership=membership, kind=kind, amount=amount, note=note, created_by=by)
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def violation_record(*, membership: Membership, rule: Rule, evidence: str, by=None) -> Violation:
    """Record a broken rule; the strike count decides the penalty the rules define.

    The rule's own penalty applies until the strike that reaches ``strikes_to_removal``,
    which removes the member. A points deduction is written to the ledger.
    """
    if rule.kind != RuleKind.FORBIDDEN:
        raise ValidationError(_("Only a forbidden behaviour can be violated."))
    if rule.community_id != membership.community_id:
        raise ValidationError(_("Choose a rule of the member's own community."))
    if not evidence.strip():
        raise ValidationError({"evidence": _("Say what happened.")})
    strike = Violation.objects.filter(membership=membership, rule=rule).count() + 1
    action = rule.penalty
    if rule.strikes_to_removal and strike >= rule.strikes_to_removal:
        action = Penalty.REMOVAL
    violation = Violation.objects.create(
        membership=membership,
        rule=rule,
        evidence=evidence,
        strike=strike,
        action=action,
        recorded_by=by,
    )
    if rule.points and action in (Penalty.DEDUCTION, Penalty.REMOVAL):
        points_add(membership=membership, delta=-rule.points, reason=rule.title, rule=rule, by=by)
    if action == Penalty.REMOVAL:
        membership_set_status(membership=membership, status=MembershipStatus.REMOVED)
    return violation


# --- Applications ------------------------------------------------------------------------


def question_create(
    *,
    community: Community,
    kind: str,
    prompt: str,
    choices: Sequence[str] = (),
    tag_kind: str = "",
    position: int | None = None,
) -> ApplicationQuestion:
    if position is None:
        position = community.questions.count()
    question = ApplicationQuestion(
        community=community,
        kind=kind,
        prompt=prompt,
        choices=[c.strip() for c in choices if c.strip()],
        tag_kind=tag_kind,
        position=position,
    )
    question.full_clean()
    question.save()
    return question


def _clean_answers(community: Community, answers: dict) -> dict:
    errors = {}
    cleaned = {}
    for question in community.questions.all():
        key = str(question.pk)
        value = answers.get(key)
        if question.kind == QuestionKind.MULTIPLE:
            values = [v for v in (value or []) if v]
            if not values or any(v not in question.choices for v in values):
                errors[key] = _("Choose one or more of the listed answers.")
            cleaned[key] = values
        elif question.kind == QuestionKind.CHOICE:
            if value not in question.choices:
                errors[key] = _("Choose one of the listed answers.")
            cleaned[key] = value
        else:
            if not (value or "").strip():
                errors[key] = _("This question needs an answer.")
            cleaned[key] = (value or "").strip()
    if errors:
        raise ValidationError(errors)
    return cleaned


def application_submit(
    *, community: Community, display_name: str, platform: str, external_id: str, answers: dict
) -> Application:
    application = Application(
        community=community,
        display_name=display_name.strip(),
        platform=platform,
        external_id=external_id.strip(),
        answers=_clean_answers(community, answers),
    )
    application.full_clean()
    application.save()
    return application


@transaction.atomic
def application_approve(*, application: Application, by) -> Membership:
    """Admit the applicant: find or create the member, open the membership, tag answers."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.PENDING:
        raise ValidationError(_("This application has already been decided."))
    community = application.community
    organization = community.organization
    member = member_find_by_handle(
        organization=organization,
        platform=application.platform,
        external_id=application.external_id,
    ) or member_create(
        organization=organization,
        display_name=application.display_name,
        handles=[(application.platform, application.external_id)],
    )
    membership = Membership.objects.filter(community=community, member=member).first()
    if membership is None:
        membership = membership_create(community=community, member=member)
    elif membership.status not in (MembershipStatus.ACTIVE, MembershipStatus.LURKER):
        if membership.left_on:  # counted again from the day they had left
            hooks.membership_changed(community_id=community.pk, since=membership.left_on)
        membership.left_on = None
        membership.save(update_fields=["left_on"])
        membership_set_status(membership=membership, status=MembershipStatus.ACTIVE)
    for question in community.questions.exclude(tag_kind=""):
        answer = application.answers.get(str(question.pk))
        for value in answer if isinstance(answer, list) else [answer]:
            if value:
                tag = tag_get_or_create(
                    organization=organization, kind=question.tag_kind, name=value
                )
                member.tags.add(tag)
    application.status = ApplicationStatus.APPROVED
    application.reviewed_by = by
    application.reviewed_at = timezone.now()
    application.membership = membership
    application.save(update_fields=["status", "reviewed_by", "reviewed_at", "membership"])
    return membership


@transaction.atomic
def application_reject(*, application: Application, by, reason: str) -> Application:
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.status != ApplicationStatus.PENDING:
        raise ValidationError(_("This application has already been decided."))
    if not reason.strip():
        raise ValidationError({"decision_note": _("Say why the application is rejected.")})
    application.status = ApplicationStatus.REJECTED
    application.reviewed_by = by
    application.reviewed_at = timezone.now()
    application.decision_note = reason.strip()
    application.save(update_fields=["status", "reviewed_by", "reviewed_at", "decision_note"])
    return application


# --- Questionnaire (applications UI) -----------------------------------------------------


def _questions_number(questions: list[ApplicationQuestion]) -> None:
    """Positions 0, 1, 2… in the given order, so a new question always goes last."""
    for position, question in enumerate(questions):
        if question.position != position:
            question.position = position
            question.save(update_fields=["position"])


@transaction.atomic
def question_delete(*, question: ApplicationQuestion) -> None:
    """Remove a question. Answers already recorded stay in their applications."""
    community = question.community
    question.delete()
    _questions_number(list(community.questions.order_by("position", "id")))


@transaction.atomic
def question_move(*, question: ApplicationQuestion, offset: int) -> None:
    """Move a question up (negative offset) or down the questionnaire, within its ends."""
    questions = list(question.community.questions.order_by("position", "id"))
    index = next(i for i, q in enumerate(questions) if q.pk == question.pk)
    target = max(0, min(len(questions) - 1, index + offset))
    questions.insert(target, questions.pop(index))
    _questions_number(questions)
    question.position = target


# --- The public application link ------------------------------------------------------


def _link_key() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 bits


def application_link_get(*, community: Community) -> ApplicationLink:
    """The community's public application link, made on first use."""
    link, _created = ApplicationLink.objects.get_or_create(
        community=community, defaults={"key": _link_key()}
    )
    return link


def application_link_renew(*, community: Community) -> ApplicationLink:
    """A new address: the old link and its QR codes stop working."""
    link = application_link_get(community=community)
    link.key = _link_key()
    link.created_at = timezone.now()
    link.save(update_fields=["key", "created_at"])
    return link


def application_link_set_open(*, community: Community, open: bool) -> ApplicationLink:
    link = application_link_get(community=community)
    link.enabled = open
    link.save(update_fields=["enabled"])
    return link
