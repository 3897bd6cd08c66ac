"""The metrics API against its own OpenAPI document (schemathesis, issue 9).

Every operation of ``/api/v1/openapi.json`` is driven with schema-generated parameters
(valid and invalid) through the WSGI application, no server, with a valid bearer token:
no 5xx, and every answer's status code, content type, headers and body are the ones the
document declares. Deterministic (``derandomize``), so a failure reproduces.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import EventSource
from analytics.rollups import rollups_refresh
from communities.tokens import api_token_create

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 40
COMMUNITY_SLUG = "reading"


# Loaded through the application itself (the document needs no database); the lazy
# from_fixture loader does not run on pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
# Every case asks about the community the fixture makes (tests/conftest.py's community_a),
# so its figures are checked too; an unknown slug's 404 is pinned in test_api.py.
schema.config.parameters = {"path.community_slug": COMMUNITY_SLUG}


@pytest.fixture(autouse=True)
def _one_connection_for_the_test():
    # The WSGI handler closes the database connection when a request finishes; the test
    # client does not (it disconnects this handler), and neither may we: the test's
    # transaction lives on that connection (PostgreSQL).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api(owner_a, community_a):
    """A community with a few weeks of activity, and an owner's key (owners may export)."""
    assert community_a.slug == COMMUNITY_SLUG
    today = community_a.local_today()
    zone = ZoneInfo(community_a.time_zone)
    events = [
        IncomingEvent(
            f"e{n}-{day}",
            "message",
            datetime.combine(today - timedelta(days=day), time(12), zone),
            f"wx{n}",
            f"人{n}",
        )
        for n in range(4)
        for day in range(0, 40, n + 2)
    ]
    ingest_events(community=community_a, source=EventSource.IMPORT, events=events)
    rollups_refresh(community=community_a, days=[today - timedelta(days=d) for d in range(41)])
    _token, key = api_token_create(staff=owner_a, name="schemathesis")
    return {"key": key}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_document_says(case, api):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api['key']}"},
        # The document states each parameter's own bounds, but not the rules between them
        # (from <= to, at most MAX_RANGE_DAYS, the default start 89 days before to), which
        # JSON Schema cannot express: a schema-valid pair may rightly be answered 400.
        excluded_checks=[schemathesis.checks.positive_data_acceptance],
    )
