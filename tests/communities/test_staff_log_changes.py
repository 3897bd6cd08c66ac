"""The staff log of community changes: who changed a community's rules, its tier settings
or its connectors. Each change made through its page is one entry with the acting user and
the community, worded in the organisation's language; nothing reaches another organisation."""

import pytest
from django.urls import reverse

from communities import services
from communities.models import Penalty, RuleKind, StaffAction, StaffLogEntry
from tests.communities.test_positioning_rules import community_data, management, texts
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def english_org_a(org_a):
    org_a.language = "en"
    org_a.save()
    return org_a


def only_entry(organization) -> StaffLogEntry:
    (entry,) = StaffLogEntry.objects.all()
    assert entry.organization == organization
    return entry


def rules_url(community) -> str:
    return reverse("communities:rules", args=[community.slug])


def connectors_url(community, name="", pk=None) -> str:
    if not name:
        return reverse("communities:connectors", kwargs={"community_slug": community.slug})
    return reverse(
        f"communities:connector-{name}",
        kwargs={"community_slug": community.slug, "connector_pk": pk},
    )


# --- Rules ---------------------------------------------------------------------------------


def test_a_rules_save_is_one_entry_naming_what_changed(
    client_for, operator_a, english_org_a, community_a, org_b
):
    kept = services.rule_create(
        community=community_a, kind=RuleKind.ENCOURAGED, title="Share notes", points=5, by=None
    )
    gone = services.rule_create(
        community=community_a, kind=RuleKind.ENCOURAGED, title="Daily check-in", by=None
    )
    assert not StaffLogEntry.objects.exists()  # by=None: set up by code, not logged
    response = client_for(operator_a).post(
        rules_url(community_a),
        {
            **texts(**{"texts-vision": "Still reading in ten years."}),
            **management("encouraged", 3, 2),
            "encouraged-0-id": str(kept.pk),
            "encouraged-0-title": "Share notes",
            "encouraged-0-points": "15",
            "encouraged-1-id": str(gone.pk),
            "encouraged-1-title": "Daily check-in",
            "encouraged-1-points": "0",
            "encouraged-1-DELETE": "on",
            "encouraged-2-title": "Recommend a book",
            "encouraged-2-points": "3",
            **management("forbidden", 1, 0),
            "forbidden-0-title": "Ads",
            "forbidden-0-penalty": Penalty.WARNING,
            "forbidden-0-points": "20",
            "forbidden-0-strikes_to_removal": "",
        },
    )
    assert response.status_code == 302
    entry = only_entry(english_org_a)
    assert entry.action == StaffAction.RULES_CHANGED
    assert entry.actor == operator_a.user
    assert entry.community == community_a
    assert "changed the texts" in entry.detail and "vision" in entry.detail
    assert "changed “Share notes”" in entry.detail
    assert "removed “Daily check-in”" in entry.detail
    assert "added “Recommend a book”" in entry.detail and "added “Ads”" in entry.detail
    assert not StaffLogEntry.objects.filter(organization=org_b).exists()


def test_saving_the_rules_unchanged_logs_nothing(client_for, owner_a, community_a):
    client = client_for(owner_a)
    post = {**texts(), **management("encouraged", 0, 0), **management("forbidden", 0, 0)}
    client.post(rules_url(community_a), post)
    assert StaffLogEntry.objects.count() == 1
    assert client.post(rules_url(community_a), post).status_code == 302
    assert StaffLogEntry.objects.count() == 1


def test_rules_detail_is_in_the_organisations_language(client_for, owner_a, community_a):
    # The organisation's default language is Chinese; the request is in English.
    client_for(owner_a).post(
        rules_url(community_a),
        {
            **texts(),
            **management("encouraged", 1, 0),
            "encouraged-0-title": "分享读书笔记",
            "encouraged-0-points": "10",
            **management("forbidden", 0, 0),
        },
    )
    entry = only_entry(owner_a.organization)
    assert "新增“分享读书笔记”" in entry.detail


def test_a_rules_change_refused_by_another_organisation_logs_nothing(
    client_for, org_b, community_a
):
    owner_b = StaffFactory(organization=org_b, role="owner")
    response = client_for(owner_b).post(
        rules_url(community_a),
        {**texts(), **management("encouraged", 0, 0), **management("forbidden", 0, 0)},
    )
    assert response.status_code == 404
    assert not StaffLogEntry.objects.exists()


