"""Check-in challenges (打卡): writes and reads.

A challenge runs ``days`` local days from ``start_date`` in its community's time zone, with
a daily deadline. A participant checks in once per day, either

- ticked by staff in the daily grid (staff may record a day late; the check-in says
  "ticked by staff"), or
- from chat: an ingested message, reply or post whose text contains the challenge's keyword
  or hashtag (``#打卡``, ``打卡 Day 5``; case-insensitive, full-width and half-width
  characters alike, so ``＃打卡`` is ``#打卡``). It counts for the message's local day when
  it was sent at or before that day's deadline. **The deadline is that day's cut-off**: a
  message after it counts for no day (not the next one), as a participant who checks in at
  23:30 for a 22:00 deadline has missed that day, and the next day starts at midnight.

Every check-in is also an ``check_in`` activity in the event log (through
``activities.ingest.ingest_events``, source manual, external id
``checkin:<challenge>:<member>:<day>``), so the dashboards count it once however often it
is recorded.

After the last day's deadline the settlement refunds the deposit of those whose missed days
are within ``max_missed_days`` and credits the reward rule's points; the others forfeit
their deposit. Settling twice changes nothing.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.calendar import recurrence
from activities.calendar.models import (
    Challenge,
    ChallengeParticipant,
    CheckIn,
    CheckInSource,
    EntryKind,
    Outcome,
)
from activities.models import ActivityKind, EventSource
from communities.models import Community, RuleKind
from communities.validators import validate_date_in_range
from members.models import DepositKind, Membership, MembershipStatus
from members.services import deposit_record, points_for_rule

MAX_DAYS = 366
# How long the calendar entry of a challenge lasts, starting at the daily deadline.
ENTRY_MINUTES = 15
# Kinds of ingested activity whose text can be a check-in.
CHAT_KINDS = frozenset({ActivityKind.MESSAGE, ActivityKind.REPLY, ActivityKind.POST})
_IN_COMMUNITY = (MembershipStatus.ACTIVE, MembershipStatus.LURKER)


# --- Time ---------------------------------------------------------------------------------


def zone(challenge: Challenge) -> ZoneInfo:
    return ZoneInfo(challenge.community.time_zone)


def last_day(challenge: Challenge) -> date:
    return challenge.start_date + timedelta(days=challenge.days - 1)


def challenge_days(challenge: Challenge) -> list[date]:
    return [challenge.start_date + timedelta(days=n) for n in range(challenge.days)]


def deadline_of(challenge: Challenge, day: date) -> datetime:
    """The aware (UTC) cut-off of ``day``: its deadline in the community's time zone."""
    return recurrence.place(recurrence.local_start(day, challenge.deadline), zone(challenge))


def ends_at(challenge: Challenge) -> datetime:
    return deadline_of(challenge, last_day(challenge))


def starts_at(challenge: Challenge) -> datetime:
    """The first day's local midnight, aware."""
    return recurrence.place(datetime.combine(challenge.start_date, time.min), zone(challenge))


