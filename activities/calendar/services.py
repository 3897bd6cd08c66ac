"""Writes of the calendar's entries and occurrences (participation: ``participation.py``;
challenges: ``challenges.py``).

Every write runs in a transaction and raises ``ValidationError`` with a translated message,
writing nothing, when the input is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from activities.calendar import recurrence
from activities.calendar.hooks import entry_changed
from activities.calendar.models import (
    CalendarEntry,
    InviteScope,
    Occurrence,
    Participation,
    Response,
)
from communities.models import Community, Organization, validate_time_zone

# Fields of CalendarEntry that a caller passes in ``data``.
ENTRY_FIELDS = (
    "kind",
    "title",
    "description",
    "place",
    "link",
    "time_zone",
    "start_date",
    "start_time",
    "duration_minutes",
    "rrule",
    "invite_scope",
    "invite_tier",
    "invite_squad",
    "capacity",
)


class Scope(models.TextChoices):
    """Which occurrences an edit or a cancellation applies to."""

    THIS = "this", gettext_lazy("This occurrence")
    FOLLOWING = "following", gettext_lazy("This and following")
    ALL = "all", gettext_lazy("The whole series")


def _check_communities(organization: Organization, communities: Iterable[Community]) -> list:
    communities = list(communities)
    if not communities:
        raise ValidationError({"communities": _("Choose at least one community.")})
    if any(c.organization_id != organization.pk for c in communities):
        raise ValidationError({"communities": _("Choose communities of your organisation.")})
    return communities


def _end_minutes(entry: CalendarEntry, data: dict) -> int | None:
    """The duration that ``end_date`` + ``end_time`` in ``data`` give, or None without them."""
    if data.get("end_time") is None:
        return None
    end_date = data.get("end_date") or entry.start_date
    start = recurrence.local_start(entry.start_date, entry.start_time)
    end = recurrence.local_start(end_date, data["end_time"])
    minutes = int((end - start).total_seconds() // 60)
    if minutes <= 0:
        raise ValidationError({"end_time": _("The end is before the start.")})
    return minutes


def _check_invitation(entry: CalendarEntry, communities: list, invite_picked: list) -> None:
    scope = entry.invite_scope
    if scope in (InviteScope.TIER, InviteScope.SQUAD) and len(communities) != 1:
        raise ValidationError(
            {
                "invite_scope": _(
                    "A tier or a squad belongs to one community: invite by tier or squad only "
                    "for an entry of a single community."
                )
            }
        )
    if scope == InviteScope.TIER:
        if entry.invite_tier is None:
            raise ValidationError({"invite_tier": _("Choose the tier.")})
        if entry.invite_tier.community_id != communities[0].pk:
            raise ValidationError({"invite_tier": _("Choose a tier of this community.")})
    else:
        entry.invite_tier = None
    if scope == InviteScope.SQUAD:
        if entry.invite_squad is None:
            raise ValidationError({"invite_squad": _("Choose the squad.")})
        if entry.invite_squad.community_id != communities[0].pk:
            raise ValidationError({"invite_squad": _("Choose a squad of this community.")})
    else:
        entry.invite_squad = None
    ids = {c.pk for c in communities}
    if scope == InviteScope.PICKED:
        if not invite_picked:
            raise ValidationError({"invite_picked": _("Pick at least one member.")})
        if any(m.community_id not in ids for m in invite_picked):
            raise ValidationError({"invite_picked": _("Pick members of the entry's communities.")})


def _apply(
    entry: CalendarEntry, organization: Organization, communities, data: dict, invite_picked
) -> tuple[list, list]:
    """Set ``data`` on the (unsaved) entry and check all of it; raises, writing nothing."""
    communities = _check_communities(organization, communities)
    invite_picked = list(invite_picked)
    for name in ENTRY_FIELDS:
        if name in data:
            setattr(entry, name, data[name])
    if not entry.time_zone:
        entry.time_zone = communities[0].time_zone
    try:
        validate_time_zone(entry.time_zone)
    except ValidationError as error:
        raise ValidationError({"time_zone": error.messages}) from None
    minutes = _end_minutes(entry, data)
    if minutes is not None:
        entry.duration_minutes = minutes
    entry.rrule = (entry.rrule or "").strip()
    if entry.rrule:
        try:
            entry.rrule = recurrence.normalize(
                entry.rrule, recurrence.local_start(entry.start_date, entry.start_time)
            )
        except ValidationError as error:
            raise ValidationError({"rrule": error.messages}) from None
    _check_invitation(entry, communities, invite_picked)
    entry.full_clean(exclude=["organization", "created_by"])
    return communities, invite_picked


def going_counts(entry: CalendarEntry, *, since: datetime | None = None) -> int:
    """The most members going to any occurrence of the entry not yet ended (from ``since``)."""
    rows = Participation.objects.filter(
        occurrence__entry=entry, occurrence__ends_at__gt=timezone.now(), response=Response.GOING
    )
    if since is not None:
        rows = rows.filter(occurrence__original_start__gte=since)
    counts = rows.values("occurrence").annotate(n=Count("id")).values_list("n", flat=True)
    return max(counts, default=0)


def _check_capacity(capacity: int | None, going: int) -> None:
    if capacity is not None and capacity < going:
        raise ValidationError(
            {
                "capacity": ngettext(
                    "%(going)d member is already going to an upcoming occurrence: the capacity "
                    "cannot be lower.",
                    "%(going)d members are already going to an upcoming occurrence: the "
                    "capacity cannot be lower.",
                    going,
                )
                % {"going": going}
            }
        )


def _set_relations(entry, communities, host_members, host_staff, invite_picked) -> None:
    entry.communities.set(communities)
    entry.host_members.set(host_members)
    entry.host_staff.set(host_staff)
    entry.invite_picked.set(invite_picked if entry.invite_scope == InviteScope.PICKED else [])


@transaction.atomic
def entry_create(
    *,
    organization: Organization,
    communities: Iterable[Community],
    data: dict,
    host_members: Iterable = (),
    host_staff: Iterable = (),
    invite_picked: Iterable = (),
    by=None,
) -> CalendarEntry:
    """Create a one-off or recurring entry; a one-off gets its single Occurrence row."""
    entry = CalendarEntry(organization=organization, created_by=by)
    communities, invite_picked = _apply(entry, organization, communities, data, invite_picked)
    entry.save()
    _set_relations(entry, communities, host_members, host_staff, invite_picked)
    if not entry.rrule:
        occurrence_for(entry=entry, original_start=first_start(entry))
    entry_changed(entry)
    return entry


def first_start(entry: CalendarEntry) -> datetime:
    """The entry's first start, aware (UTC)."""
    return recurrence.place(
        recurrence.local_start(entry.start_date, entry.start_time), ZoneInfo(entry.time_zone)
    )


