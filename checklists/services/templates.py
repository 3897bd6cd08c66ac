"""Writes of SOP templates, their items and the communities that use them.

Every edit of a template or of its items raises its ``version``; runs copy the items when
they are made, so no edit here ever changes a run that exists.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.calendar.models import EntryKind
from checklists import builtin as builtins
from checklists.due import check_item_timing
from checklists.models import (
    ALL_WEEKDAYS,
    DueAnchor,
    InputKind,
    Phase,
    SopItem,
    SopTemplate,
    TemplateUse,
)
from communities.models import AnnouncementLanguage, Community, Organization, Role, Staff

TEMPLATE_FIELDS = ("name", "phase", "description", "language", "duration_days", "entry_kinds")
ITEM_FIELDS = (
    "title",
    "guidance",
    "role",
    "anchor",
    "due_time",
    "offset_days",
    "offset_minutes",
    "weekdays",
    "input_kind",
    "input_required",
    "choices",
    "message",
)


def _bump(template: SopTemplate) -> None:
    SopTemplate.objects.filter(pk=template.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    template.refresh_from_db(fields=["version", "updated_at"])


def _clean_kinds(value) -> str:
    kinds = [value] if isinstance(value, str) else list(value or ())
    kinds = [kind for part in kinds for kind in str(part).split(",") if kind]
    unknown = [kind for kind in kinds if kind not in EntryKind.values]
    if unknown:
        raise ValidationError({"entry_kinds": _("Choose activity kinds from the calendar's list.")})
    return ",".join(dict.fromkeys(kinds))


def _check_items_fit(template: SopTemplate) -> None:
    """A change of phase or length must leave every item inside the run."""
    for item in template.items.all():
        try:
            check_item_timing(phase=template.phase, duration_days=template.duration_days, item=item)
        except ValidationError as error:
            raise ValidationError(
                _("Item “%(title)s” would fall outside the run: %(reason)s")
                % {"title": item.title, "reason": " ".join(error.messages)}
            ) from error


@transaction.atomic
def template_create(*, organization: Organization, data: dict, by=None) -> SopTemplate:
    template = SopTemplate(organization=organization, created_by=by)
    for name in TEMPLATE_FIELDS:
        if name in data:
            setattr(template, name, data[name])
    template.entry_kinds = _clean_kinds(template.entry_kinds)
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_update(*, template: SopTemplate, data: dict) -> SopTemplate:
    template = SopTemplate.objects.select_for_update().get(pk=template.pk)
    changed = []
    for name in TEMPLATE_FIELDS:
        if name in data and getattr(template, name) != data[name]:
            setattr(template, name, data[name])
            changed.append(name)
    template.entry_kinds = _clean_kinds(template.entry_kinds)
    template.full_clean()
    if "phase" in changed and template.uses.exists():
        raise ValidationError(
            {"phase": _("Communities use this template: stop using it before changing its phase.")}
        )
    _check_items_fit(template)
    if changed:
        template.save(update_fields=[*changed, "entry_kinds"])
        _bump(template)
    return template


@transaction.atomic
def template_copy_builtin(
    *, organization: Organization, key: str, language: str, by=None
) -> SopTemplate:
    """A copy of a built-in SOP, in ``language``, for the organisation to edit."""
    source = builtins.builtin_get(key)
    if source is None:
        raise ValidationError(_("There is no built-in template of that name."))
    if language not in AnnouncementLanguage.values:
        raise ValidationError({"language": _("Choose Chinese or English.")})
    template = template_create(
        organization=organization,
        data={
            "name": builtins.text_in(source.name, language),
            "phase": source.phase,
            "description": builtins.text_in(source.description, language),
            "language": language,
            "duration_days": source.duration_days,
            "entry_kinds": ",".join(source.entry_kinds),
        },
        by=by,
    )
    template.builtin_key = key
    template.save(update_fields=["builtin_key"])
    SopItem.objects.bulk_create(
        SopItem(
            template=template,
            position=position,
            title=builtins.text_in(item.title, language),
            guidance=builtins.text_in(item.guidance, language),
            role=item.role,
            anchor=item.anchor,
            due_time=item.due_time,
            offset_days=item.offset_days,
            offset_minutes=item.offset_minutes,
            weekdays=item.weekdays,
            input_kind=item.input_kind,
            input_required=item.input_required,
            choices="\n".join(item.choices.get(language) or item.choices.get("en", ())),
            message=builtins.text_in(item.message, language) if item.message else "",
        )
        for position, item in enumerate(source.items, start=1)
    )
    return template


@transaction.atomic
def template_delete(*, template: SopTemplate) -> None:
    """Delete a template; its runs keep their copied items and their history."""
    template.delete()


def _clean_item(template: SopTemplate, item: SopItem) -> None:
    if not item.weekdays or any(day not in ALL_WEEKDAYS for day in item.weekdays):
        raise ValidationError({"weekdays": _("Choose at least one day of the week.")})
    item.weekdays = "".join(sorted(set(item.weekdays)))
    if item.anchor != DueAnchor.CLOCK:
        item.due_time = None
    if item.input_kind == InputKind.CHOICE and len(item.choice_list) < 2:
        raise ValidationError({"choices": _("Give at least two options, one per line.")})
    if item.input_kind != InputKind.CHOICE:
        item.choices = ""
    item.full_clean(exclude=["template"])
    check_item_timing(phase=template.phase, duration_days=template.duration_days, item=item)


@transaction.atomic
def item_save(*, template: SopTemplate, data: dict, item: SopItem | None = None) -> SopItem:
    """Add an item at the end, or change one; refused when it would fall outside the run."""
    template = SopTemplate.objects.select_for_update().get(pk=template.pk)
    if item is None:
        last = template.items.aggregate(last=Max("position"))["last"] or 0
        item = SopItem(template=template, position=last + 1)
    elif item.template_id != template.pk:
        raise ValidationError(_("This item belongs to another template."))
    for name in ITEM_FIELDS:
        if name in data:
            setattr(item, name, data[name])
    _clean_item(template, item)
    item.save()
    _bump(template)
    return item


@transaction.atomic
def item_delete(*, item: SopItem) -> None:
    template = SopTemplate.objects.select_for_update().get(pk=item.template_id)
    item.delete()
    _bump(template)


@transaction.atomic
def item_move(*, item: SopItem, to: int) -> SopItem:
    """Move an item to position ``to`` (1-based, clamped), renumbering the others."""
    template = SopTemplate.objects.select_for_update().get(pk=item.template_id)
    items = [other for other in template.items.order_by("position", "pk") if other.pk != item.pk]
    to = max(1, min(int(to), len(items) + 1))
    items.insert(to - 1, item)
    for position, row in enumerate(items, start=1):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])
    _bump(template)
    item.refresh_from_db(fields=["position"])
    return item


def default_assignee(community: Community) -> Staff | None:
    """The community's first assigned moderator (by username), if any."""
    return (
        community.assigned_staff.filter(role=Role.MODERATOR, deactivated_at__isnull=True)
        .order_by("user__username")
        .first()
    )


