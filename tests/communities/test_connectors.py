"""The connectors page: a secret is shown once, rotated, revoked; who may do it."""

import html
import json
import re
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activities.models import ActivityEvent
from activities.webhook import sign
from communities.models import Connector, Platform, Role
from communities.services import connector_create
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db

SECRET = re.compile(r'data-testid="secret">([^<]+)<')


def page_url(community) -> str:
    return reverse("communities:connectors", kwargs={"community_slug": community.slug})


def rotate_url(community, connector) -> str:
    return reverse(
        "communities:connector-rotate",
        kwargs={"community_slug": community.slug, "connector_pk": connector.pk},
    )


def revoke_url(community, connector) -> str:
    return reverse(
        "communities:connector-revoke",
        kwargs={"community_slug": community.slug, "connector_pk": connector.pk},
    )


def shown_secret(response) -> str:
    found = SECRET.findall(response.content.decode())
    assert len(found) == 1, "the page should show exactly one secret"
    return html.unescape(found[0])


def webhook(connector: Connector, secret: str, external_id: str = "m1"):
    body = json.dumps(
        {
            "events": [
                {
                    "external_id": external_id,
                    "kind": "message",
                    "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
                    "member": {"id": "wxid_alice", "name": "爱丽丝"},
                    "text": "你好",
                }
            ]
        },
        ensure_ascii=False,
    ).encode()
    timestamp = int(time.time())
    return Client().post(
        reverse("activities:api-ingest", kwargs={"connector_id": connector.public_id}),
        data=body,
        content_type="application/json",
        headers={
            "X-CommunityOps-Timestamp": str(timestamp),
            "X-CommunityOps-Signature": sign(secret, timestamp, body),
        },
    )


@pytest.fixture
def created(client_for, operator_a, community_a):
    """An operator creates a connector through the page: (client, connector, secret)."""
    client = client_for(operator_a)
    response = client.post(page_url(community_a), {"name": "企业微信机器人", "platform": "wecom"})
    assert response.status_code == 200
    connector = Connector.objects.get(community=community_a)
    return client, connector, shown_secret(response), response


# --- The secret, once ----------------------------------------------------------------------


def test_creating_shows_the_secret_and_the_connector_id_once(created, community_a, operator_a):
    client, connector, secret, response = created
    text = response.content.decode()

    assert secret == connector.secret and secret.startswith("cos_")
    assert connector.public_id in text
    assert connector.name == "企业微信机器人"
    assert connector.platform == Platform.WECOM
    assert connector.created_by == operator_a.user

    again = client.get(page_url(community_a))

    assert again.status_code == 200
    assert connector.public_id in again.content.decode()
    assert secret not in again.content.decode()
    assert 'data-testid="secret"' not in again.content.decode()


def test_the_page_lists_connectors_without_secrets(client_for, operator_a, community_a):
    issued = connector_create(
        community=community_a, name="Telegram bot", platform=Platform.TELEGRAM, by=operator_a.user
    )

    response = client_for(operator_a).get(page_url(community_a))

    assert response.status_code == 200
    text = response.content.decode()
    assert "Telegram bot" in text and issued.connector.public_id in text
    assert issued.secret not in text


def test_an_invalid_form_creates_nothing(client_for, operator_a, community_a):
    response = client_for(operator_a).post(
        page_url(community_a), {"name": "", "platform": "myspace"}
    )

    assert response.status_code == 200
    assert not Connector.objects.exists()
    assert 'data-testid="secret"' not in response.content.decode()


def test_the_shown_secret_signs_webhook_requests(created):
    _, connector, secret, _ = created

    response = webhook(connector, secret)

    assert response.status_code == 202, response.content
    assert ActivityEvent.objects.count() == 1


# --- Rotation and revocation ---------------------------------------------------------------


def test_rotating_shows_a_new_secret_and_keeps_the_old_for_the_grace_period(
    created, community_a, settings
):
    client, connector, old_secret, _ = created

    response = client.post(rotate_url(community_a, connector))

    assert response.status_code == 200
    new_secret = shown_secret(response)
    assert new_secret != old_secret
    assert old_secret not in response.content.decode()
    connector.refresh_from_db()
    assert connector.secret == new_secret
    grace = timedelta(hours=settings.CONNECTOR_ROTATION_GRACE_HOURS)
    assert abs(connector.previous_valid_until - (timezone.now() + grace)) < timedelta(minutes=1)
    assert webhook(connector, old_secret, "m1").status_code == 202
    assert webhook(connector, new_secret, "m2").status_code == 202

    Connector.objects.filter(pk=connector.pk).update(
        previous_valid_until=timezone.now() - timedelta(seconds=1)
    )

    assert webhook(connector, old_secret, "m3").status_code == 401
    assert webhook(connector, new_secret, "m4").status_code == 202