def shape(entry: CalendarEntry) -> recurrence.SeriesShape:
    return recurrence.SeriesShape(
        entry_id=entry.pk,
        time_zone=entry.time_zone,
        start_date=entry.start_date,
        start_time=entry.start_time,
        duration_minutes=entry.duration_minutes,
        rrule=entry.rrule,
        cancelled=entry.cancelled_at is not None,
    )


def occurrence_for(*, entry: CalendarEntry, original_start: datetime) -> Occurrence:
    """The Occurrence row of ``entry`` at ``original_start``, made when first needed.

    Refuses a start the entry's rule does not produce, so a URL cannot invent occurrences.
    Safe when two requests make the same row at once (the unique constraint decides).
    """
    existing = Occurrence.objects.filter(entry=entry, original_start=original_start).first()
    if existing is not None:
        return existing
    if not recurrence.is_rule_occurrence(shape(entry), original_start):
        raise ValidationError(_("This entry has no occurrence at that time."))
    length = timedelta(minutes=entry.duration_minutes)
    with transaction.atomic():
        occurrence, _created = Occurrence.objects.get_or_create(
            entry=entry,
            original_start=original_start,
            defaults={"starts_at": original_start, "ends_at": original_start + length},
        )
    return occurrence


def touch(entry: CalendarEntry) -> None:
    """Mark an edit: iCalendar SEQUENCE goes up, so subscribed calendars take the change,
    and the apps that hang work off occurrences hear of it (``hooks.py``)."""
    CalendarEntry.objects.filter(pk=entry.pk).update(
        sequence=entry.sequence + 1, updated_at=timezone.now()
    )
    entry.sequence += 1
    entry_changed(entry)


