"""Writes of checklist runs: made by beat (daily), by the calendar (activity) or by hand,
ticked and unticked item by item with an audit trail, reassigned, and announced when
overdue.

Idempotency: the database decides. A daily run is unique per (community, local day) and an
activity run per (community, template, entry, original start); a creator that loses the
race to another worker gets an ``IntegrityError`` inside its own savepoint and moves on.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from activities.calendar import recurrence
from activities.calendar.models import CalendarEntry, Occurrence
from activities.calendar.selectors import entry_slots
from activities.calendar.services import shape
from checklists import due
from checklists.models import (
    MANUAL_PHASES,
    ChecklistRun,
    InputKind,
    ItemTick,
    Phase,
    RunItem,
    SopTemplate,
    TemplateUse,
    TickAction,
)
from checklists.services.templates import ITEM_FIELDS, default_assignee
from communities.models import Community, Role, Staff
from communities.notifications import notify
from communities.permissions import Capability, communities_for, has_capability

# Activity runs are made for the occurrences that start within this horizon (kept ahead by
# the hourly sync), so an item due "14 days before" exists in time.
ACTIVITY_HORIZON = due.ACTIVITY_BEFORE + timedelta(days=1)
# Overdue items older than this are not announced any more (no burst after a downtime).
OVERDUE_NOTICE_WINDOW = timedelta(days=1)

# What a run copies of each template item: its fields but the weekdays (applied when the
# run is made), and its position.
RUN_ITEM_COPIED = ("position", *(name for name in ITEM_FIELDS if name != "weekdays"))


def _frame(run: ChecklistRun) -> due.RunFrame:
    return due.RunFrame(
        zone=ZoneInfo(run.community.time_zone),
        day=run.day,
        starts_at=run.starts_at,
        occurrence_start=run.occurrence_starts_at,
        occurrence_end=run.occurrence_ends_at,
    )


def _window(run: ChecklistRun, due_times: list[datetime]) -> None:
    frame = _frame(run)
    run.closes_at = due.closes_at(due_times, frame)
    if run.phase == Phase.DAILY:
        run.opens_at = due.day_bounds(run.day, frame.zone)[0]
    elif run.phase == Phase.ACTIVITY:
        first = min([*due_times, run.occurrence_starts_at])
        run.opens_at = first - due.ACTIVITY_SHOWS_BEFORE
    else:
        run.opens_at = run.starts_at


def _make_run(
    *,
    template: SopTemplate,
    community: Community,
    day,
    starts_at: datetime,
    assignee: Staff | None,
    by=None,
    entry: CalendarEntry | None = None,
    original_start: datetime | None = None,
    occurrence: tuple[datetime, datetime] | None = None,
) -> ChecklistRun | None:
    """Copy the template's items into a new run (None when no item applies that day)."""
    items = list(template.items.all())
    if template.phase == Phase.DAILY:
        weekday = str(day.isoweekday())
        items = [item for item in items if weekday in item.weekdays]
    if not items:
        return None
    run = ChecklistRun(
        organization_id=community.organization_id,
        community=community,
        template=template,
        name=template.name,
        phase=template.phase,
        template_version=template.version,
        language=template.language,
        day=day,
        starts_at=starts_at,
        entry=entry,
        original_start=original_start,
        occurrence_starts_at=occurrence[0] if occurrence else None,
        occurrence_ends_at=occurrence[1] if occurrence else None,
        assignee=assignee,
        created_by=by,
    )
    frame = _frame(run)
    copies = [
        RunItem(
            **{name: getattr(item, name) for name in RUN_ITEM_COPIED},
            due_at=due.due_at(item, frame),
        )
        for item in items
    ]
    _window(run, [copy.due_at for copy in copies])
    run.save()
    for copy in copies:
        copy.run = run
    RunItem.objects.bulk_create(copies)
    return run


def _assignee(use: TemplateUse) -> Staff | None:
    if use.assignee_id and use.assignee.deactivated_at is None:
        return use.assignee
    return default_assignee(use.community)


# --- Daily runs (beat) ---------------------------------------------------------------------


