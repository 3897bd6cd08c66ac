"""Every URL pattern of the project, and objects to point each one at.

Shared by the tests that walk all URLs (tenancy and roles in
``tests/communities/test_permissions.py``, bad input in ``tests/test_fuzz_urls.py``). The
list is read from the URLconf at collection time, so a URL added by a later feature is
covered without touching those tests; a URL with a new kind of parameter fails until
``sample_kwargs`` says which object to point it at.
"""

from datetime import date, time, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from activities.calendar import services as calendar_services
from activities.calendar.models import CalendarEntry
from activities.models import ImportRun
from automations.models import (
    ActionKind,
    ActionStatus,
    Broadcast,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Outlet,
    ScheduledAction,
)
from checklists.models import ChecklistRun, DueAnchor, Phase, SopTemplate
from checklists.services.runs import run_start
from checklists.services.templates import item_save, template_copy_builtin, template_use_set
from communities.models import Community, Connector, Invitation, Programme, Role, Staff
from members.models import Application, Membership
from members.services import application_link_get
from tests.factories import MembershipFactory, StaffFactory

# URL names reachable without signing in, each for a reason.
PUBLIC_URL_NAMES = {
    "login",  # the way in
    "set_language",  # the language switcher works on the login page too
    "healthz",  # load-balancer probe; answers only {"status": "ok"}
    # Load-balancer readiness probe: {"status": "ok"}, or 503 naming the failed service
    # ("database", "redis") and nothing else (tests/config/test_settings.py).
    "readyz",
    "activities:api-ingest",  # chat bots: authenticated by HMAC signature (test_webhook.py)
    # Scripts and BI tools: bearer-token authentication, 401 without (test_api.py).
    "api:communities",
    "api:metrics",
    "api:metric-csv",
    "api:portfolio",
    "api:openapi",  # the API's public description
    # The link is the credential: a random token, only its digest stored (test_team.py).
    "invitation-accept",
    # A fresh installation's first run: nobody can sign in yet; 404 once an organisation
    # exists (tests/communities/test_first_run.py).
    "first-run",
    # Password reset by e-mail: for people who cannot sign in; the same answer for every
    # address, throttled (tests/config/test_password_reset.py). The link's page checks it.
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    # Calendar apps cannot sign in: the feed's random key is the credential, only its
    # digest stored; unknown and revoked keys are a 404 (tests/activities/calendar/test_ics.py).
    "activities:calendar-feed",
    # A community's public application form: the link's random key finds it; it shows the
    # community's name and questions only, rate-limited (tests/members/test_apply.py).
    "members:apply",
    "members:apply-thanks",
}
# Django's admin is for superusers only and has its own login (tested in test_permissions).
EXCLUDED_NAMESPACES = {"admin"}


def iter_url_patterns(patterns=None, namespace=""):
    """``(namespaced name, pattern)`` for every named URL outside the excluded namespaces."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace in EXCLUDED_NAMESPACES:
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from iter_url_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


ALL_URLS = sorted(iter_url_patterns(), key=lambda item: item[0])
PRIVATE_URLS = [(name, p) for name, p in ALL_URLS if name not in PUBLIC_URL_NAMES]
# URL parameters that name the same thing for every organisation: the built-in SOPs ship
# with the product (checklists/builtin.py), so there is no other organisation's one to hide.
SHARED_PARAMETERS = {"builtin_key"}
OBJECT_URLS = [
    (name, p)
    for name, p in PRIVATE_URLS
    if p.pattern.converters and set(p.pattern.converters) - SHARED_PARAMETERS
]


def sample_kwargs(pattern: URLPattern, community: Community) -> dict:
    """Values for a URL's parameters that point at objects around ``community``."""
    sample = {
        "community_slug": lambda: community.slug,
        "programme_id": lambda: programme_of(community).pk,
        "member_id": lambda: membership_of(community).member_id,
        "membership_id": lambda: membership_of(community).pk,
        "application_id": lambda: application_of(community).pk,
        "import_id": lambda: import_of(community).pk,
        "connector_pk": lambda: connector_of(community).pk,
        "connector_id": lambda: connector_of(community).public_id,
        "chart": lambda: "activity",
        "metric": lambda: "activity",
        # A password-reset link: a staff user of the organisation, a token that is not valid.
        "uidb64": lambda: reset_uid_of(community),
        "token": lambda: "a1b2c3-0123456789abcdef",  # also an unknown invitation's link
        "staff_id": lambda: staff_of(community).pk,
        "invitation_id": lambda: invitation_of(community).pk,
        "challenge_id": lambda: challenge_of(community).pk,
        "key": lambda: "cal_unknown-feed-key",  # a calendar feed's key that names no feed
        "entry_id": lambda: entry_of(community).pk,
        "occurrence_key": lambda: occurrence_key_of(community),
        "run_id": lambda: run_of(community).pk,
        "run_item_id": lambda: run_of(community).items.order_by("position").first().pk,
        "template_id": lambda: sop_template_of(community).pk,
        "sop_item_id": lambda: sop_item_of(community).pk,
        "builtin_key": lambda: "daily",  # a built-in SOP (checklists/builtin.py)
        "outlet_id": lambda: outlet_of(community).pk,
        "action_id": lambda: action_of(community).pk,
        "delivery_id": lambda: delivery_of(community).pk,
        "broadcast_id": lambda: broadcast_of(community).pk,
        "rule_id": lambda: rule_of(community).pk,
        # The community's public application link (made on first use).
        "link_key": lambda: application_link_get(community=community).key,
        "image_format": lambda: "svg",
    }
    kwargs = {}
    for kwarg in pattern.pattern.converters:
        if kwarg not in sample:
            pytest.fail(f"Add a sample value for URL parameter {kwarg!r} to tests/urlwalk.py.")
        kwargs[kwarg] = sample[kwarg]()
    return kwargs


