"""The calendar's tables (registered with the ``activities`` app, whose migrations hold them).

How a series is stored, and why:

- A ``CalendarEntry`` keeps its start as a *local* date and clock time plus an IANA time
  zone, and its recurrence as an RFC 5545 RRULE. Occurrences are expanded in that zone, so
  "every Tuesday 21:00 Europe/Berlin" stays 21:00 on both sides of a DST change.
- ``Occurrence`` rows exist only where an occurrence has something of its own: an
  exception (moved or cancelled, keyed by its original start, the iCalendar RECURRENCE-ID),
  or participation (RSVPs, attendance). A one-off entry always has exactly one row. The
  pages expand the rule for the range shown and lay these rows over it.
- "This and following" splits a series: the old entry ends before that occurrence (its
  RRULE gets an UNTIL) and a new entry, linked by ``split_from``, carries on.
- ``Participation`` is one invited member of one occurrence: their answer, their place on
  the waitlist, their attendance and what it earned. Until attendance is closed the invited
  list is computed from the entry's invitation scope; closing freezes it into rows, which
  is what action power reads.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communities.models import Community, Organization, Rule
from members.models import DepositEntry, Member, Membership, PointsEntry, Squad, Tier, Violation


class EntryKind(models.TextChoices):
    TOPIC = "topic", _("Topic discussion")
    GUEST = "guest", _("Guest sharing")
    MEETUP = "meetup", _("Offline meetup")
    COLUMN = "column", _("Column post")
    CLINIC = "clinic", _("Q&A clinic")
    CHALLENGE = "challenge", _("Check-in challenge")
    CAMP = "camp", _("Training camp")
    CAMPAIGN = "campaign", _("Campaign or vote")
    OTHER = "other", _("Other")


class InviteScope(models.TextChoices):
    MEMBERS = "members", _("All members of its communities")
    TIER = "tier", _("A tier and above")
    SQUAD = "squad", _("One squad")
    PICKED = "picked", _("Hand-picked members")


def _new_uid() -> str:
    return f"{uuid.uuid4()}@communityops"


class CalendarEntry(models.Model):
    """One activity (活动): a one-off or a series, for one or more communities."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="calendar_entries",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EntryKind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # A guest talk relayed to many groups is one entry.
    communities = models.ManyToManyField(
        Community, related_name="calendar_entries", verbose_name=_("communities")
    )
    host_members = models.ManyToManyField(
        Member, blank=True, related_name="hosted_entries", verbose_name=_("hosts (members)")
    )
    host_staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="hosted_entries",
        verbose_name=_("hosts (staff)"),
    )
    place = models.CharField(_("place"), max_length=200, blank=True)
    link = models.URLField(_("link"), max_length=500, blank=True)

    # Local wall-clock start in ``time_zone``; never converted to UTC for storage.
    time_zone = models.CharField(_("time zone"), max_length=64)
    start_date = models.DateField(_("start date"))
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), validators=[MinValueValidator(1), MaxValueValidator(60 * 24 * 60)]
    )
    # RFC 5545 RRULE without DTSTART ("FREQ=WEEKLY;BYDAY=TU"); blank for a one-off.
    rrule = models.CharField(_("repeats"), max_length=500, blank=True)

    invite_scope = models.CharField(
        _("invited"), max_length=10, choices=InviteScope.choices, default=InviteScope.MEMBERS
    )
    invite_tier = models.ForeignKey(
        Tier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tier and above"),
    )
    invite_squad = models.ForeignKey(
        Squad,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("squad"),
    )
    invite_picked = models.ManyToManyField(
        Membership, blank=True, related_name="+", verbose_name=_("hand-picked members")
    )
    capacity = models.PositiveIntegerField(
        _("capacity"),
        null=True,
        blank=True,
        help_text=_("Places per occurrence; beyond it, people join the waitlist. Empty: no limit."),
    )

    # iCalendar identity: stable across fetches; SEQUENCE goes up with every edit.
    uid = models.CharField(max_length=120, unique=True, default=_new_uid, editable=False)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    split_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="continuations",
        editable=False,
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["start_date", "start_time", "id"]
        verbose_name = _("calendar entry")
        verbose_name_plural = _("calendar entries")
        indexes = [models.Index(fields=["organization", "start_date"], name="calendar_entry_org")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_recurring(self) -> bool:
        return bool(self.rrule)


class Occurrence(models.Model):
    """One occurrence that has something of its own: an exception or participation."""

    entry = models.ForeignKey(CalendarEntry, on_delete=models.CASCADE, related_name="occurrences")
    # Where the rule put it (iCalendar RECURRENCE-ID); for a one-off, its start.
    original_start = models.DateTimeField(_("original start"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    cancelled = models.BooleanField(_("cancelled"), default=False)
    # An occurrence's own words (moved occurrences often say why); blank: the entry's.
    note = models.CharField(_("note"), max_length=300, blank=True)
    sequence = models.PositiveIntegerField(default=0, editable=False)
    # Set when attendance is closed: invitations frozen, no-shows marked (action power).
    attendance_closed_at = models.DateTimeField(_("attendance closed"), null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("occurrence")
        verbose_name_plural = _("occurrences")
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "original_start"], name="occurrence_unique_start"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="occurrence_ends_after"
            ),
        ]
        indexes = [models.Index(fields=["starts_at"], name="occurrence_start")]

    def __str__(self) -> str:
        return f"{self.entry} @ {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def moved(self) -> bool:
        return self.starts_at != self.original_start


# The Occurrence rows that change what the rule gives (read by the pages and the feeds):
# one-offs' own rows, cancelled or moved occurrences, and edited ones (an edit raises the
# row's sequence). Rows made only for answers and attendance are not among them.
EXCEPTION_ROWS = (
    models.Q(entry__rrule="")
    | models.Q(cancelled=True)
    | ~models.Q(starts_at=models.F("original_start"))
    | models.Q(sequence__gt=0)
)


class Response(models.TextChoices):
    NONE = "", _("No answer")
    GOING = "going", _("Going")
    MAYBE = "maybe", _("Maybe")
    DECLINED = "declined", _("Declined")
    WAITLIST = "waitlist", _("On the waitlist")


class Participation(models.Model):
    """One member invited to one occurrence: answer, waitlist, attendance, what it earned."""

    occurrence = models.ForeignKey(
        Occurrence, on_delete=models.CASCADE, related_name="participations"
    )
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="participations"
    )
    response = models.CharField(
        _("answer"), max_length=10, choices=Response.choices, blank=True, default=Response.NONE
    )
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # Moved up from the waitlist when someone declined (recorded, shown on the page).
    promoted_at = models.DateTimeField(_("moved up from the waitlist"), null=True, blank=True)
    attended = models.BooleanField(_("attended"), default=False)
    attended_at = models.DateTimeField(null=True, blank=True)
    attendance_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Points are credited once per member and occurrence, whatever is ticked and unticked.
    points_entry = models.OneToOneField(
        PointsEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    no_show = models.BooleanField(_("no-show"), default=False)
    no_show_violation = models.OneToOneField(
        Violation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["occurrence", "responded_at", "id"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence", "membership"], name="participation_unique"
            )
        ]
        indexes = [models.Index(fields=["membership", "no_show"], name="participation_noshow")]

    def __str__(self) -> str:
        return f"{self.membership_id} @ {self.occurrence_id}"


class CalendarRules(models.Model):
    """What a community's rules say about its calendar: points for attending, no-shows."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="calendar_rules"
    )
    attendance_rule = models.ForeignKey(
        Rule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attending earns the points of"),
    )
    no_show_limit = models.PositiveSmallIntegerField(
        _("no-shows in 30 days"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("This many no-shows within 30 days count as a violation. Empty: never."),
    )
    no_show_rule = models.ForeignKey(
        Rule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("as a violation of"),
    )

    class Meta:
        verbose_name = _("calendar rules")
        verbose_name_plural = _("calendar rules")

    def __str__(self) -> str:
        return str(self.community)


class Challenge(models.Model):
    """A check-in challenge (打卡): N local days, a daily deadline, a rule, a deposit.

    Its calendar entry (kind "check-in challenge", one community, daily for N days at the
    deadline) puts it on the calendar and in the feeds.
    """

    entry = models.OneToOneField(CalendarEntry, on_delete=models.CASCADE, related_name="challenge")
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="challenges", verbose_name=_("community")
    )
    start_date = models.DateField(_("first day"))
    days = models.PositiveSmallIntegerField(
        _("days"), validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    deadline = models.TimeField(_("daily deadline"))
    max_missed_days = models.PositiveSmallIntegerField(_("missed days allowed"), default=0)
    deposit = models.DecimalField(
        _("commitment deposit"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    # A message during the challenge containing this counts as that day's check-in.
    keyword = models.CharField(_("check-in keyword"), max_length=60, blank=True)
    reward_rule = models.ForeignKey(
        Rule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("those who make it earn the points of"),
    )
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        ordering = ["-start_date", "id"]
        verbose_name = _("check-in challenge")
        verbose_name_plural = _("check-in challenges")
        indexes = [models.Index(fields=["community", "start_date"], name="challenge_comm_start")]

    def __str__(self) -> str:
        return self.entry.title


class Outcome(models.TextChoices):
    PENDING = "", _("Running")
    MET = "met", _("Made it")
    MISSED = "missed", _("Did not make it")


class ChallengeParticipant(models.Model):
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="participants")
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="challenge_participations"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    deposit_held = models.OneToOneField(
        DepositEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, blank=True, default=Outcome.PENDING
    )
    deposit_settled = models.OneToOneField(
        DepositEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    points_entry = models.OneToOneField(
        PointsEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["challenge", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "membership"], name="challenge_participant_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} in {self.challenge_id}"


class CheckInSource(models.TextChoices):
    STAFF = "staff", _("Ticked by staff")
    CHAT = "chat", _("From a chat message")


class CheckIn(models.Model):
    """One participant's check-in for one local day of a challenge."""

    participant = models.ForeignKey(
        ChallengeParticipant, on_delete=models.CASCADE, related_name="check_ins"
    )
    day = models.DateField(_("day"))
    source = models.CharField(_("source"), max_length=10, choices=CheckInSource.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["participant", "day"]
        constraints = [
            models.UniqueConstraint(fields=["participant", "day"], name="check_in_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.day}"


class CalendarFeed(models.Model):
    """A private, revocable iCalendar URL: one community's calendar, or a staff user's own.

    Only a digest of the URL's key is stored; the URL is shown once, when it is made.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, null=True, blank=True, related_name="calendar_feeds"
    )
    # "My events": entries the user hosts, in the communities they work on.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
    )
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(community__isnull=True, user__isnull=False)
                | models.Q(community__isnull=False, user__isnull=True),
                name="calendar_feed_one_owner",
            )
        ]

    def __str__(self) -> str:
        return self.prefix
