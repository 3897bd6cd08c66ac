"""Manual activity entry refuses times the product does not compute with (issue 9)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities.models import ActivityEvent
from activities.services import manual_event_record
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

BOUNDS = "Dates must lie between 2000-01-01 and 2999-12-31."


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "1999-12-31T23:59", "0001-01-01"])
def test_a_far_past_time_is_refused_with_the_reason(client_for, operator_a, community_a, when):
    membership = MembershipFactory(community=community_a)
    prefix = f"a{membership.pk}"
    response = client_for(operator_a).post(
        reverse("activities:record", kwargs={"membership_id": membership.pk}),
        {f"{prefix}-kind": "attend", f"{prefix}-occurred_at": when},
        follow=True,
    )
    assert response.status_code == 200
    assert BOUNDS in response.content.decode()
    assert not ActivityEvent.objects.exists()


def test_the_service_applies_the_same_rule(community_a):
    membership = MembershipFactory(community=community_a)
    with pytest.raises(ValidationError) as caught:
        manual_event_record(
            membership=membership, kind="attend", occurred_at=datetime(1, 1, 1, 12, tzinfo=UTC)
        )
    assert caught.value.message_dict == {"occurred_at": [BOUNDS]}
    assert not ActivityEvent.objects.exists()