def _zone(entry: CalendarEntry) -> ZoneInfo:
    return ZoneInfo(entry.time_zone)


def _first_local(entry: CalendarEntry) -> datetime:
    return recurrence.local_start(entry.start_date, entry.start_time)


def _require_occurrence(entry: CalendarEntry, original_start: datetime | None) -> datetime:
    if original_start is None or not (
        recurrence.is_rule_occurrence(shape(entry), original_start)
        or Occurrence.objects.filter(entry=entry, original_start=original_start).exists()
    ):
        raise ValidationError(_("This entry has no occurrence at that time."))
    return original_start


def _shift_rows(
    rows: list[Occurrence],
    *,
    old_zone: ZoneInfo,
    new_zone: ZoneInfo,
    delta: timedelta,
    old_length: timedelta,
    new_length: timedelta,
    entry: CalendarEntry | None = None,
) -> None:
    """Move exception rows with their series: original starts by ``delta`` in local time.

    An occurrence that was moved keeps its own start and end; one that was not follows
    the series (and its new length). Saved one by one in the order that never collides
    with the (entry, original_start) constraint.
    """
    rows = sorted(rows, key=lambda r: r.original_start, reverse=delta > timedelta(0))
    for row in rows:
        unmoved = row.starts_at == row.original_start and row.ends_at == (
            row.original_start + old_length
        )
        local = recurrence.to_local(row.original_start, old_zone) + delta
        row.original_start = recurrence.place(local, new_zone)
        if unmoved:
            row.starts_at = row.original_start
            row.ends_at = row.original_start + new_length
        if entry is not None:
            row.entry = entry
        row.sequence += 1
        row.save(update_fields=["entry", "original_start", "starts_at", "ends_at", "sequence"])


def _drop_rows_after(entry: CalendarEntry, original_start: datetime) -> None:
    """Occurrences cut off a series: gone, or cancelled where people took part."""
    rows = Occurrence.objects.filter(entry=entry, original_start__gte=original_start)
    rows.filter(participations__isnull=True).delete()
    for row in rows:
        row.cancelled = True
        row.sequence += 1
        row.save(update_fields=["cancelled", "sequence"])


@transaction.atomic
def entry_update(
    *,
    entry: CalendarEntry,
    scope: str = Scope.ALL,
    original_start: datetime | None = None,
    communities: Iterable[Community] | None = None,
    data: dict,
    host_members: Iterable | None = None,
    host_staff: Iterable | None = None,
    invite_picked: Iterable | None = None,
    by=None,
) -> CalendarEntry:
    """Edit one occurrence, this and the following ones, or the whole series.

    - ``this``: the occurrence's exception row gets the new start and end (``start_date``,
      ``start_time``, ``end_date``, ``end_time`` in the entry's zone) and ``note``.
    - ``following``: the series is split before the occurrence; a new entry (``split_from``)
      carries on with the new values, taking the later exceptions and participations.
    - ``all``: the entry changes; when its start moves, its exception rows move by the same
      local amount, so moved and cancelled occurrences stay what they were.

    Returns the entry that now holds the occurrence (the new one for ``following``).
    """
    entry = CalendarEntry.objects.select_for_update().get(pk=entry.pk)
    if scope not in Scope.values:
        raise ValidationError(_("Choose which occurrences the change is for."))
    if communities is None:
        communities = list(entry.communities.all())
    if host_members is None:
        host_members = list(entry.host_members.all())
    if host_staff is None:
        host_staff = list(entry.host_staff.all())
    if invite_picked is None:
        invite_picked = list(entry.invite_picked.all())
    if not entry.rrule:
        scope = Scope.ALL  # a one-off is its only occurrence
    if scope == Scope.THIS:
        return _update_this(entry, _require_occurrence(entry, original_start), data)
    old_capacity = entry.capacity
    if scope == Scope.FOLLOWING:
        original_start = _require_occurrence(entry, original_start)
        if original_start <= first_start(entry):
            scope = Scope.ALL
        else:
            changed = _update_following(
                entry,
                original_start,
                communities,
                data,
                host_members,
                host_staff,
                invite_picked,
                by,
            )
            _fill_freed_places(changed, old_capacity)
            return changed
    changed = _update_all(entry, communities, data, host_members, host_staff, invite_picked)
    _fill_freed_places(changed, old_capacity)
    return changed


