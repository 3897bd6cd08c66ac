"""Automation rules' engine (automations/rules/): each trigger's candidates, the
conditions, each action, once-only firing, the keyword cooldown, regex refusal and the
dry-run that writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activities.hooks import LiveEvent
from automations.models import (
    ActionKind,
    AutomationRule,
    RuleFiring,
    RuleTrigger,
    ScheduledAction,
)
from automations.rules import matching, triggers
from automations.rules.dry_run import dry_run
from automations.rules.engine import fire_all, on_live_events, run_rules
from automations.rules.spec import RuleSpec
from checklists.models import ChecklistRun, RunItem
from communities.models import Notification, Rule, RuleKind
from members.models import Membership, PointsEntry, Tag
from members.services import memberships_set_tier, tag_get_or_create, violation_record
from tests.automations.rules_helpers import log_event, rule_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
SEND = [{"type": "send", "text": "欢迎 {member} 来到 {community}"}]


@pytest.fixture
def alice(community_a):
    return MembershipFactory(community=community_a, member__display_name="爱丽丝")


def live(event, text="") -> LiveEvent:
    return LiveEvent(event.pk, event.member_id, event.kind, event.occurred_at, text or event.text)


def test_a_join_fires_a_welcome_once_with_the_member_named(org_a, community_a, alice):
    rule = rule_for(org_a, trigger=RuleTrigger.MEMBER_JOINED, actions=SEND)
    join = log_event(community_a, alice.member, kind="join", at=NOW)
    assert on_live_events(community_a, [live(join)]) == 1
    assert on_live_events(community_a, [live(join)]) == 0  # handed on again: still once
    action = ScheduledAction.objects.get()
    assert action.kind == ActionKind.WELCOME
    assert action.text == "欢迎 爱丽丝 来到 读书会"
    assert action.rule == rule and action.source_key == f"rule:{rule.pk}:event:{join.pk}:0"
    assert list(action.communities.all()) == [community_a]
    rule.refresh_from_db()
    assert rule.fire_count == 1 and rule.last_fired_at is not None


def test_a_switched_off_rule_or_another_community_does_not_fire(org_a, community_a, alice):
    from tests.factories import CommunityFactory

    other = CommunityFactory(organization=org_a, slug="other")
    rule_for(org_a, trigger=RuleTrigger.MEMBER_JOINED, actions=SEND, enabled=False)
    rule_for(org_a, trigger=RuleTrigger.MEMBER_JOINED, actions=SEND, communities=[other])
    join = log_event(community_a, alice.member, kind="join", at=NOW)
    assert on_live_events(community_a, [live(join)]) == 0


def test_keyword_matches_full_width_and_case_and_replies_once_per_cooldown(
    org_a, community_a, alice
):
    rule = rule_for(
        org_a,
        trigger=RuleTrigger.KEYWORD,
        config={"keyword": "#打卡规则", "cooldown_minutes": 10},
        actions=[{"type": "send", "text": "每天 22:00 前发 #打卡"}],
    )
    first = log_event(community_a, alice.member, at=NOW, text="请问＃打卡规则是什么")
    second = log_event(community_a, alice.member, at=NOW + timedelta(minutes=2), text="#打卡规则?")
    later = log_event(community_a, alice.member, at=NOW + timedelta(minutes=30), text="#打卡规则")
    other = log_event(community_a, alice.member, at=NOW, text="hello")
    assert on_live_events(community_a, [live(first), live(other)], now=first.occurred_at) == 1
    # Within the cooldown, then after it.
    assert on_live_events(community_a, [live(second)], now=second.occurred_at) == 0
    assert on_live_events(community_a, [live(later)], now=later.occurred_at) == 1
    assert ScheduledAction.objects.filter(kind=ActionKind.AUTO_REPLY).count() == 2
    assert RuleFiring.objects.filter(rule=rule).count() == 2


def test_the_cooldown_key_is_shared_by_two_messages_in_one_bucket(org_a, community_a):
    spec = RuleSpec(
        org_a, "r", RuleTrigger.KEYWORD, {"keyword": "x", "cooldown_minutes": 10}, [], {}, []
    )
    at = datetime(2026, 11, 20, 4, 1, tzinfo=UTC)
    assert triggers.keyword_key(spec, 1, 5, at) == triggers.keyword_key(
        spec, 1, 6, at + timedelta(minutes=5)
    )
    spec.config["cooldown_minutes"] = 0
    assert triggers.keyword_key(spec, 1, 5, at) == "event:5"


def test_a_regex_keyword_is_matched_with_a_timeout(org_a):
    assert matching.matches({"keyword": r"打卡\d+天", "regex": True}, "我打卡３天了")
    assert not matching.matches({"keyword": r"^打卡$", "regex": True}, "不打卡")
    # Matching is time-limited and reads a bounded length, whatever slipped through.
    assert not matching.matches({"keyword": r"(a|aa)+$", "regex": True}, "a" * 3000 + "!")


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("(unclosed", "does not compile"),
        ("(a|aa)+$", "catastrophically"),
        ("(a|a)+b", "catastrophically"),
        ("(a+)+$", "catastrophically"),
        (r"(\w*)*x", "catastrophically"),
    ],
)
def test_a_bad_or_catastrophic_regex_is_refused_and_nothing_is_written(org_a, pattern, words):
    with pytest.raises(ValidationError) as caught:
        rule_for(
            org_a,
            trigger=RuleTrigger.KEYWORD,
            config={"keyword": pattern, "regex": True},
            actions=SEND,
        )
    assert words in " ".join(caught.value.message_dict["keyword"])
    assert AutomationRule.objects.count() == 0


@pytest.mark.parametrize(
    ("actions", "field"),
    [
        ([], "actions"),
        ([{"type": "points", "points": 0}], "actions"),
        ([{"type": "tag", "tag_id": 999999}], "actions"),
        ([{"type": "send", "text": " "}], "actions"),
        ([{"type": "rm -rf"}], "actions"),
    ],
)
def test_bad_actions_are_refused(org_a, actions, field):
    with pytest.raises(ValidationError) as caught:
        rule_for(org_a, trigger=RuleTrigger.MEMBER_JOINED, actions=actions)
    assert field in caught.value.message_dict
    assert AutomationRule.objects.count() == 0


def test_a_message_over_the_outlets_limit_is_refused(org_a, community_a):
    from automations.models import Outlet

    Outlet.objects.create(
        community=community_a,
        name="r",
        platform="wecom",
        url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
    )
    with pytest.raises(ValidationError) as caught:
        rule_for(
            org_a, trigger=RuleTrigger.MEMBER_JOINED, actions=[{"type": "send", "text": "长" * 800}]
        )
    assert "2048" in " ".join(caught.value.message_dict["actions"]).replace(",", "")


def test_silence_fires_once_per_spell(org_a, community_a, alice):
    rule = rule_for(
        org_a,
        trigger=RuleTrigger.SILENCE,
        actions=[{"type": "send", "text": "大家好，今天聊点什么？"}],
        since=NOW - timedelta(days=3),
    )
    last = log_event(community_a, alice.member, at=NOW - timedelta(hours=30))
    found = triggers.candidates(RuleSpec.of(rule), NOW - timedelta(hours=1), NOW)
    assert [c.key for c in found] == [f"silence:{community_a.pk}:{last.pk}"]
    assert run_rules(now=NOW) == 1
    assert run_rules(now=NOW + timedelta(minutes=1)) == 0  # the same spell
    assert ScheduledAction.objects.get().kind == ActionKind.NUDGE
    log_event(community_a, alice.member, at=NOW + timedelta(hours=1))
    assert run_rules(now=NOW + timedelta(hours=2)) == 0  # talking again
    assert run_rules(now=NOW + timedelta(hours=26)) == 1  # a new spell


def test_inactive_members_fire_once_per_last_activity(org_a, community_a, alice):
    bob = MembershipFactory(community=community_a, member__display_name="鲍勃")
    Membership.objects.filter(pk=alice.pk).update(last_active_at=NOW - timedelta(days=20))
    Membership.objects.filter(pk=bob.pk).update(last_active_at=NOW - timedelta(days=3))
    rule = rule_for(
        org_a,
        trigger=RuleTrigger.INACTIVE,
        config={"days": 14},
        actions=[{"type": "send", "text": "{member}，好久不见"}],
    )
    found = triggers.candidates(RuleSpec.of(rule), NOW - timedelta(days=7), NOW)
    assert [c.member.display_name for c in found] == ["爱丽丝"]
    assert run_rules(now=NOW) == 1
    assert run_rules(now=NOW + timedelta(minutes=1)) == 0
    assert ScheduledAction.objects.get().kind == ActionKind.BROADCAST
    assert ScheduledAction.objects.get().text == "爱丽丝，好久不见"


def test_row_triggers_fire_for_rows_since_the_rule_was_switched_on(
    org_a, community_a, alice, owner_a
):
    broken = Rule.objects.create(
        community=community_a, kind=RuleKind.FORBIDDEN, title="广告", penalty="warning"
    )
    old = violation_record(membership=alice, rule=broken, evidence="旧")
    rule = rule_for(org_a, trigger=RuleTrigger.VIOLATION, actions=[{"type": "notify"}])
    new = violation_record(membership=alice, rule=broken, evidence="新广告")
    tiers = list(community_a.tiers.order_by("rank"))
    tier_rule = rule_for(
        org_a, trigger=RuleTrigger.TIER_CHANGED, actions=[{"type": "points", "points": 5}]
    )
    memberships_set_tier(memberships=[alice], tier=tiers[1], by=None)
    run_rules()
    keys = set(RuleFiring.objects.values_list("key", flat=True))
    assert keys == {f"violation:{new.pk}", f"tier:{alice.tier_changes.get().pk}"}
    assert f"violation:{old.pk}" not in keys
    assert Notification.objects.filter(staff=owner_a).count() == 0  # operators and assigned
    assert (
        PointsEntry.objects.get(membership=alice).reason == f"自动化规则“{tier_rule.name}”"
    )  # the organisation's language
    run_rules()
    assert RuleFiring.objects.count() == 2
    assert RuleFiring.objects.get(rule=rule).member == alice.member


def test_an_overdue_item_notifies_and_fires_once(org_a, community_a, operator_a):
    run = ChecklistRun.objects.create(
        organization=org_a,
        community=community_a,
        name="每日",
        phase="daily",
        language="zh-hans",
        day=NOW.date(),
        starts_at=NOW - timedelta(hours=5),
        opens_at=NOW - timedelta(hours=5),
        closes_at=NOW + timedelta(hours=5),
    )
    item = RunItem.objects.create(run=run, title="发早报", due_at=NOW - timedelta(minutes=30))
    RunItem.objects.create(run=run, title="已完成", due_at=NOW - timedelta(minutes=30), done_at=NOW)
    rule_for(
        org_a,
        trigger=RuleTrigger.ITEM_OVERDUE,
        actions=[{"type": "notify"}],
        since=NOW - timedelta(hours=2),
    )
    assert run_rules(now=NOW) == 1
    assert RuleFiring.objects.get().key == f"item:{item.pk}"
    notice = Notification.objects.get(staff=operator_a)
    assert "发早报" in notice.params["about"]
    assert run_rules(now=NOW) == 0


def test_check_in_missed_days(org_a, community_a, alice):
    from activities.calendar.challenges import challenge_create, check_in, participant_add

    challenge = challenge_create(
        community=community_a,
        data={
            "title": "21 天早起",
            "start_date": (NOW - timedelta(days=3)).date(),
            "days": 21,
            "deadline": datetime.min.time().replace(hour=9),
            "starts_at_time": None,
        },
    )
    participant = participant_add(challenge=challenge, membership=alice)
    day = (NOW - timedelta(days=2)).date()
    check_in(challenge=challenge, participant=participant, day=day)
    rule = rule_for(
        org_a,
        trigger=RuleTrigger.CHECK_IN_MISSED,
        actions=[{"type": "send", "text": "{member} 昨天没打卡"}],
    )
    found = triggers.candidates(RuleSpec.of(rule), NOW - timedelta(days=7), NOW)
    missed_days = sorted(c.key.rsplit(":", 1)[1] for c in found)
    assert f"{day:%Y-%m-%d}" not in missed_days
    assert len(missed_days) >= 2


def test_conditions_tier_and_tags(org_a, community_a, alice):
    bob = MembershipFactory(community=community_a, member__display_name="鲍勃")
    tiers = list(community_a.tiers.order_by("rank"))
    memberships_set_tier(memberships=[bob], tier=tiers[2], by=None)
    dormant = tag_get_or_create(organization=org_a, kind="other", name="沉睡")
    alice.member.tags.add(dormant)
    for membership in (alice, bob):
        Membership.objects.filter(pk=membership.pk).update(last_active_at=NOW - timedelta(days=30))

    def who(conditions):
        rule = rule_for(
            org_a,
            trigger=RuleTrigger.INACTIVE,
            config={"days": 14},
            conditions=conditions,
            actions=[{"type": "notify"}],
        )
        return sorted(
            r.candidate.member.display_name for r in dry_run(RuleSpec.of(rule), now=NOW).rows
        )

    assert who({}) == ["爱丽丝", "鲍勃"]
    assert who({"tag_ids": [dormant.pk]}) == ["爱丽丝"]
    assert who({"tier_ids": [tiers[2].pk]}) == ["鲍勃"]
    assert who({"tier_ids": [tiers[1].pk], "tier_at_least": True}) == ["鲍勃"]
    assert who({"tier_ids": [tiers[0].pk]}) == ["爱丽丝"]


def test_tag_and_task_actions(org_a, community_a, alice, moderator_a):
    from members.services import squad_create

    moderator_a.communities.add(community_a)
    leader = MembershipFactory(community=community_a, member__display_name="组长")
    squad = squad_create(community=community_a, name="晨读组", leader=leader.member)
    Membership.objects.filter(pk=alice.pk).update(
        squad=squad, last_active_at=NOW - timedelta(days=20)
    )
    tag = tag_get_or_create(organization=org_a, kind="other", name="待唤醒")
    rule_for(
        org_a,
        trigger=RuleTrigger.INACTIVE,
        config={"days": 14},
        actions=[
            {"type": "tag", "tag_id": tag.pk},
            {"type": "checklist_item", "title": "私聊问候"},
        ],
    )
    assert run_rules(now=NOW) == 1
    assert list(alice.member.tags.all()) == [tag]
    task = Notification.objects.get(staff=moderator_a)
    assert task.params["title"] == "私聊问候" and "组长" in task.params["about"]
    firing = RuleFiring.objects.get()
    assert [line["ok"] for line in firing.outcome] == [True, True]


def test_a_failing_action_is_recorded_and_the_others_are_kept(org_a, community_a, alice):
    tag = tag_get_or_create(organization=org_a, kind="other", name="临时")
    Membership.objects.filter(pk=alice.pk).update(last_active_at=NOW - timedelta(days=20))
    rule = rule_for(
        org_a,
        trigger=RuleTrigger.INACTIVE,
        config={"days": 14},
        actions=[
            {"type": "send", "text": "回来看看"},
            {"type": "tag", "tag_id": tag.pk},
            {"type": "points", "points": 3},
        ],
    )
    Tag.objects.filter(pk=tag.pk).delete()
    fire_all(rule, triggers.candidates(RuleSpec.of(rule), NOW - timedelta(days=7), NOW), now=NOW)
    firing = RuleFiring.objects.get()
    assert [line["ok"] for line in firing.outcome] == [True, False, True]
    assert ScheduledAction.objects.count() == 1
    assert PointsEntry.objects.filter(membership=alice).count() == 1
    assert run_rules(now=NOW) == 0  # fired once: the failure is not retried into a duplicate


def test_dry_run_lists_candidates_and_writes_nothing(org_a, community_a, alice):
    Membership.objects.filter(pk=alice.pk).update(last_active_at=NOW - timedelta(days=20))
    join = log_event(community_a, alice.member, kind="join", at=NOW - timedelta(days=2))
    log_event(community_a, alice.member, kind="join", at=NOW - timedelta(days=9))  # too old
    tag = tag_get_or_create(organization=org_a, kind="other", name="新人")
    rule = rule_for(
        org_a,
        trigger=RuleTrigger.MEMBER_JOINED,
        enabled=False,
        actions=[
            *SEND,
            {"type": "notify"},
            {"type": "points", "points": 5},
            {"type": "tag", "tag_id": tag.pk},
            {"type": "checklist_item", "title": "私聊"},
        ],
    )
    spec = RuleSpec.of(rule)
    with CaptureQueriesContext(connection) as queries:
        result = dry_run(spec, now=NOW)
    writes = [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert [row.candidate.key for row in result.rows] == [f"event:{join.pk}"]
    assert result.rows[0].actions[0] == "Send to 读书会: 欢迎 爱丽丝 来到 读书会"
    assert "+5" in result.rows[0].actions[2]
    assert RuleFiring.objects.count() == 0 and ScheduledAction.objects.count() == 0


def test_the_beat_task_scans_and_the_schedule_runs_it_every_minute(org_a, community_a, alice):
    from automations.tasks import run_rules_task
    from config.beat import beat_schedule

    entry = beat_schedule(60)["run-automation-rules"]
    assert (entry["task"], entry["schedule"], entry["options"]["expires"]) == (
        "automations.run_rules",
        60.0,
        60,
    )
    Membership.objects.filter(pk=alice.pk).update(
        last_active_at=timezone.now() - timedelta(days=30)
    )
    rule_for(org_a, trigger=RuleTrigger.INACTIVE, config={"days": 14}, actions=[{"type": "notify"}])
    assert run_rules_task.run() == 1
    assert run_rules_task.run() == 0


def test_firing_one_key_twice_makes_one_firing(org_a, community_a, alice):
    from automations.rules.engine import fire
    from automations.rules.spec import Candidate

    rule = rule_for(org_a, trigger=RuleTrigger.KEYWORD, config={"keyword": "x"}, actions=SEND)
    candidate = Candidate("keyword:1:99", community_a, alice.member, NOW)
    assert fire(rule, candidate, now=NOW) is not None
    assert fire(rule, candidate, now=NOW) is None  # the unique (rule, key) is the lock
    assert ScheduledAction.objects.count() == 1
    rule.refresh_from_db()
    assert rule.fire_count == 1


def test_a_keyword_dry_run_says_when_the_log_keeps_no_text(org_a, community_a, alice):
    log_event(community_a, alice.member, at=timezone.now() - timedelta(hours=1), text="打卡规则?")
    spec = RuleSpec(org_a, "r", RuleTrigger.KEYWORD, {"keyword": "打卡规则"}, [], {}, SEND)
    assert len(dry_run(spec).rows) == 1 and not dry_run(spec).no_text
    org_a.keep_message_text = False
    assert dry_run(spec).no_text


def test_beat_never_starves_behind_rows_it_already_fired_for(
    org_a, community_a, alice, monkeypatch
):
    monkeypatch.setattr(triggers, "LIMIT", 1)
    bob = MembershipFactory(community=community_a, member__display_name="鲍勃")
    for membership, days in ((alice, 30), (bob, 20)):
        Membership.objects.filter(pk=membership.pk).update(
            last_active_at=NOW - timedelta(days=days)
        )
    broken = Rule.objects.create(
        community=community_a, kind=RuleKind.FORBIDDEN, title="广告", penalty="warning"
    )
    rule_for(org_a, trigger=RuleTrigger.INACTIVE, config={"days": 14}, actions=[{"type": "notify"}])
    rule_for(
        org_a,
        trigger=RuleTrigger.VIOLATION,
        actions=[{"type": "notify"}],
        since=timezone.now() - timedelta(hours=1),
    )
    for evidence in ("一", "二"):
        violation_record(membership=alice, rule=broken, evidence=evidence)
    # One candidate a scan (LIMIT 1): the inactive members at NOW, then the violations.
    assert [run_rules(now=NOW), run_rules(now=NOW), run_rules(now=NOW)] == [1, 1, 0]
    assert [run_rules(), run_rules(), run_rules()] == [1, 1, 0]
    kinds = sorted(k.split(":")[0] for k in RuleFiring.objects.values_list("key", flat=True))
    assert kinds == ["inactive", "inactive", "violation", "violation"]
