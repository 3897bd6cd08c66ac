"""Tenancy and roles, checked over every URL the project has.

The URL list is read from the URLconf at collection time (``tests/urlwalk.py``), so a URL
added by a later feature is covered without touching this file; a URL with a new kind of
parameter fails until ``sample_kwargs`` says which object of organisation B to point it at.
"""

import pytest
from django.urls import reverse

from communities.models import Community, Role
from communities.permissions import ROLE_CAPABILITIES, Capability, staff_required
from tests.factories import CommunityFactory, StaffFactory, UserFactory
from tests.urlwalk import OBJECT_URLS, PRIVATE_URLS, sample_kwargs

pytestmark = pytest.mark.django_db


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
