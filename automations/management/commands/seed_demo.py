"""Create (once) a demo organisation with one staff user per role and believable groups.

Idempotent: each piece is created only if missing, so running it again adds only what
a newer version of this command knows about. Later features extend it so
that a newcomer who types ``make run`` sees every feature with data.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from activities.calendar.demo import seed_calendar
from activities.demo import seed_activity
from analytics.rollups import rollups_refresh_all, tier_days_backfill
from automations.demo import seed_automations
from checklists.demo import seed_checklists
from communities import services
from communities.demo import ENGLISH_COMMUNITIES, seed_communities
from communities.demo_team import seed_team
from communities.models import Community, Organization, Platform, Role
from members.demo import seed_erasure, seed_members

DEMO_ORG_SLUG = "demo"
DEMO_PASSWORD = "communityops-demo"  # noqa: S105 (documented in the README, demo only)

DEMO_STAFF = [
    # username, role, display name
    ("owner", Role.OWNER, "Lin Wei 林薇"),
    ("operator", Role.OPERATOR, "Zhang Hao 张昊"),
    ("manager", Role.MANAGER, "Emily Chen"),
    ("moderator", Role.MODERATOR, "Xiao Yu 小雨"),
]

# slug, name, platform, time zone, age in days, archived
DEMO_COMMUNITIES = [
    ("reading-50", "一年读50本书·共读会", Platform.WECHAT, "Asia/Shanghai", 420, False),
    ("early-risers-camp", "7天早起打卡训练营", Platform.WECHAT, "Asia/Shanghai", 12, False),
    ("python-beijing", "Python 北京技术交流群", Platform.WECOM, "Asia/Shanghai", 760, False),
    ("parents-hangzhou", "杭州宝妈育儿交流群", Platform.QQ, "Asia/Shanghai", 300, False),
    ("indie-hackers-cn", "Indie Hackers 中文社区", Platform.DISCORD, "Asia/Shanghai", 190, False),
    ("shanghai-runners", "Shanghai Runners Club", Platform.TELEGRAM, "Asia/Shanghai", 540, False),
    ("design-guild", "Product Design Guild", Platform.SLACK, "Europe/London", 88, False),
    ("sg-founders", "SG Founders Breakfast", Platform.WHATSAPP, "Asia/Singapore", 45, False),
    ("feishu-productivity", "飞书效率达人群", Platform.FEISHU, "Asia/Shanghai", 150, False),
    ("boardgames-weekend", "周末桌游局（线下）", Platform.OFFLINE, "Asia/Shanghai", 60, False),
    ("double11-flash", "双11快闪福利群", Platform.WECHAT, "Asia/Shanghai", 40, True),
]

MODERATOR_COMMUNITIES = ("reading-50", "early-risers-camp")


class Command(BaseCommand):
    help = "Create the demo organisation, its staff (one user per role) and communities."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DJANGO_ENV=production (creates users with a known password).",
        )

    @transaction.atomic
    def handle(self, *args, allow_production: bool = False, **options):
        if settings.PRODUCTION and not allow_production:
            raise CommandError(
                "seed_demo creates users with a published password; it refuses to run in "
                "production without --allow-production."
            )
        organization = Organization.objects.filter(slug=DEMO_ORG_SLUG).first()
        if organization is None:
            organization = services.organization_create(
                name="Demo 社群运营工作室", slug=DEMO_ORG_SLUG
            )
        created = {"communities": 0, "staff": 0}
        existing = set(organization.communities.values_list("slug", flat=True))
        today = timezone.localdate()
        for slug, name, platform, tz, age_days, archived in DEMO_COMMUNITIES:
            if slug in existing:
                continue
            services.community_create(
                organization=organization,
                name=name,
                slug=slug,
                platform=platform,
                time_zone=tz,
                created_on=today - timedelta(days=age_days),
                archived=archived,
                # Set at creation, so the default ladder is named in the group's language.
                announcement_language="en" if slug in ENGLISH_COMMUNITIES else "zh-hans",
            )
            created["communities"] += 1
        assigned = Community.objects.filter(
            organization=organization, slug__in=MODERATOR_COMMUNITIES
        )
        existing_users = set(
            get_user_model()
            .objects.filter(username__in=[username for username, _, _ in DEMO_STAFF])
            .values_list("username", flat=True)
        )
        for username, role, display_name in DEMO_STAFF:
            if username in existing_users:
                continue
            services.staff_user_create(
                organization=organization,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                email=f"{username}@demo.communityops.local",
                first_name=display_name,
                communities=assigned if role == Role.MODERATOR else (),
            )
            created["staff"] += 1
        seed_communities(organization=organization)
        seed_team(
            organization=organization,
            owner=get_user_model().objects.get(username="owner"),
            password=DEMO_PASSWORD,
        )
        operator = get_user_model().objects.get(username="operator")
        people = seed_members(organization=organization, staff_user=operator)
        self.stdout.write(
            f"Members: {people['members']} added, {people['applications']} applications "
            f"waiting, {people['violations']} violations."
        )
        activity = seed_activity(organization=organization, staff_user=operator)
        # After the chat history: attendance and check-ins go into the same event log.
        calendar = seed_calendar(organization=organization, staff_user=operator)
        self.stdout.write(
            f"Calendar: {calendar['entries']} entries, {calendar['attendance']} attendances "
            f"ticked, {calendar['challenges']} check-in challenges."
        )
        # After the calendar: the guest talks' SOP run hangs off its next occurrence.
        sops = seed_checklists(organization=organization, password=DEMO_PASSWORD)
        self.stdout.write(
            f"Checklists: {sops['templates']} SOP templates, {sops['runs']} runs, "
            f"{sops['ticks']} items ticked, {sops['notices']} overdue items announced."
        )
        # After the calendar and the checklists: announcements of its occurrences, outlets
        # and the week of messages that went out, recurring broadcasts, rules that fired.
        outgoing = seed_automations(organization=organization, staff_user=operator)
        self.stdout.write(
            f"Automations: {outgoing['outlets']} outlets, {outgoing['actions']} messages sent "
            f"this week, {outgoing['announcements']} announcements planned, "
            f"{outgoing['broadcasts']} recurring broadcasts, {outgoing['rules']} rules "
            f"({outgoing['firings']} firings), {outgoing['spam_hits']} spam message caught."
        )
        # One member asked to be erased: their events stay in the figures, anonymously.
        owner = get_user_model().objects.get(username="owner")
        erased = seed_erasure(organization=organization, owner_user=owner)
        # The dashboards read rollups; build them now rather than wait for the worker.
        rollups_refresh_all()
        # Snapshots of the tier pyramid start today; the demo's members joined (and were
        # promoted) over months, so their past days are reconstructed from that history.
        for community in organization.communities.all():
            tier_days_backfill(community=community)
        self.stdout.write(
            f"Activity: {activity['events']} events, {activity['imports']} import, "
            f"{activity['connectors']} connector added, {erased} member erased on request."
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {created['communities']} communities and "
                f"{created['staff']} staff users added (password {DEMO_PASSWORD!r})."
            )
        )
