"""The overview's alerts link to what answers them: a silent or dormant community to its
topic prompt (the automation settings' silence section) and to a new broadcast, for those
who manage communities; the SOP alert to the team view (analytics' own link)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.analytics.test_overview import scenario

pytestmark = pytest.mark.django_db


def answers(html: str, kind: str) -> list[str]:
    match = re.search(rf'data-testid="alert-{kind}">(.*?)</ul>', html, re.S)
    return re.findall(r'<a href="([^"]+)" class="small" data-testid="alert-answer"', match.group(1))


def test_silent_and_dormant_alerts_link_to_their_answers(org_a, client_for, operator_a):
    built = scenario(org_a)
    html = client_for(operator_a).get(reverse("overview")).content.decode()
    settings_of = lambda c: reverse("automations:community-settings", args=[c.slug])  # noqa: E731
    new_broadcast = reverse("automations:broadcast-new")
    assert answers(html, "silent") == [f"{settings_of(built['quiet'])}#silence", new_broadcast]
    assert answers(html, "dormant") == [f"{settings_of(built['dormant'])}#silence", new_broadcast]


def test_those_who_cannot_manage_get_no_such_links(org_a, client_for, manager_a):
    scenario(org_a)
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    assert 'data-testid="alert-silent"' in html
    assert 'data-testid="alert-answer"' not in html
