"""The five standard SOPs (社群SOP), shipped with the product in Chinese and English.

They are data, not rows: every organisation sees the same five, and copies one into its
own templates (``services.templates.template_copy_builtin``) in the language it chooses,
then edits the copy. Texts are written out in both languages here (not through gettext),
because a copy takes the language of the *group* it is for, not of the reader's interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from checklists.models import ALL_WEEKDAYS, DueAnchor, InputKind, ItemRole, Phase

Text = dict[str, str]  # {"en": …, "zh-hans": …}


@dataclass(frozen=True)
class BuiltinItem:
    title: Text
    guidance: Text
    role: str = ItemRole.MODERATOR
    anchor: str = DueAnchor.CLOCK
    due_time: time | None = None
    offset_days: int = 0
    offset_minutes: int = 0
    weekdays: str = ALL_WEEKDAYS
    input_kind: str = InputKind.NONE
    input_required: bool = True
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    message: Text = field(default_factory=dict)


@dataclass(frozen=True)
class Builtin:
    key: str
    phase: str
    name: Text
    description: Text
    items: tuple[BuiltinItem, ...]
    duration_days: int = 1
    entry_kinds: tuple[str, ...] = ()


def _clock(hour: int, minute: int = 0) -> time:
    return time(hour, minute)


DAY = 24 * 60  # minutes

MOOD_CHOICES = {
    "en": ("Lively", "Normal", "Quiet"),
    "zh-hans": ("活跃", "一般", "冷清"),
}

GROUP_TYPE_CHOICES = {
    "en": (
        "Traffic group",
        "Conversion group",
        "Fan / after-sale group",
        "Flash group",
        "Interest or learning group",
        "Training camp",
        "Local group",
    ),
    "zh-hans": ("引流群", "转化群", "粉丝群", "快闪群", "兴趣/学习群", "训练营", "同城群"),
}


PLANNING = Builtin(
    key="planning",
    phase=Phase.PLANNING,
    name={"en": "Whole-process planning", "zh-hans": "社群规划全流程SOP"},
    description={
        "en": (
            "Two weeks before a group opens: its goal, type, members, size, entry threshold, "
            "member pyramid, points system, first month's calendar and the figures to watch."
        ),
        "zh-hans": (
            "开群前两周完成：社群目标、类型、成员画像、规模与门槛、用户金字塔、积分体系、"
            "第一个月的活动日历，以及要看的数据指标。"
        ),
    },
    duration_days=14,
    items=(
        BuiltinItem(
            title={"en": "Write down the group's goal", "zh-hans": "写下社群目标"},
            guidance={
                "en": (
                    "One sentence with a concrete shared goal members can check themselves "
                    'against, e.g. "read 50 books together this year" or "one original article '
                    'every day". "Chat and learn together" is not a goal: groups without one '
                    "go quiet within days."
                ),
                "zh-hans": (
                    "用一句话写出成员能自我对照的具体目标，比如“一年一起读完 50 本书”"
                    "“每天一篇原创”。“交流学习”不算目标——没有目标感的群，几天就会沉寂。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=0,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={"en": "Run the 5W1H self-check", "zh-hans": "做 5W1H 自检"},
            guidance={
                "en": (
                    "Answer each in a line: Why build it, What value members get, Where it "
                    "runs (platform), Who the members are, When it starts and how long it "
                    "should live, How it pays back. Any blank answer means the plan is not "
                    "ready yet."
                ),
                "zh-hans": (
                    "每项写一行：为什么建群（Why）、成员能得到什么价值（What）、在哪个平台"
                    "（Where）、成员是谁（Who）、何时开始、预计运营多久（When）、如何回报投入"
                    "（How）。有一项答不上来，说明方案还不成熟。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=1,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={
                "en": "Choose the group's type and its place in the matrix",
                "zh-hans": "确定社群类型和在矩阵中的位置",
            },
            guidance={
                "en": (
                    "Decide which step of the funnel (attention, interest, desire, action, "
                    "satisfaction, share) this group serves, and where members come from and "
                    "go next: a traffic group feeds a conversion group, buyers move on to the "
                    "fan group. A flash group runs the whole funnel in a few scripted days."
                ),
                "zh-hans": (
                    "按 AIDASS 漏斗（注意、兴趣、欲望、行动、满意、分享）想清楚这个群承担哪一步，"
                    "成员从哪里来、下一步去哪里：引流群把人导入转化群，成交后进入粉丝群；"
                    "快闪群则用几天时间按脚本走完整个漏斗。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=2,
            input_kind=InputKind.CHOICE,
            choices=GROUP_TYPE_CHOICES,
        ),
        BuiltinItem(
            title={"en": "Describe the target members", "zh-hans": "画出目标成员画像"},
            guidance={
                "en": (
                    'Apply "three near, one opposite": members close in region, age and '
                    "interest, plus one productive difference (e.g. beginners and "
                    "practitioners) that keeps conversation going. Write who is in, who is not, "
                    "and where you will find them."
                ),
                "zh-hans": (
                    "按“三近一反”来画：地域相近、年龄相近、兴趣相近，再保留一点能激发讨论的差异"
                    "（比如新手和老手同群）。写清楚谁适合进、谁不适合进，以及去哪里找到他们。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=3,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={
                "en": "Set the target size and the entry threshold",
                "zh-hans": "定好群规模和入群门槛",
            },
            guidance={
                "en": (
                    "Enter the target number of members: too small is dull, too large and "
                    "members feel unseen. Then decide the threshold: an application (interests, "
                    "industry, region), and for check-in groups a commitment deposit refunded "
                    "only to those who keep up."
                ),
                "zh-hans": (
                    "填写目标人数：人太少冷清，人太多成员会觉得没人看见自己。再定入群门槛：入群申请"
                    "（兴趣、行业、地区），打卡类社群可以收决心金，只退给坚持完成打卡的人。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=4,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={
                "en": "Plan the member pyramid and who does what",
                "zh-hans": "规划用户金字塔和人员分工",
            },
            guidance={
                "en": (
                    "Plan at least three tiers: owner, a middle tier (admins, moderators, squad "
                    "leaders) and members. Name who plays each key role at the start (host, "
                    "opinion leader, the one who answers questions) and what honour or reward "
                    "the middle tier gets."
                ),
                "zh-hans": (
                    "至少设计三层：群主、中间层（管理员、群管、组长）、普通成员。写明开群初期由谁"
                    "扮演关键角色（主持人、意见领袖、答疑的“大佬”），以及中间层能得到什么荣誉和激励。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=6,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={"en": "Design the points and levels", "zh-hans": "设计积分与等级体系"},
            guidance={
                "en": (
                    "List the behaviours you want and what each earns, e.g. check-in +1, "
                    "answering a question +2, a guest-worthy share +5, inviting a friend who "
                    "stays +3. Then set levels with rights members care about (early access, "
                    "joining the core group, hosting a session) — tied to taking part, not only "
                    "to buying."
                ),
                "zh-hans": (
                    "列出希望鼓励的行为和对应积分，例如打卡 +1、回答问题 +2、优质分享 +5、"
                    "邀请好友并留存 +3；再设置等级和成员在意的权益（优先报名、进入核心群、"
                    "担任主持）。积分要和参与、贡献挂钩，而不只是和消费挂钩。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=8,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={
                "en": "Draft the first month's activity calendar",
                "zh-hans": "排出第一个月的活动日历",
            },
            guidance={
                "en": (
                    "The first month decides whether the group lives. Put fixed columns "
                    "(morning post, evening summary), a weekly topic discussion, at least one "
                    "guest sharing and a check-in challenge into the calendar, and enter how "
                    "many activities you scheduled."
                ),
                "zh-hans": (
                    "第一个月决定社群能不能活下来。把固定栏目（早安、晚间总结）、每周一次话题讨论、"
                    "至少一场嘉宾分享和一个打卡挑战排进活动日历，填写排了多少场活动。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=10,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={
                "en": "Set the figures to watch and the review dates",
                "zh-hans": "定好数据指标和复盘时间",
            },
            guidance={
                "en": (
                    "Write the targets for the two core indicators — how often members interact "
                    "and how many are regularly active — plus 7-day and 30-day retention. Book "
                    "a review at the end of the first month and decide in advance what you will "
                    "change if the group is going quiet."
                ),
                "zh-hans": (
                    "写下两个核心指标的目标：成员互动频率和稳定活跃的主流人群规模，再加上 7 日和 "
                    "30 日留存。约好第一个月末的复盘时间，并提前想好群变冷时准备换什么新元素。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=13,
            input_kind=InputKind.NOTE,
        ),
    ),
)


SETUP = Builtin(
    key="setup",
    phase=Phase.SETUP,
    name={"en": "Group setup", "zh-hans": "社群基础搭建SOP"},
    description={
        "en": (
            "The week before opening: name, avatar, rules, announcement, welcome text, "
            "auto-replies, roles, squads and check-ins — then seed members and a dry run."
        ),
        "zh-hans": (
            "开群前一周：群名、群头像、群规、群公告、欢迎语、关键词回复、角色分工、小组和打卡，"
            "最后拉入种子成员并走一遍流程。"
        ),
    },
    duration_days=7,
    items=(
        BuiltinItem(
            title={"en": "Name the group", "zh-hans": "确定群名"},
            guidance={
                "en": (
                    'Brand + what it is about + number, e.g. "Acme Reading Club · Group 1". '
                    "Keep it short enough to show in full on a phone chat list, and use the same "
                    "pattern across all groups of the matrix."
                ),
                "zh-hans": (
                    "品牌 + 主题 + 编号，例如“XX读书会·1群”。长度以手机聊天列表能完整显示为准，"
                    "同一矩阵里的群用同一种命名规则。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(12),
            offset_days=0,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={"en": "Set the group avatar", "zh-hans": "设置群头像"},
            guidance={
                "en": (
                    "Use the brand logo or one recognisable image that still reads at thumbnail "
                    "size; the groups of one matrix share the same style so members spot them."
                ),
                "zh-hans": (
                    "用品牌标志或一张辨识度高的图，缩成小图也要看得清；同一矩阵的群风格统一，"
                    "方便成员一眼认出。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=0,
        ),
        BuiltinItem(
            title={"en": "Write the group rules", "zh-hans": "制定群规"},
            guidance={
                "en": (
                    "Four parts: entry standard, encouraged behaviours, forbidden behaviours, "
                    "rewards and penalties. Be concrete about what is encouraged (share a "
                    "resource, answer a question, check in daily), not only what is banned, and "
                    "state plainly that ad posters are removed without exception. Link the "
                    "document."
                ),
                "zh-hans": (
                    "群规分四部分：入群标准、鼓励的行为、禁止的行为、奖惩措施。鼓励什么要写具体"
                    "（分享资料、回答问题、每日打卡），不要只写禁止什么；并明确写出发广告者一律移出。"
                    "填写群规文档的链接。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=1,
            input_kind=InputKind.LINK,
        ),
        BuiltinItem(
            title={"en": "Publish and pin the group announcement", "zh-hans": "发布并置顶群公告"},
            guidance={
                "en": (
                    "Lead with value: what the group gives, then the rules, the penalties and "
                    "the vision. Fill in the brackets, post it as the group announcement so "
                    "everyone is notified, and keep it under one phone screen."
                ),
                "zh-hans": (
                    "价值先行：先说群能给成员什么，再说群规、处罚和愿景。把括号里的内容补全，"
                    "用“群公告”发布（所有人都会收到提醒），篇幅控制在手机一屏以内。"
                ),
            },
            role=ItemRole.MODERATOR,
            due_time=_clock(20),
            offset_days=2,
            message={
                "en": (
                    "[Announcement] Welcome to {community}!\n"
                    "1. What you get here: (one line on the value of the group)\n"
                    "2. Encouraged: sharing useful resources, answering questions, daily "
                    "check-ins (each earns points)\n"
                    "3. Not allowed: ads, flooding the chat, adding members privately to sell "
                    "to them\n"
                    "4. Penalties: ad posters are removed at once; other breaches get one "
                    "warning, then removal\n"
                    "5. Our vision: (where we want to be together in a year)\n"
                    "New here? Introduce yourself first, and @ an admin with any question."
                ),
                "zh-hans": (
                    "【群公告】欢迎来到{community}！\n"
                    "一、本群价值：（一句话说清成员能在这里得到什么）\n"
                    "二、鼓励：分享干货资料、回答问题、每日打卡（都有积分）\n"
                    "三、禁止：发广告、刷屏、私加群友推销\n"
                    "四、处罚：发广告者直接移出；其他违规提醒一次，再犯移出\n"
                    "五、我们的愿景：（一年后我们想一起达成什么）\n"
                    "新朋友请先做自我介绍，有问题随时@管理员。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Write the welcome text", "zh-hans": "写好新人欢迎语"},
            guidance={
                "en": (
                    "Three parts: greet newcomers by name, point them to the rules, give them a "
                    "first action (a self-introduction template). Set it as the group "
                    "assistant's automatic welcome if you use one; the daily SOP posts it too."
                ),
                "zh-hans": (
                    "欢迎语三要素：点名欢迎、指引看群规、给一个马上能做的动作（自我介绍模板）。"
                    "如果用了群助手，把它设成入群自动欢迎语；日常维护SOP 也会用到它。"
                ),
            },
            role=ItemRole.MODERATOR,
            due_time=_clock(20),
            offset_days=2,
            message={
                "en": (
                    "Welcome to {community}, {newcomers}! Please read the rules in the group "
                    "announcement, then introduce yourself:\n"
                    "I'm ____, based in ____, working in ____, and I hope to ____ here."
                ),
                "zh-hans": (
                    "欢迎 {newcomers} 加入{community}！请先看一下群公告里的群规，然后按这个格式做个"
                    "自我介绍吧：\n我是____，在____（城市），从事____，希望在这里____。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Set up keyword auto-replies", "zh-hans": "设置关键词自动回复"},
            guidance={
                "en": (
                    'In the group assistant, add replies for the words members ask most: "rules", '
                    '"check-in", "activity", "resources", "invite". Enter how many keywords you '
                    "set; test each one in the group."
                ),
                "zh-hans": (
                    "在群助手里为成员最常问的词设置自动回复：“群规”“打卡”“活动”“资料”“邀请”。"
                    "填写设置了几个关键词，并逐个在群里试一遍。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=3,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={"en": "Assign the roles in the group", "zh-hans": "分配群内角色"},
            guidance={
                "en": (
                    "Make admins and moderators admins in the chat app, and agree who plays the "
                    "key roles at the start: the host, the opinion leader, the expert who "
                    "answers, the one who keeps the mood light. Early on staff and friends play "
                    "them; note who does what."
                ),
                "zh-hans": (
                    "在聊天软件里设置好管理员，并约定开群初期由谁扮演关键角色：主持人、意见领袖、"
                    "负责答疑的大佬、活跃气氛的团宠。初期由工作人员和朋友担任，记下分工。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=4,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={
                "en": "Set up check-ins, points and squads",
                "zh-hans": "设置打卡、积分和小组",
            },
            guidance={
                "en": (
                    "Configure the daily check-in (what counts as done, the deadline, the "
                    "penalty for missing it) and the points from the planning SOP. Split "
                    "members into squads of 5–10 with a leader each, and enter the number of "
                    "squads."
                ),
                "zh-hans": (
                    "设置每日打卡（怎样算完成、截止时间、没完成怎么罚）和规划SOP 里定好的积分规则。"
                    "把成员分成 5–10 人一组，每组一位组长，填写小组数量。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=5,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={"en": "Squad leaders greet their squad", "zh-hans": "组长联系组员"},
            guidance={
                "en": (
                    "Each squad leader messages every member of the squad: introduce yourself, "
                    "explain the check-in, and agree how you will remind and encourage each "
                    "other. Members who have a buddy stay much longer."
                ),
                "zh-hans": (
                    "每位组长逐一私聊组员：介绍自己、讲清打卡要求、约好互相提醒和鼓励的方式。"
                    "有“同桌”陪伴的成员，留存会高很多。"
                ),
            },
            role=ItemRole.SQUAD_LEADER,
            due_time=_clock(21),
            offset_days=6,
        ),
        BuiltinItem(
            title={
                "en": "Seed members and a dry run before opening",
                "zh-hans": "拉入种子成员并试运行",
            },
            guidance={
                "en": (
                    "Invite 10–20 seed members (staff, friends, first fans) before the public "
                    "opening so the group never looks empty. Walk through welcome, "
                    "announcement, auto-replies and check-in once, and fix what breaks."
                ),
                "zh-hans": (
                    "正式开放前先拉 10–20 位种子成员（工作人员、朋友、第一批铁粉），避免新人进来"
                    "看到空群。把欢迎语、群公告、自动回复、打卡完整走一遍，发现问题当场修好。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(21),
            offset_days=6,
        ),
    ),
)


GROWTH = Builtin(
    key="growth",
    phase=Phase.GROWTH,
    name={"en": "Growth", "zh-hans": "社群运营增长SOP"},
    description={
        "en": (
            "A 30-day push: invitations through several channels, a referral campaign, "
            "screening, first-week follow-up, growing core members, and the month-end review."
        ),
        "zh-hans": (
            "为期 30 天的增长计划：多渠道邀请、老带新裂变、入群审核、新人首周跟进、培养骨干，"
            "以及月底复盘。"
        ),
    },
    duration_days=30,
    items=(
        BuiltinItem(
            title={
                "en": "Prepare the invitation poster and text",
                "zh-hans": "准备邀请海报和邀请话术",
            },
            guidance={
                "en": (
                    "The poster says in one line what members get, who it is for and how to "
                    "join. Group QR codes expire after a few days, so use a long-lived code "
                    "(a staff account or the group assistant's). Link the poster."
                ),
                "zh-hans": (
                    "海报一句话讲清成员能得到什么、适合谁、怎么加入。群二维码几天就会过期，"
                    "请用长期有效的码（工作人员个人号或群助手的活码）。填写海报链接。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=0,
            input_kind=InputKind.LINK,
        ),
        BuiltinItem(
            title={"en": "Turn on entry screening", "zh-hans": "开启入群审核"},
            guidance={
                "en": (
                    "Ask every applicant for interests, industry and region, and use a "
                    "keyword-triggered invitation so only those who answered get in. Turn away "
                    "accounts that look like marketing accounts — removing an ad poster later "
                    "costs more."
                ),
                "zh-hans": (
                    "每位申请人都要回答兴趣、行业、地区，用关键词触发邀请，答完才能进群。"
                    "看起来像营销号的账号直接拒绝——事后再清理广告，代价更大。"
                ),
            },
            role=ItemRole.MODERATOR,
            due_time=_clock(18),
            offset_days=1,
        ),
        BuiltinItem(
            title={"en": "Launch the referral campaign", "zh-hans": "发起老带新裂变活动"},
            guidance={
                "en": (
                    "Pick a reward members actually want (points, a course, a meetup seat), "
                    "count only friends who join and introduce themselves, and set an end date. "
                    "Post the message, then pin it for the campaign's length."
                ),
                "zh-hans": (
                    "奖励要选成员真正想要的（积分、课程、线下活动名额），只统计进群并完成自我介绍的"
                    "好友，并写明截止日期。发出下面的消息，活动期间置顶。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(20),
            offset_days=3,
            message={
                "en": (
                    "[Invite a friend] {community} is growing!\n"
                    "From today until ____, for every friend you invite who joins and "
                    "introduces themselves you get ____ points; invite three and you also get "
                    "____.\n"
                    "How: send the invitation poster to a friend and ask them to mention your "
                    "name when they join."
                ),
                "zh-hans": (
                    "【老带新活动】{community}邀请好友计划开启啦！\n"
                    "即日起至____，每邀请 1 位好友进群并完成自我介绍，你就能获得____积分；"
                    "满 3 人再送____。\n"
                    "参与方式：把邀请海报发给好友，请他入群时备注你的昵称。"
                ),
            },
        ),
        BuiltinItem(
            title={
                "en": "Spread the invitation through your channels",
                "zh-hans": "多渠道投放邀请",
            },
            guidance={
                "en": (
                    "Post it on your social feed and official account, in the other groups of "
                    "your matrix and with partners, each with its own code or note so you can "
                    "tell later which channel brought whom. Note the channels used."
                ),
                "zh-hans": (
                    "发到朋友圈、公众号、矩阵里的其他群和合作伙伴那里，每个渠道用不同的码或备注，"
                    "方便之后统计哪个渠道带来了谁。记录用了哪些渠道。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=5,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={"en": "Screen the week's applications", "zh-hans": "审核本周入群申请"},
            guidance={
                "en": (
                    "Go through pending applications, let in those who fit the member "
                    "description and kindly decline the rest. Enter how many you let in; if "
                    "most applicants do not fit, the poster is reaching the wrong people."
                ),
                "zh-hans": (
                    "处理待审核的申请：符合成员画像的通过，不符合的礼貌拒绝。填写通过人数；"
                    "如果大部分申请人都不符合，说明海报投错了人群。"
                ),
            },
            role=ItemRole.MODERATOR,
            due_time=_clock(18),
            offset_days=7,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={"en": "Follow up on newcomers' first week", "zh-hans": "跟进新人首周"},
            guidance={
                "en": (
                    "Each squad leader messages newcomers who have not spoken yet: ask how it "
                    "is going and invite them to the next check-in or topic. Enter how many "
                    "newcomers have spoken at least once in their first week."
                ),
                "zh-hans": (
                    "组长私聊还没发过言的新人，问问感受，邀请他参加下一次打卡或话题讨论。"
                    "填写入群一周内至少发言过一次的新人数量。"
                ),
            },
            role=ItemRole.SQUAD_LEADER,
            due_time=_clock(21),
            offset_days=10,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={"en": "Spot and grow core members", "zh-hans": "发现并培养骨干成员"},
            guidance={
                "en": (
                    "Name 3–5 members who answer, share or check in most, and invite them to "
                    "become squad leaders or moderators, with a title and a reward. The owner "
                    "cannot manage hundreds alone; this is how the pyramid grows."
                ),
                "zh-hans": (
                    "找出 3–5 位最常答疑、分享或打卡的成员，邀请他们担任组长或群管，"
                    "给头衔、给激励。群主管不过来几百人，用户金字塔就是这样一层层长出来的。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=14,
            input_kind=InputKind.NOTE,
        ),
        BuiltinItem(
            title={"en": "Review the referral campaign", "zh-hans": "复盘裂变活动"},
            guidance={
                "en": (
                    "Enter how many members the campaign brought. Compare channels and the "
                    "cost of rewards per member who stayed, and decide whether to run it "
                    "again, change the reward or stop."
                ),
                "zh-hans": (
                    "填写裂变活动带来的新成员人数。对比各渠道效果和每位留存成员的奖励成本，"
                    "决定是再来一轮、换奖励，还是停掉。"
                ),
            },
            role=ItemRole.OPERATOR,
            due_time=_clock(18),
            offset_days=20,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={"en": "Month-end growth review", "zh-hans": "月度增长复盘"},
            guidance={
                "en": (
                    "Write down members joined and left, 30-day retention and how many are "
                    "regularly active, against the goals from the planning SOP. If growth has "
                    "stalled, bring in something new: people, topics or a sharper position."
                ),
                "zh-hans": (
                    "对照规划SOP 的目标，记录本月新增和退群人数、30 日留存、稳定活跃人数。"
                    "如果增长停滞，就要引入新元素：新的人、新的话题，或重新定位。"
                ),
            },
            role=ItemRole.OWNER,
            due_time=_clock(18),
            offset_days=29,
            input_kind=InputKind.NOTE,
        ),
    ),
)


DAILY = Builtin(
    key="daily",
    phase=Phase.DAILY,
    name={"en": "Daily maintenance", "zh-hans": "社群日常维护SOP"},
    description={
        "en": "The moderator's day in the group: greet, post, clean, answer, sum up, log.",
        "zh-hans": "群管理员在群里的一天：早安、欢迎新人、清理广告、答疑、晚间总结、记录。",
    },
    items=(
        BuiltinItem(
            title={"en": "Post the morning greeting", "zh-hans": "发早安问候"},
            guidance={
                "en": (
                    "Post it before 09:00, when members first open the group. Add one line of "
                    "your own (the weather, a small tip) so it does not read like a robot."
                ),
                "zh-hans": (
                    "在 9 点前发出，成员早上第一次打开群时就能看到。加一句自己的话（天气、一个小"
                    "提示），别让人觉得是机器人在发。"
                ),
            },
            due_time=_clock(9),
            message={
                "en": (
                    "Good morning, {community}! Today is {date}. Coming up: {next_topic}. "
                    "Today's check-in is open; post yours before 22:00."
                ),
                "zh-hans": (
                    "{community}的朋友们，早安！今天是{date}。近期活动：{next_topic}。"
                    "今日打卡已开启，记得在 22:00 前完成哦。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Share the workday morning brief", "zh-hans": "分享工作日早报"},
            guidance={
                "en": (
                    "Three items of industry news, each with a headline and one line of your "
                    "own take, then a question to start the conversation. Weekdays only: "
                    "at weekends members want lighter content."
                ),
                "zh-hans": (
                    "选 3 条行业资讯，每条写标题加一句自己的点评，最后抛一个问题引发讨论。"
                    "只在工作日发，周末大家更想看轻松的内容。"
                ),
            },
            due_time=_clock(9, 30),
            weekdays="12345",
            message={
                "en": (
                    "[{community} morning brief · {date}]\n"
                    "1. (headline + one line on why it matters)\n"
                    "2. (headline + one line on why it matters)\n"
                    "3. (headline + one line on why it matters)\n"
                    "Which one matters most to you? Tell us here."
                ),
                "zh-hans": (
                    "【{community}早报 · {date}】\n"
                    "1. （标题 + 一句话点评）\n"
                    "2. （标题 + 一句话点评）\n"
                    "3. （标题 + 一句话点评）\n"
                    "你最关注哪一条？欢迎在群里聊聊。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Remind everyone of the rules", "zh-hans": "周一群规提醒"},
            guidance={
                "en": (
                    "Every Monday, repeat what is encouraged as well as what is banned; "
                    "newcomers from the past week have often not read the announcement."
                ),
                "zh-hans": (
                    "每周一提醒一次，既说鼓励什么，也说禁止什么；上周进来的新人往往还没看过群公告。"
                ),
            },
            due_time=_clock(10),
            weekdays="1",
            message={
                "en": (
                    "[Rules reminder] A new week in {community}!\n"
                    "Encouraged: sharing useful resources, answering questions, daily "
                    "check-ins.\n"
                    "Not allowed: ads, flooding the chat, adding members privately to sell to "
                    "them.\n"
                    "Ad posters are removed at once; other breaches get one warning. The full "
                    "rules are in the group announcement. Thanks for keeping this a good place!"
                ),
                "zh-hans": (
                    "【群规提醒】新的一周开始啦！提醒{community}的伙伴们：\n"
                    "鼓励：分享干货、回答问题、每日打卡。\n"
                    "禁止：发广告、刷屏、私加群友推销。\n"
                    "发广告者直接移出，其他违规提醒一次、再犯移出。完整群规见群公告，"
                    "谢谢大家一起维护好这个群！"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Start the weekend light topic", "zh-hans": "发起周末轻话题"},
            guidance={
                "en": (
                    "Saturdays and Sundays: one easy question anyone can answer in a line, "
                    "not work. Reply to the first answers yourself so the thread gets going."
                ),
                "zh-hans": (
                    "周六、周日发一个谁都能用一句话回答的轻松话题，别聊工作。前几条回复你要亲自接话，"
                    "把讨论带起来。"
                ),
            },
            due_time=_clock(15),
            weekdays="67",
            message={
                "en": (
                    "Happy weekend, {community}! A light one for today: (your question, e.g. "
                    "the best small thing that happened to you this week). The first three to "
                    "reply get 2 points each."
                ),
                "zh-hans": (
                    "{community}的伙伴们，周末愉快！今天聊个轻松的：（写下话题，比如“这周让你最开心的一件小事”）。"
                    "前 3 位回复的伙伴各加 2 积分～"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Welcome today's newcomers", "zh-hans": "欢迎今日新人"},
            guidance={
                "en": (
                    "Welcome everyone who joined today by name, and reply to each "
                    "self-introduction with a line of your own. If someone has not introduced "
                    "themselves, send them a friendly private message instead of calling them "
                    "out."
                ),
                "zh-hans": (
                    "点名欢迎今天进群的每一位，对每条自我介绍都回一句。还没做自我介绍的新人，"
                    "私聊友好提醒，不要在群里点名催。"
                ),
            },
            due_time=_clock(20),
            message={
                "en": (
                    "Welcome to {community}, {newcomers}! Please read the rules in the group "
                    "announcement, then introduce yourself:\n"
                    "I'm ____, based in ____, working in ____, and I hope to ____ here.\n"
                    "Any questions, just @ me."
                ),
                "zh-hans": (
                    "欢迎 {newcomers} 加入{community}！请先看一下群公告里的群规，然后按这个格式做个"
                    "自我介绍吧：\n我是____，在____（城市），从事____，希望在这里____。\n"
                    "有问题随时@我。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Clear ads and spam", "zh-hans": "清理广告和违规消息"},
            guidance={
                "en": (
                    "An ad poster: screenshot it as evidence, delete the message and remove "
                    "the member at once, without exception — one ad left standing invites the "
                    "next. A member who is merely off-topic gets a private reminder first. "
                    "Enter how many you removed today."
                ),
                "zh-hans": (
                    "遇到发广告的：先截图留证，撤回消息，立即移出群聊，没有例外——留下一条广告就会"
                    "招来下一条（破窗效应）。只是偏题的正常成员，先私聊提醒。填写今天清理了几条/几人。"
                ),
            },
            due_time=_clock(21),
            input_kind=InputKind.NUMBER,
            message={
                "en": (
                    "The ad just posted has been removed, together with its poster. A reminder: "
                    "ads are not allowed in {community}, and whoever posts one leaves the group."
                ),
                "zh-hans": (
                    "刚才的广告已清理，发布者已移出群聊。再次提醒：{community}禁止发广告，"
                    "一经发现直接移出。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Answer members' questions", "zh-hans": "解答成员问题"},
            guidance={
                "en": (
                    "No question should wait more than two hours. If you do not know, @ the "
                    "member who does (a hidden expert is glad to be asked), and add good "
                    "answers to the FAQ. Enter how many questions were answered today."
                ),
                "zh-hans": (
                    "任何问题都不要晾超过两小时。自己不会的就@懂行的成员（隐藏大佬很乐意被请教），"
                    "好的回答整理进常见问题。填写今天解答了几个问题。"
                ),
            },
            due_time=_clock(21),
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={"en": "Post the evening summary", "zh-hans": "发晚间总结"},
            guidance={
                "en": (
                    "Three parts: 1. the day's 2–3 best discussions or shares, 2. check-ins "
                    "and the top point earners, 3. what is coming next. Thank people by name; "
                    "paste the link to the message if your app has one."
                ),
                "zh-hans": (
                    "三段式：1. 今日精华（2–3 条最有价值的讨论或分享）；2. 打卡情况和积分前三；"
                    "3. 明日预告。点名感谢发言的伙伴；聊天软件能复制消息链接的话就贴上。"
                ),
            },
            due_time=_clock(22),
            input_kind=InputKind.LINK,
            input_required=False,
            message={
                "en": (
                    "[{community} daily wrap-up · {date}]\n"
                    "1. Highlights: (the 2–3 most useful discussions or shares)\n"
                    "2. Check-ins and points: ____ checked in today; top three: ____, ____, "
                    "____\n"
                    "3. Coming up: {next_topic}\n"
                    "Thanks to everyone who spoke today. Good night!"
                ),
                "zh-hans": (
                    "【{community}今日总结 · {date}】\n"
                    "1. 今日精华：（2–3 条最有价值的讨论或分享）\n"
                    "2. 打卡与积分：今日打卡____人，积分前三：____、____、____\n"
                    "3. 明日预告：{next_topic}\n"
                    "感谢今天每一位发言的伙伴，晚安！"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Log the day", "zh-hans": "记录今日群况"},
            guidance={
                "en": (
                    "How did the group feel today? Part of a day in silence is normal; if it "
                    "was quiet all day, start a topic first thing tomorrow instead of waiting — "
                    "silence for more than a day is how groups die."
                ),
                "zh-hans": (
                    "今天群里气氛怎么样？一天里有一段时间安静很正常；如果一整天都冷清，明天一早就"
                    "主动发起话题，别等——沉默超过一天，群就开始走向死群。"
                ),
            },
            due_time=_clock(22, 30),
            input_kind=InputKind.CHOICE,
            choices=MOOD_CHOICES,
        ),
    ),
)


ACTIVITY = Builtin(
    key="activity",
    phase=Phase.ACTIVITY,
    name={"en": "Activity", "zh-hans": "社群活动SOP"},
    description={
        "en": (
            "Before, during and after each guest sharing, topic discussion, meetup or Q&A "
            "clinic: confirm, announce, remind, warm up, host, sum up, thank, record, ask."
        ),
        "zh-hans": (
            "每场嘉宾分享、话题讨论、线下聚会、答疑门诊的活动前、活动中、活动后：确认、预告、"
            "提醒、暖场、主持、总结、致谢、记录、收集反馈。"
        ),
    },
    entry_kinds=("guest", "topic", "meetup", "clinic"),
    items=(
        BuiltinItem(
            title={"en": "Confirm the guest, topic and format", "zh-hans": "确认嘉宾、主题和形式"},
            guidance={
                "en": (
                    "Three days before: confirm with the guest the title, the time, the length "
                    "(e.g. 30 minutes of talk and 15 of Q&A) and an outline. For a topic "
                    "discussion fix the one question; for a meetup the venue and how many can "
                    "come."
                ),
                "zh-hans": (
                    "提前 3 天和嘉宾确认题目、时间、时长（例如分享 30 分钟 + 问答 15 分钟）和大纲。"
                    "话题讨论要定好讨论的问题；线下聚会要定好场地和人数上限。"
                ),
            },
            role=ItemRole.OPERATOR,
            anchor=DueAnchor.OCCURRENCE_START,
            offset_minutes=-3 * DAY,
            input_kind=InputKind.NOTE,
            input_required=False,
        ),
        BuiltinItem(
            title={"en": "Send the outline and a short bio", "zh-hans": "提交分享大纲和个人简介"},
            guidance={
                "en": (
                    "Send the host your outline with the three points you want people to take "
                    "away, a two-line bio for the introduction, and your slides if you use "
                    "them. For an online talk, test your microphone and screen sharing once."
                ),
                "zh-hans": (
                    "把分享大纲（希望大家记住的 3 个要点）、用于开场介绍的两行个人简介和课件发给"
                    "主持人。线上分享请提前试一次麦克风和屏幕共享。"
                ),
            },
            role=ItemRole.GUEST,
            anchor=DueAnchor.OCCURRENCE_START,
            offset_minutes=-2 * DAY,
            input_kind=InputKind.LINK,
            input_required=False,
        ),
        BuiltinItem(
            title={"en": "Announce the activity", "zh-hans": "发布活动预告"},
            guidance={
                "en": (
                    "One day before: post the announcement with the time, what members will "
                    "take away and how to take part, invite questions in advance, and relay it "
                    "to the other groups of your matrix."
                ),
                "zh-hans": (
                    "提前 1 天发预告：写清时间、成员能收获什么、怎么参与，请大家提前留问题，"
                    "并同步转发到矩阵里的其他群。"
                ),
            },
            anchor=DueAnchor.OCCURRENCE_START,
            offset_minutes=-DAY,
            message={
                "en": (
                    "[Coming up] Tomorrow in {community}: {next_topic}\n"
                    "Time: starts at ____ sharp (about ____ minutes)\n"
                    "What you'll take away: (three points)\n"
                    "Post your questions here in advance and they will be answered in the "
                    "session."
                ),
                "zh-hans": (
                    "【活动预告】明天{community}有一场活动：{next_topic}\n"
                    "时间：____准时开始（约____分钟）\n"
                    "你将收获：（写 3 点）\n"
                    "有问题可以提前在群里留言，活动中会集中解答。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Remind 30 minutes before", "zh-hans": "开始前 30 分钟提醒"},
            guidance={
                "en": (
                    "Post the reminder and @all if your app allows it, and ping the guest "
                    "privately to check they are ready."
                ),
                "zh-hans": "发出提醒，能@所有人就@所有人；同时私聊嘉宾，确认已经准备就绪。",
            },
            anchor=DueAnchor.OCCURRENCE_START,
            offset_minutes=-30,
            message={
                "en": (
                    "[Starting in 30 minutes] {next_topic}\n"
                    "Please be here on time. During the talk, hold off on side chat; note "
                    "your questions and ask them in the Q&A."
                ),
                "zh-hans": (
                    "【30 分钟后开始】{next_topic}\n"
                    "请大家准时参加。分享期间先暂停闲聊，问题记下来，问答环节统一提问。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Warm up the group", "zh-hans": "暖场"},
            guidance={
                "en": (
                    "Ten minutes before: ask everyone to sign in with a reply, and have two "
                    "or three core members answer first so the room fills up before the guest "
                    "speaks."
                ),
                "zh-hans": (
                    "开始前 10 分钟，请大家回复签到，并提前约好两三位骨干成员先回应，"
                    "让嘉宾开口前群里已经热起来。"
                ),
            },
            anchor=DueAnchor.OCCURRENCE_START,
            offset_minutes=-10,
            message={
                "en": (
                    "Ten minutes to go! Sign in first: reply 1 and the one question you most "
                    "want answered. We'll put a few of them to the guest live."
                ),
                "zh-hans": (
                    "还有 10 分钟开始！先来签个到：回复“1 + 你最想问的一个问题”，待会儿挑几个请嘉宾"
                    "现场回答。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Host the opening", "zh-hans": "主持开场"},
            guidance={
                "en": (
                    "Introduce the guest with their bio, say how long the talk and the Q&A "
                    "last and the one rule (questions wait for the Q&A), then hand over. If "
                    "you relay to other groups, start the relay now."
                ),
                "zh-hans": (
                    "用嘉宾简介做开场介绍，说明分享和问答各多长时间、以及唯一的规矩（问题留到问答"
                    "环节），然后把话筒交给嘉宾。如果要转播到其他群，现在开始转播。"
                ),
            },
            anchor=DueAnchor.OCCURRENCE_START,
            offset_minutes=0,
            message={
                "en": (
                    "Hello everyone, we're starting now! Today's guest is ____: (two-line "
                    "bio). The talk runs about ____ minutes, followed by Q&A. Please keep your "
                    "questions for the Q&A. Over to you, ____!"
                ),
                "zh-hans": (
                    "大家好，活动现在开始！先介绍今天的嘉宾____：（两行简介）。分享约____分钟，"
                    "之后是问答环节，分享期间请先不要插话，问题留到问答时提。有请____！"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Keep order during the talk", "zh-hans": "维持现场秩序"},
            guidance={
                "en": (
                    "Delete ads and remove their posters at once; remind people chatting "
                    "off-topic in a private message, not in the group, so the guest is not "
                    "interrupted. At a meetup, watch the time and the room."
                ),
                "zh-hans": (
                    "出现广告立刻撤回并移出发布者；闲聊偏题的私聊提醒，不在群里点名，避免打断嘉宾。"
                    "线下聚会则负责控场和把控时间。"
                ),
            },
            anchor=DueAnchor.OCCURRENCE_END,
            offset_minutes=0,
        ),
        BuiltinItem(
            title={"en": "Collect the questions for the Q&A", "zh-hans": "收集问答环节的问题"},
            guidance={
                "en": (
                    "Gather the questions from the announcement, the warm-up and the talk into "
                    "one list, merge duplicates and hand the guest the best ones first. Enter "
                    "how many questions were asked."
                ),
                "zh-hans": (
                    "把预告、暖场和分享中大家提的问题汇总成一张清单，合并重复的，把最有代表性的先交给"
                    "嘉宾回答。填写共收到几个问题。"
                ),
            },
            anchor=DueAnchor.OCCURRENCE_END,
            offset_minutes=-15,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={"en": "Thank the guest", "zh-hans": "感谢嘉宾"},
            guidance={
                "en": (
                    "Thank the guest in the group right after the end, then privately with a "
                    "personal message (and the agreed gift or fee). A guest who felt valued "
                    "comes back and brings friends."
                ),
                "zh-hans": (
                    "活动一结束就在群里感谢嘉宾，再私聊单独致谢（并兑现约定的礼品或酬劳）。"
                    "被认真对待的嘉宾，下次还会来，还会带朋友来。"
                ),
            },
            role=ItemRole.OPERATOR,
            anchor=DueAnchor.OCCURRENCE_END,
            offset_minutes=10,
            message={
                "en": (
                    "A big thank-you to ____ for today's talk, and to everyone who listened and "
                    "asked questions! The write-up will be posted here shortly."
                ),
                "zh-hans": (
                    "感谢嘉宾____今天的精彩分享！也谢谢每一位认真听讲、积极提问的伙伴。"
                    "活动总结稍后发到群里，欢迎收藏。"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Post the summary within 30 minutes", "zh-hans": "30 分钟内发活动总结"},
            guidance={
                "en": (
                    "While it is fresh: the 3–5 key points, the best questions with their "
                    "answers, and the next activity. Members who missed it read this, so make "
                    "it readable on its own; paste the link to the write-up."
                ),
                "zh-hans": (
                    "趁热打铁：3–5 个核心要点、精选问答、下一场活动预告。没赶上的成员会看这份总结，"
                    "所以要能独立读懂；填写总结的链接。"
                ),
            },
            anchor=DueAnchor.OCCURRENCE_END,
            offset_minutes=30,
            input_kind=InputKind.LINK,
            input_required=False,
            message={
                "en": (
                    "[Write-up] Today's session in {community}\n"
                    "1. Key points: (3–5 points)\n"
                    "2. Best questions and answers: (2–3)\n"
                    "3. Next up: {next_topic}\n"
                    "Missed it? This is for you. Keep the discussion going here!"
                ),
                "zh-hans": (
                    "【活动总结】{community}今日活动\n"
                    "1. 核心要点：（3–5 条）\n"
                    "2. 精选问答：（2–3 个）\n"
                    "3. 下期预告：{next_topic}\n"
                    "没赶上的伙伴可以看这份总结，欢迎在群里继续讨论！"
                ),
            },
        ),
        BuiltinItem(
            title={"en": "Record attendance and award points", "zh-hans": "统计出勤并发放积分"},
            guidance={
                "en": (
                    "Count who signed in or spoke (at a meetup, who came), award points to "
                    "active speakers and to the best question, and announce the top three in "
                    "the evening summary. Enter the attendance."
                ),
                "zh-hans": (
                    "统计签到或发言的人数（线下聚会统计到场人数），给积极发言和提出好问题的成员加积分，"
                    "在晚间总结里公布前三名。填写出勤人数。"
                ),
            },
            anchor=DueAnchor.OCCURRENCE_END,
            offset_minutes=120,
            input_kind=InputKind.NUMBER,
        ),
        BuiltinItem(
            title={"en": "Collect feedback the next day", "zh-hans": "次日收集反馈"},
            guidance={
                "en": (
                    "Ask three questions: a score from 1 to 5, the most useful part, one thing "
                    "to improve. Note the answers and the guest's own impressions; they shape "
                    "the next activity."
                ),
                "zh-hans": (
                    "问三个问题：打分（1–5 分）、最有收获的部分、一个改进建议。记录大家的反馈和嘉宾"
                    "自己的感受，用来改进下一场活动。"
                ),
            },
            role=ItemRole.OPERATOR,
            anchor=DueAnchor.CLOCK,
            due_time=_clock(20),
            offset_days=1,
            input_kind=InputKind.NOTE,
        ),
    ),
)


BUILTINS: tuple[Builtin, ...] = (PLANNING, SETUP, GROWTH, DAILY, ACTIVITY)


def builtin_get(key: str) -> Builtin | None:
    return next((builtin for builtin in BUILTINS if builtin.key == key), None)


def text_in(text: Text, language: str) -> str:
    """``text`` in ``language`` (a Django language code), falling back to English."""
    return text.get(language) or text.get("en", "")
