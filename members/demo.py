"""Demo members for ``manage.py seed_demo``: believable pyramids, squads, applications.

Deterministic (a fixed random seed), and idempotent per community: a community that has
members already is left alone.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from communities.models import Community, Organization, Rule, RuleKind
from members import services
from members.models import (
    Member,
    MemberRole,
    Membership,
    MembershipStatus,
    QuestionKind,
    TagKind,
    Tier,
)
from members.privacy import member_erase

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "洋",
    "艳",
    "勇",
    "军",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "子涵",
    "浩然",
    "梓萱",
    "一诺",
    "宇轩",
    "欣怡",
    "思远",
    "雨桐",
    "晨曦",
    "若溪",
    "嘉怡",
    "俊熙",
    "书瑶",
    "沐阳",
]
NICKNAMES = [
    "读书的猫",
    "早起的鸟",
    "Momo",
    "阿June",
    "小鹿乱撞",
    "Leo",
    "晴天",
    "番茄炒蛋",
    "Kiki",
    "不吃香菜",
    "南风",
    "Lucky",
    "大橙子",
    "Yuki",
    "一只鱼",
]
ENGLISH_FIRST = [
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Ethan",
    "Mia",
    "Lucas",
    "Chloe",
    "Ryan",
    "Grace",
    "Daniel",
    "Zoe",
    "Aaron",
    "Isla",
    "Marcus",
    "Priya",
    "Wei",
    "Hannah",
    "Omar",
]
ENGLISH_LAST = [
    "Tan",
    "Lim",
    "Smith",
    "Ng",
    "Wong",
    "Brown",
    "Lee",
    "Patel",
    "Chen",
    "Garcia",
    "Kim",
    "Müller",
    "Rossi",
    "Singh",
    "Taylor",
]

INTERESTS = ["小说", "历史", "心理学", "商业", "科技", "诗歌"]
REGIONS = ["北京", "上海", "杭州", "深圳", "成都", "广州"]
INDUSTRIES = ["互联网", "教育", "金融", "设计", "医疗", "学生"]
AGE_BANDS = ["18-24", "25-30", "31-40", "41+"]

# slug: (members, squads, pending applications, with questionnaire, with deposits)
PLAN = {
    "reading-50": (140, ["晨读一组", "晨读二组", "夜读组", "周末共读组"], 5, True, False),
    "early-risers-camp": (48, ["五点半小队", "六点小队", "打卡互助组"], 3, True, True),
    "python-beijing": (90, ["Web 组", "数据组"], 2, False, False),
    "parents-hangzhou": (75, [], 2, False, False),
    "indie-hackers-cn": (60, ["出海小分队"], 0, False, False),
    "shanghai-runners": (55, ["Pace 5", "Pace 6"], 1, False, False),
    "design-guild": (24, [], 0, False, False),
    "sg-founders": (18, [], 0, False, False),
}

# Share of members per tier rank, bottom first: most people in the lowest tier.
PYRAMID_SHARES = (0.68, 0.2, 0.09, 0.03)


def _name(rng: random.Random, english: bool) -> str:
    if english:
        return f"{rng.choice(ENGLISH_FIRST)} {rng.choice(ENGLISH_LAST)}"
    if rng.random() < 0.2:
        return rng.choice(NICKNAMES) + str(rng.randint(1, 99))
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _tags(organization: Organization, rng: random.Random):
    picks = [
        (TagKind.INTEREST, rng.choice(INTERESTS)),
        (TagKind.REGION, rng.choice(REGIONS)),
        (TagKind.INDUSTRY, rng.choice(INDUSTRIES)),
        (TagKind.AGE_BAND, rng.choice(AGE_BANDS)),
    ]
    count = rng.randint(1, 4)
    return [
        services.tag_get_or_create(organization=organization, kind=kind, name=name)
        for kind, name in picks[:count]
    ]


def _demo_rules(community: Community) -> tuple[list[Rule], list[Rule]]:
    """The community's rules (communities/demo.py seeds them first)."""
    return (
        list(community.rules.filter(kind=RuleKind.ENCOURAGED)),
        list(community.rules.filter(kind=RuleKind.FORBIDDEN)),
    )


