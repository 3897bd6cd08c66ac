"""Merging two members who are one person (issue 13, "one person, one member").

``members_merge(source=…, target=…, actor=…)`` folds ``source`` into ``target`` and
deletes it, all or nothing:

- handles, tags (added), notes (appended), squads led;
- memberships: one in a community only the source is in changes member; where both are
  in the community, the source's folds into the target's: its points, deposits,
  violations, tier changes, roles and applications move over, the balance is the sum, the
  join day the earlier one, the tier the higher one, the last activity the later one, and
  the presence (in the group, left, removed) is the one known last;
- what higher apps hold: every provider registered with ``communities.panels``'
  ``register_member_data`` gets a ``merge`` step (activities: the events, their days
  marked for the rollups; analytics: the source's per-member rollups), then anything still
  pointing at the source or a folded membership is moved by its foreign key; if that
  breaks a constraint (both were in the same challenge, say), nothing is merged;
- the staff log records who merged whom, and when (``StaffAction.MEMBERS_MERGED``);
- once committed, the providers' ``after_merge`` steps run (analytics: refresh the
  marked days, so the dashboards count one person).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from communities.models import StaffAction
from communities.panels import MemberMerge, registered_member_data
from communities.services import staff_log_record
from members.models import (
    PRESENT_STATUSES,
    Application,
    DepositEntry,
    Member,
    Membership,
    MembershipRole,
    MembershipStatus,
    PlatformHandle,
    PointsEntry,
    Squad,
    TierChange,
    Violation,
)

logger = logging.getLogger(__name__)

# The source's own rows of a folded membership that members moves itself.
_MEMBERSHIP_ROWS = (PointsEntry, DepositEntry, Violation, TierChange, Application)


def members_merge(*, source: Member, target: Member, actor) -> Member:
    """Fold ``source`` into ``target`` (see the module's text); returns the target."""
    if source.pk == target.pk:
        raise ValidationError(_("A member cannot be merged with themselves."))
    if source.organization_id != target.organization_id:
        raise ValidationError(_("Both members must belong to the same organisation."))
    try:
        with transaction.atomic():
            merge = _merge(source, target, actor)
    except IntegrityError:
        raise ValidationError(
            _(
                "These two members cannot be merged: both hold a record that may exist only "
                "once per person (for example, both take part in the same challenge)."
            )
        ) from None
    # After commit (immediately when no transaction is open): the dashboards' refresh.
    transaction.on_commit(lambda: _after_merge(merge))
    target.refresh_from_db()
    return target


def _merge(source: Member, target: Member, actor) -> MemberMerge:
    pair = Member.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    locked = {member.pk: member for member in pair}
    if len(locked) != 2:
        raise ValidationError(_("One of the two members no longer exists."))
    source, target = locked[source.pk], locked[target.pk]
    if source.erased_at or target.erased_at:
        raise ValidationError(_("An erased member cannot be merged."))
    merge = MemberMerge(source=source, target=target)
    detail = _("%(source)s (#%(source_id)s) into %(target)s (#%(target_id)s)") % {
        "source": source.display_name,
        "source_id": source.pk,
        "target": target.display_name,
        "target_id": target.pk,
    }

    PlatformHandle.objects.filter(member=source).update(member=target)
    target.tags.add(*source.tags.all())
    source.tags.clear()
    Squad.objects.filter(leader=source).update(leader=target)
    if source.notes.strip() and source.notes.strip() not in target.notes:
        target.notes = f"{target.notes.rstrip()}\n\n{source.notes.strip()}".strip()
        target.save(update_fields=["notes"])

    kept = {m.community_id: m for m in Membership.objects.filter(member=target)}
    for membership in Membership.objects.filter(member=source).select_related("tier"):
        days = merge.days.setdefault(membership.community_id, set())
        days.update(d for d in (membership.joined_on, membership.left_on) if d)
        into = kept.get(membership.community_id)
        if into is None:
            continue
        days.update(d for d in (into.joined_on, into.left_on) if d)
        merge.memberships[membership.pk] = into.pk
        _fold(membership, into)

    for provider in registered_member_data():
        if provider.merge is not None:
            provider.merge(merge)

    folded = list(merge.memberships)
    Membership.objects.filter(member=source).exclude(pk__in=folded).update(member=target)
    _move_the_rest(Member, [source.pk], target.pk)
    for source_id, target_id in merge.memberships.items():
        _move_the_rest(Membership, [source_id], target_id)
    Membership.objects.filter(pk__in=folded).delete()
    source.delete()
    staff_log_record(
        organization=target.organization,
        actor=actor,
        action=StaffAction.MEMBERS_MERGED,
        detail=detail,
    )
    return merge


def _fold(source: Membership, target: Membership) -> None:
    """The source's membership of a community into the target's (same community)."""
    for model in _MEMBERSHIP_ROWS:
        model.objects.filter(membership=source).update(membership=target)
    held = set(MembershipRole.objects.filter(membership=target).values_list("role", flat=True))
    MembershipRole.objects.filter(membership=source, role__in=held).delete()
    MembershipRole.objects.filter(membership=source).update(membership=target)

    target.points_balance += source.points_balance
    target.joined_on = min(target.joined_on, source.joined_on)
    if source.tier_id and (target.tier is None or source.tier.rank > target.tier.rank):
        target.tier, target.below_tier_since = source.tier, source.below_tier_since
    target.tier_set_by_staff = target.tier_set_by_staff or source.tier_set_by_staff
    target.squad_id = target.squad_id or source.squad_id
    if _last_known(source) > _last_known(target):
        target.status, target.left_on = source.status, source.left_on
    if source.last_active_at and (
        target.last_active_at is None or source.last_active_at > target.last_active_at
    ):
        target.last_active_at = source.last_active_at
    target.full_clean()
    target.save(
        update_fields=[
            "points_balance",
            "joined_on",
            "tier",
            "below_tier_since",
            "tier_set_by_staff",
            "squad",
            "status",
            "left_on",
            "last_active_at",
        ]
    )


def _last_known(membership: Membership) -> tuple[date, int]:
    """When the membership's presence was last known: the day it ended, else its last
    activity or join; on a tie, a departure wins (it came after the activity)."""
    if membership.status not in PRESENT_STATUSES and membership.left_on:
        return (membership.left_on, 1)
    if membership.status == MembershipStatus.APPLICANT:
        return (date.min, 0)
    active = membership.last_active_at
    day = timezone.localdate(active) if active else membership.joined_on
    return (max(day, membership.joined_on), 0)


def _move_the_rest(model: type[models.Model], from_ids: list[int], to_id: int) -> None:
    """Repoint every foreign key to ``model`` rows ``from_ids`` that the steps left (any
    app's, found through the model's relations), so deleting them cascades nothing."""
    for relation in model._meta.get_fields(include_hidden=True):
        if not (relation.one_to_many or relation.one_to_one) or not relation.auto_created:
            continue
        if relation.related_model is Membership and model is Member:
            continue  # memberships were moved or folded above
        field = relation.field
        rows = relation.related_model._base_manager.filter(**{f"{field.name}__in": from_ids})
        rows.update(**{field.name: to_id})


def _after_merge(merge: MemberMerge) -> None:
    for provider in registered_member_data():
        if provider.after_merge is None:
            continue
        try:
            provider.after_merge(merge)
        except Exception:
            # The days stay marked: beat's next refresh brings the figures up to date.
            logger.exception("After-merge step %s failed", provider.key)


@dataclass(frozen=True)
class MergePreview:
    """What ``members_merge(source=…, target=…)`` would move, for the confirmation."""

    handles: list[PlatformHandle]
    tags: list[str]
    moved: list[str]  # communities whose membership changes member
    folded: list[str]  # communities where both are members: one membership is kept
    counts: list[tuple[str, int]]  # (what, how many) rows move


def merge_preview(*, source: Member, target: Member) -> MergePreview:
    kept = set(Membership.objects.filter(member=target).values_list("community_id", flat=True))
    moved, folded = [], []
    for community_id, name in (
        Membership.objects.filter(member=source)
        .order_by("community__name")
        .values_list("community_id", "community__name")
    ):
        (folded if community_id in kept else moved).append(name)
    by_member = {"membership__member": source}
    counts = [
        (str(model._meta.verbose_name_plural), model.objects.filter(**by_member).count())
        for model in (PointsEntry, DepositEntry, Violation)
    ]
    # Higher apps' rows (activities: the events), found through the relations.
    for relation in Member._meta.get_fields():
        model = relation.related_model
        if (
            relation.auto_created
            and relation.one_to_many
            and model is not None
            and model._meta.app_label != Member._meta.app_label
        ):
            rows = model._base_manager.filter(**{relation.field.name: source}).count()
            counts.append((str(model._meta.verbose_name_plural), rows))
    return MergePreview(
        handles=list(source.handles.all()),
        tags=[tag.name for tag in source.tags.all()],
        moved=moved,
        folded=folded,
        counts=[(label, n) for label, n in counts if n],
    )
