"""The demo's automation rules (automations/demo/rules.py) on a minimal organisation."""

from datetime import timedelta

import pytest
from django.utils import timezone

from automations.demo import rules as demo
from automations.models import AutomationRule, Delivery, DeliveryState, RuleFiring
from automations.rules.dry_run import dry_run
from automations.rules.spec import RuleSpec
from members.models import Membership
from tests.automations.rules_helpers import log_event
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_the_demo_rules_fired_last_week_and_the_reengagement_has_a_dry_run(
    org_a, community_a, owner_a
):
    from automations.models import Outlet

    Outlet.objects.create(
        community=community_a,
        name="机器人",
        platform="wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo",
    )
    newcomer = MembershipFactory(community=community_a, member__display_name="小红")
    quiet = MembershipFactory(community=community_a, member__display_name="老王")
    Membership.objects.filter(pk=quiet.pk).update(
        last_active_at=timezone.now() - timedelta(days=20)
    )
    log_event(community_a, newcomer.member, kind="join", at=timezone.now() - timedelta(days=2))
    counts = demo.seed(org_a, owner_a.user)
    assert counts == {"rules": 3, "firings": 4}
    welcome = AutomationRule.objects.get(name=demo.WELCOME)
    assert welcome.enabled and welcome.fire_count == 1 and welcome.last_fired_at
    firing = RuleFiring.objects.get(rule=welcome)
    assert firing.member == newcomer.member
    assert Delivery.objects.get(action__rule=welcome).state == DeliveryState.SENT
    assert "小红" in Delivery.objects.get(action__rule=welcome).action.text
    assert AutomationRule.objects.get(name=demo.KEYWORD).fire_count == 3
    reengage = AutomationRule.objects.get(name=demo.REENGAGE)
    assert not reengage.enabled
    names = [row.candidate.member.display_name for row in dry_run(RuleSpec.of(reengage)).rows]
    assert names == ["老王"]
    assert demo.seed(org_a, owner_a.user) == {"rules": 0, "firings": 0}  # idempotent