def _fill_freed_places(entry: CalendarEntry, old_capacity: int | None) -> None:
    """A raised (or removed) capacity moves the waitlists of the entry's occurrences not
    ended yet up (``participation.waitlist_promote``: first come, first served)."""
    if old_capacity is None or (entry.capacity is not None and entry.capacity <= old_capacity):
        return
    from activities.calendar import participation  # it builds on this module

    waiting = (
        Occurrence.objects.filter(
            entry=entry,
            cancelled=False,
            ends_at__gt=timezone.now(),
            attendance_closed_at__isnull=True,
            participations__response=Response.WAITLIST,
        )
        .distinct()
        .order_by("starts_at", "pk")
    )
    for occurrence in waiting:
        participation.waitlist_promote(occurrence=occurrence)


def _update_this(entry: CalendarEntry, original_start: datetime, data: dict) -> CalendarEntry:
    zone = _zone(entry)
    local = recurrence.to_local(original_start, zone)
    start_date = data.get("start_date") or local.date()
    start_time = data.get("start_time") or local.time()
    start = recurrence.local_start(start_date, start_time)
    if data.get("end_time") is not None:
        end = recurrence.local_start(data.get("end_date") or start_date, data["end_time"])
    else:
        end = start + timedelta(minutes=entry.duration_minutes)
    if end <= start:
        raise ValidationError({"end_time": _("The end is before the start.")})
    note = (data.get("note") or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": _("Keep the note under 300 characters.")})
    occurrence = occurrence_for(entry=entry, original_start=original_start)
    occurrence.starts_at = recurrence.place(start, zone)
    occurrence.ends_at = recurrence.place(end, zone)
    occurrence.note = note
    occurrence.sequence += 1
    occurrence.save(update_fields=["starts_at", "ends_at", "note", "sequence"])
    touch(entry)
    return entry


def _update_all(entry, communities, data, host_members, host_staff, invite_picked):
    old_zone, old_first = _zone(entry), _first_local(entry)
    old_length = timedelta(minutes=entry.duration_minutes)
    communities, invite_picked = _apply(entry, entry.organization, communities, data, invite_picked)
    _check_capacity(entry.capacity, going_counts(entry))
    entry.updated_at = timezone.now()
    entry.save()
    _set_relations(entry, communities, host_members, host_staff, invite_picked)
    delta = _first_local(entry) - old_first
    new_length = timedelta(minutes=entry.duration_minutes)
    rows = list(Occurrence.objects.filter(entry=entry))
    if not entry.rrule:
        # A one-off's row is the occurrence itself: it goes where the entry goes.
        for row in rows:
            row.original_start = first_start(entry)
            row.starts_at, row.ends_at = row.original_start, row.original_start + new_length
            row.sequence += 1
            row.save(update_fields=["original_start", "starts_at", "ends_at", "sequence"])
    elif delta or old_zone.key != entry.time_zone or old_length != new_length:
        _shift_rows(
            rows,
            old_zone=old_zone,
            new_zone=_zone(entry),
            delta=delta,
            old_length=old_length,
            new_length=new_length,
        )
    touch(entry)
    return entry


def _update_following(
    entry, original_start, communities, data, host_members, host_staff, invite_picked, by
):
    old_zone, old_first = _zone(entry), _first_local(entry)
    old_rule = entry.rrule
    old_length = timedelta(minutes=entry.duration_minutes)
    cut_at = recurrence.to_local(original_start, old_zone)
    cut_rule = recurrence.with_until(old_rule, old_first, cut_at)
    rest = CalendarEntry(
        organization=entry.organization,
        created_by=by,
        split_from=entry,
        **{name: getattr(entry, name) for name in ENTRY_FIELDS},
    )
    rest.start_date, rest.start_time = cut_at.date(), cut_at.time()
    values = dict(data)
    values.setdefault("start_date", cut_at.date())
    values.setdefault("start_time", cut_at.time())
    new_rule = (values.get("rrule") if "rrule" in values else old_rule) or ""
    if new_rule.strip() and _same_rule(new_rule, old_rule, old_first):
        values["rrule"] = recurrence.rest_after(old_rule, old_first, cut_at)
    communities, invite_picked = _apply(
        rest, entry.organization, communities, values, invite_picked
    )
    if not rest.rrule:
        raise ValidationError(
            {"rrule": _("Choose how the following occurrences repeat, or edit this one only.")}
        )
    _check_capacity(rest.capacity, going_counts(entry, since=original_start))
    rest.save()
    _set_relations(rest, communities, host_members, host_staff, invite_picked)
    rows = list(Occurrence.objects.filter(entry=entry, original_start__gte=original_start))
    _shift_rows(
        rows,
        old_zone=old_zone,
        new_zone=_zone(rest),
        delta=_first_local(rest) - cut_at,
        old_length=old_length,
        new_length=timedelta(minutes=rest.duration_minutes),
        entry=rest,
    )
    CalendarEntry.objects.filter(pk=entry.pk).update(rrule=cut_rule, updated_at=timezone.now())
    entry.rrule = cut_rule
    touch(entry)
    entry_changed(rest)
    return rest


def _same_rule(text: str, old_rule: str, start: datetime) -> bool:
    try:
        return recurrence.normalize(text, start) == old_rule
    except ValidationError:
        return False


@transaction.atomic
def entry_cancel(
    *, entry: CalendarEntry, scope: str = Scope.ALL, original_start: datetime | None = None, by=None
) -> CalendarEntry:
    """Cancel one occurrence (an exception row), this and the following ones (the series
    is cut before it), or the whole entry (``cancelled_at``)."""
    entry = CalendarEntry.objects.select_for_update().get(pk=entry.pk)
    if scope not in Scope.values:
        raise ValidationError(_("Choose which occurrences to cancel."))
    if not entry.rrule:
        scope = Scope.ALL
    if scope != Scope.ALL:
        original_start = _require_occurrence(entry, original_start)
        if scope == Scope.FOLLOWING and original_start <= first_start(entry):
            scope = Scope.ALL
    if scope == Scope.THIS:
        occurrence = occurrence_for(entry=entry, original_start=original_start)
        occurrence.cancelled = True
        occurrence.sequence += 1
        occurrence.save(update_fields=["cancelled", "sequence"])
    elif scope == Scope.FOLLOWING:
        cut_rule = recurrence.with_until(
            entry.rrule, _first_local(entry), recurrence.to_local(original_start, _zone(entry))
        )
        _drop_rows_after(entry, original_start)
        CalendarEntry.objects.filter(pk=entry.pk).update(rrule=cut_rule, updated_at=timezone.now())
        entry.rrule = cut_rule
    else:
        entry.cancelled_at = timezone.now()
        entry.save(update_fields=["cancelled_at"])
        for row in Occurrence.objects.filter(entry=entry, cancelled=False):
            row.sequence += 1
            row.save(update_fields=["sequence"])
    touch(entry)
    return entry
