"""The spam guard: from events posted to the real signed webhook (once each, even when the
payload is posted twice; never from an import of the same events), what counts as spam,
the violation with the rules' penalty, and the moderators' notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from activities.hooks import LiveEvent
from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityEvent, EventSource
from automations.models import CommunityAutomation, SpamHit
from automations.services.spam import content_reasons, spam_check
from communities.models import Notification, Penalty, Platform, Role, Rule, RuleKind
from communities.services import connector_create
from members.models import Membership, MembershipStatus, Violation
from tests.activities.test_webhook import send
from tests.factories import CommunityFactory, StaffFactory

transactional = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rule(community_a):
    return Rule.objects.create(
        community=community_a,
        kind=RuleKind.FORBIDDEN,
        title="发广告",
        penalty=Penalty.WARNING,
        strikes_to_removal=2,
    )


@pytest.fixture
def guard(community_a, rule):
    return CommunityAutomation.objects.create(
        community=community_a,
        spam_enabled=True,
        spam_words="代购\n兼职日结",
        spam_rule=rule,
        flood_messages=4,
        flood_seconds=30,
    )


@pytest.fixture
def moderator(org_a, community_a):
    staff = StaffFactory(organization=org_a, role=Role.MODERATOR)
    staff.communities.add(community_a)
    return staff


@pytest.fixture
def issued(community_a, operator_a):
    return connector_create(
        community=community_a, name="机器人", platform=Platform.WECOM, by=operator_a.user
    )


def message(n, text, *, who="wxid_spammer", seconds_ago=30.0, name="小广告"):
    when = (timezone.now() - timedelta(seconds=seconds_ago)).replace(microsecond=0)
    return {
        "external_id": f"live-{n}",
        "kind": "message",
        "occurred_at": when.isoformat(),
        "member": {"id": who, "name": name},
        "text": text,
    }


def post(issued, *events):
    response = send(issued.connector, issued.secret, {"events": list(events)})
    assert response.status_code == 202, response.content.decode()
    return response


@transactional
def test_spam_posted_to_the_webhook_records_one_violation_and_tells_the_moderators(
    issued, guard, moderator, operator_a, community_a
):
    payload = [
        message(1, "大家好，今天读到第三章了"),
        message(
            2,
            "代购正品，加微信 abc123 详聊 https://t.cn/xyz",
            who="wxid_x",
            name="<script>alert(1)</script>",
        ),
    ]
    post(issued, *payload)
    post(issued, *payload)  # the bot posted the payload again
    hit = SpamHit.objects.get()
    assert hit.reasons == ["link", "word"]
    violation = Violation.objects.get()
    assert hit.violation == violation
    assert (violation.rule.title, violation.strike, violation.action) == ("发广告", 1, "warning")
    assert violation.membership.member.display_name == "<script>alert(1)</script>"
    assert (
        violation.evidence.startswith("防广告：") and "链接、广告词" in violation.evidence
    )  # zh org
    for staff in (moderator, operator_a):
        (notice,) = Notification.objects.filter(staff=staff)
        assert "<script>alert(1)</script>" in notice.text
        assert "violation recorded" in notice.text
    # The notice is escaped on the page that lists it.
    from django.test import Client

    client = Client()
    client.force_login(moderator.user)
    html = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in html


@transactional
def test_the_same_events_imported_are_not_judged(issued, guard, community_a):
    events = [
        IncomingEvent(
            external_id="imp-1",
            kind="message",
            occurred_at=timezone.now() - timedelta(seconds=20),
            member_key="wxid_spammer",
            member_name="小广告",
            text="兼职日结 加V 13800138000",
        )
    ]
    ingest_events(
        community=community_a, source=EventSource.IMPORT, events=events, platform="wechat"
    )
    assert ActivityEvent.objects.count() == 1
    assert not SpamHit.objects.exists() and not Violation.objects.exists()


@transactional
def test_a_flood_is_counted_once_and_strikes_apply_the_rules_penalty(issued, guard, community_a):
    post(issued, *[message(n, f"第{n}条", seconds_ago=40 - n) for n in range(1, 5)])
    hit = SpamHit.objects.get()
    assert hit.reasons == ["flood"] and hit.flood
    post(issued, message(5, "第5条", seconds_ago=30))
    assert SpamHit.objects.count() == 1  # the next flood needs four messages again
    post(issued, *[message(n, f"第{n}条", seconds_ago=30 - n) for n in range(6, 9)])
    assert SpamHit.objects.count() == 2
    second = Violation.objects.order_by("strike").last()
    assert (second.strike, second.action) == (2, Penalty.REMOVAL)  # strikes_to_removal = 2
    membership = Membership.objects.get(community=community_a)
    assert membership.status == MembershipStatus.REMOVED


@transactional
def test_without_a_spam_rule_only_the_notice_is_sent(issued, guard, moderator):
    guard.spam_rule = None
    guard.save()
    post(issued, message(1, "联系 +49 30 1234 5678 购买"))
    assert SpamHit.objects.get().reasons == ["phone"]
    assert not Violation.objects.exists()
    assert "No spam rule is set" in Notification.objects.get(staff=moderator).text


@transactional
def test_a_guard_switched_off_does_nothing(issued, guard):
    guard.spam_enabled = False
    guard.save()
    post(issued, message(1, "https://spam.example.com"))
    assert not SpamHit.objects.exists()


@pytest.mark.django_db
def test_a_callback_handed_the_same_event_twice_records_once(community_a, guard):
    community = CommunityFactory(organization=community_a.organization, slug="x")
    assert not spam_check(community=community, events=[])
    from tests.factories import MemberFactory, MembershipFactory

    member = MemberFactory(organization=community_a.organization)
    MembershipFactory(community=community_a, member=member)
    event = ActivityEvent.objects.create(
        community=community_a,
        member=member,
        kind="message",
        occurred_at=timezone.now(),
        source=EventSource.WEBHOOK,
        external_id="e1",
    )
    live = LiveEvent(event.pk, member.pk, "message", event.occurred_at, "www.spam-shop.com")
    assert len(spam_check(community=community_a, events=[live])) == 1
    assert spam_check(community=community_a, events=[live]) == []
    assert Violation.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "reasons"),
    [
        ("今天读到第三章了", []),
        ("看这里 http://example.com/a", ["link"]),
        ("www.example.cn 优惠", ["link"]),
        ("bit.ly/abc 点我", ["link"]),
        ("有需要的加V", ["link"]),
        ("加微信私聊", ["link"]),
        ("电话 138-0013-8000", ["phone"]),
        ("13800138000", ["phone"]),
        ("+8613800138000", ["phone"]),
        ("订单号 12345678901234", []),  # a long number is not a phone
        ("１２３ ＶＸ代购", ["word"]),  # full-width: NFKC
        ("<script>alert('代购')</script>", ["word"]),
        ("2026 年 12 月 1 日 19:30", []),
    ],
)
def test_what_counts_as_spam(text, reasons):
    options = CommunityAutomation(spam_words="代购\n日结")
    assert content_reasons(text, options) == reasons