def today_of(challenge: Challenge, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(zone(challenge)).date()


def closed_days(challenge: Challenge, now: datetime | None = None) -> int:
    """How many of the challenge's days have passed their deadline."""
    now = now or timezone.now()
    today = today_of(challenge, now)
    closed = (today - challenge.start_date).days
    if today >= challenge.start_date and now > deadline_of(challenge, today):
        closed += 1
    return max(0, min(challenge.days, closed))


def status(challenge: Challenge, now: datetime | None = None) -> str:
    """ "upcoming", "running", "ended" (not settled yet) or "settled"."""
    now = now or timezone.now()
    if challenge.settled_at is not None:
        return "settled"
    if now < starts_at(challenge):
        return "upcoming"
    if now > ends_at(challenge):
        return "ended"
    return "running"


def normalize_text(text: str) -> str:
    """Full-width and half-width alike (NFKC: ``＃`` is ``#``), case folded."""
    return unicodedata.normalize("NFKC", text).casefold()


# --- Creating ------------------------------------------------------------------------------


def _clean(community: Community, data: dict) -> dict:
    """The challenge's fields from ``data``; every problem at once, by field."""
    errors: dict[str, list[str]] = {}

    def problem(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    title = (data.get("title") or "").strip()
    if not title:
        problem("title", _("Give the challenge a title."))
    elif len(title) > 200:
        problem("title", _("The title is too long (at most 200 characters)."))
    start_date = data.get("start_date")
    if not isinstance(start_date, date):
        problem("start_date", _("Choose the first day."))
    else:
        try:
            validate_date_in_range(start_date)
        except ValidationError as error:
            problem("start_date", " ".join(error.messages))
            start_date = None
    days = data.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        problem("days", _("A challenge lasts from 1 to %(max)d days.") % {"max": MAX_DAYS})
        days = None
    elif isinstance(start_date, date):
        try:
            validate_date_in_range(start_date + timedelta(days=days - 1))
        except (ValidationError, OverflowError):
            problem("days", _("The challenge would end after the last date supported."))
    deadline = data.get("deadline")
    if not isinstance(deadline, time):
        problem("deadline", _("Choose the daily deadline."))
    max_missed = data.get("max_missed_days") or 0
    if not isinstance(max_missed, int) or max_missed < 0:
        problem("max_missed_days", _("The missed days allowed cannot be negative."))
    elif days is not None and max_missed >= days:
        problem(
            "max_missed_days",
            _("Allow fewer missed days than the challenge has days (at most %(most)d).")
            % {"most": days - 1},
        )
    deposit = data.get("deposit")
    if deposit in ("", None):
        deposit = None
    else:
        try:
            deposit = Decimal(deposit)
        except (InvalidOperation, TypeError, ValueError):
            deposit = Decimal(-1)
        if not deposit.is_finite() or deposit <= 0:
            problem("deposit", _("The deposit must be more than zero, or empty for none."))
        elif deposit >= Decimal("100000000") or deposit != deposit.quantize(Decimal("0.01")):
            problem("deposit", _("Give the deposit with at most two decimals, below 100,000,000."))
    keyword = (data.get("keyword") or "").strip()
    if len(keyword) > 60:
        problem("keyword", _("The keyword is too long (at most 60 characters)."))
    reward_rule = data.get("reward_rule")
    if reward_rule is not None and (
        reward_rule.community_id != community.pk or reward_rule.kind != RuleKind.ENCOURAGED
    ):
        problem("reward_rule", _("Choose an encouraged behaviour of this community's rules."))
    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "description": (data.get("description") or "").strip(),
        "start_date": start_date,
        "days": days,
        "deadline": deadline.replace(second=0, microsecond=0, tzinfo=None),
        "max_missed_days": max_missed,
        "deposit": deposit,
        "keyword": keyword,
        "reward_rule": reward_rule,
    }


@transaction.atomic
def challenge_create(*, community: Community, data: dict, by=None) -> Challenge:
    """A challenge of ``community`` and its calendar entry (daily at the deadline, N times).

    ``data``: title, description, start_date, days, deadline, max_missed_days, deposit
    (empty: none), keyword (empty: check-ins only by staff), reward_rule.
    """
    from activities.calendar.services import entry_create

    clean = _clean(community, data)
    entry = entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": EntryKind.CHALLENGE,
            "title": clean["title"],
            "description": clean["description"],
            "time_zone": community.time_zone,
            "start_date": clean["start_date"],
            "start_time": clean["deadline"],
            "duration_minutes": ENTRY_MINUTES,
            "rrule": f"FREQ=DAILY;COUNT={clean['days']}",
        },
        by=by,
    )
    challenge = Challenge(
        entry=entry,
        community=community,
        **{k: v for k, v in clean.items() if k not in ("title", "description")},
    )
    challenge.full_clean()
    challenge.save()
    return challenge


# --- Participants --------------------------------------------------------------------------


