"""User text reaches every plotly chart escaped (communities/charts.py ``figure_dict``).

plotly draws a subset of HTML in labels, so a tier called ``<a href="x">`` would be a link
on every page that charts tiers. Each chart page is read as the browser gets it: the
``json_script`` blocks, decoded.
"""

import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import EventSource
from analytics.rollups import rollups_refresh
from members import services as member_services
from members.models import Membership
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

HOSTILE = 'Gold <a href="x">link</a> <b>bold</b><br>line & more'
ESCAPED = 'Gold &lt;a href="x"&gt;link&lt;/a&gt; &lt;b&gt;bold&lt;/b&gt;&lt;br&gt;line &amp; more'
JSON_SCRIPT = re.compile(r'<script id="([^"]+)" type="application/json">(.*?)</script>', re.S)
MARKUP_KEYS = {"hovertemplate", "texttemplate"}  # the builders' own markup, no user text


@pytest.fixture
def hostile_community(org_a):
    community = CommunityFactory(organization=org_a, name=HOSTILE, slug="hostile")
    ladder = sorted(member_services.tiers_create_default(community=community), key=lambda t: t.rank)
    member_services.tier_update(tier=ladder[0], data={"name": HOSTILE})
    tz = ZoneInfo(community.time_zone)
    today = community.local_today()
    days = [today - timedelta(days=n) for n in (1, 8, 15)]
    ingest_events(
        community=community,
        source=EventSource.IMPORT,
        events=[
            IncomingEvent(
                external_id=f"e{n}",
                kind="message",
                occurred_at=datetime.combine(day, time(12), tz),
                member_key="m1",
                member_name=HOSTILE,
            )
            for n, day in enumerate(days)
        ],
    )
    assert Membership.objects.filter(community=community).exists()
    rollups_refresh(community=community, days=[*days, today])
    return community


def figures_on(html: str) -> dict[str, dict]:
    figures = {}
    for element_id, payload in JSON_SCRIPT.findall(html):
        data = json.loads(payload)
        if isinstance(data, dict) and "data" in data and "layout" in data:
            figures[element_id] = data
    return figures


def strings(value, key=None):
    """Every (key, string) in a figure, the key being the dict key it sits under."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for child_key, child in value.items():
            yield from strings(child, child_key)
    elif isinstance(value, list):
        for child in value:
            yield from strings(child, key)


CHART_PAGES = [
    # (url name, args, query, charts that show the hostile names)
    ("communities:detail", ["hostile"], "", {"pyramid-chart"}),
    ("members:list", [], "?community=hostile", {"pyramid-chart"}),
    ("analytics:community", ["hostile"], "", {"pyramid-over-time-chart"}),
    ("analytics:home", [], "", {"portfolio-chart"}),
    ("overview", [], "", set()),
]


@pytest.mark.parametrize(("name", "args", "query", "showing"), CHART_PAGES)
def test_every_chart_label_is_escaped(
    client_for, owner_a, hostile_community, name, args, query, showing
):
    response = client_for(owner_a).get(reverse(name, args=args) + query)
    assert response.status_code == 200
    figures = figures_on(response.content.decode())
    assert figures, "the page has charts"
    assert showing <= set(figures)
    for element_id, figure in figures.items():
        texts = list(strings(figure))
        for key, text in texts:
            if key in MARKUP_KEYS:
                assert "&lt;" not in text and "Gold" not in text, (element_id, key, text)
            else:
                assert "<" not in text and ">" not in text, (element_id, key, text)
        if element_id in showing:
            assert ESCAPED in {text for _key, text in texts}, element_id


def test_the_escaped_label_is_what_plotly_shows_as_the_name():
    # plotly turns &lt; &gt; &amp; back into characters, but has no &quot;: quotes stay.
    from communities.charts import label

    assert label('<a href="x">') == '&lt;a href="x"&gt;'
    assert label(["<b>", 3, None]) == ["&lt;b&gt;", 3, None]
