"""Rollups: what every dashboard, chart, API and export reads (never ActivityEvent).

docs/architecture.md §2 step 2: raw events → ``MemberDay`` → ``CommunityDay``; plus the weekly
tables the lifecycle and retention charts need, each small (a row per community and
day or week), so a page reads a few hundred rows whatever the size of the event log.
All are rebuilt by ``analytics.rollups`` with upserts: any refresh can run twice or
concurrently and leave the same rows.
"""

from django.db import models
from django.utils import timezone

from communities.models import Community
from members.models import Member


class MemberDay(models.Model):
    """One member's activity in one community on one local day (days with activity only)."""

    id = models.BigAutoField(primary_key=True)
    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)  # activity events of every kind
    messages = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    reactions = models.PositiveIntegerField(default=0)
    check_ins = models.PositiveIntegerField(default=0)
    posts = models.PositiveIntegerField(default=0)
    attends = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "day", "member"], name="member_day_unique")
        ]
        indexes = [models.Index(fields=["community", "member", "day"], name="member_day_member")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.day}"


class CommunityDay(models.Model):
    """A community's figures for one local day (every day from its first activity)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    events = models.PositiveIntegerField(default=0)
    dau = models.PositiveIntegerField(default=0)  # active members that day
    wau = models.PositiveIntegerField(default=0)  # distinct active in the 7 days to it
    mau = models.PositiveIntegerField(default=0)  # distinct active in the 30 days to it
    # Members active on at least MAINSTREAM_MIN_DAYS of the 30 days to it.
    mainstream = models.PositiveIntegerField(default=0)
    joins = models.PositiveIntegerField(default=0)
    leaves = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)  # at the end of the day

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "day"], name="community_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.day}"


class CommunityWeek(models.Model):
    """Member lifecycle of one ISO week (Monday ``week``) in the community's zone."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    active = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    returning = models.PositiveIntegerField(default=0)
    resurrecting = models.PositiveIntegerField(default=0)
    dormant = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "week"], name="community_week_unique")
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.week}"


class CohortWeek(models.Model):
    """Weekly cohort retention: of the members who joined in ``cohort`` week, how many
    were active in the week ``offset`` weeks later (0 = the join week)."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    cohort = models.DateField()  # Monday of the join week
    offset = models.PositiveSmallIntegerField()
    size = models.PositiveIntegerField(default=0)
    retained = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community", "cohort", "offset"], name="cohort_week_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.cohort}+{self.offset}"


class TierDay(models.Model):
    """How many present members stood on each tier (by rank) at the end of a day."""

    community = models.ForeignKey(Community, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    rank = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=60)
    members = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community", "day", "rank"], name="tier_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.community_id} {self.day} {self.rank}"


class CommunityPulse(models.Model):
    """Per community, the few facts that are not day series: the last activity (silence
    alert) and first-month activation."""

    community = models.OneToOneField(
        Community, on_delete=models.CASCADE, related_name="pulse", primary_key=True
    )
    first_activity_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)
    # Members active on ≥ 4 days within the community's first 30 days.
    activated_members = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return str(self.community_id)