def sop_template_of(community: Community):
    """The organisation's copy of the built-in daily SOP, used by the community."""
    daily = SopTemplate.objects.filter(organization=community.organization, phase=Phase.DAILY)
    # The one the community uses first: a walk may have copied (or deleted) daily templates,
    # and a community uses one daily template at most.
    template = (
        daily.filter(uses__community=community).first()
        or daily.first()
        or template_copy_builtin(
            organization=community.organization, key="daily", language="zh-hans"
        )
    )
    if not template.uses.filter(community=community).exists():
        template_use_set(template=template, community=community)
    return template


def sop_item_of(community: Community):
    """The first item of the community's daily template (one is added if a walk deleted
    them all)."""
    template = sop_template_of(community)
    item = template.items.order_by("position").first()
    if item is None:
        item = item_save(
            template=template,
            data={"title": "早安问候", "anchor": DueAnchor.CLOCK, "due_time": time(9, 0)},
        )
    return item


def run_of(community: Community):
    """A run of the community: a setup run started by hand from the built-in setup SOP."""
    run = ChecklistRun.objects.filter(community=community).first()
    if run is None:
        setup = SopTemplate.objects.filter(
            organization=community.organization, phase=Phase.SETUP
        ).first() or template_copy_builtin(
            organization=community.organization, key="setup", language="zh-hans"
        )
        run = run_start(template=setup, community=community)
    return run


def challenge_of(community: Community):
    """A running check-in challenge of the community, with one participant."""
    from activities.calendar.challenges import challenge_create, participant_add
    from activities.calendar.models import Challenge

    challenge = Challenge.objects.filter(community=community).first()
    if challenge is None:
        today = timezone.localdate()
        challenge = challenge_create(
            community=community,
            data={
                "title": f"{community.name} 打卡",
                "start_date": today - timedelta(days=1),
                "days": 5,
                "deadline": time(23, 0),
                "keyword": "#打卡",
            },
        )
        participant_add(challenge=challenge, membership=membership_of(community))
    return challenge


def programme_of(community: Community) -> Programme:
    programme, _ = Programme.objects.get_or_create(
        organization=community.organization, name=f"{community.name} 矩阵"
    )
    return programme


def membership_of(community: Community) -> Membership:
    return Membership.objects.filter(community=community).first() or MembershipFactory(
        community=community, member__display_name=f"{community.name} 的成员"
    )


def application_of(community: Community) -> Application:
    return Application.objects.filter(community=community).first() or Application.objects.create(
        community=community, display_name="申请人", platform="wechat", external_id="wxid_x"
    )


def import_of(community: Community) -> ImportRun:
    return ImportRun.objects.filter(community=community).first() or ImportRun.objects.create(
        organization=community.organization,
        community=community,
        format="csv",
        original_name="聊天记录",
    )


def connector_of(community: Community) -> Connector:
    return community.connectors.first() or Connector.objects.create(
        community=community, name="机器人", platform="wechat", public_id=f"c{community.pk}x"
    )


# Where nothing listens: a walk's test message never leaves the machine (refused as a
# loopback address, or, where such addresses are allowed, refused by the closed port).
WALK_OUTLET_URL = "http://127.0.0.1:9/cgi-bin/webhook/send?key=walk"


