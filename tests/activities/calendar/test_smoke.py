from datetime import UTC, date, datetime, time

import pytest

from activities.calendar import services
from activities.calendar.models import Occurrence
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


def test_one_off_entry_has_its_occurrence_row():
    community = CommunityFactory(time_zone="Europe/Berlin")
    entry = services.entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": "meetup",
            "title": "Picnic",
            "start_date": date(2026, 7, 4),
            "start_time": time(15, 0),
            "duration_minutes": 120,
        },
    )
    occurrence = Occurrence.objects.get(entry=entry)
    # 15:00 in Berlin in summer is 13:00 UTC.
    assert occurrence.starts_at == datetime(2026, 7, 4, 13, 0, tzinfo=UTC)
    assert entry.time_zone == "Europe/Berlin"
