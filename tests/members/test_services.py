from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from communities.models import Penalty, Rule, RuleKind
from members import selectors, services
from members.models import (
    ApplicationStatus,
    MembershipStatus,
    QuestionKind,
    TagKind,
    TierChange,
)
from tests.factories import CommunityFactory, MemberFactory, MembershipFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


@pytest.fixture
def community(org_a):
    return CommunityFactory(organization=org_a, name="读书会")


@pytest.fixture
def ladder(community):
    return list(community.tiers.order_by("rank"))


def test_new_community_gets_the_default_four_level_ladder_in_its_language(org_a):
    chinese = CommunityFactory(organization=org_a)
    english = CommunityFactory(organization=org_a, announcement_language="en")
    assert [t.name for t in chinese.tiers.order_by("rank")] == [
        "新人",
        "活跃成员",
        "核心成员",
        "骨干领袖",
    ]
    assert [t.name for t in english.tiers.order_by("rank")] == [
        "Newcomer",
        "Active",
        "Core",
        "Leader",
    ]
    assert [t.min_points for t in english.tiers.order_by("rank")] == [0, 50, 200, 500]


# --- Tier promotion ----------------------------------------------------------------------


def test_promotes_to_the_highest_tier_that_qualifies_and_says_why(community, ladder):
    membership = MembershipFactory(community=community)
    change = services.membership_promote(
        membership=membership, points=250, active_days_30=12, tenure_days=40, today=TODAY
    )
    membership.refresh_from_db()
    assert membership.tier == ladder[2]  # core: 200 points, 10 days, 30 days tenure
    assert change.from_tier == ladder[0] and change.to_tier == ladder[2]
    assert "250 ≥ 200" in change.reason and "12 ≥ 10" in change.reason
    assert change.reason.startswith("晋升")  # the community's language


def test_every_threshold_must_be_met(community, ladder):
    membership = MembershipFactory(community=community)
    # Points enough for leader, but active days only enough for "active".
    services.membership_promote(
        membership=membership, points=900, active_days_30=5, tenure_days=400, today=TODAY
    )
    membership.refresh_from_db()
    assert membership.tier == ladder[1]


def test_a_tier_set_by_staff_is_never_overridden(community, ladder, owner_a):
    membership = MembershipFactory(community=community)
    services.memberships_set_tier(memberships=[membership], tier=ladder[3], by=owner_a.user)
    for points in (0, 10_000):
        assert (
            services.membership_promote(
                membership=membership, points=points, active_days_30=30, tenure_days=999
            )
            is None
        )
    membership.refresh_from_db()
    assert membership.tier == ladder[3]
    assert membership.tier_set_by_staff
    assert TierChange.objects.get(membership=membership).changed_by == owner_a.user


def test_no_demotion_unless_the_community_allows_it(community, ladder):
    membership = MembershipFactory(community=community, tier=ladder[2])
    for day in range(60):
        services.membership_promote(
            membership=membership,
            points=0,
            active_days_30=0,
            tenure_days=100,
            today=TODAY + timedelta(days=day),
        )
    membership.refresh_from_db()
    assert membership.tier == ladder[2]


def test_demotes_only_after_the_grace_period(community, ladder):
    community.demotion_enabled = True
    community.demotion_grace_days = 14
    community.save()
    membership = MembershipFactory(community=community, tier=ladder[2])

    def run(day: int):
        return services.membership_promote(
            membership=membership,
            points=60,
            active_days_30=4,
            tenure_days=100,  # qualifies for "active" only
            today=TODAY + timedelta(days=day),
        )

    assert run(0) is None  # starts the grace period
    assert run(13) is None
    membership.refresh_from_db()
    assert membership.tier == ladder[2]
    change = run(14)
    membership.refresh_from_db()
    assert membership.tier == ladder[1]
    assert "14" in change.reason


def test_qualifying_again_resets_the_grace_period(community, ladder):
    community.demotion_enabled = True
    community.save()
    membership = MembershipFactory(community=community, tier=ladder[1])
    low = {"points": 0, "active_days_30": 0, "tenure_days": 100}
    ok = {"points": 60, "active_days_30": 4, "tenure_days": 100}
    services.membership_promote(membership=membership, today=TODAY, **low)
    services.membership_promote(membership=membership, today=TODAY + timedelta(days=10), **ok)
    services.membership_promote(membership=membership, today=TODAY + timedelta(days=20), **low)
    assert (
        services.membership_promote(membership=membership, today=TODAY + timedelta(days=30), **low)
        is None
    )
    membership.refresh_from_db()
    assert membership.tier == ladder[1]