def _climb(membership: Membership, ladder: list[Tier], *, joined, today, rng) -> None:
    """Up the ladder one tier at a time, each step dated when the member could first have
    made it (the tier's minimum tenure after joining, and up to two weeks more), so the
    pyramid has a past: analytics reconstructs its snapshots from these changes. In a
    group younger than that, the steps spread over the days it has had."""
    tz = ZoneInfo(membership.community.time_zone)
    day = joined
    for tier in ladder[1:]:
        earliest = max(day, joined + timedelta(days=tier.min_tenure_days))
        target = earliest + timedelta(days=rng.randint(0, 14))
        if target > today:
            target = day + timedelta(days=rng.randint(0, (today - day).days))
        day = target
        last = tier == ladder[-1]
        services.membership_promote(
            membership=membership,
            points=membership.points_balance if last else tier.min_points,
            active_days_30=tier.min_active_days_30,
            tenure_days=max((day - joined).days, tier.min_tenure_days),
            ladder=ladder,
            today=day,
            at=None if day >= today else datetime.combine(day, time(20), tz),
        )


def seed_members(*, organization: Organization, staff_user) -> dict[str, int]:
    created = {"members": 0, "applications": 0, "violations": 0}
    rng = random.Random(20261122)  # noqa: S311 - demo data, not security
    history = random.Random(20261123)  # noqa: S311 - promotion dates, apart: names stay as they were
    handle_counter = 0
    for slug, (size, squad_names, pending, questionnaire, deposits) in PLAN.items():
        community = Community.objects.filter(organization=organization, slug=slug).first()
        if community is None or community.memberships.exists():
            continue
        english = community.announcement_language == "en" or slug in {
            "shanghai-runners",
            "design-guild",
            "sg-founders",
        }
        ladder = list(community.tiers.order_by("rank"))  # made with the community
        encouraged, forbidden = _demo_rules(community)
        today = community.local_today()
        age = (today - community.created_on).days
        squads = [services.squad_create(community=community, name=n) for n in squad_names]
        memberships: list[Membership] = []
        for index in range(size):
            handle_counter += 1
            member = services.member_create(
                organization=organization,
                display_name=_name(rng, english),
                handles=[(community.platform, f"{community.platform}_{handle_counter:05d}")],
                tags=_tags(organization, rng),
            )
            joined = today - timedelta(days=rng.randint(0, max(age, 1)))
            status = MembershipStatus.ACTIVE
            roll = rng.random()
            if roll < 0.12:
                status = MembershipStatus.LURKER
            elif roll < 0.18:
                status = MembershipStatus.LEFT
            membership = services.membership_create(
                community=community, member=member, joined_on=joined
            )
            if status != MembershipStatus.ACTIVE:
                services.membership_set_status(membership=membership, status=status)
            # Place on the ladder by the pyramid's shares.
            position = index / size
            rank, bound = 1, 0.0
            for tier_rank, share in enumerate(PYRAMID_SHARES, start=1):
                bound += share
                if position < bound:
                    rank = tier_rank
                    break
            points = [0, rng.randint(50, 180), rng.randint(200, 480), rng.randint(500, 1200)][
                rank - 1
            ]
            if points and encouraged:
                services.points_add(
                    membership=membership,
                    delta=points,
                    reason=encouraged[0].title,
                    rule=encouraged[0],
                )
            if rank > 1:
                membership.refresh_from_db()
                _climb(membership, ladder[:rank], joined=joined, today=today, rng=history)
            roles = {MemberRole.MEMBER}
            if index == 0:
                roles = {MemberRole.OWNER}
            elif index in (1, 2):
                roles = {MemberRole.ADMIN, MemberRole.CORE}
            elif index == 3:
                roles = {MemberRole.KOL}
            elif index == 4:
                roles = {MemberRole.EXPERT}
            elif index == 5:
                roles = {MemberRole.PET}
            elif status == MembershipStatus.LURKER:
                roles = {MemberRole.LURKER}
            services.roles_assign(membership=membership, roles=roles)
            if squads and status == MembershipStatus.ACTIVE and rng.random() < 0.6:
                services.memberships_assign_squad(
                    memberships=[membership], squad=squads[index % len(squads)]
                )
            memberships.append(membership)
            created["members"] += 1
        for squad in squads:
            leader = squad.memberships.order_by("-points_balance").first()
            if leader:
                squad.leader = leader.member
                squad.save(update_fields=["leader"])
        if deposits:
            for membership in memberships:
                services.deposit_record(
                    membership=membership,
                    kind="held",
                    amount=Decimal("99"),
                    note="7天早起挑战决心金",
                )
                if membership.status == MembershipStatus.LEFT:
                    services.deposit_record(
                        membership=membership,
                        kind="forfeited",
                        amount=Decimal("99"),
                        note="未完成打卡",
                    )
        # A few violations, one of which removes a repeat spammer.
        present = [m for m in memberships if m.status == MembershipStatus.ACTIVE]
        if forbidden and len(present) > 10:
            spammer = present[-1]
            for evidence in ("发了保险广告链接", "又发了拉群二维码"):
                services.violation_record(
                    membership=spammer, rule=forbidden[0], evidence=evidence, by=staff_user
                )
                created["violations"] += 1
            services.violation_record(
                membership=present[-2],
                rule=forbidden[1 % len(forbidden)],
                evidence="和群友争吵，言语过激",
                by=staff_user,
            )
            created["violations"] += 1
        if questionnaire and not community.questions.exists():
            services.question_create(
                community=community, kind=QuestionKind.TEXT, prompt="为什么想加入这个群？"
            )
            services.question_create(
                community=community,
                kind=QuestionKind.CHOICE,
                prompt="所在城市",
                choices=REGIONS,
                tag_kind=TagKind.REGION,
            )
            services.question_create(
                community=community,
                kind=QuestionKind.MULTIPLE,
                prompt="感兴趣的方向",
                choices=INTERESTS,
                tag_kind=TagKind.INTEREST,
            )
        questions = list(community.questions.all())
        for n in range(pending):
            answers = {}
            for question in questions:
                if question.kind == QuestionKind.TEXT:
                    answers[str(question.pk)] = rng.choice(
                        [
                            "朋友推荐，想养成读书习惯",
                            "看到公众号文章，想找同伴一起坚持",
                            "想认识同城的朋友",
                        ]
                    )
                elif question.kind == QuestionKind.CHOICE:
                    answers[str(question.pk)] = rng.choice(question.choices)
                else:
                    answers[str(question.pk)] = rng.sample(question.choices, 2)
            services.application_submit(
                community=community,
                display_name=_name(rng, english),
                platform=community.platform,
                external_id=f"applicant_{slug}_{n}",
                answers=answers,
            )
            created["applications"] += 1
    return created


def seed_erasure(*, organization: Organization, owner_user) -> int:
    """One member who asked to be erased (PIPL/GDPR), so the placeholder shows in the demo.

    Run after the activity is seeded (the erasure anonymises the member's events too);
    once per organisation. Returns how many members were erased (0 or 1)."""
    if Member.objects.filter(organization=organization, erased_at__isnull=False).exists():
        return 0
    member = (
        Member.objects.filter(
            organization=organization,
            memberships__community__slug="reading-50",
            memberships__status=MembershipStatus.ACTIVE,
            led_squads__isnull=True,
        )
        .exclude(memberships__roles__role__in=[r for r in MemberRole if r != MemberRole.MEMBER])
        .order_by("pk")
        .distinct()
        .first()
    )
    if member is None:
        return 0
    member_erase(
        member=member,
        actor=owner_user,
        reason="本人在群内提出删除个人信息的请求（《个人信息保护法》第四十七条），11 月 20 日",
    )
    return 1
