"""Demo positioning, rules and programmes for ``manage.py seed_demo`` (idempotent)."""

from datetime import timedelta

from communities import services
from communities.models import Community, FunnelRole, Organization, Penalty, RuleKind

ENGLISH_COMMUNITIES = {"shanghai-runners", "design-guild", "sg-founders"}

# slug: positioning (funnel role, goal, capacity, 5W1H who/what)
POSITIONING = {
    "reading-50": (
        FunnelRole.FAN,
        "一年一起读完50本书",
        200,
        "想养成阅读习惯的职场人",
        "每周共读一本书、读书笔记互评、每月线上分享",
    ),
    "early-risers-camp": (
        FunnelRole.CAMP,
        "连续7天早上6点前起床打卡",
        60,
        "想摆脱拖延、规律作息的年轻人",
        "每日打卡督促、小组互助、完成者退还决心金",
    ),
    "python-beijing": (
        FunnelRole.LEARNING,
        "每月一次线下技术分享",
        300,
        "北京的 Python 开发者",
        "技术答疑、内推机会、线下 Meetup",
    ),
    "parents-hangzhou": (
        FunnelRole.LOCAL,
        "同城宝妈互助育儿",
        150,
        "杭州 0-6 岁孩子的家长",
        "育儿经验、二手闲置、周末亲子活动",
    ),
    "indie-hackers-cn": (
        FunnelRole.TRAFFIC,
        "一起做出第一款能赚钱的独立产品",
        500,
        "独立开发者和副业创业者",
        "每周产品复盘、出海经验、收入公开",
    ),
    "shanghai-runners": (
        FunnelRole.INTEREST,
        "Run a half marathon together this spring",
        120,
        "Runners in Shanghai of every pace",
        "Weekly group runs and race plans",
    ),
    "design-guild": (
        FunnelRole.CONVERSION,
        "Ship one portfolio case study a month",
        40,
        "Product designers moving into senior roles",
        "Critiques and job leads",
    ),
    "sg-founders": (
        FunnelRole.RESOURCE,
        "Meet a founder who can help, every week",
        30,
        "Early-stage founders in Singapore",
        "Breakfasts, intros and investor notes",
    ),
    "double11-flash": (
        FunnelRole.FLASH,
        "双11三天快闪福利",
        500,
        "老客户与新关注的粉丝",
        "限时福利、拼团、抽奖",
    ),
}

RULES_ZH = {
    "value": "在这里，你会遇到一群真正在读书的人：每周共读一本书，笔记有人看、有人回。",
    "entry": "填写入群问卷；承诺每周至少打卡3次；实名备注“城市-行业-昵称”。",
    "vision": "一年后，我们每个人都多读了50本书，也多了一群能聊书的朋友。",
    "encouraged": [("每日打卡分享读书笔记", 5), ("回答他人提问", 10), ("组织一次线上分享", 50)],
    "forbidden": [
        ("发广告或拉人进其他群", Penalty.DEDUCTION, 30, 2),
        ("人身攻击、恶意争吵", Penalty.WARNING, 0, 3),
        ("深夜刷屏", Penalty.MUTE, 0, None),
    ],
}
RULES_EN = {
    "value": "Runs with people who show up: weekly group runs, pacing help and race plans.",
    "entry": "Say hello with your usual distance and pace; join at least one run a month.",
    "vision": "Everyone here finishes a half marathon, and nobody runs alone.",
    "encouraged": [("Join a weekly group run", 10), ("Pace a slower runner", 20)],
    "forbidden": [
        ("Selling or advertising", Penalty.DEDUCTION, 20, 2),
        ("Posting off-topic chains", Penalty.WARNING, 0, 3),
    ],
}

PROGRAMMES = {
    "读书成长计划": (
        "从公众号引流到共读会，再到年度会员",
        ["reading-50", "early-risers-camp", "indie-hackers-cn", "double11-flash"],
    ),
    "City circles": (
        "Local English-speaking groups",
        ["shanghai-runners", "sg-founders", "design-guild"],
    ),
}


def seed_communities(*, organization: Organization) -> None:
    programmes = {}
    for name, (description, _slugs) in PROGRAMMES.items():
        programme = organization.programmes.filter(name=name).first()
        programmes[name] = programme or services.programme_create(
            organization=organization, name=name, description=description
        )
    communities = {c.slug: c for c in organization.communities.all()}
    for slug, community in communities.items():
        if community.goal:
            continue  # positioned already
        data = {}
        if slug in POSITIONING:
            role, goal, capacity, who, what = POSITIONING[slug]
            data = {
                "funnel_role": role,
                "goal": goal,
                "capacity": capacity,
                "who": who,
                "what": what,
                "start_date": community.created_on,
            }
            if role in (FunnelRole.FLASH, FunnelRole.CAMP):
                data["end_date"] = community.created_on + timedelta(days=7 if role == "camp" else 3)
        for name, (_description, slugs) in PROGRAMMES.items():
            if slug in slugs:
                data["programme"] = programmes[name]
        if slug in {"reading-50", "early-risers-camp"}:
            data.update({"demotion_enabled": True, "demotion_grace_days": 14})
        if data:
            # The demo's set-up, not a person's change: by=None logs nothing.
            services.community_update(community=community, data=data, by=None)
        _seed_rules(community)


def _seed_rules(community: Community) -> None:
    if community.rules.exists():
        return
    english = community.slug in ENGLISH_COMMUNITIES
    rules = RULES_EN if english else RULES_ZH
    services.community_rules_update(
        community=community,
        data={
            "value_statement": rules["value"],
            "entry_standard": rules["entry"],
            "vision": rules["vision"],
            "announcement_language": "en" if english else "zh-hans",
        },
        by=None,
    )
    for title, points in rules["encouraged"]:
        services.rule_create(
            community=community, kind=RuleKind.ENCOURAGED, title=title, points=points, by=None
        )
    for title, penalty, points, strikes in rules["forbidden"]:
        services.rule_create(
            community=community,
            kind=RuleKind.FORBIDDEN,
            title=title,
            penalty=penalty,
            points=points,
            strikes_to_removal=strikes,
            by=None,
        )