# --- Points ledger -----------------------------------------------------------------------


def test_ledger_balance_is_the_sum_of_its_entries(community, owner_a):
    membership = MembershipFactory(community=community)
    rule = Rule.objects.create(
        community=community, kind=RuleKind.ENCOURAGED, title="打卡", points=5
    )
    services.points_for_rule(membership=membership, rule=rule, by=owner_a.user)
    services.points_add(membership=membership, delta=30, reason="最佳回答")
    services.points_add(membership=membership, delta=-5, reason="更正：重复打卡")
    assert membership.points_balance == 30
    membership.refresh_from_db()
    assert membership.points_balance == 30
    assert selectors.points_balance_from_ledger(membership=membership) == 30
    assert membership.points_entries.count() == 3


def test_a_zero_entry_is_refused(community):
    membership = MembershipFactory(community=community)
    with pytest.raises(ValidationError):
        services.points_add(membership=membership, delta=0, reason="nothing")


def test_deposits_never_refund_more_than_is_held(community):
    membership = MembershipFactory(community=community)
    services.deposit_record(membership=membership, kind="held", amount=Decimal("99.00"))
    services.deposit_record(membership=membership, kind="refunded", amount=Decimal("49.00"))
    assert selectors.deposit_held(membership=membership) == Decimal("50.00")
    with pytest.raises(ValidationError):
        services.deposit_record(membership=membership, kind="forfeited", amount=Decimal("50.01"))
    assert selectors.deposit_held(membership=membership) == Decimal("50.00")


# --- Violations --------------------------------------------------------------------------


def test_strikes_drive_the_penalty(community):
    membership = MembershipFactory(community=community)
    services.points_add(membership=membership, delta=100, reason="start")
    spam = Rule.objects.create(
        community=community,
        kind=RuleKind.FORBIDDEN,
        title="发广告",
        penalty=Penalty.DEDUCTION,
        points=20,
        strikes_to_removal=3,
    )
    first = services.violation_record(membership=membership, rule=spam, evidence="链接")
    second = services.violation_record(membership=membership, rule=spam, evidence="二维码")
    membership.refresh_from_db()
    assert (first.strike, first.action) == (1, Penalty.DEDUCTION)
    assert (second.strike, second.action) == (2, Penalty.DEDUCTION)
    assert membership.points_balance == 60
    assert membership.status == MembershipStatus.ACTIVE

    third = services.violation_record(membership=membership, rule=spam, evidence="又发")
    membership.refresh_from_db()
    assert (third.strike, third.action) == (3, Penalty.REMOVAL)
    assert membership.status == MembershipStatus.REMOVED
    assert membership.left_on is not None


def test_a_warning_rule_counts_strikes_per_rule(community):
    membership = MembershipFactory(community=community)
    rude = Rule.objects.create(
        community=community, kind=RuleKind.FORBIDDEN, title="人身攻击", penalty=Penalty.WARNING
    )
    off_topic = Rule.objects.create(
        community=community, kind=RuleKind.FORBIDDEN, title="跑题", penalty=Penalty.MUTE
    )
    services.violation_record(membership=membership, rule=rude, evidence="a")
    violation = services.violation_record(membership=membership, rule=off_topic, evidence="b")
    assert (violation.strike, violation.action) == (1, Penalty.MUTE)
    membership.refresh_from_db()
    assert membership.points_balance == 0


# --- Applications ------------------------------------------------------------------------


@pytest.fixture
def questionnaire(community):
    why = services.question_create(
        community=community, kind=QuestionKind.TEXT, prompt="为什么想加入？"
    )
    city = services.question_create(
        community=community,
        kind=QuestionKind.CHOICE,
        prompt="所在城市",
        choices=["北京", "上海", "杭州"],
        tag_kind=TagKind.REGION,
    )
    topics = services.question_create(
        community=community,
        kind=QuestionKind.MULTIPLE,
        prompt="感兴趣的话题",
        choices=["小说", "历史", "科技"],
        tag_kind=TagKind.INTEREST,
    )
    return why, city, topics


