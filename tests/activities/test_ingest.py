"""The one ingestion path: member matching, dedupe, memberships, touched days."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityEvent, EventSource, TouchedDay
from members.models import Member, Membership, MembershipStatus, PlatformHandle
from members.services import handle_add, member_create, membership_create
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def event(external_id, kind="message", when=None, key="u1", name="张三", text="hi"):
    when = when or datetime(2026, 11, 20, 21, 3, tzinfo=SHANGHAI)
    return IncomingEvent(external_id, kind, when, key, name, text)


def run(community, events, source=EventSource.WEBHOOK, **kwargs):
    return ingest_events(community=community, source=source, events=events, **kwargs)


def test_unknown_people_become_members_with_an_active_membership(community_a):
    result = run(community_a, [event("m1"), event("m2", key="u2", name="<b>Bob</b>")])
    assert (result.events_created, result.members_created, result.memberships_created) == (
        2,
        2,
        2,
    )
    handle = PlatformHandle.objects.get(external_id="u2")
    assert handle.platform == community_a.platform
    assert handle.member.display_name == "<b>Bob</b>"
    membership = Membership.objects.get(community=community_a, member=handle.member)
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.joined_on == date(2026, 11, 20)
    assert membership.tier.rank == 1
    assert membership.last_active_at == datetime(2026, 11, 20, 13, 3, tzinfo=UTC)


def test_known_handle_is_matched_not_duplicated(community_a, org_a):
    member = member_create(organization=org_a, display_name="Known")
    handle_add(member=member, platform=community_a.platform, external_id="u1")
    result = run(community_a, [event("m1", key="u1", name="Another name")])
    assert result.members_created == 0
    assert ActivityEvent.objects.get().member == member
    assert Member.objects.filter(organization=org_a).count() == 1
    member.refresh_from_db()
    assert member.display_name == "Known"


def test_same_external_id_is_stored_once_per_source(community_a):
    first = run(community_a, [event("m1"), event("m1"), event("m2")])
    assert (first.events_created, first.duplicates_skipped) == (2, 1)
    again = run(community_a, [event("m1"), event("m2")])
    assert (again.events_created, again.duplicates_skipped) == (0, 2)
    # The same id from another source is another event (ids are per source).
    other = run(community_a, [event("m1")], source=EventSource.IMPORT)
    assert other.events_created == 1
    assert ActivityEvent.objects.count() == 3


def test_same_external_id_in_another_community_is_another_event(community_a, org_a):
    other = CommunityFactory(organization=org_a, slug="other")
    run(community_a, [event("m1")])
    run(other, [event("m1")])
    assert ActivityEvent.objects.count() == 2
    # One person, two memberships.
    assert Member.objects.count() == 1
    assert Membership.objects.count() == 2


def test_join_leave_and_removal_move_the_membership(community_a):
    t0 = datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)
    run(community_a, [event("j1", "join", t0, key="u9"), event("m1", when=t0, key="u9")])
    membership = Membership.objects.get()
    assert membership.status == MembershipStatus.ACTIVE
    assert membership.joined_on == date(2026, 11, 1)

    run(community_a, [event("l1", "leave", t0 + timedelta(days=3), key="u9")])
    membership.refresh_from_db()
    assert (membership.status, membership.left_on) == (MembershipStatus.LEFT, date(2026, 11, 4))

    run(community_a, [event("j2", "join", t0 + timedelta(days=5), key="u9")])
    membership.refresh_from_db()
    assert (membership.status, membership.left_on) == (MembershipStatus.ACTIVE, None)

    # Replaying the old leave changes nothing: it is a duplicate, not news.
    run(community_a, [event("l1", "leave", t0 + timedelta(days=3), key="u9")])
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE

    run(community_a, [event("r1", "removed", t0 + timedelta(days=6), key="u9")])
    membership.refresh_from_db()
    assert (membership.status, membership.left_on) == (MembershipStatus.REMOVED, date(2026, 11, 7))


def test_latest_membership_event_of_a_batch_wins(community_a):
    t0 = datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI)
    run(
        community_a,
        [
            event("l1", "leave", t0 + timedelta(hours=2), key="u9"),
            event("j1", "join", t0, key="u9"),
        ],
    )
    assert Membership.objects.get().status == MembershipStatus.LEFT


def test_history_moves_joined_on_back(community_a, org_a):
    member = member_create(organization=org_a, display_name="Old timer")
    handle_add(member=member, platform=community_a.platform, external_id="u5")
    membership = membership_create(
        community=community_a, member=member, joined_on=date(2026, 11, 20)
    )
    run(community_a, [event("j", "join", datetime(2026, 3, 1, 9, tzinfo=SHANGHAI), key="u5")])
    membership.refresh_from_db()
    assert membership.joined_on == date(2026, 3, 1)


def test_last_active_moves_forward_only_and_ignores_membership_events(community_a):
    late = datetime(2026, 11, 20, 22, 0, tzinfo=SHANGHAI)
    run(community_a, [event("m2", when=late)])
    run(community_a, [event("m1", when=late - timedelta(days=2))])
    run(community_a, [event("l", "leave", late + timedelta(days=1))])
    assert Membership.objects.get().last_active_at == late


def test_touched_days_are_local_days(community_a):
    # 23:30 in Shanghai on the 20th is 15:30 UTC on the 20th; 00:30 on the 21st is 16:30 UTC.
    run(
        community_a,
        [
            event("a", when=datetime(2026, 11, 20, 23, 30, tzinfo=SHANGHAI)),
            event("b", when=datetime(2026, 11, 20, 16, 30, tzinfo=UTC)),
        ],
    )
    days = set(TouchedDay.objects.filter(community=community_a).values_list("day", flat=True))
    assert days == {date(2026, 11, 20), date(2026, 11, 21)}


def test_text_is_dropped_when_the_organisation_keeps_none(community_a, org_a):
    org_a.keep_message_text = False
    org_a.save()
    community_a.refresh_from_db()
    run(community_a, [event("m1", text="secret plans")])
    assert ActivityEvent.objects.get().text == ""


def test_batches_share_member_lookups(community_a, django_assert_max_num_queries):
    events = [event(f"m{i}", key=f"u{i % 7}", name=f"P{i % 7}") for i in range(50)]
    run(community_a, events, batch_size=10)
    assert Member.objects.count() == 7
    assert ActivityEvent.objects.count() == 50
    # Five batches; the second run finds every member in memory after one lookup.
    more = [event(f"n{i}", key=f"u{i % 7}") for i in range(50)]
    with django_assert_max_num_queries(40):
        run(community_a, more, batch_size=10)


def test_overlong_ids_are_hashed_not_rejected(community_a):
    run(community_a, [event("x" * 500, key="k" * 300)])
    stored = ActivityEvent.objects.get()
    assert len(stored.external_id) <= 200
    run(community_a, [event("x" * 500, key="k" * 300)])
    assert ActivityEvent.objects.count() == 1
