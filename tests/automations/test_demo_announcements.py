"""The demo's automation settings, announcements and spam catch, on a minimal organisation:
what it makes, and that a second run makes nothing."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone

from activities.calendar import services as calendar
from automations.demo.announcements import seed
from automations.models import ActionKind, CommunityAutomation, Outlet, ScheduledAction, SpamHit
from communities.models import Notification, Penalty, Role, Rule, RuleKind
from members.models import Violation
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_org(org_a):
    reading = CommunityFactory(organization=org_a, name="50本书读书会", slug="reading-50")
    Rule.objects.create(
        community=reading,
        kind=RuleKind.FORBIDDEN,
        title="发广告或拉人进其他群",
        penalty=Penalty.DEDUCTION,
        points=30,
        strikes_to_removal=2,
    )
    CommunityFactory(organization=org_a, name="早起营", slug="early-risers-camp")
    CommunityFactory(organization=org_a, name="Runners", slug="shanghai-runners")
    MembershipFactory(community=reading)
    # The outlets' demo (automations.demo.history) runs first: announcements need one.
    Outlet.objects.create(
        community=reading,
        name="群机器人",
        platform="wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo",
    )
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    moderator.communities.add(reading)
    calendar.entry_create(
        organization=org_a,
        communities=[reading],
        data={
            "kind": "topic",
            "title": "共读《活着》",
            "time_zone": "Asia/Shanghai",
            "start_date": timezone.localdate() + timedelta(days=2),
            "start_time": time(21, 0),
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY",
        },
    )
    return org_a, moderator


def test_the_demo_seeds_settings_announcements_and_one_spam_catch(demo_org, owner_a):
    org, moderator = demo_org
    made = seed(org, owner_a.user)
    assert made == {"settings": 3, "announcements": 4, "spam_hits": 1}
    guard = CommunityAutomation.objects.get(community__slug="reading-50")
    assert guard.spam_enabled and guard.spam_rule.title.startswith("发广告")
    assert CommunityAutomation.objects.get(community__slug="early-risers-camp").silence_prompt
    runners = CommunityAutomation.objects.get(community__slug="shanghai-runners")
    assert (runners.announce_day_before_at, runners.announce_minutes_before) == (time(19), 60)
    assert ScheduledAction.objects.filter(kind=ActionKind.ANNOUNCEMENT).count() == 4
    hit = SpamHit.objects.get()
    assert set(hit.reasons) == {"link", "word"}
    assert hit.occurred_at < timezone.now() - timedelta(days=2)
    violation = Violation.objects.get()
    assert hit.violation == violation and violation.action == Penalty.DEDUCTION
    assert Notification.objects.filter(staff=moderator).count() == 1
    # Again: nothing new.
    assert seed(org, owner_a.user) == {"settings": 3, "announcements": 0, "spam_hits": 0}
    assert SpamHit.objects.count() == Violation.objects.count() == 1
