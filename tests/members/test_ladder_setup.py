"""A community's tier ladder comes from ``community_create``, in its transaction.

The members app registers a setup step with ``communities.panels`` when it starts
(communities cannot import members); no signal and no fallback create ladders behind the
services' backs.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save
from django.urls import reverse

from communities import panels
from communities.models import Community, Platform
from communities.services import community_create
from members import services
from members.models import Tier
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


def test_members_registers_the_ladder_as_a_setup_step():
    assert [step.key for step in panels.registered_setup_steps()] == ["members.ladder"]


def test_a_community_made_by_community_create_has_its_ladder(org_a):
    with transaction.atomic():
        community = community_create(organization=org_a, name="读书会", platform=Platform.WECHAT)
        ranks = list(community.tiers.order_by("rank").values_list("rank", "name"))
    assert ranks == [(1, "新人"), (2, "活跃成员"), (3, "核心成员"), (4, "骨干领袖")]


def test_the_ladder_is_made_in_the_same_transaction_as_the_community(org_a, monkeypatch):
    def fails(community):
        assert community.tiers.count() == 4  # the ladder step ran first, in this transaction
        raise RuntimeError("a later setup step failed")

    steps = dict(panels._SETUP_STEPS)
    monkeypatch.setattr(panels, "_SETUP_STEPS", steps)
    panels.register_setup_step(panels.SetupStep(key="tests.fails", run=fails, order=50))
    with pytest.raises(RuntimeError):
        community_create(organization=org_a, name="读书会", platform=Platform.WECHAT)
    # All or nothing: neither the community nor its ladder was left behind.
    assert not Community.objects.exists()
    assert not Tier.objects.exists()


def test_no_signal_makes_ladders_behind_the_services_back(org_a):
    assert not post_save.has_listeners(Community)
    raw = Community.objects.create(organization=org_a, name="raw", slug="raw", platform="qq")
    assert not raw.tiers.exists()


def test_membership_create_does_not_invent_a_ladder(org_a):
    raw = Community.objects.create(organization=org_a, name="raw", slug="raw", platform="qq")
    membership = services.membership_create(community=raw, member=MemberFactory(organization=org_a))
    assert membership.tier is None
    assert not raw.tiers.exists()


def test_a_community_added_in_the_admin_gets_its_ladder(client, org_a):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-1234567")
    client.force_login(admin)
    response = client.post(
        reverse("admin:communities_community_add"),
        {
            "organization": org_a.pk,
            "name": "Admin group",
            "slug": "admin-group",
            "platform": Platform.QQ,
            "time_zone": "Asia/Shanghai",
            "created_on": "2026-11-01",
            "announcement_language": "en",
            "demotion_grace_days": 30,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    community = Community.objects.get(slug="admin-group")
    assert list(community.tiers.order_by("rank").values_list("name", flat=True)) == [
        "Newcomer",
        "Active",
        "Core",
        "Leader",
    ]
