"""Helpers shared by the analytics scenario tests: a frozen "today" and events built on it.

``TODAY`` is a Wednesday (its week starts on Monday 2026-11-23); tests that use these
helpers patch ``Community.local_today`` to it with the ``frozen_today`` fixture
(tests/analytics/conftest.py).
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from activities.importers.base import IncomingEvent
from communities.models import Community
from tests.factories import CommunityFactory

TODAY = date(2026, 11, 25)
_ids = itertools.count()


def ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def at(community, day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(community.time_zone))


def make_community(org, *, created: date, **kwargs) -> Community:
    community = CommunityFactory(organization=org, **kwargs)
    Community.objects.filter(pk=community.pk).update(created_on=created)
    community.refresh_from_db()
    return community


def event(community, member: str, day: date, kind: str = "message", hour: int = 12, minute=0):
    return IncomingEvent(
        external_id=f"e{next(_ids)}",
        kind=kind,
        occurred_at=at(community, day, hour, minute),
        member_key=member,
        member_name=member,
    )
