"""What higher apps show on communities' pages arrives through ``communities.panels``:
the import link (activities), how a bot sends events (activities), the API section of the
settings (analytics), manual activity entry on a member's profile (activities, into the
members app's place). Communities' own code and templates never name those apps
(tests/config/test_layering.py); these tests hold that the pages still show them, to
whom they should.
"""

import pytest
from django.urls import reverse

from communities import panels
from communities.heartbeat import heartbeat_record
from communities.models import Role
from members.services import member_create, membership_create
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def page(client, name, **kwargs) -> str:
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    return response.content.decode()


def test_each_app_registers_its_parts():
    assert [p.key for p in panels.registered_panels(panels.CONNECTORS_PAGE)] == [
        "activities.webhook"
    ]
    assert [p.key for p in panels.registered_panels(panels.SETTINGS_PAGE)] == ["analytics.api"]
    assert [p.key for p in panels.registered_panels("members.membership")] == ["activities.entry"]


def test_the_connectors_page_says_how_a_bot_sends_events(client_for, operator_a, community_a):
    html = page(client_for(operator_a), "communities:connectors", community_slug="reading")
    assert "How a bot sends events" in html
    assert "POST http://testserver/api/v1/ingest/CONNECTOR_ID/events" in html
    assert 'href="/imports/?community=reading" data-link="activities.imports"' in html


@pytest.mark.parametrize(("role", "shown"), [(Role.OPERATOR, True), (Role.MANAGER, False)])
def test_the_community_page_offers_the_import_to_who_may_import(
    client_for, org_a, community_a, role, shown
):
    staff = StaffFactory(organization=org_a, role=role)
    html = page(client_for(staff), "communities:detail", community_slug="reading")
    assert ('href="/imports/?community=reading" data-link="activities.imports"' in html) is shown
    assert ("Import chat history" in html) is shown


@pytest.mark.parametrize(
    ("role", "api", "workers"),
    [
        (Role.OWNER, True, True),
        (Role.OPERATOR, True, False),
        (Role.MANAGER, True, False),
        (Role.MODERATOR, False, False),
    ],
)
def test_the_settings_page_shows_the_api_and_the_workers_by_role(
    client_for, org_a, settings, role, api, workers
):
    # This process's own cache: the shared one is cleared by other test runs at any time.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    heartbeat_record()
    staff = StaffFactory(organization=org_a, role=role)
    html = page(client_for(staff), "settings")
    assert ('data-testid="api-settings"' in html) is api
    assert (reverse("tokens:list") in html and reverse("api:openapi") in html) is api
    assert ('data-testid="worker-status"' in html) is workers
    if workers:
        assert "running" in html.split('data-testid="worker-status"')[1].split("</p>")[0]


@pytest.mark.parametrize(("role", "shown"), [(Role.OPERATOR, True), (Role.MODERATOR, False)])
def test_manual_activity_entry_on_the_profile_is_for_who_may_record_it(
    client_for, org_a, community_a, role, shown
):
    member = member_create(organization=org_a, display_name="线下的人")
    membership = membership_create(community=community_a, member=member)
    staff = StaffFactory(organization=org_a, role=role)
    community_a.assigned_staff.add(staff)
    html = page(client_for(staff), "members:profile", member_id=member.pk)
    assert ('data-testid="activity-entry"' in html) is shown
    record = reverse("activities:record", kwargs={"membership_id": membership.pk})
    assert (f'action="{record}"' in html) is shown


def test_switching_organisation_goes_to_the_home_page(client_for, owner_a, org_b):
    StaffFactory(organization=org_b, user=owner_a.user, role=Role.MANAGER)
    response = client_for(owner_a).post(reverse("organization-switch"), {"organization": org_b.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("overview")
