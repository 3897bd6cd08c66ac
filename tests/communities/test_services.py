import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from communities import services
from communities.models import (
    Community,
    Organization,
    Platform,
    Role,
)
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "existing", "expected"),
    [
        ("Shanghai Runners Club", [], "shanghai-runners-club"),
        ("Shanghai Runners Club", ["shanghai-runners-club"], "shanghai-runners-club-2"),
        # Chinese names as pinyin, syllables two by two (communities.slugs).
        ("读书会", [], "dushu-hui"),
        ("读书会", ["dushu-hui", "dushu-hui-2"], "dushu-hui-3"),
        ("周末读书会", [], "zhoumo-dushu-hui"),
        ("重庆火锅爱好者", [], "chongqing-huoguo-aihao-zhe"),  # 重 read chong, not zhong
        ("Python 北京", [], "python-beijing"),
        ("AI 产品经理交流群", [], "ai-chanpin-jingli-jiaoliu-qun"),
        # Nothing to spell in ASCII: numbered.
        ("🎉🎉", [], "community-1"),
        ("🎉🎉", ["community-1"], "community-2"),
    ],
)
def test_slug_suggestion(name, existing, expected, org_a):
    for slug in existing:
        CommunityFactory(organization=org_a, slug=slug)
    assert services.community_slug_suggest(organization=org_a, name=name) == expected


def test_community_create_validates_time_zone(org_a):
    with pytest.raises(ValidationError) as error:
        services.community_create(
            organization=org_a, name="x", platform=Platform.QQ, time_zone="Mars/Olympus"
        )
    assert "time_zone" in error.value.message_dict
    assert not Community.objects.exists()


def test_community_defaults(org_a):
    community = services.community_create(organization=org_a, name="群", platform=Platform.QQ)
    assert community.time_zone == "Asia/Shanghai"
    assert community.archived is False


def test_community_update_saves_only_changed_fields(community_a):
    with CaptureQueriesContext(connection) as queries:
        services.community_update(
            by=None, community=community_a, data={"name": "新名字", "archived": False}
        )
    updates = [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert '"name"' in updates[0] and '"archived"' not in updates[0]


def test_community_update_rejects_unknown_fields(community_a):
    with pytest.raises(ValueError, match="organization"):
        services.community_update(by=None, community=community_a, data={"organization": None})


def test_staff_cannot_be_assigned_a_foreign_community(org_a, community_b):
    from tests.factories import UserFactory

    with pytest.raises(ValueError):
        services.staff_add(
            organization=org_a, user=UserFactory(), role=Role.MODERATOR, communities=[community_b]
        )


def test_seed_demo_refuses_in_production(settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo")
    assert not Organization.objects.exists()
