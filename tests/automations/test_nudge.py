"""The built-in silence nudge: a community quiet for more than 24 hours is announced to its
moderators and the operators and gets its topic prompt posted, once per silence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.models import ActivityEvent, EventSource
from automations.models import (
    ActionKind,
    ActionStatus,
    CommunityAutomation,
    Outlet,
    ScheduledAction,
)
from automations.services import dispatch
from automations.services.nudge import nudge_silent
from automations.tasks import nudge_silent_task
from communities.models import Notification, Role
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(org_a, community_a):
    staff = StaffFactory(organization=org_a, role=Role.MODERATOR)
    staff.communities.add(community_a)
    return staff


@pytest.fixture
def membership(community_a):
    return MembershipFactory(community=community_a)


def speak(membership, at, n=[0]):  # noqa: B006 - a counter for unique ids
    n[0] += 1
    return ActivityEvent.objects.create(
        community=membership.community,
        member=membership.member,
        kind="message",
        occurred_at=at,
        source=EventSource.WEBHOOK,
        external_id=f"e{n[0]}",
    )


def test_a_quiet_day_is_announced_once_and_the_prompt_posted_once(
    community_a, membership, moderator, operator_a
):
    CommunityAutomation.objects.create(
        community=community_a, silence_prompt="今天聊聊：{next_topic}？"
    )
    outlet = Outlet.objects.create(
        community=community_a, name="群机器人", platform="wecom", url="https://example.com/x?key=y"
    )
    now = timezone.now()
    speak(membership, now - timedelta(hours=25))
    assert nudge_silent(now=now) == 1
    for staff in (moderator, operator_a):
        (notice,) = Notification.objects.filter(staff=staff)
        assert notice.text == "读书会 has been quiet for 25 hours — post a topic to wake it up."
        assert notice.url == f"/communities/{community_a.slug}/"
    action = ScheduledAction.objects.get(kind=ActionKind.NUDGE)
    assert action.text == "今天聊聊：{next_topic}？"  # the dispatcher fills it
    assert action.due_at == now and list(action.communities.all()) == [community_a]
    # Half an hour later: the same silence, nothing new.
    assert nudge_silent(now=now + timedelta(minutes=30)) == 0
    assert Notification.objects.count() == 2 and ScheduledAction.objects.count() == 1
    # Someone speaks, then the group falls quiet again: a new silence.
    speak(membership, now + timedelta(hours=1))
    assert nudge_silent(now=now + timedelta(hours=2)) == 0  # not yet 24 hours
    later = now + timedelta(hours=26)
    assert nudge_silent(now=later) == 1
    assert Notification.objects.filter(staff=moderator).count() == 2
    assert ScheduledAction.objects.filter(kind=ActionKind.NUDGE).count() == 2
    # The prompt goes out through the dispatcher.
    dispatch.dispatch_due(now=later)
    assert set(ScheduledAction.objects.values_list("status", flat=True)) == {
        ActionStatus.DISPATCHED,
        ActionStatus.MISSED,  # the first one, 26 hours late
    }
    # Without an enabled outlet the next silence gets the notice only.
    outlet.disabled_at = later
    outlet.save()
    speak(membership, later + timedelta(hours=1))
    assert nudge_silent(now=later + timedelta(hours=26)) == 1
    assert ScheduledAction.objects.filter(kind=ActionKind.NUDGE).count() == 2


def test_without_a_prompt_only_the_notice(community_a, membership, moderator):
    speak(membership, timezone.now() - timedelta(hours=30))
    assert nudge_silent_task() == 1
    assert nudge_silent_task() == 0
    assert Notification.objects.filter(staff=moderator).count() == 1
    assert not ScheduledAction.objects.exists()


def test_only_live_communities_are_nudged(org_a, community_a, membership, moderator):
    now = timezone.now()
    speak(membership, now - timedelta(hours=2))  # reading: not quiet yet
    archived = CommunityFactory(organization=org_a, slug="old", archived=True)
    speak(MembershipFactory(community=archived), now - timedelta(days=3))
    empty = CommunityFactory(organization=org_a, slug="empty")  # no members
    assert empty.pk
    never = CommunityFactory(organization=org_a, slug="never")
    MembershipFactory(community=never)  # members, but nothing ever happened
    joined_only = CommunityFactory(organization=org_a, slug="joins")
    quiet = MembershipFactory(community=joined_only)
    ActivityEvent.objects.create(
        community=joined_only,
        member=quiet.member,
        kind="join",
        occurred_at=now - timedelta(days=2),
        source=EventSource.WEBHOOK,
        external_id="j1",
    )
    assert nudge_silent(now=now) == 0
    assert not Notification.objects.exists()


def test_a_name_with_markup_stays_text(org_a, moderator, client_for):
    community = CommunityFactory(organization=org_a, name="<script>alert(1)</script>", slug="x")
    moderator.communities.add(community)
    speak(MembershipFactory(community=community), timezone.now() - timedelta(hours=48))
    assert nudge_silent() == 1
    html = client_for(moderator).get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