@transaction.atomic
def template_use_set(
    *, template: SopTemplate, community: Community, assignee: Staff | None = None
) -> TemplateUse:
    """Use a template in a community (or change who is assigned its runs there)."""
    if community.organization_id != template.organization_id:
        raise ValidationError(_("Choose a community of this organisation."))
    if assignee is not None and (
        assignee.organization_id != template.organization_id or assignee.deactivated_at
    ):
        raise ValidationError({"assignee": _("Choose an active staff member.")})
    if template.phase == Phase.DAILY:
        other = (
            TemplateUse.objects.select_for_update()
            .filter(community=community, phase=Phase.DAILY)
            .exclude(template=template)
            .select_related("template")
            .first()
        )
        if other is not None:
            raise ValidationError(
                _("%(community)s already uses the daily template “%(template)s”.")
                % {"community": community.name, "template": other.template.name}
            )
    use, _created = TemplateUse.objects.update_or_create(
        template=template,
        community=community,
        defaults={"assignee": assignee, "phase": template.phase},
    )
    if template.phase == Phase.ACTIVITY:
        from checklists.services.runs import activity_runs_sync_community

        transaction.on_commit(lambda: activity_runs_sync_community(community=community))
    return use


@transaction.atomic
def template_use_remove(*, template: SopTemplate, community: Community) -> None:
    """Stop using a template in a community; runs already made stay as they are."""
    TemplateUse.objects.filter(template=template, community=community).delete()