@transaction.atomic
def participant_add(*, challenge: Challenge, membership: Membership, by=None):
    """Join ``membership`` to the challenge, holding its deposit (if it has one)."""
    if membership.community_id != challenge.community_id:
        raise ValidationError(_("Only members of the challenge's community can take part."))
    if membership.status not in _IN_COMMUNITY:
        raise ValidationError(_("Only current members of the community can take part."))
    if status(challenge) in ("ended", "settled"):
        raise ValidationError(_("This challenge has ended; nobody can join it any more."))
    existing = ChallengeParticipant.objects.filter(
        challenge=challenge, membership=membership
    ).first()
    if existing is not None:
        return existing
    held = None
    if challenge.deposit:
        held = deposit_record(
            membership=membership,
            kind=DepositKind.HELD,
            amount=challenge.deposit,
            note=_("Deposit for the check-in challenge “%(title)s”") % {"title": challenge},
            by=by,
        )
    participant = ChallengeParticipant.objects.create(
        challenge=challenge, membership=membership, deposit_held=held
    )
    return participant


@transaction.atomic
def participant_remove(*, participant: ChallengeParticipant, by=None) -> None:
    """Take a participant out before the first day; a held deposit is given back."""
    challenge = participant.challenge
    if status(challenge) != "upcoming":
        raise ValidationError(_("Participants can only be removed before the first day."))
    if participant.deposit_held is not None:
        deposit_record(
            membership=participant.membership,
            kind=DepositKind.REFUNDED,
            amount=participant.deposit_held.amount,
            note=_("Left the check-in challenge “%(title)s” before it started")
            % {"title": challenge},
            by=by,
        )
    participant.delete()


# --- Check-ins -----------------------------------------------------------------------------


def _external_id(challenge_id: int, member_id: int, day: date) -> str:
    return f"checkin:{challenge_id}:{member_id}:{day.isoformat()}"


def _record(
    challenge: Challenge,
    items: list[tuple[ChallengeParticipant, date, datetime]],
    source: str,
    by=None,
) -> list[CheckIn]:
    """Write the check-ins not recorded yet, and their ``check_in`` events; the new ones."""
    from activities.importers.base import IncomingEvent
    from activities.ingest import ingest_events

    wanted = {(p.pk, day): (p, day, when) for p, day, when in items}
    if not wanted:
        return []
    existing = set(
        CheckIn.objects.filter(
            participant_id__in={pk for pk, _day in wanted}, day__in={d for _pk, d in wanted}
        ).values_list("participant_id", "day")
    )
    new = [
        CheckIn(participant=p, day=day, source=source, recorded_by=by, created_at=timezone.now())
        for key, (p, day, _when) in wanted.items()
        if key not in existing
    ]
    if not new:
        return []
    CheckIn.objects.bulk_create(new, ignore_conflicts=True)
    events, known = [], {}
    for check_in in new:
        participant = check_in.participant
        member_id = participant.membership.member_id
        key = f"member:{member_id}"
        known[key] = member_id
        events.append(
            IncomingEvent(
                external_id=_external_id(challenge.pk, member_id, check_in.day),
                kind=ActivityKind.CHECK_IN,
                occurred_at=wanted[(participant.pk, check_in.day)][2],
                member_key=key,
                member_name="",
                text="",
            )
        )
    ingest_events(
        community=challenge.community,
        source=EventSource.MANUAL,
        events=events,
        known_members=known,
    )
    return new


def _check_day(challenge: Challenge, day: date) -> None:
    if not challenge.start_date <= day <= last_day(challenge):
        raise ValidationError(_("That day is not one of the challenge's days."))


