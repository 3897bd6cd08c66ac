"""The members' panels on the community page: pyramid, squads, recent violations, counts."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from communities import services as community_services
from communities.models import Penalty, Role, RuleKind
from communities.panels import member_counts, registered_panels
from members import services
from members.models import MemberRole, MembershipStatus, Squad, Violation
from tests.factories import CommunityFactory, MemberFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert(1)</script>" hx-get="/x" \'quoted\''


@pytest.fixture
def community(org_a):
    return CommunityFactory(organization=org_a, name="读书会", slug="reading", capacity=10)


@pytest.fixture
def ladder(community):
    return list(community.tiers.order_by("rank"))


def detail(client, community) -> str:
    return client.get(reverse("communities:detail", args=[community.slug])).content.decode()


def populate(community, ladder, *, members: int, violations: int):
    """Members spread over the tiers, a squad each third, and some violations."""
    rule = community_services.rule_create(
        by=None,
        community=community,
        kind=RuleKind.FORBIDDEN,
        title="发广告",
        penalty=Penalty.WARNING,
    )
    squads = [services.squad_create(community=community, name=f"小组{i}") for i in range(3)]
    memberships = []
    for i in range(members):
        membership = MembershipFactory(community=community, tier=ladder[i % len(ladder)])
        membership.squad = squads[i % 3]
        membership.save()
        memberships.append(membership)
    for i in range(violations):
        services.violation_record(membership=memberships[i % members], rule=rule, evidence="链接")


def test_members_registers_its_panels_and_counts():
    assert [panel.key for panel in registered_panels()] == [
        "members.pyramid",
        "members.squads",
        "members.violations",
        "activities.calendar",  # the community's next occurrences
        "checklists.community",  # its open checklist runs and SOP templates
    ]


def test_pyramid_panel_numbers(client_for, manager_a, community, ladder):
    # Bottom tier: 3 present (one lurking) and one who left; tier 3: 2; the top tier: 1.
    MembershipFactory.create_batch(2, community=community, tier=ladder[0])
    MembershipFactory(community=community, tier=ladder[0], status=MembershipStatus.LURKER)
    MembershipFactory(community=community, tier=ladder[0], status=MembershipStatus.LEFT)
    MembershipFactory.create_batch(2, community=community, tier=ladder[2])
    MembershipFactory(community=community, tier=ladder[3])

    page = detail(client_for(manager_a), community)
    panel = page.split('data-testid="pyramid-panel"')[1].split("</article>")[0]
    for rank, expected in [(1, 3), (2, 0), (3, 2), (4, 1)]:
        assert f'<td data-tier="{rank}">{expected}</td>' in panel
    assert '<td data-testid="pyramid-total">6</td>' in panel
    # The chart's data travels as JSON, top tier first, never as script.
    chart = json.loads(
        panel.split('<script id="pyramid-chart" type="application/json">')[1].split("</script>")[0]
    )
    assert chart["data"][0]["x"] == [1, 2, 0, 3]
    assert chart["data"][0]["y"] == [t.name for t in reversed(ladder)]
    assert "vendor/plotly/plotly.min.js" in page.split("</head>")[0]
    # Present members against the target size (capacity 10).
    assert "6 of a target of 10" in page


def test_member_count_provider_counts_present_members(community, org_a):
    other = CommunityFactory(organization=org_a)
    MembershipFactory.create_batch(2, community=community)
    MembershipFactory(community=community, status=MembershipStatus.REMOVED)
    assert member_counts([community.pk, other.pk]) == {community.pk: 2, other.pk: 0}


def test_squads_panel_lists_squads_with_leader_and_members(client_for, operator_a, community):
    leader = MembershipFactory(community=community, member__display_name="组长小王")
    services.roles_assign(membership=leader, roles=[MemberRole.CORE])
    squad = services.squad_create(community=community, name="晨读组", leader=leader.member)
    services.memberships_assign_squad(
        memberships=[leader, *MembershipFactory.create_batch(2, community=community)], squad=squad
    )
    gone = MembershipFactory(community=community, status=MembershipStatus.LEFT)
    services.memberships_assign_squad(memberships=[gone], squad=squad)

    page = detail(client_for(operator_a), community)
    panel = page.split('data-testid="squads-panel"')[1].split("</article>")[0]
    assert "晨读组" in panel and "组长小王" in panel
    assert f'<td data-squad="{squad.pk}">3</td>' in panel
    assert reverse("members:squad-create", args=[community.slug]) in panel


def test_squad_is_added_from_the_community_page(client_for, operator_a, community):
    core = MembershipFactory(community=community, member__display_name="骨干")
    services.roles_assign(membership=core, roles=[MemberRole.CORE])
    plain = MembershipFactory(community=community, member__display_name="普通成员")
    client = client_for(operator_a)
    url = reverse("members:squad-create", args=[community.slug])

    left = MembershipFactory(
        community=community, member__display_name="已退", status=MembershipStatus.LEFT
    )

    # Any member of the group can lead a squad; someone who left cannot.
    form = detail(client, community).split('data-testid="squads-panel"')[1]
    assert f'value="{core.member_id}"' in form and f'value="{plain.member_id}"' in form
    assert f'value="{left.member_id}"' not in form

    response = client.post(url, {"name": "夜跑组", "leader": plain.member_id})
    assert response["Location"].endswith("#squads")
    squad = Squad.objects.get(community=community, name="夜跑组")
    assert squad.leader == plain.member
    # Picking them gave them the squad-leader role (and kept any role they had).
    assert set(plain.roles.values_list("role", flat=True)) == {MemberRole.SQUAD_LEADER}
    services.squad_create(community=community, name="晨跑组", leader=core.member)
    assert set(core.roles.values_list("role", flat=True)) == {
        MemberRole.CORE,
        MemberRole.SQUAD_LEADER,
    }

    response = client.post(url, {"name": "夜跑组"})
    assert response.status_code == 200
    assert "already has a squad of that name" in response.content.decode()
    response = client.post(url, {"name": "另一个组", "leader": left.member_id})
    assert response.status_code == 200
    assert Squad.objects.filter(community=community).count() == 2


@pytest.mark.parametrize("role", [Role.MANAGER, Role.MODERATOR])
def test_only_owners_and_operators_add_squads(role, client_for, org_a, community):
    staff = StaffFactory(organization=org_a, role=role)
    staff.communities.add(community)
    client = client_for(staff)
    url = reverse("members:squad-create", args=[community.slug])
    assert client.post(url, {"name": "偷偷建的组"}).status_code == 403
    assert not Squad.objects.exists()
    assert url not in detail(client, community)  # no form for them


def test_violations_panel_shows_the_last_ten(client_for, manager_a, community):
    rule = community_services.rule_create(
        by=None,
        community=community,
        kind=RuleKind.FORBIDDEN,
        title="刷屏",
        penalty=Penalty.MUTE,
        strikes_to_removal=20,
    )
    membership = MembershipFactory(community=community, member__display_name="刷屏的人")
    start = timezone.now() - timedelta(days=1)
    for i in range(12):
        violation = services.violation_record(membership=membership, rule=rule, evidence=f"#{i}")
        Violation.objects.filter(pk=violation.pk).update(created_at=start + timedelta(minutes=i))

    panel = detail(client_for(manager_a), community).split('data-testid="violations-panel"')[1]
    panel = panel.split("</article>")[0]
    assert panel.count("<tr>") == 11  # header + 10
    strikes = [int(cell.split("</td>")[0]) for cell in panel.split("<td>")[3::5]]
    assert strikes == list(range(12, 2, -1))
    assert "刷屏的人" in panel and "Mute" in panel


@pytest.mark.parametrize("size", [3, 30])
def test_detail_page_query_count_is_constant(
    size, client_for, operator_a, community, ladder, django_assert_num_queries
):
    populate(community, ladder, members=size, violations=size)
    client = client_for(operator_a)
    # session, user, staff + organisation, community, rules, member count,
    # pyramid, squads, squad leader candidates, recent violations, calendar entries,
    # checklists (open runs, templates in use, setup templates to start)
    with django_assert_num_queries(14):
        response = client.get(reverse("communities:detail", args=[community.slug]))
    assert response.status_code == 200


def test_hostile_member_data_renders_inert(client_for, owner_a, community, ladder):
    ladder[0].name = HOSTILE
    ladder[0].save()
    member = MemberFactory(organization=community.organization, display_name=HOSTILE)
    membership = MembershipFactory(community=community, member=member)
    services.roles_assign(membership=membership, roles=[MemberRole.ADMIN])
    services.squad_create(community=community, name=HOSTILE, leader=member)
    rule = community_services.rule_create(
        by=None,
        community=community,
        kind=RuleKind.FORBIDDEN,
        title=HOSTILE,
        penalty=Penalty.WARNING,
    )
    services.violation_record(membership=membership, rule=rule, evidence=HOSTILE)
    client = client_for(owner_a)
    for url in (
        reverse("communities:detail", args=[community.slug]),
        reverse("members:squad-create", args=[community.slug]),
    ):
        page = client.get(url).content.decode()
        assert "<script>alert(1)" not in page, url
        assert 'hx-get="/x"' not in page, url
    page = detail(client, community)
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # tier, squad, member, rule
    # Inside the chart's JSON: escaped for plotly (&lt;), then by json_script (\u0026).
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page
