"""What `manage.py seed_demo` shows a newcomer, checked on one seeding.

Seeding takes seconds, so the demo is made once for this module (twice in a row, to prove
that a second run adds nothing) and each test reads it inside its own transaction; the
database is emptied again afterwards, as the other tests expect it.
"""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse

from activities.models import ActivityEvent
from analytics.models import CommunityDay, TierDay
from automations.management.commands.seed_demo import DEMO_COMMUNITIES, DEMO_STAFF
from checklists.demo import MODERATORS as CHECKLIST_MODERATORS
from communities.models import (
    Community,
    Invitation,
    Organization,
    Role,
    Staff,
    StaffAction,
    StaffLogEntry,
)
from members import privacy
from members.models import Member
from tests.analytics.test_tier_history import pyramid_by_day

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())
        call_command("seed_demo", stdout=io.StringIO())  # idempotent: adds nothing
        yield
        call_command("flush", interactive=False, verbosity=0)


def test_seed_demo_is_idempotent_and_has_one_user_per_role(demo):
    organization = Organization.objects.get(slug="demo")
    assert organization.communities.count() == len(DEMO_COMMUNITIES)
    roles = set(Staff.objects.filter(organization=organization).values_list("role", flat=True))
    assert roles == set(Role.values)
    # The checklists demo adds two moderators (one of them overloaded).
    assert Staff.objects.filter(deactivated_at__isnull=True).count() == len(DEMO_STAFF) + len(
        CHECKLIST_MODERATORS
    )
    moderator = Staff.objects.get(user__username="moderator", deactivated_at__isnull=True)
    assert moderator.communities.count() == 2
    # The team's history: a former moderator, a pending invitation, their log entries.
    former = Staff.objects.get(deactivated_at__isnull=False)
    assert former.role == Role.MODERATOR
    assert Invitation.objects.filter(organization=organization, accepted_at=None).count() == 1
    actions = set(StaffLogEntry.objects.values_list("action", flat=True))
    assert {StaffAction.INVITED, StaffAction.COMMUNITIES_ASSIGNED, StaffAction.DEACTIVATED} <= (
        actions
    )
    platforms = set(organization.communities.values_list("platform", flat=True))
    assert len(platforms) >= 8
    assert organization.communities.filter(archived=True).exists()


def test_every_demo_community_has_its_ladder(demo):
    communities = Community.objects.filter(organization=Organization.objects.get(slug="demo"))
    assert communities.exists()
    for community in communities:
        assert community.tiers.count() == 4, community.slug


def test_the_demo_pyramid_has_months_of_history(demo, client):
    organization = Organization.objects.get(slug="demo")
    community = Community.objects.get(organization=organization, slug="reading-50")
    table = pyramid_by_day(community)
    today = community.local_today()
    quarter = [day for day in table if day > today - timedelta(days=91)]
    assert len(quarter) == 91  # every day of the chart's default range has a snapshot
    totals = [sum(table[day]) for day in sorted(quarter)]
    assert totals[0] < totals[-1]  # people kept joining
    tops = [table[day][-1] for day in sorted(table)]
    assert tops[0] == 0 < tops[-1]  # and climbing: the top tier filled up later
    # One definition of members: each day's pyramid adds up to that day's members.
    members = dict(
        CommunityDay.objects.filter(community=community, day__in=list(table)).values_list(
            "day", "members"
        )
    )
    sums = dict(
        TierDay.objects.filter(community=community)
        .values_list("day")
        .annotate(total=Sum("members"))
        .order_by()
    )
    assert members and all(sums[day] == count for day, count in members.items())
    # The page draws areas over time, not a single day's bars.
    client.force_login(get_user_model().objects.get(username="manager"))
    response = client.get(reverse("analytics:community", args=[community.slug]))
    chart = response.context["pyramid_chart"]
    assert len(chart["data"][0]["x"]) > 60
    assert all(trace["type"] == "scatter" for trace in chart["data"])
    assert len({tuple(trace["y"]) for trace in chart["data"]}) == len(chart["data"])


def test_seed_demo_shows_one_erased_member(demo):
    erased = Member.objects.get(erased_at__isnull=False)
    assert erased.display_name == privacy.erased_name(erased)
    assert not erased.handles.exists()
    assert ActivityEvent.objects.filter(member=erased).exists()
    assert not ActivityEvent.objects.filter(member=erased).exclude(text="").exists()
    assert StaffLogEntry.objects.filter(action=StaffAction.MEMBER_ERASED).count() == 1