@transaction.atomic
def check_in(
    *,
    challenge: Challenge,
    day: date,
    participant: ChallengeParticipant | None = None,
    membership: Membership | None = None,
    source: str = CheckInSource.STAFF,
    at: datetime | None = None,
    by=None,
) -> CheckIn:
    """Record the check-in of ``participant`` (or of ``membership``'s participation) for
    local ``day``; once, however often it is called.

    From chat (``source`` chat, ``at`` the message's time) only until that day's deadline;
    staff may tick a day late (never a day still to come).
    """
    if participant is None:
        participant = ChallengeParticipant.objects.filter(
            challenge=challenge, membership=membership
        ).first()
        if participant is None:
            raise ValidationError(_("This member does not take part in this challenge."))
    if participant.challenge_id != challenge.pk:
        raise ValidationError(_("This member does not take part in this challenge."))
    if challenge.settled_at is not None:
        raise ValidationError(_("This challenge is settled; its check-ins are final."))
    _check_day(challenge, day)
    now = timezone.now()
    if source == CheckInSource.CHAT:
        at = at or now
        if at.astimezone(zone(challenge)).date() != day or at > deadline_of(challenge, day):
            raise ValidationError(_("A check-in from chat counts only until that day's deadline."))
    else:
        if day > today_of(challenge, now):
            raise ValidationError(_("That day has not come yet."))
        at = min(now, deadline_of(challenge, day))
    existing = CheckIn.objects.filter(participant=participant, day=day).first()
    if existing is not None:
        return existing
    _record(challenge, [(participant, day, at)], source, by)
    return CheckIn.objects.get(participant=participant, day=day)


@transaction.atomic
def check_in_remove(
    *, challenge: Challenge, participant: ChallengeParticipant, day: date, by=None
) -> bool:
    """Staff take back a check-in recorded by mistake (and its event); False if none."""
    if participant.challenge_id != challenge.pk:
        raise ValidationError(_("This member does not take part in this challenge."))
    if challenge.settled_at is not None:
        raise ValidationError(_("This challenge is settled; its check-ins are final."))
    _check_day(challenge, day)
    deleted, _rows = CheckIn.objects.filter(participant=participant, day=day).delete()
    if not deleted:
        return False
    from activities.ingest import manual_event_withdraw  # ingest imports this module

    manual_event_withdraw(
        community_id=challenge.community_id,
        external_id=_external_id(challenge.pk, participant.membership.member_id, day),
        day=day,
    )
    return True


# --- Check-ins from chat (called by activities.ingest) -------------------------------------


@dataclass
class _Open:
    challenge: Challenge
    keyword: str  # normalised
    first: date
    last: date
    tz: ZoneInfo


@dataclass
class ChatCheckIns:
    """One ingest's keyword matching: fed each batch's chat rows, applied once at the end."""

    community: Community
    challenges: list[_Open]
    # (challenge id, member id, local day) → the earliest matching message
    found: dict[tuple[int, int, date], datetime] = field(default_factory=dict)

    def feed(self, rows: list[tuple[int, str, datetime, str]]) -> None:
        """``rows``: (member id, kind, when (aware), text) — text as sent, before any drop."""
        found = self.found
        for member_id, kind, when, text in rows:
            if kind not in CHAT_KINDS or not text:
                continue
            folded = None
            for open_ in self.challenges:
                local = when.astimezone(open_.tz)
                day = local.date()
                if not open_.first <= day <= open_.last:
                    continue
                if local.time() > open_.challenge.deadline:
                    continue  # after the day's cut-off: counts for no day
                if folded is None:
                    folded = normalize_text(text)
                if open_.keyword not in folded:
                    continue
                key = (open_.challenge.pk, member_id, day)
                if key not in found or when < found[key]:
                    found[key] = when

    def apply(self) -> int:
        """Record the matches of participants (bulk, per challenge); how many were new."""
        if not self.found:
            return 0
        by_challenge = {o.challenge.pk: o.challenge for o in self.challenges}
        participants = {
            (p.challenge_id, p.membership.member_id): p
            for p in ChallengeParticipant.objects.filter(
                challenge_id__in={c for c, _m, _d in self.found},
                membership__member_id__in={m for _c, m, _d in self.found},
            ).select_related("membership")
        }
        items: dict[int, list] = {}
        for (challenge_id, member_id, day), when in sorted(self.found.items()):
            participant = participants.get((challenge_id, member_id))
            if participant is not None:
                items.setdefault(challenge_id, []).append((participant, day, when))
        created = 0
        for challenge_id, rows in items.items():
            created += len(_record(by_challenge[challenge_id], rows, CheckInSource.CHAT))
        return created


