"""Members of a community: one definition, one count on every page, export and API figure.

A community's members are its active and lurking memberships (``PRESENT_STATUSES``), not
applicants nor those who left or were removed (docs/metrics.md). One community with someone
in every status is read from every place that shows how many members it has, on the same
day; an approval then counts at once everywhere, not after the night's rebuild.
"""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from analytics.rollups import rollups_refresh
from communities.models import Community
from communities.tokens import api_token_create
from members import services
from members.models import Membership, MembershipStatus
from tests.analytics.test_portfolio import table_rows
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reading(org_a):
    """Three who talk (imported), a lurker, an applicant, one who left, one removed."""
    community = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    today = community.local_today()
    Community.objects.filter(pk=community.pk).update(created_on=today - timedelta(days=60))
    community.refresh_from_db()
    zone = ZoneInfo(community.time_zone)
    events = [
        IncomingEvent(
            f"{who}-{day}",
            "message",
            datetime.combine(today - timedelta(days=day), time(12), zone),
            f"wxid_{who}",
            f"成员{who}",
            "早",
        )
        for who in range(3)
        for day in (1, 8, 20, 40)
    ]
    ingest_events(community=community, source="import", events=events)
    MembershipFactory(community=community, status=MembershipStatus.LURKER)
    MembershipFactory(community=community, status=MembershipStatus.APPLICANT)
    left = MembershipFactory(community=community, joined_on=today - timedelta(days=50))
    services.membership_set_status(
        membership=left, status=MembershipStatus.LEFT, on=today - timedelta(days=10)
    )
    removed = MembershipFactory(community=community, joined_on=today - timedelta(days=50))
    services.membership_set_status(
        membership=removed, status=MembershipStatus.REMOVED, on=today - timedelta(days=3)
    )
    rollups_refresh(community=community, days=[today - timedelta(days=n) for n in range(61)])
    return community


def counts(community, client, key) -> dict[str, int]:
    """How many members each place says the community has."""
    found = {}
    members_page = client.get(reverse("members:list"), {"community": community.slug})
    label = re.search(
        r'data-testid="member-count">(\d+) current member', members_page.content.decode()
    )
    found["members list"] = int(label.group(1))
    detail = client.get(reverse("communities:detail", args=[community.slug])).content.decode()
    found["pyramid"] = int(re.search(r'data-testid="pyramid-total">(\d+)<', detail).group(1))
    found["community page"] = int(
        re.search(r'data-testid="members-present">\s*(\d+)', detail).group(1)
    )
    analytics = client.get(reverse("analytics:community", args=[community.slug]))
    found["analytics: stage"] = analytics.context["stage"].members
    found["analytics: indicators"] = next(
        row.value for row in analytics.context["indicators"] if row.key == "members"
    )
    overview = client.get(reverse("overview")).content.decode()
    row = re.search(rf'<tr data-community="{community.slug}">(.*?)</tr>', overview, re.S).group(1)
    found["overview"] = int(re.findall(r'<td class="num">(\d+)</td>', row)[0])
    portfolio = table_rows(client.get(reverse("analytics:home")).content.decode())
    found["portfolio"] = int(portfolio[community.slug][2])
    api = client.get(
        reverse("api:metrics", args=[community.slug]), headers={"authorization": f"Bearer {key}"}
    ).json()
    found["API: indicators"] = api["indicators"]["members"]
    found["API: stage"] = api["stage"]["figures"]["members"]
    listed = client.get(reverse("api:communities"), headers={"authorization": f"Bearer {key}"})
    found["API: communities"] = next(
        c for c in listed.json()["communities"] if c["slug"] == community.slug
    )["members"]
    out = io.StringIO()
    call_command("export_metrics", "--community", community.slug, stdout=out)
    exported = json.loads(out.getvalue())
    found["export_metrics"] = exported["indicators"]["members"]
    return found


def test_every_place_counts_the_same_members(
    reading, client_for, owner_a, django_capture_on_commit_callbacks
):
    key = api_token_create(staff=owner_a, name="BI")[1]
    client = client_for(owner_a)
    present = Membership.objects.filter(
        community=reading, status__in=[MembershipStatus.ACTIVE, MembershipStatus.LURKER]
    ).count()
    assert present == 4  # three who talk and the lurker
    assert counts(reading, client, key) == dict.fromkeys(counts(reading, client, key), present)

    # An approval counts at once, everywhere (the rollups follow the membership change).
    application = services.application_submit(
        community=reading,
        display_name="新人",
        platform="wechat",
        external_id="wxid_new",
        answers={},
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.application_approve(application=application, by=owner_a.user)
    after = counts(reading, client, key)
    assert after == dict.fromkeys(after, present + 1)

    # Someone leaving today no longer counts, anywhere.
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_set_status(
            membership=Membership.objects.get(
                community=reading, member__handles__external_id="wxid_0"
            ),
            status=MembershipStatus.LEFT,
        )
    gone = counts(reading, client, key)
    assert gone == dict.fromkeys(gone, present)


def test_the_members_list_says_which_population_it_counts(reading, client_for, owner_a):
    client = client_for(owner_a)
    everyone = client.get(reverse("members:list"), {"community": "reading", "status": "all"})
    assert re.search(r'data-testid="member-count">7 people match', everyone.content.decode())
    left = client.get(reverse("members:list"), {"community": "reading", "status": "left"})
    assert re.search(r'data-testid="member-count">1 person matches', left.content.decode())


def test_the_applications_link_keeps_the_community(reading, client_for, owner_a):
    html = client_for(owner_a).get(reverse("members:list"), {"community": "reading"})
    assert f'href="{reverse("members:applications")}?community=reading"' in html.content.decode()
