import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities.models import Penalty, Rule, RuleKind
from members import services
from members.models import MemberRole, Membership, MembershipStatus, TagKind
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script>" hx-get="/x" \'q\''


@pytest.fixture
def reading(org_a):
    return CommunityFactory(organization=org_a, name="读书会", slug="reading")


@pytest.fixture
def ladder(reading):
    return list(reading.tiers.order_by("rank"))


def names_in(response) -> set[str]:
    return set(re.findall(r'href="/members/\d+/">([^<]+)</a>', response.content.decode()))


def test_filters_search_and_sort(client_for, operator_a, reading, ladder, org_a):
    other = CommunityFactory(organization=org_a, name="跑步群", slug="run")
    squad = services.squad_create(community=reading, name="夜读组")
    alice = MembershipFactory(community=reading, member__display_name="Alice")
    bob = MembershipFactory(community=reading, member__display_name="Bob", tier=ladder[2])
    carol = MembershipFactory(community=reading, member__display_name="Carol")
    dan = MembershipFactory(community=other, member__display_name="Dan")
    services.handle_add(member=carol.member, platform="wechat", external_id="wxid_carol_88")
    services.roles_assign(membership=bob, roles=[MemberRole.KOL])
    services.memberships_assign_squad(memberships=[carol], squad=squad)
    services.membership_set_status(membership=dan, status=MembershipStatus.LURKER)
    tag = services.tag_get_or_create(organization=org_a, kind=TagKind.REGION, name="杭州")
    services.members_tag(memberships=[alice], tag=tag)
    services.points_add(membership=bob, delta=300, reason="x")
    Membership.objects.filter(pk=alice.pk).update(last_active_at=timezone.now())
    Membership.objects.filter(pk=carol.pk).update(
        last_active_at=timezone.now() - timedelta(days=40)
    )
    client = client_for(operator_a)
    url = reverse("members:list")

    assert names_in(client.get(url)) == {"Alice", "Bob", "Carol", "Dan"}
    assert names_in(client.get(url, {"community": "reading"})) == {"Alice", "Bob", "Carol"}
    assert names_in(client.get(url, {"community": "reading", "tier": ladder[2].pk})) == {"Bob"}
    assert names_in(client.get(url, {"role": "kol"})) == {"Bob"}
    assert names_in(client.get(url, {"status": "lurker"})) == {"Dan"}
    assert names_in(client.get(url, {"tag": tag.pk})) == {"Alice"}
    assert names_in(client.get(url, {"community": "reading", "squad": squad.pk})) == {"Carol"}
    # Never active counts as inactive, as does 40 days ago; Alice was active today.
    assert names_in(client.get(url, {"inactive": 30})) == {"Bob", "Carol", "Dan"}
    assert names_in(client.get(url, {"q": "wxid_carol"})) == {"Carol"}
    assert names_in(client.get(url, {"q": "ali"})) == {"Alice"}
    page = client.get(url, {"sort": "-points"}).content.decode()
    assert page.index(">Bob<") < page.index(">Alice<")


@pytest.mark.parametrize("count", [4, 40])
def test_list_query_count_is_constant(
    count, client_for, operator_a, reading, ladder, org_a, django_assert_num_queries
):
    squad = services.squad_create(community=reading, name="一组")
    tag = services.tag_get_or_create(organization=org_a, kind=TagKind.INTEREST, name="历史")
    memberships = MembershipFactory.create_batch(count, community=reading)
    for membership in memberships:
        services.handle_add(
            member=membership.member, platform="qq", external_id=f"qq{membership.pk}"
        )
        services.roles_assign(membership=membership, roles=["member", "core"])
    services.members_tag(memberships=memberships, tag=tag)
    services.memberships_assign_squad(memberships=memberships, squad=squad)
    client = client_for(operator_a)
    # session, user, staff, communities + tags for the filters, tiers + squads of the
    # chosen community, count, page, 3 prefetches (tags, handles, roles), pyramid, the
    # possible duplicates (none here: one query)
    with django_assert_num_queries(14):
        response = client.get(reverse("members:list"), {"community": "reading"})
    assert len(names_in(response)) == count