def chat_check_ins(community: Community) -> ChatCheckIns | None:
    """The matcher for one ingest into ``community``, or None when no challenge of it that is
    not settled has a keyword (one query; the usual case costs nothing more)."""
    challenges = list(
        Challenge.objects.filter(community=community, settled_at__isnull=True).exclude(keyword="")
    )
    if not challenges:
        return None
    tz = ZoneInfo(community.time_zone)
    opened = []
    for challenge in challenges:
        challenge.community = community
        opened.append(
            _Open(
                challenge=challenge,
                keyword=normalize_text(challenge.keyword),
                first=challenge.start_date,
                last=last_day(challenge),
                tz=tz,
            )
        )
    return ChatCheckIns(community=community, challenges=opened)


# --- Reads ---------------------------------------------------------------------------------


class Cell:
    CHECKED = "checked"
    MISSED = "missed"
    TODAY = "today"  # today, not checked in yet, before the deadline
    FUTURE = "future"


@dataclass
class Row:
    participant: ChallengeParticipant
    cells: list[tuple[date, str, str]]  # (day, state, source)
    check_ins: int
    missed: int
    current_streak: int
    longest_streak: int
    would_meet: bool  # the settlement's verdict if it ran now

    @property
    def member(self):
        return self.participant.membership.member


@dataclass
class Board:
    challenge: Challenge
    status: str
    days: list[date]
    today: date
    closed_days: int
    rows: list[Row]
    completion: float | None  # check-ins on closed days ÷ (participants × closed days)

    @property
    def leaderboard(self) -> list[Row]:
        return sorted(
            self.rows,
            key=lambda r: (-r.check_ins, -r.current_streak, -r.longest_streak, r.member.pk),
        )

    @property
    def would_refund(self) -> list[Row]:
        return [r for r in self.rows if r.would_meet]

    @property
    def would_forfeit(self) -> list[Row]:
        return [r for r in self.rows if not r.would_meet]


def _streaks(checked: list[bool], closed: int) -> tuple[int, int]:
    """(current, longest) runs of checked days. The current run ends at the last closed
    day, or at today when today is checked already (today still open breaks nothing)."""
    longest = run = 0
    for value in checked:
        run = run + 1 if value else 0
        longest = max(longest, run)
    end = closed if closed < len(checked) and checked[closed] else closed - 1
    current = 0
    while end >= 0 and checked[end]:
        current += 1
        end -= 1
    return current, longest


def board(challenge: Challenge, now: datetime | None = None) -> Board:
    """The daily grid, streaks, leaderboard, completion and settlement preview.

    Two queries whatever the number of participants and days: participants (with their
    members) and the challenge's check-ins.
    """
    now = now or timezone.now()
    days = challenge_days(challenge)
    today = today_of(challenge, now)
    closed = closed_days(challenge, now)
    participants = list(
        challenge.participants.select_related("membership__member", "deposit_held").order_by(
            "membership__member__display_name", "pk"
        )
    )
    sources: dict[int, dict[date, str]] = {}
    for participant_id, day, source in CheckIn.objects.filter(
        participant__challenge=challenge
    ).values_list("participant_id", "day", "source"):
        sources.setdefault(participant_id, {})[day] = source
    rows, on_closed = [], 0
    for participant in participants:
        mine = sources.get(participant.pk, {})
        cells, checked = [], []
        for index, day in enumerate(days):
            source = mine.get(day, "")
            if source:
                state = Cell.CHECKED
            elif index < closed:
                state = Cell.MISSED
            elif day == today:
                state = Cell.TODAY
            else:
                state = Cell.FUTURE
            cells.append((day, state, source))
            checked.append(bool(source))
        missed = sum(1 for _d, state, _s in cells if state == Cell.MISSED)
        on_closed += sum(checked[:closed])
        current, longest = _streaks(checked, closed)
        rows.append(
            Row(
                participant=participant,
                cells=cells,
                check_ins=len(mine),
                missed=missed,
                current_streak=current,
                longest_streak=longest,
                would_meet=missed <= challenge.max_missed_days,
            )
        )
    completion = on_closed / (len(rows) * closed) if rows and closed else None
    return Board(
        challenge=challenge,
        status=status(challenge, now),
        days=days,
        today=today,
        closed_days=closed,
        rows=rows,
        completion=completion,
    )


