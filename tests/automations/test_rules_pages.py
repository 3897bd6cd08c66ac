"""The automation rules' pages: list, presets, form (trigger settings and action rows by
htmx, errors and nothing written, dry-run of the unsaved rule), the rule's page, switching
on and off, deleting; permissions and another organisation's rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from automations.models import AutomationRule, RuleFiring, RuleTrigger
from tests.automations.rules_helpers import log_event, rule_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

SEND = [{"type": "send", "text": "欢迎 {member}"}]


def form_data(**overrides) -> dict:
    data = {
        "name": "欢迎新人",
        "trigger": RuleTrigger.MEMBER_JOINED,
        "action-0-type": "send",
        "action-0-text": "欢迎 {member} 加入 {community}",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_list_shows_rules_with_counts_and_escapes_names(
    client_for, operator_a, org_a, community_a, django_assert_num_queries
):
    for n in range(3):
        rule = rule_for(
            org_a,
            trigger=RuleTrigger.KEYWORD,
            name=f"<script>x{n}</script>",
            config={"keyword": "打卡"},
            actions=SEND,
            communities=[community_a],
        )
    AutomationRule.objects.filter(pk=rule.pk).update(fire_count=7, last_fired_at=timezone.now())
    client = client_for(operator_a)
    client.get(reverse("automations:rules"))
    with django_assert_num_queries(5):
        response = client.get(reverse("automations:rules"))
    body = response.content.decode()
    assert "<script>x0" not in body and "&lt;script&gt;x0" in body
    assert 'data-testid="fire-count">7<' in body
    for preset in ("welcome", "keyword", "reengage", "silence"):
        assert f'data-preset="{preset}"' in body


def test_a_moderator_reads_but_cannot_build(client_for, moderator_a, org_a):
    rule = rule_for(org_a, trigger=RuleTrigger.MEMBER_JOINED, actions=SEND)
    client = client_for(moderator_a)
    assert client.get(reverse("automations:rules")).status_code == 200
    assert client.get(reverse("automations:rule", args=[rule.pk])).status_code == 200
    assert client.get(reverse("automations:rule-new")).status_code == 403
    assert client.post(reverse("automations:rule-toggle", args=[rule.pk])).status_code == 403
    assert client.post(reverse("automations:rule-delete", args=[rule.pk])).status_code == 403


def test_another_organisations_rule_is_a_404(client_for, operator_a, org_b):
    rule = rule_for(org_b, trigger=RuleTrigger.MEMBER_JOINED, actions=SEND)
    client = client_for(operator_a)
    for name in ("automations:rule", "automations:rule-edit", "automations:rule-dry-run"):
        assert client.get(reverse(name, args=[rule.pk])).status_code == 404
    assert client.post(reverse("automations:rule-toggle", args=[rule.pk])).status_code == 404
    assert client.post(reverse("automations:rule-delete", args=[rule.pk])).status_code == 404
    assert AutomationRule.objects.filter(pk=rule.pk, enabled=True).exists()


@pytest.mark.parametrize("preset", ["welcome", "keyword", "reengage", "silence"])
def test_presets_fill_the_form(client_for, operator_a, preset):
    response = client_for(operator_a).get(reverse("automations:rule-new") + f"?preset={preset}")
    assert response.status_code == 200
    assert 'data-testid="action-row"' in response.content.decode()


def test_the_trigger_settings_and_an_action_row_are_swapped_in(client_for, operator_a):
    client = client_for(operator_a)
    url = reverse("automations:rule-new")
    response = client.get(
        url, {"trigger": "keyword"}, headers={"HX-Request": "true", "HX-Target": "trigger-settings"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="trigger-settings"')
    assert 'name="keyword"' in body and 'name="days"' not in body
    response = client.get(url, {"add_action": "points"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith("<li") and 'name="action-' in body and "-points" in body
    assert client.get(url, {"remove": "1"}, headers={"HX-Request": "true"}).content == b""


def test_create_then_toggle_edit_and_delete(client_for, operator_a, org_a):
    client = client_for(operator_a)
    response = client.post(reverse("automations:rule-new"), form_data())
    rule = AutomationRule.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "automations:rule", args=[rule.pk]
    )
    assert rule.actions == [{"type": "send", "text": "欢迎 {member} 加入 {community}"}]
    assert not rule.enabled
    client.post(reverse("automations:rule-toggle", args=[rule.pk]))
    rule.refresh_from_db()
    assert rule.enabled
    response = client.post(
        reverse("automations:rule-edit", args=[rule.pk]),
        form_data(
            name="新名字",
            trigger="inactive",
            days="14",
            **{"action-5-type": "points", "action-5-points": "3"},
        ),
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.trigger, rule.trigger_config) == ("新名字", "inactive", {"days": 14})
    assert [a["type"] for a in rule.actions] == ["send", "points"]
    client.post(reverse("automations:rule-delete", args=[rule.pk]))
    assert not AutomationRule.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"trigger": "keyword", "keyword": "(a+)+$", "regex": "on"}, "catastrophically"),
        ({"trigger": "keyword", "keyword": "(oops", "regex": "on"}, "does not compile"),
        ({"action-0-type": None, "action-0-text": None}, "Add at least one action"),
        ({"action-0-type": "points", "action-0-points": "0"}, "other than 0"),
        ({"action-0-type": "tag", "action-0-tag_id": "99999"}, "tags"),
        ({"name": ""}, "required"),
    ],
)
def test_bad_input_shows_errors_and_writes_nothing(client_for, operator_a, overrides, words):
    response = client_for(operator_a).post(reverse("automations:rule-new"), form_data(**overrides))
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not AutomationRule.objects.exists()


def test_the_forms_dry_run_shows_what_would_fire_without_saving(
    client_for, operator_a, community_a
):
    alice = MembershipFactory(community=community_a, member__display_name="<b>爱丽丝</b>")
    log_event(community_a, alice.member, kind="join", at=timezone.now() - timedelta(days=1))
    response = client_for(operator_a).post(
        reverse("automations:rule-new"), form_data(dry_run="1"), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="dry-run"')
    assert 'data-testid="dry-run-row"' in body
    assert "欢迎 &lt;b&gt;爱丽丝&lt;/b&gt; 加入 读书会" in body
    assert not AutomationRule.objects.exists()


def test_the_rule_page_lists_firings_and_runs_its_dry_run(
    client_for, manager_a, org_a, community_a
):
    alice = MembershipFactory(community=community_a, member__display_name="爱丽丝")
    rule = rule_for(org_a, trigger=RuleTrigger.MEMBER_JOINED, actions=SEND)
    RuleFiring.objects.create(
        rule=rule,
        community=community_a,
        member=alice.member,
        key="k",
        outcome=[{"type": "send", "ok": False, "text": "<i>boom</i>"}],
    )
    client = client_for(manager_a)
    body = client.get(reverse("automations:rule", args=[rule.pk])).content.decode()
    assert 'data-testid="firing"' in body and "&lt;i&gt;boom" in body
    response = client.get(
        reverse("automations:rule-dry-run", args=[rule.pk]), headers={"HX-Request": "true"}
    )
    assert 'data-testid="dry-run"' in response.content.decode()


def test_without_javascript_action_rows_are_added_and_removed_by_posting(client_for, operator_a):
    client = client_for(operator_a)
    url = reverse("automations:rule-new")
    body = client.post(url, form_data(add_action="points")).content.decode()
    assert body.count('data-testid="action-row"') == 2
    assert "欢迎 {member} 加入 {community}" in body  # the text typed so far is kept
    body = client.post(url, form_data(remove_action="0")).content.decode()
    assert body.count('data-testid="action-row"') == 0
    assert not AutomationRule.objects.exists()


def test_tier_and_tag_conditions_need_a_member_trigger(client_for, operator_a, org_a):
    from members.services import tag_get_or_create

    tag = tag_get_or_create(organization=org_a, kind="other", name="沉睡")
    data = form_data(trigger="silence", tags=str(tag.pk))
    body = client_for(operator_a).post(reverse("automations:rule-new"), data).content.decode()
    assert "need a trigger about a member" in body
    assert not AutomationRule.objects.exists()