def test_bulk_move_to_tier_with_htmx_updates_the_pyramid(client_for, operator_a, reading, ladder):
    memberships = MembershipFactory.create_batch(5, community=reading)
    client = client_for(operator_a)
    response = client.post(
        reverse("members:bulk"),
        {
            "filters": "community=reading",
            "action": "move_tier",
            "tier": ladder[2].pk,
            "memberships": [m.pk for m in memberships[:3]],
        },
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="member-results"')
    assert "3 members updated." in page
    assert '<td data-tier="3">3</td>' in page
    assert '<td data-tier="1">2</td>' in page
    for membership in memberships[:3]:
        membership.refresh_from_db()
        assert membership.tier == ladder[2] and membership.tier_set_by_staff
    chart = json.loads(
        re.search(r'id="pyramid-chart" type="application/json">(.*?)</script>', page).group(1)
    )
    assert chart["data"][0]["x"] == [0, 3, 0, 2]  # top tier first


def test_bulk_tag_and_squad(client_for, operator_a, reading, org_a):
    memberships = MembershipFactory.create_batch(3, community=reading)
    squad = services.squad_create(community=reading, name="周末组")
    client = client_for(operator_a)
    ids = [m.pk for m in memberships]
    client.post(
        reverse("members:bulk"),
        {
            "filters": "",
            "action": "tag",
            "tag_kind": "other",
            "tag_name": "待唤醒",
            "memberships": ids,
        },
    )
    client.post(
        reverse("members:bulk"),
        {
            "filters": "community=reading",
            "action": "assign_squad",
            "squad": squad.pk,
            "memberships": ids,
        },
    )
    for membership in memberships:
        membership.refresh_from_db()
        assert membership.squad == squad
        assert [t.name for t in membership.member.tags.all()] == ["待唤醒"]


def test_bulk_tier_needs_a_community_and_explains(client_for, operator_a, reading):
    membership = MembershipFactory(community=reading)
    response = client_for(operator_a).post(
        reverse("members:bulk"),
        {"filters": "", "action": "move_tier", "memberships": [membership.pk]},
        HTTP_HX_REQUEST="true",
    )
    assert "Choose a community first, then a tier." in response.content.decode()


def test_bulk_ignores_other_organisations_members(client_for, operator_a, community_b, org_a):
    foreign = MembershipFactory(community=community_b)
    client_for(operator_a).post(
        reverse("members:bulk"),
        {
            "filters": "",
            "action": "tag",
            "tag_kind": "other",
            "tag_name": "x",
            "memberships": [foreign.pk],
        },
    )
    assert not foreign.member.tags.exists()


def test_manager_cannot_bulk_edit(client_for, manager_a, reading):
    membership = MembershipFactory(community=reading)
    response = client_for(manager_a).post(
        reverse("members:bulk"),
        {
            "filters": "",
            "action": "tag",
            "tag_kind": "other",
            "tag_name": "x",
            "memberships": [membership.pk],
        },
    )
    assert response.status_code == 403
    assert not membership.member.tags.exists()


def test_moderator_sees_only_their_communities_members(client_for, moderator_a, reading, org_a):
    mine = MembershipFactory(community=reading, member__display_name="Mine")
    other = MembershipFactory(
        community=CommunityFactory(organization=org_a), member__display_name="NotMine"
    )
    moderator_a.communities.add(reading)
    client = client_for(moderator_a)
    assert names_in(client.get(reverse("members:list"))) == {"Mine"}
    assert client.get(reverse("members:profile", args=[mine.member_id])).status_code == 200
    assert client.get(reverse("members:profile", args=[other.member_id])).status_code == 404


def test_profile_actions_and_history(client_for, operator_a, moderator_a, reading, ladder):
    membership = MembershipFactory(community=reading, member__display_name="小王")
    rule = Rule.objects.create(
        community=reading,
        kind=RuleKind.FORBIDDEN,
        title="发广告",
        penalty=Penalty.DEDUCTION,
        points=10,
        strikes_to_removal=2,
    )
    client = client_for(operator_a)
    pk = membership.pk
    client.post(reverse("members:points", args=[pk]), {f"p{pk}-delta": 40, f"p{pk}-reason": "分享"})
    client.post(reverse("members:roles", args=[pk]), {f"r{pk}-roles": ["kol", "expert"]})
    client.post(reverse("members:tier", args=[pk]), {f"t{pk}-tier": ladder[1].pk})
    client.post(
        reverse("members:deposit", args=[pk]),
        {f"d{pk}-kind": "held", f"d{pk}-amount": "99.00", f"d{pk}-note": "决心金"},
    )
    moderator_a.communities.add(reading)
    client_for(moderator_a).post(
        reverse("members:violation", args=[pk]), {f"v{pk}-rule": rule.pk, f"v{pk}-evidence": "链接"}
    )
    membership.refresh_from_db()
    assert membership.points_balance == 30
    assert sorted(membership.roles.values_list("role", flat=True)) == ["expert", "kol"]
    assert membership.tier == ladder[1]

    page = client_for(operator_a).get(reverse("members:profile", args=[membership.member_id]))
    html = page.content.decode()
    for text in ("分享", "发广告", "99.00", "Set by staff", "决心金", "链接"):
        assert text in html, text


def test_profile_refuses_a_refund_larger_than_the_deposit(client_for, operator_a, reading):
    membership = MembershipFactory(community=reading)
    pk = membership.pk
    response = client_for(operator_a).post(
        reverse("members:deposit", args=[pk]),
        {f"d{pk}-kind": "refunded", f"d{pk}-amount": "10"},
        follow=True,
    )
    assert "Only 0.00 is held for this member." in response.content.decode()
    assert not membership.deposit_entries.exists()


def test_hostile_names_render_inert(client_for, operator_a, reading, ladder, org_a):
    services.tier_update(tier=ladder[0], data={"name": HOSTILE[:60]})
    membership = MembershipFactory(community=reading, member__display_name=HOSTILE)
    services.squad_create(community=reading, name=HOSTILE[:60])
    tag = services.tag_get_or_create(organization=org_a, kind=TagKind.OTHER, name=HOSTILE[:60])
    services.members_tag(memberships=[membership], tag=tag)
    client = client_for(operator_a)
    for url, params in [
        (reverse("members:list"), {"community": "reading"}),
        (reverse("members:profile", args=[membership.member_id]), {}),
    ]:
        html = client.get(url, params).content.decode()
        assert "<script>alert(1)" not in html
        assert 'hx-get="/x"' not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_add_a_member_by_hand_and_edit_them(client_for, operator_a, reading, org_a):
    client = client_for(operator_a)
    response = client.post(
        reverse("members:create"),
        {"community": "reading", "display_name": "小李", "platform": "wechat",
         "external_id": "wxid_li", "joined_on": "2026-11-01"},
    )  # fmt: skip
    membership = Membership.objects.get(community=reading)
    assert response["Location"] == reverse("members:profile", args=[membership.member_id])
    assert membership.tier.rank == 1
    assert membership.member.handles.get().external_id == "wxid_li"

    # The same platform id again is the same person, already in the group: refused.
    response = client.post(
        reverse("members:create"),
        {
            "community": "reading",
            "display_name": "李",
            "platform": "wechat",
            "external_id": "wxid_li",
        },
    )
    assert "This person is already in this community." in response.content.decode()
    assert Membership.objects.count() == 1

    tag = services.tag_get_or_create(organization=org_a, kind=TagKind.INDUSTRY, name="教育")
    client.post(
        reverse("members:edit", args=[membership.member_id]),
        {"display_name": "李老师", "notes": "小学语文老师", "tags": [tag.pk]},
    )
    membership.member.refresh_from_db()
    assert membership.member.display_name == "李老师"
    assert membership.member.notes == "小学语文老师"
    assert list(membership.member.tags.all()) == [tag]


def test_add_member_refuses_another_organisations_community(client_for, operator_a, community_b):
    response = client_for(operator_a).post(
        reverse("members:create"), {"community": community_b.slug, "display_name": "x"}
    )
    assert response.status_code == 200
    assert not Membership.objects.exists()


def test_the_pyramid_above_the_list_counts_the_listed_members(client_for, operator_a, reading):
    squad = services.squad_create(community=reading, name="晨读组")
    bottom = reading.tiers.order_by("rank").first()
    in_squad = [MembershipFactory(community=reading) for _ in range(2)]
    services.memberships_assign_squad(memberships=in_squad, squad=squad)
    MembershipFactory(community=reading)
    MembershipFactory(community=reading, status=MembershipStatus.LEFT)
    client = client_for(operator_a)
    everyone = client.get(reverse("members:list"), {"community": reading.slug})
    by_tier = {level.tier.pk: level.members for level in everyone.context["pyramid"]}
    assert by_tier[bottom.pk] == 3  # current members; the one who left is not counted
    squad_only = client.get(reverse("members:list"), {"community": reading.slug, "squad": squad.pk})
    by_tier = {level.tier.pk: level.members for level in squad_only.context["pyramid"]}
    assert by_tier[bottom.pk] == 2 == len(squad_only.context["page"].object_list)
