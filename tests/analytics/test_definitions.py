"""One catalogue of definitions (``analytics.definitions``): every indicator the API
exports has its line, in both languages, shown beside the figure on the pages and leading
its description in the OpenAPI document."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from analytics.definitions import DEFINITIONS
from communities.tokens import api_token_create
from tests.analytics.test_docs import NOT_FIGURES, figures

pytestmark = pytest.mark.django_db


def exported_figures(staff, community) -> set[str]:
    key = api_token_create(staff=staff, name="definitions")[1]
    client = Client(headers={"authorization": f"Bearer {key}"})
    metrics = client.get(reverse("api:metrics", args=[community.slug])).json()
    portfolio = client.get(reverse("api:portfolio")).json()
    rows = set().union(*(row.keys() for row in portfolio["communities"]))
    return figures(metrics) | (rows - NOT_FIGURES)


def test_every_exported_indicator_has_a_definition(manager_a, community_a):
    assert sorted(exported_figures(manager_a, community_a) - set(DEFINITIONS)) == []


@pytest.mark.parametrize("key", sorted(DEFINITIONS))
def test_each_definition_reads_in_both_languages(key):
    definition = DEFINITIONS[key]
    with translation.override("en"):
        english = (str(definition.label), str(definition.text))
    with translation.override("zh-hans"):
        chinese = (str(definition.label), str(definition.text))
    assert all(english) and "%(" not in english[1]
    # Translated: Chinese characters in both the label and the line.
    assert all(re.search(r"[\u4e00-\u9fff]", text) for text in chinese), chinese
    assert "%(" not in chinese[1]


def test_the_openapi_document_leads_with_the_same_line(manager_a):
    document = Client().get(reverse("api:openapi")).json()
    text = str(document)
    with translation.override("en"):
        for key in ("dau", "stickiness", "mainstream", "action_index", "sop_completion"):
            assert str(DEFINITIONS[key].text) in text, key


def test_the_pages_show_each_figures_definition_in_a_popover(client_for, manager_a, community_a):
    client = client_for(manager_a)
    page = client.get(reverse("analytics:community", args=[community_a.slug])).content.decode()
    for key in ("members", "dau", "stickiness", "sop_completion", "stage", "retention"):
        button = re.search(rf'<button[^>]*popovertarget="def-{key.replace("_", "-")}"', page)
        assert button, key
        assert f'id="def-{key.replace("_", "-")}" class="definition" popover' in page
    portfolio = client.get(reverse("analytics:home")).content.decode()
    assert 'popovertarget="def-retention-week-4"' in portfolio
    overview = client.get(reverse("overview")).content.decode()
    for key in ("stage", "members", "wau", "mainstream-share", "silence", "activation"):
        assert f'popovertarget="def-{key}"' in overview, key