def outlet_of(community: Community) -> Outlet:
    """The community's WeCom robot, pointing nowhere (the walks POST its test message)."""
    return community.outlets.filter(url=WALK_OUTLET_URL).first() or Outlet.objects.create(
        community=community, name="企业微信群机器人", platform="wecom", url=WALK_OUTLET_URL
    )


def broadcast_of(community: Community) -> Broadcast:
    """A daily broadcast to the community (its edit page shows the preview)."""
    broadcast = Broadcast.objects.filter(
        organization=community.organization, name=f"每日早安 {community.pk}"
    ).first()
    if broadcast is None:
        broadcast = Broadcast.objects.create(
            organization=community.organization,
            name=f"每日早安 {community.pk}",
            text="{community} 早安，今天是{date}",
            start_date=date(2026, 1, 1),
            at_time=time(8, 30),
            rrule="FREQ=DAILY",
        )
        broadcast.communities.add(community)
    return broadcast


def rule_of(community: Community):
    """A keyword auto-reply of the community's organisation that fired once there."""
    from automations.models import AutomationRule, RuleFiring

    rule = AutomationRule.objects.filter(
        organization=community.organization, name=f"打卡规则 {community.pk}"
    ).first()
    if rule is None:
        rule = AutomationRule.objects.create(
            organization=community.organization,
            name=f"打卡规则 {community.pk}",
            trigger="keyword",
            trigger_config={"keyword": "打卡规则", "regex": False, "cooldown_minutes": 10},
            actions=[{"type": "send", "text": "每天 22:00 前打卡"}, {"type": "notify"}],
        )
        rule.communities.add(community)
        RuleFiring.objects.create(
            rule=rule,
            community=community,
            key="walk",
            outcome=[{"type": "send", "ok": True, "text": "已排队"}],
        )
    return rule


def action_of(community: Community) -> ScheduledAction:
    """A sent announcement to the community whose one delivery's outcome is unknown (the
    action page shows its answer, its attempt and both buttons)."""
    action = ScheduledAction.objects.filter(
        organization=community.organization, source_key=f"walk:{community.pk}"
    ).first()
    if action is None:
        action = ScheduledAction.objects.create(
            organization=community.organization,
            kind=ActionKind.ANNOUNCEMENT,
            title=f"{community.name} 读书分享会",
            text="今晚八点读书分享会，欢迎参加",
            due_at=timezone.now() - timedelta(hours=1),
            status=ActionStatus.DISPATCHED,
            dispatched_at=timezone.now() - timedelta(hours=1),
            source_key=f"walk:{community.pk}",
        )
        action.communities.add(community)
        delivery = Delivery.objects.create(
            action=action,
            community=community,
            outlet=outlet_of(community),
            state=DeliveryState.UNKNOWN,
            attempts=1,
            detail="超时",
        )
        DeliveryAttempt.objects.create(delivery=delivery, outcome="unknown", detail="超时")
    return action


def delivery_of(community: Community) -> Delivery:
    return action_of(community).deliveries.get(community=community)


def reset_uid_of(community: Community) -> str:
    staff = community.organization.staff.first()
    return urlsafe_base64_encode(force_bytes(staff.user_id if staff else 1))


def staff_of(community: Community) -> Staff:
    """A moderator of the community's organisation (not the one signed in)."""
    return Staff.objects.filter(
        organization=community.organization, user__username__startswith="walk-moderator"
    ).first() or StaffFactory(
        organization=community.organization,
        role=Role.MODERATOR,
        user__username=f"walk-moderator-{community.pk}",
    )


def invitation_of(community: Community) -> Invitation:
    return Invitation.objects.filter(
        organization=community.organization
    ).first() or Invitation.objects.create(
        organization=community.organization,
        email="invitee@example.com",
        role=Role.MODERATOR,
        digest=f"walk{community.pk}".ljust(64, "0"),
        expires_at=timezone.now() + timedelta(days=7),
    )


def entry_of(community: Community) -> CalendarEntry:
    """A weekly series of the community (its first occurrence is the walks' occurrence)."""
    return community.calendar_entries.first() or calendar_services.entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": "topic",
            "title": f"{community.name} 话题讨论",
            "start_date": date(2026, 12, 1),
            "start_time": time(21, 0),
            "duration_minutes": 30,
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
        },
    )


def occurrence_key_of(community: Community) -> str:
    entry = entry_of(community)
    start = calendar_services.first_start(entry)
    return f"{entry.pk}-{start:%Y%m%dT%H%M%SZ}"
