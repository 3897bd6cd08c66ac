"""Merging two member records who are one person: through the URL, with permissions."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityEvent, EventSource, TouchedDay
from analytics.models import CommunityDay, MemberDay
from analytics.rollups import rollups_refresh_touched
from communities.models import Rule, RuleKind, StaffAction, StaffLogEntry
from members import services
from members.models import (
    DepositEntry,
    Member,
    Membership,
    MembershipStatus,
    PlatformHandle,
    PointsEntry,
    Violation,
)
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)


def speak(community, key, name, external_id, hour=21):
    when = datetime(DAY.year, DAY.month, DAY.day, hour, 0, tzinfo=SHANGHAI)
    ingest_events(
        community=community,
        source=EventSource.IMPORT,
        events=[IncomingEvent(external_id, "message", when, key, name, "你好")],
    )
    return PlatformHandle.objects.get(external_id=key).member


@pytest.fixture
def pair(community_a, owner_a):
    """李四 twice in community A (as a wxid and as a second wxid under another name),
    both active on DAY, the rollups refreshed: two active members that day."""
    keep = speak(community_a, "wxid_lisi", "李四", "m1")
    dup = speak(community_a, "wxid_lisi2", "老李", "m2", hour=22)
    rollups_refresh_touched(community=community_a)
    assert CommunityDay.objects.get(community=community_a, day=DAY).dau == 2
    return keep, dup


def merge_url(member, other=None):
    url = reverse("members:merge", kwargs={"member_id": member.pk})
    return f"{url}?other={other.pk}" if other else url


def post_merge(client, keep, dup, **extra):
    return client.post(merge_url(keep), {"other": dup.pk, "confirm": "on", **extra})


def test_the_profile_links_to_the_merge_and_search_finds_the_other(client_for, operator_a, pair):
    keep, dup = pair
    client = client_for(operator_a)
    profile = client.get(reverse("members:profile", kwargs={"member_id": keep.pk}))
    assert b'data-testid="merge-link"' in profile.content
    found = client.get(merge_url(keep), {"q": "wxid_lisi2"})
    assert found.status_code == 200
    assert found.context["candidates"] == [dup]
    preview = client.get(merge_url(keep, dup))
    assert b'data-testid="merge-preview"' in preview.content
    assert preview.context["preview"].counts == [("activity events", 1)]
    assert [h.external_id for h in preview.context["preview"].handles] == ["wxid_lisi2"]
    assert preview.context["preview"].folded == [keep.memberships.get().community.name]


def test_merge_moves_everything_and_refreshes_the_day(
    client_for, operator_a, community_a, pair, django_capture_on_commit_callbacks
):
    keep, dup = pair
    other = CommunityFactory(organization=community_a.organization, slug="other")
    speak(other, "wxid_lisi2", "老李", "m3")  # only the duplicate is in the other group
    rule = Rule.objects.create(community=community_a, kind=RuleKind.FORBIDDEN, title="广告")
    kept_ms = Membership.objects.get(community=community_a, member=keep)
    dup_ms = Membership.objects.get(community=community_a, member=dup)
    Membership.objects.filter(pk=kept_ms.pk).update(joined_on=date(2026, 11, 10))
    Membership.objects.filter(pk=dup_ms.pk).update(joined_on=date(2026, 10, 1))
    services.points_add(membership=kept_ms, delta=10, reason="回答")
    services.points_add(membership=dup_ms, delta=5, reason="打卡")
    services.deposit_record(membership=dup_ms, kind="held", amount=Decimal("50"))
    services.violation_record(membership=dup_ms, rule=rule, evidence="链接")
    tag = services.tag_get_or_create(
        organization=community_a.organization, kind="interest", name="历史"
    )
    dup.tags.add(tag)
    services.roles_assign(membership=dup_ms, roles=["core"])

    with django_capture_on_commit_callbacks(execute=True):
        response = post_merge(client_for(operator_a), keep, dup)
    assert response.status_code == 302
    assert response["Location"] == reverse("members:profile", kwargs={"member_id": keep.pk})

    assert not Member.objects.filter(pk=dup.pk).exists()
    assert set(keep.handles.values_list("external_id", flat=True)) == {"wxid_lisi", "wxid_lisi2"}
    assert list(keep.tags.all()) == [tag]
    # One membership per community: the earliest join, the points added up.
    merged = Membership.objects.get(community=community_a, member=keep)
    assert merged.pk == kept_ms.pk
    assert merged.joined_on == date(2026, 10, 1)
    assert merged.points_balance == 15
    assert PointsEntry.objects.filter(membership=merged).count() == 2
    assert DepositEntry.objects.get().membership == merged
    assert Violation.objects.get().membership == merged
    assert [r.role for r in merged.roles.all()] == ["core"]
    assert Membership.objects.get(community=other).member == keep
    assert set(ActivityEvent.objects.values_list("member_id", flat=True)) == {keep.pk}
    # Who merged whom, and when.
    entry = StaffLogEntry.objects.get(action=StaffAction.MEMBERS_MERGED)
    assert entry.actor == operator_a.user
    assert f"#{dup.pk}" in entry.detail and f"#{keep.pk}" in entry.detail
    # The day's figures count one person, refreshed before the page comes back.
    assert CommunityDay.objects.get(community=community_a, day=DAY).dau == 1
    assert list(
        MemberDay.objects.filter(community=community_a).values_list("member_id", "events")
    ) == [(keep.pk, 2)]
    assert not TouchedDay.objects.exists()


def test_a_removal_known_last_decides_the_presence(client_for, owner_a, community_a, pair):
    keep, dup = pair
    Membership.objects.filter(member=dup).update(
        status=MembershipStatus.REMOVED, left_on=date(2026, 11, 25)
    )
    assert post_merge(client_for(owner_a), keep, dup).status_code == 302
    merged = Membership.objects.get(member=keep)
    assert (merged.status, merged.left_on) == (MembershipStatus.REMOVED, date(2026, 11, 25))


@pytest.mark.parametrize("role", ["moderator_a", "manager_a"])
def test_moderators_and_managers_cannot_merge(request, client_for, role, pair, community_a):
    keep, dup = pair
    staff = request.getfixturevalue(role)
    staff.communities.add(community_a)  # a moderator's own group: still not theirs to merge
    client = client_for(staff)
    assert client.get(merge_url(keep, dup)).status_code == 403
    assert post_merge(client, keep, dup).status_code == 403
    assert Member.objects.filter(pk=dup.pk).exists()
    profile = client.get(reverse("members:profile", kwargs={"member_id": keep.pk}))
    assert b'data-testid="merge-link"' not in profile.content


def test_another_organisations_member_is_a_404(client_for, operator_a, community_b, pair):
    keep, dup = pair
    stranger = MembershipFactory(community=community_b).member
    client = client_for(operator_a)
    assert client.get(merge_url(stranger)).status_code == 404
    assert post_merge(client, stranger, dup).status_code == 404
    assert post_merge(client, keep, stranger).status_code == 404
    assert client.get(merge_url(keep, stranger)).status_code == 404
    assert Member.objects.filter(pk__in=[dup.pk, stranger.pk]).count() == 2


def test_a_member_is_not_merged_with_themselves(client_for, operator_a, pair):
    keep, _dup = pair
    response = post_merge(client_for(operator_a), keep, keep)
    assert response.status_code == 200
    assert "cannot be merged with themselves" in response.content.decode()
    assert not StaffLogEntry.objects.filter(action=StaffAction.MEMBERS_MERGED).exists()


def test_without_the_confirmation_nothing_moves(client_for, operator_a, pair):
    keep, dup = pair
    response = client_for(operator_a).post(merge_url(keep), {"other": dup.pk})
    assert response.status_code == 200
    assert Member.objects.filter(pk=dup.pk).exists()


def test_merge_is_all_or_nothing(client_for, operator_a, pair, monkeypatch):
    keep, dup = pair
    from members import merge

    def broken(source, target):
        raise RuntimeError("disk full")

    monkeypatch.setattr(merge, "_fold", broken)
    with pytest.raises(RuntimeError):
        post_merge(client_for(operator_a), keep, dup)
    assert Member.objects.filter(pk=dup.pk).exists()
    assert set(dup.handles.values_list("external_id", flat=True)) == {"wxid_lisi2"}
    assert ActivityEvent.objects.filter(member=dup).count() == 1
    assert not StaffLogEntry.objects.filter(action=StaffAction.MEMBERS_MERGED).exists()


def test_both_in_one_challenge_refuses_the_merge_and_changes_nothing(
    client_for, operator_a, community_a, pair
):
    from activities.calendar.models import ChallengeParticipant

    keep, dup = pair
    challenge = _challenge(community_a)
    for member in (keep, dup):
        ChallengeParticipant.objects.create(
            challenge=challenge, membership=Membership.objects.get(member=member)
        )
    response = post_merge(client_for(operator_a), keep, dup)
    assert response.status_code == 200
    assert "cannot be merged" in response.content.decode()
    assert Member.objects.filter(pk=dup.pk).exists()
    assert keep.handles.count() == 1


def test_duplicates_are_suggested_on_the_members_page(client_for, operator_a, community_a, org_a):
    first = MembershipFactory(community=community_a, member__display_name="张三").member
    second = MembershipFactory(community=community_a, member__display_name="张三").member
    other = CommunityFactory(organization=org_a, slug="elsewhere")
    MembershipFactory(community=other, member__display_name="李四")
    MembershipFactory(community=community_a, member__display_name="李四")
    page = client_for(operator_a).get(reverse("members:list"))
    assert b'data-testid="duplicates"' in page.content
    assert [(s.name, s.member_ids) for s in page.context["duplicates"]] == [
        ("张三", (first.pk, second.pk))
    ]
    assert merge_url(first, second).encode() in page.content.replace(b"&amp;", b"&")


def _challenge(community):
    from activities.calendar import challenges

    data = {
        "title": "21 天早起打卡",
        "start_date": date(2026, 11, 2),
        "days": 5,
        "deadline": time(22, 0),
        "max_missed_days": 1,
        "deposit": "",
        "keyword": "",
    }
    return challenges.challenge_create(community=community, data=data)