def test_rule_services_log_their_actor(owner_a, english_org_a, community_a):
    rule = services.rule_create(
        community=community_a, kind=RuleKind.ENCOURAGED, title="Notes", by=owner_a.user
    )
    services.rule_update(rule=rule, data={"points": 4}, by=owner_a.user)
    services.rule_update(rule=rule, data={"points": 4}, by=owner_a.user)  # no change
    services.rule_delete(rule=rule, by=owner_a.user)
    services.community_rules_update(
        community=community_a, data={"entry_standard": "Readers"}, by=owner_a.user
    )
    details = list(StaffLogEntry.objects.order_by("pk").values_list("action", "actor", "detail"))
    assert details == [
        (StaffAction.RULES_CHANGED, owner_a.user.pk, "added “Notes”"),
        (StaffAction.RULES_CHANGED, owner_a.user.pk, "changed “Notes”"),
        (StaffAction.RULES_CHANGED, owner_a.user.pk, "removed “Notes”"),
        (StaffAction.RULES_CHANGED, owner_a.user.pk, "changed the texts (entry standard)"),
    ]


# --- Tier settings (the ladder options on the community's edit page) --------------------


def test_a_change_of_the_ladder_options_is_one_tiers_entry(
    client_for, operator_a, english_org_a, community_a, org_b
):
    url = reverse("communities:edit", args=[community_a.slug])
    client = client_for(operator_a)
    response = client.post(
        url, community_data(community_a, demotion_enabled="on", demotion_grace_days="21")
    )
    assert response.status_code == 302
    entry = only_entry(english_org_a)
    assert entry.action == StaffAction.TIERS_CHANGED
    assert (entry.actor, entry.community) == (operator_a.user, community_a)
    assert entry.detail == "demotion of members who stop qualifying: on, after 21 days of grace"

    # Renaming the community is not a tiers change.
    client.post(url, community_data(community_a, name="Renamed", demotion_enabled="on",
                                    demotion_grace_days="21"))  # fmt: skip
    assert StaffLogEntry.objects.count() == 1
    assert not StaffLogEntry.objects.filter(organization=org_b).exists()


# --- Connectors ----------------------------------------------------------------------------


def test_connector_create_rotate_revoke_each_log_one_entry(
    client_for, operator_a, english_org_a, community_a, org_b
):
    client = client_for(operator_a)
    response = client.post(
        connectors_url(community_a), {"name": "Reading bot", "platform": "wechat"}
    )
    assert response.status_code == 200
    entry = only_entry(english_org_a)
    assert (entry.action, entry.actor, entry.community) == (
        StaffAction.CONNECTOR_CHANGED,
        operator_a.user,
        community_a,
    )
    assert entry.detail == "“Reading bot”: created"
    connector = community_a.connectors.get()

    assert client.post(connectors_url(community_a, "rotate", connector.pk)).status_code == 200
    assert StaffLogEntry.objects.count() == 2
    assert StaffLogEntry.objects.first().detail == "“Reading bot”: new secret issued"

    assert client.post(connectors_url(community_a, "revoke", connector.pk)).status_code == 302
    assert StaffLogEntry.objects.count() == 3
    latest = StaffLogEntry.objects.first()
    assert (latest.detail, latest.actor, latest.community) == (
        "“Reading bot”: revoked",
        operator_a.user,
        community_a,
    )
    # Revoking again changes nothing, so it is not logged again.
    client.post(connectors_url(community_a, "revoke", connector.pk))
    assert StaffLogEntry.objects.count() == 3
    assert set(StaffLogEntry.objects.values_list("organization", flat=True)) == {english_org_a.pk}
    assert not StaffLogEntry.objects.filter(organization=org_b).exists()


def test_another_organisation_cannot_touch_a_connector_nor_log(
    client_for, owner_a, org_b, community_a
):
    issued = services.connector_create(
        community=community_a, name="Bot", platform="wechat", by=owner_a.user
    )
    assert StaffLogEntry.objects.count() == 1  # its creation, in organisation A's log
    owner_b = StaffFactory(organization=org_b, role="owner")
    client = client_for(owner_b)
    for name in ("rotate", "revoke"):
        response = client.post(connectors_url(community_a, name, issued.connector.pk))
        assert response.status_code == 404
    assert StaffLogEntry.objects.count() == 1
    assert not StaffLogEntry.objects.filter(organization=org_b).exists()