def test_revoking_refuses_the_connector_and_marks_the_row(created, community_a):
    client, connector, secret, _ = created
    assert webhook(connector, secret, "m1").status_code == 202

    response = client.post(revoke_url(community_a, connector))

    assert response.status_code == 302
    assert response["Location"] == page_url(community_a)
    connector.refresh_from_db()
    assert connector.revoked_at is not None
    assert webhook(connector, secret, "m2").status_code == 401
    page = client.get(page_url(community_a)).content.decode()
    row = re.search(r"<tr>\s*<td>企业微信机器人.*?</tr>", page, re.S)
    assert row is not None
    assert re.search(r'class="badge[^"]*">revoked</span>', row.group(0))
    # No more buttons for a revoked connector, and it cannot be given a new secret.
    assert rotate_url(community_a, connector) not in page
    assert client.post(rotate_url(community_a, connector)).status_code == 404


def test_rotate_and_revoke_need_post(created, community_a):
    client, connector, _, _ = created

    assert client.get(rotate_url(community_a, connector)).status_code == 405
    assert client.get(revoke_url(community_a, connector)).status_code == 405
    connector.refresh_from_db()
    assert connector.rotated_at is None and connector.revoked_at is None


# --- Who may ------------------------------------------------------------------------------


def test_a_manager_may_not_manage_connectors(client_for, manager_a, operator_a, community_a):
    issued = connector_create(
        community=community_a, name="bot", platform=Platform.WECHAT, by=operator_a.user
    )
    client = client_for(manager_a)

    assert client.get(page_url(community_a)).status_code == 403
    assert client.post(page_url(community_a), {"name": "x", "platform": "qq"}).status_code == 403
    assert client.post(rotate_url(community_a, issued.connector)).status_code == 403
    assert client.post(revoke_url(community_a, issued.connector)).status_code == 403

    connector = Connector.objects.get()
    assert connector.secret == issued.secret
    assert connector.revoked_at is None


def test_an_owner_may_manage_connectors(client_for, owner_a, community_a):
    response = client_for(owner_a).post(page_url(community_a), {"name": "x", "platform": "qq"})

    assert response.status_code == 200
    assert shown_secret(response) == Connector.objects.get().secret


def test_the_page_needs_a_sign_in(community_a):
    response = Client().get(page_url(community_a))

    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_another_organisations_connector_is_not_found(
    client_for, operator_a, community_a, community_b
):
    owner_b = StaffFactory(organization=community_b.organization, role=Role.OWNER)
    other = connector_create(
        community=community_b, name="B bot", platform=Platform.WECHAT, by=owner_b.user
    )
    client = client_for(operator_a)

    for community in (community_a, community_b):
        assert client.post(rotate_url(community, other.connector)).status_code == 404
        assert client.post(revoke_url(community, other.connector)).status_code == 404
    assert client.get(page_url(community_b)).status_code == 404

    connector = Connector.objects.get(pk=other.connector.pk)
    assert connector.secret == other.secret
    assert connector.rotated_at is None and connector.revoked_at is None


def test_a_connector_of_another_community_is_not_found_under_this_one(
    client_for, operator_a, community_a, org_a
):
    sibling = CommunityFactory(organization=org_a, name="兄弟群", slug="sibling")
    other = connector_create(
        community=sibling, name="bot", platform=Platform.WECHAT, by=operator_a.user
    )
    client = client_for(operator_a)

    assert client.post(rotate_url(community_a, other.connector)).status_code == 404
    assert client.post(revoke_url(community_a, other.connector)).status_code == 404
    assert Connector.objects.get().revoked_at is None


# --- Escaping and CSRF --------------------------------------------------------------------


def test_a_connector_name_is_escaped(client_for, operator_a, community_a):
    client = client_for(operator_a)
    name = "<script>alert(1)</script>"

    created = client.post(page_url(community_a), {"name": name, "platform": "qq"})
    listed = client.get(page_url(community_a))

    for response in (created, listed):
        text = response.content.decode()
        assert "<script>alert(1)" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert Connector.objects.get().name == name


@pytest.mark.parametrize("action", ["create", "rotate", "revoke"])
def test_posts_without_a_csrf_token_are_refused(operator_a, community_a, action):
    issued = connector_create(
        community=community_a, name="bot", platform=Platform.WECHAT, by=operator_a.user
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_a.user)
    url = {
        "create": page_url(community_a),
        "rotate": rotate_url(community_a, issued.connector),
        "revoke": revoke_url(community_a, issued.connector),
    }[action]

    response = client.post(url, {"name": "x", "platform": "qq"})

    assert response.status_code == 403
    connector = Connector.objects.get()
    assert connector.secret == issued.secret
    assert connector.revoked_at is None


def test_the_page_carries_csrf_tokens(client_for, operator_a, community_a):
    connector_create(
        community=community_a, name="bot", platform=Platform.WECHAT, by=operator_a.user
    )

    text = client_for(operator_a).get(page_url(community_a)).content.decode()

    # The create form, and the rotate and revoke buttons of the one connector.
    assert text.count('name="csrfmiddlewaretoken"') >= 3
