import pytest

from communities.models import Community
from tests.analytics.scenarios import TODAY


@pytest.fixture
def frozen_today(monkeypatch):
    """Frozen time for scenario tests: every community's "today" is ``TODAY``."""
    monkeypatch.setattr(Community, "local_today", lambda self: TODAY)