def daily_runs_open(*, now: datetime | None = None) -> int:
    """Open today's daily run of every active community that uses a daily template, once
    its local time has passed ``due.DAILY_OPENS_AT``. Returns how many runs it made.

    Safe to run twice, retried, or on two workers at once: one run per community per local
    day (the unique constraint decides; the loser's savepoint rolls back).
    """
    now = now or timezone.now()
    made = 0
    uses = (
        TemplateUse.objects.filter(phase=Phase.DAILY, community__archived=False)
        .select_related("template", "community", "assignee")
        .order_by("pk")
    )
    for use in uses:
        community = use.community
        zone = ZoneInfo(community.time_zone)
        local = now.astimezone(zone)
        if local.time() < due.DAILY_OPENS_AT or community.is_finished:
            continue
        day = local.date()
        if ChecklistRun.objects.filter(community=community, phase=Phase.DAILY, day=day).exists():
            continue
        try:
            with transaction.atomic():
                run = _make_run(
                    template=use.template,
                    community=community,
                    day=day,
                    starts_at=due.day_bounds(day, zone)[0],
                    assignee=_assignee(use),
                )
        except IntegrityError:
            continue  # another worker made it first
        made += run is not None
    return made


# --- Activity runs (the calendar) ----------------------------------------------------------


def _occurrence_exists(entry: CalendarEntry, original_start: datetime) -> bool:
    return recurrence.is_rule_occurrence(shape(entry), original_start) or (
        Occurrence.objects.filter(entry=entry, original_start=original_start).exists()
    )


def _move(run: ChecklistRun, starts_at: datetime, ends_at: datetime) -> None:
    if (
        run.occurrence_starts_at == starts_at
        and run.occurrence_ends_at == ends_at
        and (run.cancelled_at is None)
    ):
        return
    zone = ZoneInfo(run.community.time_zone)
    run.occurrence_starts_at, run.occurrence_ends_at = starts_at, ends_at
    run.starts_at = starts_at
    run.day = starts_at.astimezone(zone).date()
    run.cancelled_at = None
    frame = _frame(run)
    items = list(run.items.all())
    for item in items:
        item.due_at = due.due_at(item, frame)
    RunItem.objects.bulk_update(items, ["due_at"])
    _window(run, [item.due_at for item in items])
    run.save(
        update_fields=[
            "occurrence_starts_at",
            "occurrence_ends_at",
            "starts_at",
            "day",
            "cancelled_at",
            "opens_at",
            "closes_at",
        ]
    )


def activity_runs_sync(*, entry: CalendarEntry, now: datetime | None = None) -> dict:
    """Bring the activity runs of ``entry`` in line with its occurrences: a run for each
    occurrence starting within the horizon (per community that uses an activity template
    for the entry's kind), moved with its occurrence, cancelled with it.

    Runs already closed are history and left alone. Returns counts by what happened.
    """
    now = now or timezone.now()
    counts = {"created": 0, "moved": 0, "cancelled": 0}
    uses = [
        use
        for use in TemplateUse.objects.filter(
            phase=Phase.ACTIVITY,
            community__in=entry.communities.all(),
            community__archived=False,
        ).select_related("template", "community", "assignee")
        if entry.kind in use.template.kinds
    ]
    live = {
        (run.community_id, run.template_id, run.original_start): run
        for run in ChecklistRun.objects.filter(entry=entry, closes_at__gt=now).select_related(
            "community"
        )
    }
    slots = []
    if entry.cancelled_at is None and uses:
        slots = [
            calendar_slot.slot
            for calendar_slot in entry_slots(entry, now - timedelta(days=1), now + ACTIVITY_HORIZON)
            if not calendar_slot.slot.cancelled and calendar_slot.slot.ends_at > now
        ]
    by_start = {slot.original_start: slot for slot in slots}
    wanted = {(use.community_id, use.template_id) for use in uses}
    with transaction.atomic():
        for key, run in live.items():
            community_id, template_id, original_start = key
            slot = by_start.get(original_start)
            if (
                slot is None
                and entry.cancelled_at is None
                and original_start < now - timedelta(days=1)
            ):
                continue  # started before the window: keep it unless it is gone
            gone = (
                (community_id, template_id) not in wanted
                or entry.cancelled_at is not None
                or (slot is None and not _occurrence_exists(entry, original_start))
            )
            if slot is None and not gone:
                current = _current_slot(entry, original_start)
                gone = current is None
                if current is not None:
                    slot = current
            if gone:
                if run.cancelled_at is None:
                    run.cancelled_at = now
                    run.save(update_fields=["cancelled_at"])
                    counts["cancelled"] += 1
                continue
            before = (run.occurrence_starts_at, run.occurrence_ends_at, run.cancelled_at)
            _move(run, slot.starts_at, slot.ends_at)
            if before != (run.occurrence_starts_at, run.occurrence_ends_at, run.cancelled_at):
                counts["moved"] += 1
    for use in uses:
        for slot in slots:
            if (use.community_id, use.template_id, slot.original_start) in live:
                continue
            try:
                with transaction.atomic():
                    run = _make_run(
                        template=use.template,
                        community=use.community,
                        day=slot.starts_at.astimezone(ZoneInfo(use.community.time_zone)).date(),
                        starts_at=slot.starts_at,
                        assignee=_assignee(use),
                        entry=entry,
                        original_start=slot.original_start,
                        occurrence=(slot.starts_at, slot.ends_at),
                    )
            except IntegrityError:
                continue
            counts["created"] += run is not None
    return counts


