"""Demo checklists for ``manage.py seed_demo``: 30 days of daily SOP runs with a pattern.

- The built-in daily SOP is copied in Chinese and in English and used in every active demo
  community in its own language; the planning, setup, growth and activity SOPs are copied
  too (the templates page has all five).
- Two more moderators share the groups the demo moderator does not run: Sam Tan the three
  English ones, Liu Yang the other five — he is overloaded, and it shows in his figures.
- The last 30 local days of daily runs are ticked at each community's own rate: most
  between 75 and 90 % on time, Liu Yang's lower, and Product Design Guild slipping from
  about 85 % to about 30 % over the month. Deterministic (a fixed random seed).
- Today: the other groups' runs ticked at their rate so far; the demo moderator's with the
  morning's items done and the rest open, overdue or ahead (for them to tick).
- The activity SOP, edited to guest talks, in 一年读50本书·共读会 gives the next monthly
  guest talk its run; the newest running community's setup run, started three days ago, is
  half done; yesterday's overdue notices (read since) and today's go out.

Everything goes through the checklist services; past days are made with the runs
service's own run builder (``daily_runs_open`` only makes today's, for every organisation)
and ticked with ``item_tick(now=…)`` at the time they were done. Idempotent like the other
demo modules: nothing is added to an organisation that has SOP templates already.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from activities.calendar.models import CalendarEntry, EntryKind
from activities.calendar.selectors import entry_slots
from checklists import due
from checklists.models import ChecklistRun, InputKind, RunItem, SopTemplate, TemplateUse
from checklists.services import runs as run_services
from checklists.services.templates import template_copy_builtin, template_update, template_use_set
from communities.demo import ENGLISH_COMMUNITIES
from communities.models import Community, Notification, Organization, Role, Staff
from communities.notifications import notifications_mark_read
from communities.services import staff_user_create

HISTORY_DAYS = 30
DEMO_MODERATOR = "moderator"
# username, display name, the communities they run. The demo moderator keeps theirs
# (reading-50 and early-risers-camp, given by seed_demo).
MODERATORS = [
    ("moderator_sam", "Sam Tan", ["shanghai-runners", "design-guild", "sg-founders"]),
    (
        "moderator_liu",
        "Liu Yang 刘洋",
        [
            "python-beijing",
            "parents-hangzhou",
            "indie-hackers-cn",
            "feishu-productivity",
            "boardgames-weekend",
        ],
    ),
]
OVERLOADED_MODERATOR = "moderator_liu"
SLIPPING_COMMUNITY = "design-guild"
ACTIVITY_COMMUNITY = "reading-50"

# Share of the items due that are ticked on time, per community (Liu Yang's five are his
# overload: he keeps up in the two biggest and falls behind in the others).
ON_TIME = {
    "reading-50": 0.89,
    "early-risers-camp": 0.87,
    "shanghai-runners": 0.89,
    "sg-founders": 0.87,
    "python-beijing": 0.8,
    "indie-hackers-cn": 0.76,
    "parents-hangzhou": 0.6,
    "feishu-productivity": 0.56,
    "boardgames-weekend": 0.5,
}
SLIP_FROM, SLIP_TO = 0.88, 0.15
# Of the items not ticked on time, the share ticked late the same day (the rest never).
LATE_SHARE = 0.8

NUMBERS = {"low": (0, 4), "high": (3, 28)}
SETUP_NOTES = {
    "en": "Named it, checked the name is free on the platform, told the seed members.",
    "zh-hans": "已确定群名，并在平台上确认没有重名，告知了种子成员。",
}


def _local(day, clock: time, zone: ZoneInfo) -> datetime:
    return due.local_datetime(day, clock, zone)


def _moderators(organization: Organization, password: str, communities: dict) -> None:
    users = set(
        get_user_model()
        .objects.filter(username__in=[username for username, _name, _slugs in MODERATORS])
        .values_list("username", flat=True)
    )
    for username, display_name, slugs in MODERATORS:
        if username in users:
            continue
        staff_user_create(
            organization=organization,
            username=username,
            password=password,
            role=Role.MODERATOR,
            email=f"{username}@demo.communityops.local",
            first_name=display_name,
            communities=[communities[slug] for slug in slugs if slug in communities],
        )


def _rate(slug: str, index: int, rng: random.Random, day) -> float:
    """The on-time share for day ``index`` of the history (0 = 29 days ago)."""
    if slug == SLIPPING_COMMUNITY:
        base = SLIP_FROM + (SLIP_TO - SLIP_FROM) * index / (HISTORY_DAYS - 1)
    else:
        base = ON_TIME.get(slug, 0.8)
    weekend = -0.04 if day.isoweekday() >= 6 else 0.0
    return min(0.98, max(0.05, base + weekend + rng.uniform(-0.06, 0.06)))


def _value(item: RunItem, rng: random.Random) -> str:
    if item.input_kind == InputKind.NUMBER:
        low, high = NUMBERS["low" if item.message else "high"]
        return str(rng.randint(low, high))
    if item.input_kind == InputKind.CHOICE:
        options = item.choice_list
        return rng.choices(options, weights=[3, 6, 1][: len(options)] or None)[0]
    if item.input_kind == InputKind.LINK:
        return ""  # the daily summary's link is optional; chat apps rarely have one
    if item.input_kind == InputKind.NOTE:
        return SETUP_NOTES.get(item.run.language, SETUP_NOTES["en"])
    return ""


def _tick(item: RunItem, staff: Staff, at: datetime, rng: random.Random) -> None:
    run_services.item_tick(item=item, staff=staff, value=_value(item, rng), now=at)


def _tick_history(
    run: ChecklistRun, staff: Staff, rate: float, rng: random.Random, until: datetime
) -> int:
    """Each item on time with probability ``rate``, else late or never; nothing after
    ``until`` (today's items still ahead stay open)."""
    ticks = 0
    for item in run.items.select_related("run").order_by("position"):
        roll = rng.random()
        if roll < rate:
            at = item.due_at - timedelta(minutes=rng.randint(3, 80))
            at = max(at, run.starts_at + timedelta(hours=6))
        elif roll < rate + (1 - rate) * LATE_SHARE:
            at = min(
                item.due_at + timedelta(minutes=rng.randint(15, 150)),
                run.closes_at - timedelta(minutes=2),
            )
            if at <= item.due_at:
                continue
        else:
            continue
        if item.due_at > until or at > until:
            continue
        _tick(item, staff, at, rng)
        ticks += 1
    return ticks


def _tick_today(run: ChecklistRun, staff: Staff, now: datetime, rng: random.Random) -> int:
    """The morning's items done before they were due, the first one past due after them
    left open (overdue), the rest ahead."""
    zone = ZoneInfo(run.community.time_zone)
    items = list(run.items.select_related("run").order_by("due_at", "position"))
    past = [item for item in items if item.due_at <= now]
    morning = [item for item in past if item.due_at.astimezone(zone).hour < 12]
    if morning and len(morning) == len(past):
        morning = morning[:-1]  # nothing past due this afternoon: the last one is overdue
    ticks = 0
    for item in morning:
        at = max(item.due_at - timedelta(minutes=rng.randint(5, 40)), run.opens_at)
        _tick(item, staff, min(at, now), rng)
        ticks += 1
    return ticks


def _daily_run(use: TemplateUse, day, now: datetime) -> ChecklistRun | None:
    """The community's daily run of ``day``, as beat would have opened it that morning."""
    community = use.community
    zone = ZoneInfo(community.time_zone)
    if now < _local(day, due.DAILY_OPENS_AT, zone):
        return None
    return run_services._make_run(
        template=use.template,
        community=community,
        day=day,
        starts_at=due.day_bounds(day, zone)[0],
        assignee=run_services._assignee(use),
    )


def _daily(uses: list[TemplateUse], now: datetime, rng: random.Random) -> tuple[int, int]:
    made = ticks = 0
    for use in uses:
        community = use.community
        today = now.astimezone(ZoneInfo(community.time_zone)).date()
        for index in range(HISTORY_DAYS):
            day = today - timedelta(days=HISTORY_DAYS - 1 - index)
            # A camp or a flash group only has runs while it lasts.
            if (community.start_date and day < community.start_date) or (
                community.end_date and day > community.end_date
            ):
                continue
            run = _daily_run(use, day, now)
            if run is None:
                continue
            made += 1
            if run.assignee is None:
                continue
            if day == today and run.assignee.user.username == DEMO_MODERATOR:
                ticks += _tick_today(run, run.assignee, now, rng)
            else:
                rate = _rate(community.slug, index, rng, day)
                ticks += _tick_history(run, run.assignee, rate, rng, until=now)
    return made, ticks


def _next_guest_talk(organization: Organization, community: Community, now: datetime):
    entries = CalendarEntry.objects.filter(
        organization=organization,
        communities=community,
        kind=EntryKind.GUEST,
        cancelled_at__isnull=True,
    )
    upcoming = [
        (slot.starts_at, entry)
        for entry in entries
        for slot in entry_slots(entry, now, now + timedelta(days=45))
        if not slot.slot.cancelled and slot.starts_at > now
    ]
    return min(upcoming, key=lambda pair: pair[0], default=None)


def _activity(organization: Organization, template: SopTemplate, now: datetime) -> int:
    """The guest talks' SOP in the community that relays them; returns the runs made."""
    community = organization.communities.filter(slug=ACTIVITY_COMMUNITY).first()
    if community is None:
        return 0
    template_use_set(template=template, community=community)
    nxt = _next_guest_talk(organization, community, now)
    if nxt is None:
        return 0
    starts_at, entry = nxt
    made = run_services.activity_runs_sync(entry=entry, now=now)["created"]
    if not ChecklistRun.objects.filter(entry=entry, occurrence_starts_at=starts_at).exists():
        # Further off than beat's horizon (a monthly talk): make its run as the hourly sync
        # will in a few days, so the demo shows it.
        ahead = starts_at - run_services.ACTIVITY_HORIZON + timedelta(hours=1)
        made += run_services.activity_runs_sync(entry=entry, now=ahead)["created"]
    return made


def _setup(organization: Organization, templates: dict, now: datetime, rng) -> tuple[int, int]:
    """The newest running community's setup run, started three days ago, half done.
    Returns (runs, ticks)."""
    running = [
        community
        for community in organization.communities.filter(archived=False).order_by("-created_on")
        if not community.is_finished
    ]
    if not running:
        return 0, 0
    community = running[0]
    language = "en" if community.slug in ENGLISH_COMMUNITIES else "zh-hans"
    zone = ZoneInfo(community.time_zone)
    started = _local(now.astimezone(zone).date() - timedelta(days=3), time(10, 0), zone)
    run = run_services.run_start(
        template=templates[("setup", language)], community=community, now=started
    )
    if run.assignee is None:
        return 1, 0
    items = list(run.items.select_related("run").order_by("position"))
    half = items[: len(items) // 2]
    for item in half:
        at = min(item.due_at - timedelta(minutes=rng.randint(20, 180)), now)
        value = _value(item, rng)
        if item.input_kind == InputKind.LINK:
            value = f"https://docs.example.com/{community.slug}/rules"
        if item.input_kind == InputKind.NOTE and item.position == 1:
            value = community.name
        run_services.item_tick(item=item, staff=run.assignee, value=value, now=max(at, started))
    return 1, len(half)


def seed_checklists(
    *, organization: Organization, password: str, now: datetime | None = None
) -> dict[str, int]:
    """Templates, moderators, runs and ticks of the demo; ``now`` only for tests."""
    counts = {"templates": 0, "runs": 0, "ticks": 0, "notices": 0}
    if SopTemplate.objects.filter(organization=organization).exists():
        return counts
    now = now or timezone.now()
    rng = random.Random(20261130)  # noqa: S311 - demo data, not security
    communities = {c.slug: c for c in organization.communities.filter(archived=False)}
    _moderators(organization, password, communities)
    operator = get_user_model().objects.filter(username="operator").first()

    templates = {}
    for key, languages in [
        ("daily", ("zh-hans", "en")),
        ("activity", ("zh-hans",)),
        ("setup", ("zh-hans", "en")),
        ("growth", ("zh-hans",)),
        ("planning", ("zh-hans",)),
    ]:
        for language in languages:
            templates[(key, language)] = template_copy_builtin(
                organization=organization, key=key, language=language, by=operator
            )
            counts["templates"] += 1
    # Edited after copying, as an organisation would: this group's SOP is for guest talks.
    template_update(template=templates[("activity", "zh-hans")], data={"entry_kinds": "guest"})

    uses = []
    for slug, community in sorted(communities.items()):
        language = "en" if slug in ENGLISH_COMMUNITIES else "zh-hans"
        uses.append(template_use_set(template=templates[("daily", language)], community=community))
    made, ticks = _daily(uses, now, rng)
    counts["runs"] += made
    counts["ticks"] += ticks
    counts["runs"] += _activity(organization, templates[("activity", "zh-hans")], now)
    setup_runs, setup_ticks = _setup(organization, templates, now, rng)
    counts["runs"] += setup_runs
    counts["ticks"] += setup_ticks
    counts["notices"] = _notices(now)
    return counts


def _notices(now: datetime) -> int:
    """The overdue notices beat sent yesterday (read since) and those of today."""
    last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    yesterday = now - timedelta(days=1)
    announced = run_services.overdue_notify(now=yesterday)
    # History the service cannot write: when yesterday's notices went out.
    Notification.objects.filter(pk__gt=last).update(created_at=yesterday)
    for notification in Notification.objects.filter(pk__gt=last).select_related("staff"):
        notifications_mark_read(staff=notification.staff, notification_id=notification.pk)
    return announced + run_services.overdue_notify(now=now)