def test_approve_creates_the_membership_and_tags(community, questionnaire, owner_a):
    why, city, topics = questionnaire
    application = services.application_submit(
        community=community,
        display_name="小王",
        platform="wechat",
        external_id="wxid_wang",
        answers={str(why.pk): "想读更多书", str(city.pk): "杭州", str(topics.pk): ["历史", "科技"]},
    )
    membership = services.application_approve(application=application, by=owner_a.user)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.membership == membership
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.tier.rank == 1
    assert sorted(t.name for t in membership.member.tags.all()) == ["历史", "杭州", "科技"]
    assert membership.member.handles.get().external_id == "wxid_wang"
    with pytest.raises(ValidationError):
        services.application_approve(application=application, by=owner_a.user)


def test_approve_reuses_a_known_person(community, org_a, owner_a):
    other = CommunityFactory(organization=org_a)
    known = services.member_create(
        organization=org_a, display_name="老张", handles=[("wechat", "wxid_zhang")]
    )
    MembershipFactory(community=other, member=known)
    application = services.application_submit(
        community=community,
        display_name="张",
        platform="wechat",
        external_id="wxid_zhang",
        answers={},
    )
    membership = services.application_approve(application=application, by=owner_a.user)
    assert membership.member == known


def test_reject_needs_a_reason_and_writes_no_membership(community, owner_a):
    application = services.application_submit(
        community=community, display_name="广告号", platform="qq", external_id="123", answers={}
    )
    with pytest.raises(ValidationError):
        services.application_reject(application=application, by=owner_a.user, reason=" ")
    services.application_reject(application=application, by=owner_a.user, reason="营销号")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert application.decision_note == "营销号"
    assert not community.memberships.exists()


def test_answers_are_checked_against_the_questionnaire(community, questionnaire):
    why, city, topics = questionnaire
    with pytest.raises(ValidationError) as error:
        services.application_submit(
            community=community,
            display_name="x",
            platform="wechat",
            external_id="x",
            answers={str(why.pk): "", str(city.pk): "纽约", str(topics.pk): []},
        )
    assert set(error.value.message_dict) == {str(why.pk), str(city.pk), str(topics.pk)}
    assert not community.applications.exists()


# --- Members, squads, roles --------------------------------------------------------------


def test_platform_ids_are_unique_per_organisation(org_a, org_b):
    services.member_create(organization=org_a, display_name="a", handles=[("telegram", "42")])
    services.member_create(organization=org_b, display_name="b", handles=[("telegram", "42")])
    with pytest.raises(ValidationError):
        services.member_create(organization=org_a, display_name="c", handles=[("telegram", "42")])


def test_one_membership_per_person_and_community(community):
    membership = MembershipFactory(community=community)
    with pytest.raises((ValidationError, IntegrityError)):
        services.membership_create(community=community, member=membership.member)


def test_squads_belong_to_their_community(community, org_a):
    squad = services.squad_create(community=community, name="一组")
    stranger = MembershipFactory(community=CommunityFactory(organization=org_a))
    with pytest.raises(ValidationError):
        services.memberships_assign_squad(memberships=[stranger], squad=squad)
    membership = MembershipFactory(community=community)
    services.memberships_assign_squad(memberships=[membership], squad=squad)
    membership.refresh_from_db()
    assert membership.squad == squad


def test_roles_are_set_exactly(community):
    membership = MembershipFactory(community=community)
    services.roles_assign(membership=membership, roles=["kol", "core"])
    services.roles_assign(membership=membership, roles=["core", "guest"])
    assert sorted(membership.roles.values_list("role", flat=True)) == ["core", "guest"]
    with pytest.raises(ValidationError):
        services.roles_assign(membership=membership, roles=["emperor"])


def test_pyramid_counts_present_members_per_tier(community, ladder):
    MembershipFactory.create_batch(5, community=community)
    MembershipFactory.create_batch(2, community=community, tier=ladder[1])
    MembershipFactory(community=community, status=MembershipStatus.LEFT)
    levels = selectors.tier_pyramid(community=community)
    assert [(level.tier.rank, level.members) for level in levels] == [
        (1, 5),
        (2, 2),
        (3, 0),
        (4, 0),
    ]


def test_members_tag_adds_once(community, org_a):
    memberships = MembershipFactory.create_batch(3, community=community)
    tag = services.tag_get_or_create(organization=org_a, kind=TagKind.OTHER, name="待唤醒")
    assert services.members_tag(memberships=memberships, tag=tag) == 3
    assert services.members_tag(memberships=memberships, tag=tag) == 0
    assert MemberFactory._meta.model.objects.filter(tags=tag).count() == 3
