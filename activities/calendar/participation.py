"""Who is invited to an occurrence, their answers, the waitlist, attendance and no-shows.

- ``invited_memberships(entry)``: the entry's invitation scope, read live (members of its
  communities — active or lurker, docs/metrics.md "Members" — a tier and above, a squad, or
  hand-picked members). Closing attendance freezes it into ``Participation`` rows.
- ``rsvp``: going / maybe / declined. With a capacity, "going" beyond it joins the waitlist
  (ordered by when they answered); when a going person declines or is taken off the list,
  the first on the waitlist moves up (``promoted_at``). Writes lock the ``Occurrence`` row,
  so two answers at once never overfill it.
- ``attendance_set``: staff tick and untick. The first tick earns the points of the
  community's attendance rule (once per member and occurrence: ``points_entry``) and writes
  an ``attend`` event through ``activities.ingest.ingest_events`` (stable external id, so
  it is counted once however often it is ticked).
- ``attendance_close``: freezes the invitations, marks no-shows (said going, not ticked)
  and applies "N no-shows in 30 days → a violation of rule X". Running it twice changes
  nothing. ``attendance_close_due`` closes, 24 hours after the end, every occurrence whose
  attendance was ticked (Celery beat).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activities.calendar import services
from activities.calendar.models import (
    CalendarEntry,
    CalendarRules,
    InviteScope,
    Occurrence,
    Participation,
    Response,
)
from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events, manual_event_withdraw
from activities.models import ActivityKind, EventSource
from communities.models import Community, RuleKind
from members import services as member_services
from members.models import PRESENT_STATUSES, Membership

# Answers a member (or staff for them) can give.
ANSWERS = (Response.GOING, Response.MAYBE, Response.DECLINED)
NO_SHOW_WINDOW = timedelta(days=30)
# The beat task closes attendance this long after an occurrence ended.
CLOSE_AFTER = timedelta(hours=24)


# --- Reads ---------------------------------------------------------------------------------


def invited_memberships(entry: CalendarEntry) -> QuerySet[Membership]:
    """Memberships the entry's invitation scope names, among members of its communities.

    A tier scope invites that tier and above (by rank, in each of the entry's communities);
    a tier or squad scope whose tier or squad was deleted invites nobody.
    """
    queryset = Membership.objects.filter(
        community__in=entry.communities.all(), status__in=PRESENT_STATUSES
    )
    scope = entry.invite_scope
    if scope == InviteScope.TIER:
        if entry.invite_tier_id is None:
            return queryset.none()
        return queryset.filter(tier__rank__gte=entry.invite_tier.rank)
    if scope == InviteScope.SQUAD:
        if entry.invite_squad_id is None:
            return queryset.none()
        return queryset.filter(squad_id=entry.invite_squad_id)
    if scope == InviteScope.PICKED:
        return queryset.filter(
            pk__in=entry.invite_picked.through.objects.filter(calendarentry_id=entry.pk).values(
                "membership_id"
            )
        )
    return queryset


def occurrence_memberships(occurrence: Occurrence) -> QuerySet[Membership]:
    """Everyone on the occurrence's list: once closed, the frozen rows; before, the invited
    and anyone who has a row already (answered, then left the group)."""
    if occurrence.pk is None:  # no row yet: nobody has answered
        return invited_memberships(occurrence.entry)
    if occurrence.attendance_closed_at is not None:
        return Membership.objects.filter(participations__occurrence=occurrence)
    return Membership.objects.filter(
        Q(pk__in=invited_memberships(occurrence.entry).values("pk"))
        | Q(pk__in=Participation.objects.filter(occurrence=occurrence).values("membership_id"))
    )


@dataclass
class Person:
    """One row of the occurrence's list."""

    membership: Membership
    participation: Participation | None = None

    @property
    def response(self) -> str:
        return self.participation.response if self.participation else Response.NONE

    @property
    def attended(self) -> bool:
        return bool(self.participation and self.participation.attended)

    @property
    def promoted(self) -> bool:
        return bool(self.participation and self.participation.promoted_at)

    @property
    def no_show(self) -> bool:
        return bool(self.participation and self.participation.no_show)


@dataclass
class OccurrenceList:
    occurrence: Occurrence
    people: list[Person] = field(default_factory=list)

    def _with(self, response: str) -> list[Person]:
        return [p for p in self.people if p.response == response]

    @property
    def invited_count(self) -> int:
        return len(self.people)

    @property
    def going(self) -> list[Person]:
        return self._with(Response.GOING)

    @property
    def maybe(self) -> list[Person]:
        return self._with(Response.MAYBE)

    @property
    def declined(self) -> list[Person]:
        return self._with(Response.DECLINED)

    @property
    def waitlist(self) -> list[Person]:
        return sorted(
            self._with(Response.WAITLIST),
            key=lambda p: (p.participation.responded_at, p.participation.pk),
        )

    @property
    def unanswered(self) -> list[Person]:
        return self._with(Response.NONE)

    @property
    def attended_count(self) -> int:
        return sum(1 for p in self.people if p.attended)

    @property
    def no_shows(self) -> list[Person]:
        return [p for p in self.people if p.no_show]

    @property
    def ticking_order(self) -> list[Person]:
        """Going first, then the waitlist, maybe, no answer, declined; by name within."""
        order = {
            Response.GOING: 0,
            Response.WAITLIST: 1,
            Response.MAYBE: 2,
            Response.NONE: 3,
            Response.DECLINED: 4,
        }
        return sorted(
            self.people,
            key=lambda p: (
                order.get(p.response, 5),
                p.membership.member.display_name,
                p.membership.pk,
            ),
        )


def occurrence_list(
    occurrence: Occurrence, communities: Iterable[int] | None = None
) -> OccurrenceList:
    """The occurrence's people with their rows, in two queries whatever their number.

    ``communities`` (ids) keeps only the people of those communities (what a moderator sees).
    """
    queryset = occurrence_memberships(occurrence)
    if communities is not None:
        queryset = queryset.filter(community_id__in=list(communities))
    memberships = list(
        queryset.select_related("member", "community").order_by("member__display_name", "pk")
    )
    rows = {}
    if occurrence.pk is not None:
        rows = {p.membership_id: p for p in Participation.objects.filter(occurrence=occurrence)}
    return OccurrenceList(
        occurrence=occurrence,
        people=[Person(m, rows.get(m.pk)) for m in memberships],
    )


def person(occurrence: Occurrence, membership: Membership) -> Person:
    """One row of the list (for re-rendering it after a tick)."""
    if occurrence.pk is None:
        return Person(membership)
    return Person(
        membership,
        Participation.objects.filter(occurrence=occurrence, membership=membership).first(),
    )


def rules_for(community: Community) -> CalendarRules | None:
    return (
        CalendarRules.objects.filter(community=community)
        .select_related("attendance_rule", "no_show_rule")
        .first()
    )


def has_ended(occurrence: Occurrence, now: datetime | None = None) -> bool:
    return occurrence.ends_at <= (now or timezone.now())


def has_started(occurrence: Occurrence, now: datetime | None = None) -> bool:
    return occurrence.starts_at <= (now or timezone.now())


# --- RSVP and the waitlist -----------------------------------------------------------------


def _locked(occurrence: Occurrence) -> Occurrence:
    """The occurrence row, locked until the transaction ends (PostgreSQL; SQLite's
    IMMEDIATE transactions serialise writers anyway)."""
    return Occurrence.objects.select_for_update().select_related("entry").get(pk=occurrence.pk)


def _is_invited(occurrence: Occurrence, membership: Membership) -> bool:
    if occurrence.attendance_closed_at is not None:
        return Participation.objects.filter(occurrence=occurrence, membership=membership).exists()
    return occurrence_memberships(occurrence).filter(pk=membership.pk).exists()


def _check_open(occurrence: Occurrence, membership: Membership) -> None:
    if occurrence.cancelled or occurrence.entry.cancelled_at is not None:
        raise ValidationError(_("This occurrence is cancelled."))
    if occurrence.attendance_closed_at is not None:
        raise ValidationError(_("Attendance of this occurrence is closed."))
    if membership.community.organization_id != occurrence.entry.organization_id:
        raise ValidationError(_("This person is not invited to this occurrence."))
    if not _is_invited(occurrence, membership):
        raise ValidationError(
            _("%(name)s is not invited to this occurrence.") % {"name": membership.member}
        )


def _going_count(occurrence: Occurrence) -> int:
    return Participation.objects.filter(occurrence=occurrence, response=Response.GOING).count()


def _promote(occurrence: Occurrence, now: datetime) -> list[Participation]:
    """Move the first on the waitlist up while there is room (all of them without a cap)."""
    capacity = occurrence.entry.capacity
    waiting = Participation.objects.filter(
        occurrence=occurrence, response=Response.WAITLIST
    ).order_by("responded_at", "pk")
    if capacity is not None:
        room = capacity - _going_count(occurrence)
        if room <= 0:
            return []
        waiting = waiting[:room]
    promoted = list(waiting)
    for row in promoted:
        row.response = Response.GOING
        row.promoted_at = now
        row.save(update_fields=["response", "promoted_at"])
    return promoted


@transaction.atomic
def rsvp(
    *, occurrence: Occurrence, membership: Membership, response: str, by=None
) -> Participation:
    """Record a member's answer (staff record the answers members give in chat).

    "going" beyond the capacity joins the waitlist; saying "going" again keeps one's place.
    A going person who declines (or says maybe) frees a place for the first on the waitlist.
    """
    if response not in ANSWERS:
        raise ValidationError({"response": _("Choose going, maybe or declined.")})
    occurrence = _locked(occurrence)
    now = timezone.now()
    if has_ended(occurrence, now):
        raise ValidationError(_("This occurrence has ended; it takes no more answers."))
    _check_open(occurrence, membership)
    row, _created = Participation.objects.get_or_create(
        occurrence=occurrence, membership=membership
    )
    before = row.response
    if response == Response.GOING and before in (Response.GOING, Response.WAITLIST):
        return row
    if response == before:
        return row
    if response == Response.GOING:
        capacity = occurrence.entry.capacity
        if capacity is not None and _going_count(occurrence) >= capacity:
            response = Response.WAITLIST
    row.response = response
    row.responded_at = now
    row.promoted_at = None
    row.save(update_fields=["response", "responded_at", "promoted_at"])
    if before == Response.GOING:
        _promote(occurrence, now)
    return row


@transaction.atomic
def rsvp_clear(*, occurrence: Occurrence, membership: Membership, by=None) -> None:
    """Take someone's answer off the list (recorded by mistake); a freed place moves the
    waitlist up."""
    occurrence = _locked(occurrence)
    now = timezone.now()
    if has_ended(occurrence, now):
        raise ValidationError(_("This occurrence has ended; it takes no more answers."))
    _check_open(occurrence, membership)
    row = Participation.objects.filter(occurrence=occurrence, membership=membership).first()
    if row is None or row.response == Response.NONE:
        return
    before = row.response
    row.response = Response.NONE
    row.responded_at = None
    row.promoted_at = None
    row.save(update_fields=["response", "responded_at", "promoted_at"])
    if before == Response.GOING:
        _promote(occurrence, now)


@transaction.atomic
def waitlist_promote(*, occurrence: Occurrence) -> list[Participation]:
    """Fill the places a raised capacity opened (call after editing the capacity)."""
    occurrence = _locked(occurrence)
    return _promote(occurrence, timezone.now())


# --- Attendance ----------------------------------------------------------------------------


def _attend_event(occurrence: Occurrence, membership: Membership) -> None:
    key = f"member:{membership.member_id}"
    ingest_events(
        community=membership.community,
        source=EventSource.MANUAL,
        events=[
            IncomingEvent(
                external_id=f"attend:{occurrence.pk}:{membership.member_id}",
                kind=ActivityKind.ATTEND,
                occurred_at=occurrence.starts_at,
                member_key=key,
                member_name=membership.member.display_name,
            )
        ],
        known_members={key: membership.member_id},
    )


def _attendance_points(row: Participation, membership: Membership, by) -> None:
    rules = rules_for(membership.community)
    rule = rules.attendance_rule if rules else None
    if (
        rule is None
        or rule.kind != RuleKind.ENCOURAGED
        or rule.community_id != membership.community_id
        or not rule.points
    ):
        return
    row.points_entry = member_services.points_for_rule(membership=membership, rule=rule, by=by)


def _attendance_taken_back(
    row: Participation, occurrence: Occurrence, membership: Membership, by
) -> None:
    credited = row.points_entry
    if credited is not None:
        member_services.points_add(
            membership=membership,
            delta=-credited.delta,
            reason=_("Attendance unticked: %(title)s") % {"title": occurrence.entry.title},
            rule=credited.rule,
            by=by,
        )
        row.points_entry = None
    manual_event_withdraw(
        community_id=membership.community_id,
        external_id=f"attend:{occurrence.pk}:{membership.member_id}",
        day=occurrence.starts_at.astimezone(ZoneInfo(membership.community.time_zone)).date(),
    )


@transaction.atomic
def attendance_set(
    *, occurrence: Occurrence, membership: Membership, attended: bool, by=None
) -> Participation:
    """Tick (or untick) that a member attended.

    A tick credits the community's attendance points and writes the ``attend`` event. An
    untick (a mis-tick put right) takes both back: a correcting ledger entry (the ledger is
    append-only) and the event removed, with its day marked for the rollups. So however
    often it is ticked and unticked, the balance and the dashboards hold one attendance
    while it is ticked and none while it is not.
    """
    occurrence = _locked(occurrence)
    now = timezone.now()
    if not has_started(occurrence, now):
        raise ValidationError(_("This occurrence has not started yet."))
    _check_open(occurrence, membership)
    row, _created = Participation.objects.select_for_update().get_or_create(
        occurrence=occurrence, membership=membership
    )
    if bool(attended) == row.attended:
        return row
    row.attended = bool(attended)
    row.attended_at = now if attended else None
    row.attendance_by = by if attended else None
    if attended:
        if row.points_entry_id is None:
            _attendance_points(row, membership, by)
        _attend_event(occurrence, membership)
    else:
        _attendance_taken_back(row, occurrence, membership, by)
    row.save(update_fields=["attended", "attended_at", "attendance_by", "points_entry"])
    return row


def attendance_set_at(
    *,
    entry: CalendarEntry,
    original_start: datetime,
    membership: Membership,
    attended: bool,
    by=None,
) -> Participation:
    """``attendance_set`` for an occurrence named by its entry and original start."""
    occurrence = services.occurrence_for(entry=entry, original_start=original_start)
    return attendance_set(occurrence=occurrence, membership=membership, attended=attended, by=by)


# --- Closing attendance, no-shows ----------------------------------------------------------


@dataclass
class CloseResult:
    closed: bool  # False: it was closed already (nothing changed)
    no_shows: list[Participation] = field(default_factory=list)
    violations: list = field(default_factory=list)


def _evidence(occurrences: list[Occurrence], limit: int) -> str:
    lines = []
    for item in occurrences:
        local = timezone.localtime(item.starts_at, ZoneInfo(item.entry.time_zone))
        lines.append(
            f"- {item.entry.title} ({formats.date_format(local, 'SHORT_DATETIME_FORMAT')})"
        )
    head = ngettext(
        "%(count)d no-show within 30 days (the limit is %(limit)d):",
        "%(count)d no-shows within 30 days (the limit is %(limit)d):",
        len(occurrences),
    ) % {
        "count": len(occurrences),
        "limit": limit,
    }
    return "\n".join([head, *lines])


def _apply_no_show_rule(row: Participation, by) -> object | None:
    """A violation when this no-show makes N within 30 days since the last one that did."""
    membership = row.membership
    rules = rules_for(membership.community)
    if rules is None or not rules.no_show_limit or rules.no_show_rule is None:
        return None
    rule = rules.no_show_rule
    if rule.kind != RuleKind.FORBIDDEN or rule.community_id != membership.community_id:
        return None
    start = row.occurrence.starts_at
    window = Participation.objects.filter(
        membership=membership,
        no_show=True,
        occurrence__starts_at__gt=start - NO_SHOW_WINDOW,
        occurrence__starts_at__lte=start,
    ).select_related("occurrence__entry")
    last_trigger = (
        window.filter(no_show_violation__isnull=False).order_by("-occurrence__starts_at").first()
    )
    if last_trigger is not None:
        window = window.filter(occurrence__starts_at__gt=last_trigger.occurrence.starts_at)
    counted = list(window.order_by("occurrence__starts_at", "pk"))
    if len(counted) < rules.no_show_limit:
        return None
    evidence = _evidence([p.occurrence for p in counted], rules.no_show_limit)
    violation = member_services.violation_record(
        membership=membership, rule=rule, evidence=evidence, by=by
    )
    row.no_show_violation = violation
    row.save(update_fields=["no_show_violation"])
    return violation


@transaction.atomic
def attendance_close(*, occurrence: Occurrence, by=None) -> CloseResult:
    """Freeze the invitations, mark no-shows and apply the no-show rule; twice is once."""
    occurrence = _locked(occurrence)
    if occurrence.attendance_closed_at is not None:
        return CloseResult(closed=False)
    now = timezone.now()
    if not has_ended(occurrence, now):
        raise ValidationError(_("Attendance can be closed once the occurrence has ended."))
    if occurrence.cancelled:
        raise ValidationError(_("This occurrence is cancelled."))
    have = set(
        Participation.objects.filter(occurrence=occurrence).values_list("membership_id", flat=True)
    )
    Participation.objects.bulk_create(
        [
            Participation(occurrence=occurrence, membership_id=pk)
            for pk in invited_memberships(occurrence.entry).values_list("pk", flat=True)
            if pk not in have
        ]
    )
    no_shows = list(
        Participation.objects.filter(
            occurrence=occurrence, response=Response.GOING, attended=False
        ).select_related("membership__community", "membership__member", "occurrence__entry")
    )
    Participation.objects.filter(pk__in=[p.pk for p in no_shows]).update(no_show=True)
    occurrence.attendance_closed_at = now
    occurrence.save(update_fields=["attendance_closed_at"])
    violations = []
    language = occurrence.entry.organization.language
    with translation.override(language):
        for row in no_shows:
            row.no_show = True
            violation = _apply_no_show_rule(row, by)
            if violation is not None:
                violations.append(violation)
    return CloseResult(closed=True, no_shows=no_shows, violations=violations)


def attendance_close_due(now: datetime | None = None) -> int:
    """Close every occurrence that ended over 24 hours ago and has attendance ticked."""
    now = now or timezone.now()
    due = (
        Occurrence.objects.filter(
            attendance_closed_at__isnull=True,
            cancelled=False,
            ends_at__lte=now - CLOSE_AFTER,
            participations__attended=True,
        )
        .values_list("pk", flat=True)
        .distinct()
    )
    closed = 0
    for pk in list(due):
        occurrence = Occurrence.objects.get(pk=pk)
        if attendance_close(occurrence=occurrence).closed:
            closed += 1
    return closed


# --- A community's calendar rules ------------------------------------------------------------


@transaction.atomic
def calendar_rules_save(*, community: Community, data: dict, by=None) -> CalendarRules:
    """Attending earns the points of an encouraged rule; N no-shows in 30 days are a
    violation of a forbidden rule (both rules of this community; both halves or neither)."""
    attendance_rule = data.get("attendance_rule")
    limit = data.get("no_show_limit")
    no_show_rule = data.get("no_show_rule")
    errors = {}
    if attendance_rule is not None and (
        attendance_rule.community_id != community.pk or attendance_rule.kind != RuleKind.ENCOURAGED
    ):
        errors["attendance_rule"] = _("Choose an encouraged behaviour of this community.")
    if no_show_rule is not None and (
        no_show_rule.community_id != community.pk or no_show_rule.kind != RuleKind.FORBIDDEN
    ):
        errors["no_show_rule"] = _("Choose a forbidden behaviour of this community.")
    if limit and no_show_rule is None and "no_show_rule" not in errors:
        errors["no_show_rule"] = _("Choose the rule that no-shows break.")
    if no_show_rule is not None and not limit:
        errors["no_show_limit"] = _("Say how many no-shows in 30 days count as a violation.")
    if errors:
        raise ValidationError(errors)
    rules, _created = CalendarRules.objects.select_for_update().get_or_create(community=community)
    rules.attendance_rule = attendance_rule
    rules.no_show_limit = limit or None
    rules.no_show_rule = no_show_rule
    rules.full_clean()
    rules.save()
    return rules
