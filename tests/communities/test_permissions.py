"""Tenancy and roles, checked over every URL the project has.

The URL list is read from the URLconf at collection time, so a URL added by a later
feature is covered without touching this file; a URL with a new kind of parameter fails
until SAMPLE_KWARGS says which object of organisation B to point it at.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from activities.models import ImportRun
from communities.models import Community, Connector, Programme, Role
from communities.permissions import ROLE_CAPABILITIES, Capability, staff_required
from members.models import Application, Membership
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

# URL names reachable without signing in, each for a reason.
PUBLIC_URL_NAMES = {
    "login",  # the way in
    "set_language",  # the language switcher works on the login page too
    "healthz",  # load-balancer probe; answers only {"status": "ok"}
    "activities:api-ingest",  # chat bots: authenticated by HMAC signature (test_webhook.py)
    # Scripts and BI tools: bearer-token authentication, 401 without (test_api.py).
    "api:communities",
    "api:metrics",
    "api:metric-csv",
    "api:portfolio",
    "api:openapi",  # the API's public description
}
# Django's admin is for superusers only and has its own login (tested below).
EXCLUDED_NAMESPACES = {"admin"}


def iter_url_patterns(patterns=None, namespace=""):
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
OBJECT_URLS = [(name, p) for name, p in PRIVATE_URLS if p.pattern.converters]


def sample_kwargs(pattern: URLPattern, community: Community) -> dict:
    """Values for a URL's parameters that point at objects around ``community``."""
    sample = {
        "community_slug": community.slug,
        "programme_id": programme_of(community).pk,
        "member_id": membership_of(community).member_id,
        "membership_id": membership_of(community).pk,
        "application_id": application_of(community).pk,
        "import_id": import_of(community).pk,
        "connector_pk": connector_of(community).pk,
        "chart": "activity",
    }
    kwargs = {}
    for kwarg in pattern.pattern.converters:
        if kwarg not in sample:
            pytest.fail(f"Add a sample value for URL parameter {kwarg!r} to this test.")
        kwargs[kwarg] = sample[kwarg]
    return kwargs


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


def test_the_project_has_object_urls_to_check():
    # Guards the parametrisation below against silently checking nothing.
    assert {"communities:detail", "communities:edit"} <= {name for name, _ in OBJECT_URLS}


@pytest.mark.parametrize(("name", "pattern"), OBJECT_URLS, ids=[n for n, _ in OBJECT_URLS])
@pytest.mark.parametrize("role", [Role.OWNER, Role.OPERATOR, Role.MANAGER, Role.MODERATOR])
def test_another_organisations_object_is_a_404(name, pattern, role, client_for, org_a, community_b):
    staff = StaffFactory(organization=org_a, role=role)
    # Same slug in A, to prove lookups are scoped by organisation, not by slug alone.
    CommunityFactory(organization=org_a, slug="other", name="A's own")
    client = client_for(staff)
    url = reverse(name, kwargs=sample_kwargs(pattern, community_b))
    before = Community.objects.values().get(pk=community_b.pk)

    response = client.get(url)
    assert response.status_code in {404, 405}
    if response.status_code == 404:
        assert community_b.name.encode() not in response.content

    response = client.post(url, {"name": "hijacked", "slug": "hijacked", "platform": "qq"})
    assert response.status_code in {404, 405}
    assert Community.objects.values().get(pk=community_b.pk) == before


@pytest.mark.parametrize(("name", "pattern"), PRIVATE_URLS, ids=[n for n, _ in PRIVATE_URLS])
def test_every_private_url_needs_login(name, pattern, client, community_b):
    url = reverse(name, kwargs=sample_kwargs(pattern, community_b))
    response = client.get(url)
    if response.status_code == 405:  # POST-only views
        response = client.post(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("name", "pattern"), PRIVATE_URLS, ids=[n for n, _ in PRIVATE_URLS])
def test_every_private_view_goes_through_the_permission_module(name, pattern):
    # staff_required marks what it wraps; Django's own account views check login themselves.
    account_views = {"logout", "password_change", "password_change_done"}
    callback = pattern.callback
    checked = hasattr(callback, "required_capability") or (
        name in account_views and callback.view_class is not None
    )
    assert checked, f"{name} is not wrapped by communities.permissions.staff_required"


def test_moderator_sees_only_assigned_communities(client_for, moderator_a, org_a):
    mine = CommunityFactory(organization=org_a, name="分配给我的群", slug="mine")
    not_mine = CommunityFactory(organization=org_a, name="别人的群", slug="not-mine")
    moderator_a.communities.add(mine)
    client = client_for(moderator_a)

    listing = client.get(reverse("communities:list"))
    assert mine.name in listing.content.decode()
    assert not_mine.name not in listing.content.decode()
    assert client.get(reverse("communities:detail", args=[mine.slug])).status_code == 200
    assert client.get(reverse("communities:detail", args=[not_mine.slug])).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.OWNER, 200), (Role.OPERATOR, 200), (Role.MANAGER, 403), (Role.MODERATOR, 403)],
)
def test_only_owners_and_operators_create_communities(role, status, client_for, org_a):
    client = client_for(StaffFactory(organization=org_a, role=role))
    assert client.get(reverse("communities:create")).status_code == status
    client.post(
        reverse("communities:create"),
        {"name": "新群", "slug": "new", "platform": "wechat", "time_zone": "Asia/Shanghai",
         "created_on": "2026-11-01"},
    )  # fmt: skip
    assert Community.objects.filter(slug="new").exists() == (status == 200)


def test_role_capabilities_are_as_documented():
    assert ROLE_CAPABILITIES[Role.OWNER] == frozenset(Capability)
    assert Capability.MANAGE_COMMUNITIES not in ROLE_CAPABILITIES[Role.MANAGER]
    assert Capability.EXPORT_DATA in ROLE_CAPABILITIES[Role.MANAGER]
    assert ROLE_CAPABILITIES[Role.MODERATOR] == {
        Capability.VIEW_COMMUNITIES,
        Capability.WORK_CHECKLISTS,
        Capability.MODERATE_MEMBERS,
    }


def test_user_without_organisation_is_told_so(client):
    client.force_login(UserFactory())
    response = client.get(reverse("overview"))
    assert response.status_code == 403
    assert b"does not belong to any organisation" in response.content


def test_staff_required_marks_the_view():
    @staff_required(Capability.EXPORT_DATA)
    def view(request):
        return None

    assert view.required_capability == Capability.EXPORT_DATA


def test_admin_is_closed_to_tenant_staff(client_for, owner_a):
    response = client_for(owner_a).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_switching_organisation(client_for, owner_a, org_b, community_b):
    StaffFactory(organization=org_b, user=owner_a.user, role=Role.MANAGER)
    client = client_for(owner_a)
    # Sees A by default (first by name), not B's community.
    assert community_b.name not in client.get(reverse("communities:list")).content.decode()

    response = client.post(reverse("organization-switch"), {"organization": org_b.pk})
    assert response.status_code == 302
    assert community_b.name in client.get(reverse("communities:list")).content.decode()


def test_cannot_switch_into_a_foreign_organisation(client_for, owner_a, org_b, community_b):
    client = client_for(owner_a)
    response = client.post(reverse("organization-switch"), {"organization": org_b.pk})
    assert response.status_code == 404
    assert community_b.name not in client.get(reverse("communities:list")).content.decode()
