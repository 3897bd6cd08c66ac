"""One person, one member: a name-keyed event and a platform id are matched within one
community only (activities.ingest's docstring, members.bulk.members_resolve)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityEvent, EventSource
from members.models import Member, Membership, MembershipStatus, PlatformHandle
from members.selectors import duplicate_suggestions
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 20, 21, 0, tzinfo=SHANGHAI)


def join(external_id, name, minutes=0):
    return IncomingEvent(external_id, "join", T0 + timedelta(minutes=minutes), name, name)


def removed(external_id, name, minutes=0):
    return IncomingEvent(external_id, "removed", T0 + timedelta(minutes=minutes), name, name)


def says(external_id, wxid, name, minutes=0):
    when = T0 + timedelta(minutes=minutes)
    return IncomingEvent(external_id, "message", when, wxid, name, "你好")


def run(community, events, **kwargs):
    return ingest_events(community=community, source=EventSource.IMPORT, events=events, **kwargs)


def members_named(organization, name):
    return Member.objects.filter(organization=organization, display_name=name)


@pytest.mark.parametrize("batch_size", [5_000, 1])
def test_joined_by_name_then_speaks_with_an_id_in_the_same_import(community_a, batch_size):
    result = run(
        community_a,
        [
            join("j1", "李四"),
            says("m1", "wxid_lisi", "李四", 1),
            says("m2", "wxid_lisi", "李四", 2),
        ],
        batch_size=batch_size,
    )
    assert result.members_created == 1
    lisi = members_named(community_a.organization, "李四").get()
    assert set(lisi.handles.values_list("external_id", flat=True)) == {"李四", "wxid_lisi"}
    assert set(ActivityEvent.objects.values_list("member_id", flat=True)) == {lisi.pk}
    assert Membership.objects.filter(community=community_a).count() == 1


def test_joined_by_name_then_speaks_with_an_id_in_a_later_import(community_a):
    run(community_a, [join("j1", "李四")])
    later = run(community_a, [says("m1", "wxid_lisi", "李四", 60)])
    assert later.members_created == 0
    lisi = members_named(community_a.organization, "李四").get()
    assert ActivityEvent.objects.get(external_id="m1").member == lisi
    # The id is the member's now: a third import finds them by it, whatever the name.
    third = run(community_a, [says("m2", "wxid_lisi", "老李", 90)])
    assert third.members_created == 0
    assert ActivityEvent.objects.get(external_id="m2").member == lisi


def test_a_removal_by_name_lands_on_the_member_who_spoke(community_a):
    run(community_a, [says("m1", "wxid_wangwu", "王五")])
    result = run(community_a, [removed("r1", "王五", 30)])
    assert result.members_created == 0
    wangwu = members_named(community_a.organization, "王五").get()
    assert ActivityEvent.objects.get(external_id="r1").member == wangwu
    membership = Membership.objects.get(community=community_a, member=wangwu)
    assert membership.status == MembershipStatus.REMOVED


def test_names_never_match_across_communities(community_a):
    other = CommunityFactory(organization=community_a.organization, slug="other")
    run(community_a, [says("m1", "wxid_wangwu", "王五")])
    run(community_a, [join("j0", "赵六")])
    result = run(
        other, [removed("r1", "王五"), join("j1", "赵六"), says("m2", "wxid_x", "赵六", 5)]
    )
    assert result.members_created == 2  # another 王五, another 赵六 (who speaks as wxid_x)
    here, there = (
        ActivityEvent.objects.get(external_id="m1").member,
        ActivityEvent.objects.get(external_id="r1").member,
    )
    assert here != there
    assert Membership.objects.get(community=community_a, member=here).status == "active"
    zhao = ActivityEvent.objects.get(external_id="j1").member
    assert ActivityEvent.objects.get(external_id="m2").member == zhao
    assert zhao != ActivityEvent.objects.get(external_id="j0").member
    assert not Membership.objects.filter(community=community_a, member=zhao).exists()
    # The first 赵六 (known only by name in community A) did not get the id.
    assert not PlatformHandle.objects.filter(
        external_id="wxid_x", member=ActivityEvent.objects.get(external_id="j0").member
    ).exists()


def test_two_people_of_one_name_are_not_merged_but_suggested(community_a, owner_a):
    run(community_a, [says("m1", "wxid_a", "张三"), says("m2", "wxid_b", "张三", 1)])
    # A line naming 张三 cannot tell which: a third 张三, once (a re-import adds none).
    first = run(community_a, [removed("r1", "张三", 5)])
    again = run(community_a, [removed("r1", "张三", 5), removed("r2", "张三", 6)])
    assert (first.members_created, again.members_created) == (1, 0)
    zhangs = members_named(community_a.organization, "张三")
    assert zhangs.count() == 3
    assert len({e.member_id for e in ActivityEvent.objects.all()}) == 3
    removed_one = ActivityEvent.objects.get(external_id="r1").member
    assert ActivityEvent.objects.get(external_id="r2").member == removed_one
    suggestions = duplicate_suggestions(staff=owner_a)
    assert [(s.name, sorted(s.member_ids)) for s in suggestions] == [
        ("张三", sorted(zhangs.values_list("pk", flat=True)))
    ]


def test_a_new_id_under_a_name_two_members_bear_matches_nobody(community_a):
    run(community_a, [says("m1", "wxid_a", "张三"), join("j1", "张三", 1)])
    # join j1 went to the one 张三 (wxid_a); a new id under that name is someone else.
    assert (
        ActivityEvent.objects.get(external_id="j1")
        .member.handles.filter(external_id="wxid_a")
        .exists()
    )
    result = run(community_a, [says("m2", "wxid_c", "张三", 5)])
    assert result.members_created == 1


def test_an_id_only_community_costs_no_name_lookups(community_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    run(community_a, [says("m1", "wxid_a", "张三")])
    with CaptureQueriesContext(connection) as queries:
        result = run(community_a, [says("m2", "wxid_b", "李四"), says("m3", "wxid_c", "王五")])
    assert result.members_created == 2
    by_name = [q["sql"] for q in queries if '"display_name" IN' in q["sql"]]
    assert by_name == []
    # Once someone is known only by name there, a new id is looked up by name.
    run(community_a, [join("j1", "赵六", 10)])
    with CaptureQueriesContext(connection) as queries:
        later = run(community_a, [says("m4", "wxid_d", "赵六", 20)])
    assert later.members_created == 0
    assert [q for q in queries if '"display_name" IN' in q["sql"]]
