"""docs/metrics.md is the contract: every figure the API exports has an entry there."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from communities.tokens import api_token_create

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"
# Keys that name or place a figure rather than being one.
NOT_FIGURES = {
    "day", "start", "end", "from", "to", "slug", "name", "community", "programme",
    "time_zone", "platform", "params",
}  # fmt: skip


def documented() -> set[str]:
    return set(re.findall(r"`([a-z_0-9]+)`", DOC.read_text()))


def figures(document: dict) -> set[str]:
    """The metrics document's sections and the indicators' names."""
    return (set(document) | set(document["indicators"])) - NOT_FIGURES


def test_every_exported_figure_has_a_definition(manager_a, community_a):
    key = api_token_create(staff=manager_a, name="docs")[1]
    client = Client(headers={"authorization": f"Bearer {key}"})
    metrics = client.get(reverse("api:metrics", args=[community_a.slug])).json()
    portfolio = client.get(reverse("api:portfolio")).json()
    row_keys = set().union(*(row.keys() for row in portfolio["communities"]))

    exported = figures(metrics) | (row_keys - NOT_FIGURES) | {"portfolio"}

    assert sorted(exported - documented()) == []
    assert {"dau", "wau", "stickiness", "mainstream_share", "lifecycle"} <= exported