def community_challenges(community: Community):
    return (
        Challenge.objects.filter(community=community)
        .select_related("entry", "community")
        .annotate(participant_count=Count("participants"))
        .order_by("-start_date", "-pk")
    )


# --- Settlement ----------------------------------------------------------------------------


@dataclass
class Settlement:
    settled: bool  # False: it had been settled before (nothing changed)
    met: int = 0
    missed: int = 0
    refunded: Decimal = Decimal(0)
    forfeited: Decimal = Decimal(0)
    points: int = 0


def challenge_settle(*, challenge: Challenge, now: datetime | None = None) -> Settlement:
    """Settle a challenge whose last deadline has passed; a second run changes nothing.

    The challenge row is locked (``select_for_update``), so two settlements at once settle
    it once; each participant is guarded too (outcome, deposit and points each written once).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Challenge.objects.select_for_update(of=("self",))
            .select_related("community", "reward_rule", "entry")
            .get(pk=challenge.pk)
        )
        if locked.settled_at is not None:
            challenge.settled_at = locked.settled_at
            return Settlement(settled=False)
        if now <= ends_at(locked):
            raise ValidationError(_("The challenge can be settled after its last deadline."))
        counts = dict(
            CheckIn.objects.filter(participant__challenge=locked)
            .values("participant_id")
            .annotate(n=Count("pk"))
            .values_list("participant_id", "n")
        )
        result = Settlement(settled=True)
        rule = locked.reward_rule
        if rule is not None and rule.kind != RuleKind.ENCOURAGED:
            rule = None
        title = str(locked)
        for participant in locked.participants.select_related(
            "membership", "deposit_held", "deposit_settled"
        ).order_by("pk"):
            if participant.outcome != Outcome.PENDING:
                continue
            missed = locked.days - counts.get(participant.pk, 0)
            met = missed <= locked.max_missed_days
            participant.outcome = Outcome.MET if met else Outcome.MISSED
            held = participant.deposit_held
            if held is not None and participant.deposit_settled is None:
                participant.deposit_settled = deposit_record(
                    membership=participant.membership,
                    kind=DepositKind.REFUNDED if met else DepositKind.FORFEITED,
                    amount=held.amount,
                    note=(
                        _("Made the check-in challenge “%(title)s”")
                        if met
                        else _("Did not make the check-in challenge “%(title)s”")
                    )
                    % {"title": title},
                )
                if met:
                    result.refunded += held.amount
                else:
                    result.forfeited += held.amount
            if met and rule is not None and rule.points and participant.points_entry is None:
                participant.points_entry = points_for_rule(
                    membership=participant.membership, rule=rule
                )
                result.points += rule.points
            if met:
                result.met += 1
            else:
                result.missed += 1
            participant.save(update_fields=["outcome", "deposit_settled", "points_entry"])
        locked.settled_at = now
        locked.save(update_fields=["settled_at"])
        challenge.settled_at = now
    return result


def challenges_settle_due(now: datetime | None = None) -> int:
    """Settle every challenge whose end has passed (the beat task); how many were settled."""
    now = now or timezone.now()
    # The last day is at most a day apart from UTC's date in any zone; the rest in Python.
    horizon = now.date() + timedelta(days=1)
    settled = 0
    for challenge in Challenge.objects.filter(
        settled_at__isnull=True, start_date__lte=horizon
    ).select_related("community"):
        if now > ends_at(challenge):
            settled += challenge_settle(challenge=challenge, now=now).settled
    return settled