def test_no_demo_activity_is_dated_after_the_seeding(demo):
    # Evening messages were written for today too, hours ahead of the clock.
    from django.utils import timezone

    assert ActivityEvent.objects.exists()
    assert not ActivityEvent.objects.filter(occurred_at__gt=timezone.now()).exists()


# --- The calendar's rhythm (issue 10) --------------------------------------------------------


def test_the_demo_calendar_has_a_rhythm(demo):
    from activities.calendar.models import CalendarEntry, EntryKind

    organization = Organization.objects.get(slug="demo")
    entries = CalendarEntry.objects.filter(organization=organization)
    kinds = set(entries.values_list("kind", flat=True))
    assert {EntryKind.COLUMN, EntryKind.TOPIC, EntryKind.GUEST, EntryKind.MEETUP} <= kinds
    assert entries.filter(kind=EntryKind.COLUMN, rrule="FREQ=DAILY").exists()
    assert entries.filter(kind=EntryKind.TOPIC, rrule__startswith="FREQ=WEEKLY").exists()
    relayed = entries.get(kind=EntryKind.GUEST)
    assert relayed.rrule == "FREQ=MONTHLY;BYDAY=2SA"
    assert relayed.communities.count() == 3
    # A moved and a cancelled occurrence are kept as exceptions of a series.
    design = entries.get(communities__slug="design-guild", rrule__gt="")
    rows = list(design.occurrences.all())
    assert any(o.cancelled for o in rows)
    assert any(o.starts_at != o.original_start for o in rows)


def test_the_demo_meetup_has_a_waitlist_and_two_no_shows(demo):
    from activities.calendar.models import CalendarEntry, Participation, Response

    meetup = CalendarEntry.objects.get(title__startswith="Half-marathon prep")
    rows = Participation.objects.filter(occurrence__entry=meetup)
    assert rows.filter(response=Response.GOING).count() == meetup.capacity
    assert rows.filter(response=Response.WAITLIST).exists()
    assert rows.filter(promoted_at__isnull=False).count() == 1
    assert rows.filter(no_show=True).count() == 2
    # The community's rule: two no-shows in 30 days are a violation; one runner got there.
    assert Participation.objects.filter(no_show_violation__isnull=False).count() == 1
    upcoming = CalendarEntry.objects.get(title__startswith="Sunday trail run")
    waiting = Participation.objects.filter(occurrence__entry=upcoming, response=Response.WAITLIST)
    assert waiting.count() == 3


def test_the_demo_challenges_one_settled_one_filled_from_chat(demo):
    from activities.calendar.models import Challenge, CheckIn, CheckInSource, Outcome
    from members.models import DepositEntry, DepositKind

    finished = Challenge.objects.get(settled_at__isnull=False)
    outcomes = list(finished.participants.values_list("outcome", flat=True))
    assert Outcome.MET in outcomes and Outcome.MISSED in outcomes
    settled = DepositEntry.objects.filter(
        pk__in=finished.participants.values("deposit_settled")
    ).values_list("kind", flat=True)
    assert sorted(settled) == sorted(
        DepositKind.FORFEITED if o == Outcome.MISSED else DepositKind.REFUNDED for o in outcomes
    )
    running = Challenge.objects.get(settled_at__isnull=True)
    from_chat = CheckIn.objects.filter(participant__challenge=running, source=CheckInSource.CHAT)
    assert from_chat.count() > running.participants.count()
    # Nobody ticked them: every check-in of the running challenge came from the chat log.
    assert not CheckIn.objects.filter(participant__challenge=running, source=CheckInSource.STAFF)
    assert (
        ActivityEvent.objects.filter(
            community=running.community, text__contains=running.keyword
        ).count()
        > running.participants.count()
    )


def test_demo_action_power_differs_between_communities(demo):
    from analytics import metrics

    communities = list(Organization.objects.get(slug="demo").communities.all())
    power = metrics.action_power(communities=communities)
    indices = {round(p.action_index, 2) for p in power.values() if p.action_index is not None}
    assert len(indices) >= 6
    assert max(indices) - min(indices) > 0.4