def _current_slot(entry: CalendarEntry, original_start: datetime):
    """Where the occurrence at ``original_start`` is now (None when cancelled)."""
    from activities.calendar.selectors import occurrence_slot

    calendar_slot = occurrence_slot(entry, original_start)
    return None if calendar_slot.slot.cancelled else calendar_slot.slot


def activity_runs_sync_community(*, community: Community, now: datetime | None = None) -> None:
    for entry in CalendarEntry.objects.filter(communities=community, cancelled_at__isnull=True):
        activity_runs_sync(entry=entry, now=now)


def activity_runs_sync_all(*, now: datetime | None = None) -> int:
    """The hourly catch-up: keeps the horizon ahead for recurring entries."""
    now = now or timezone.now()
    uses = TemplateUse.objects.filter(phase=Phase.ACTIVITY, community__archived=False)
    entries = CalendarEntry.objects.filter(
        communities__in=uses.values("community"), cancelled_at__isnull=True
    ).distinct()
    made = 0
    for entry in entries:
        made += activity_runs_sync(entry=entry, now=now)["created"]
    return made


# --- Runs by hand ----------------------------------------------------------------------------


@transaction.atomic
def run_start(
    *,
    template: SopTemplate,
    community: Community,
    assignee: Staff | None = None,
    by=None,
    now: datetime | None = None,
) -> ChecklistRun:
    """Start a planning, setup or growth run in a community now."""
    now = now or timezone.now()
    if template.phase not in MANUAL_PHASES:
        raise ValidationError(
            _("Daily runs open every morning and activity runs come from the calendar.")
        )
    if community.organization_id != template.organization_id:
        raise ValidationError(_("Choose a community of this organisation."))
    if assignee is not None and (
        assignee.organization_id != community.organization_id or assignee.deactivated_at
    ):
        raise ValidationError({"assignee": _("Choose an active staff member.")})
    run = _make_run(
        template=template,
        community=community,
        day=now.astimezone(ZoneInfo(community.time_zone)).date(),
        starts_at=now,
        assignee=assignee or default_assignee(community),
        by=by,
    )
    if run is None:
        raise ValidationError(_("This template has no items yet."))
    return run


@transaction.atomic
def run_reassign(*, run: ChecklistRun, assignee: Staff | None) -> ChecklistRun:
    if assignee is not None:
        if assignee.organization_id != run.organization_id or assignee.deactivated_at:
            raise ValidationError({"assignee": _("Choose an active staff member.")})
        if not communities_for(assignee).filter(pk=run.community_id).exists():
            raise ValidationError(
                {"assignee": _("This moderator is not assigned to the run's community.")}
            )
    run.assignee = assignee
    run.save(update_fields=["assignee"])
    return run


# --- Ticking ---------------------------------------------------------------------------------


def can_correct(staff: Staff) -> bool:
    """Who may still change a run after it closed: those who manage the communities."""
    return has_capability(staff, Capability.MANAGE_COMMUNITIES)


def _check_open(run: ChecklistRun, staff: Staff, now: datetime) -> None:
    if run.cancelled_at is not None:
        raise ValidationError(_("This run was cancelled: nothing can be ticked on it."))
    if now >= run.closes_at and not can_correct(staff):
        raise ValidationError(
            _("This run's day is over; only an owner or an operator can correct it.")
        )


def _clean_value(item: RunItem, value: str) -> str:
    value = (value or "").strip()
    kind = item.input_kind
    if kind == InputKind.NONE:
        return ""
    if not value:
        if item.input_required:
            raise ValidationError(
                {
                    InputKind.NOTE: _("Write the note this item asks for."),
                    InputKind.LINK: _("Paste the link this item asks for."),
                    InputKind.NUMBER: _("Enter the number this item asks for."),
                    InputKind.CHOICE: _("Choose one of the options."),
                }[kind]
            )
        return ""
    if kind == InputKind.LINK:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise ValidationError(_("Enter a link that starts with http:// or https://.")) from None
    elif kind == InputKind.NUMBER:
        try:
            number = int(value.replace(",", ""))
        except ValueError:
            raise ValidationError(_("Enter a whole number, such as 12.")) from None
        if not 0 <= number <= 1_000_000:
            raise ValidationError(_("Enter a number from 0 to 1,000,000."))
        value = str(number)
    elif kind == InputKind.CHOICE and value not in item.choice_list:
        raise ValidationError(_("Choose one of the options."))
    if len(value) > 2000:
        raise ValidationError(_("Keep it under 2,000 characters."))
    return value


def _locked(item: RunItem) -> RunItem:
    return RunItem.objects.select_for_update().select_related("run__community").get(pk=item.pk)


@transaction.atomic
def item_tick(
    *, item: RunItem, staff: Staff, value: str = "", now: datetime | None = None
) -> RunItem:
    """Tick an item with what it asks for; ticking it again with the same value does
    nothing, with another value records the correction."""
    now = now or timezone.now()
    item = _locked(item)
    _check_open(item.run, staff, now)
    value = _clean_value(item, value)
    if item.done_at is not None and item.value == value:
        return item
    if item.done_at is None:
        item.done_at, item.done_by_id = now, staff.user_id
    item.value = value
    item.save(update_fields=["done_at", "done_by", "value"])
    ItemTick.objects.create(
        item=item, action=TickAction.TICK, by_id=staff.user_id, at=now, value=value
    )
    return item


@transaction.atomic
def item_untick(*, item: RunItem, staff: Staff, now: datetime | None = None) -> RunItem:
    now = now or timezone.now()
    item = _locked(item)
    _check_open(item.run, staff, now)
    if item.done_at is None:
        return item
    item.done_at, item.done_by, item.value = None, None, ""
    item.save(update_fields=["done_at", "done_by", "value"])
    ItemTick.objects.create(item=item, action=TickAction.UNTICK, by_id=staff.user_id, at=now)
    return item


# --- Overdue notices -------------------------------------------------------------------------


def overdue_notify(*, now: datetime | None = None) -> int:
    """Tell each overdue item's assignee and the community's operators, once per item
    (grouped by run). Returns how many items were announced."""
    now = now or timezone.now()
    items = list(
        RunItem.objects.filter(
            done_at__isnull=True,
            overdue_notified_at__isnull=True,
            due_at__lte=now,
            due_at__gt=now - OVERDUE_NOTICE_WINDOW,
            run__cancelled_at__isnull=True,
        )
        .select_related(
            "run__community",
            "run__organization",
            "run__assignee__user",
            "run__assignee__organization",
        )
        .order_by("run_id", "position")
    )
    by_run: dict[int, list[RunItem]] = defaultdict(list)
    for item in items:
        by_run[item.run_id].append(item)
    operators: dict[int, list[Staff]] = {}
    announced = 0
    for run_items in by_run.values():
        run = run_items[0].run
        if run.organization_id not in operators:
            operators[run.organization_id] = list(
                Staff.objects.filter(
                    organization_id=run.organization_id,
                    role=Role.OPERATOR,
                    deactivated_at__isnull=True,
                ).select_related("user", "organization")
            )
        recipients = [*operators[run.organization_id]]
        if run.assignee is not None:
            recipients.append(run.assignee)
        with transaction.atomic():
            claimed = RunItem.objects.filter(
                pk__in=[item.pk for item in run_items], overdue_notified_at__isnull=True
            ).update(overdue_notified_at=now)
            if not claimed:
                continue  # another worker announced them
            notify(
                recipients=recipients,
                message=gettext_noop("Overdue in %(community)s (%(run)s): %(items)s"),
                subject=gettext_noop("Checklist items overdue in %(community)s"),
                params={
                    "community": run.community.name,
                    "run": run.name,
                    # The titles are in the run's language; so is the list's separator.
                    "items": ("、" if run.language.startswith("zh") else ", ").join(
                        item.title for item in run_items
                    ),
                },
                url=reverse("checklists:run", args=[run.pk]),
                key=f"overdue:{run.pk}:{min(item.pk for item in run_items)}",
            )
            announced += claimed
    return announced
