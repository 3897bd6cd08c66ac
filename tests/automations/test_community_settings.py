"""A community's automatic messages and spam guard page: saving the settings (announcements
re-planned), the service's checks with nothing written on bad input, the spam rule limited
to the community's forbidden behaviours, the link from the community page, who may see it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from activities.calendar import services as calendar
from automations.models import ActionKind, CommunityAutomation, Outlet, ScheduledAction
from automations.services.community_settings import community_automation_update
from communities.models import Penalty, Rule, RuleKind
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo"


def page(community):
    return reverse("automations:community-settings", kwargs={"community_slug": community.slug})


@pytest.fixture
def forbidden(community_a):
    return Rule.objects.create(
        community=community_a, kind=RuleKind.FORBIDDEN, title="发广告", penalty=Penalty.WARNING
    )


def form_data(**changes):
    data = {
        "announce_day_before": "on",
        "announce_day_before_at": "19:30",
        "announce_minutes_before": "15",
        "silence_prompt": "今天聊聊：{next_topic}",
        "spam_enabled": "on",
        "spam_links": "on",
        "spam_phones": "on",
        "spam_words": "代购\n代购\n 兼职日结 ",
        "flood_messages": "6",
        "flood_seconds": "20",
        "spam_rule": "",
    }
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def test_the_settings_are_saved_and_the_announcements_replanned(
    client_for, operator_a, community_a, forbidden, django_capture_on_commit_callbacks
):
    day = datetime.now(SHANGHAI).date() + timedelta(days=3)
    Outlet.objects.create(community=community_a, name="群机器人", platform="wecom", url=WECOM_URL)
    with django_capture_on_commit_callbacks(execute=True):
        entry = calendar.entry_create(
            organization=community_a.organization,
            communities=[community_a],
            data={
                "kind": "topic",
                "title": "读书分享",
                "time_zone": "Asia/Shanghai",
                "start_date": day,
                "start_time": time(21, 0),
                "duration_minutes": 60,
            },
        )
    assert ScheduledAction.objects.filter(entry=entry).count() == 2
    client = client_for(operator_a)
    html = client.get(page(community_a)).content.decode()
    assert "发广告" in html and 'value="20:00"' in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page(community_a), form_data(spam_rule=str(forbidden.pk)))
    assert response.status_code == 302, response.content.decode()
    saved = CommunityAutomation.objects.get(community=community_a)
    assert (saved.announce_day_before_at, saved.announce_minutes_before) == (time(19, 30), 15)
    assert saved.spam_words == "代购\n兼职日结"
    assert saved.spam_rule == forbidden and saved.spam_enabled
    due = sorted(
        ScheduledAction.objects.filter(kind=ActionKind.ANNOUNCEMENT).values_list(
            "due_at", flat=True
        )
    )
    start = datetime.combine(day, time(21), SHANGHAI)
    assert due == [
        datetime.combine(day - timedelta(days=1), time(19, 30), SHANGHAI),
        start - timedelta(minutes=15),
    ]
    # No day-before announcement: its time may stay empty; the day-before one is cancelled.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            page(community_a),
            form_data(announce_day_before=None, announce_day_before_at=""),
        )
    assert response.status_code == 302
    assert ScheduledAction.objects.filter(status="scheduled").count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"flood_seconds": ""}, "Give both the number of messages and the seconds"),
        ({"flood_seconds": "2"}, "Choose between 5 and 3600 seconds."),
        ({"flood_seconds": "4000"}, "Choose between 5 and 3600 seconds."),
        ({"announce_minutes_before": "2000"}, "Choose between 1 and 1440 minutes"),
        ({"spam_words": "\n".join(f"词{n}" for n in range(201))}, "at most 200 ad words"),
        ({"spam_words": "x" * 60}, "under 50 characters"),
        ({"silence_prompt": "话" * 1001}, "under 1000 characters"),
    ],
)
def test_bad_input_is_refused_and_nothing_written(
    client_for, owner_a, community_a, changes, message
):
    response = client_for(owner_a).post(page(community_a), form_data(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not CommunityAutomation.objects.exists()


def test_the_spam_rule_must_be_a_forbidden_rule_of_the_community(
    client_for, owner_a, org_a, community_a, forbidden
):
    encouraged = Rule.objects.create(community=community_a, kind=RuleKind.ENCOURAGED, title="分享")
    other = CommunityFactory(organization=org_a, slug="other")
    elsewhere = Rule.objects.create(community=other, kind=RuleKind.FORBIDDEN, title="刷屏")
    client = client_for(owner_a)
    for rule in (encouraged, elsewhere):
        response = client.post(page(community_a), form_data(spam_rule=str(rule.pk)))
        assert response.status_code == 200
        assert "errorlist" in response.content.decode()
        with pytest.raises(ValidationError, match="forbidden behaviours"):
            community_automation_update(community=community_a, data={"spam_rule": rule})
    assert not CommunityAutomation.objects.exists()


def test_a_group_without_forbidden_rules_is_pointed_to_its_rules(client_for, owner_a, community_a):
    html = client_for(owner_a).get(page(community_a)).content.decode()
    assert 'data-testid="no-outlet"' in html  # nor an outlet: said too
    assert reverse("automations:outlets", args=[community_a.slug]) in html
    assert 'data-testid="no-forbidden-rules"' in html
    assert reverse("communities:rules", args=[community_a.slug]) in html


def test_the_community_page_links_to_it_for_those_who_manage(
    client_for, operator_a, moderator_a, community_a
):
    moderator_a.communities.add(community_a)
    detail = reverse("communities:detail", args=[community_a.slug])
    assert page(community_a) in client_for(operator_a).get(detail).content.decode()
    client = client_for(moderator_a)
    assert page(community_a) not in client.get(detail).content.decode()
    assert client.get(page(community_a)).status_code == 403


def test_another_organisations_community_is_a_404(client_for, owner_a, community_b):
    assert client_for(owner_a).get(page(community_b)).status_code == 404


def test_a_name_with_markup_is_escaped(client_for, owner_a, org_a):
    community = CommunityFactory(organization=org_a, name="<script>alert(1)</script>", slug="x")
    Rule.objects.create(community=community, kind=RuleKind.FORBIDDEN, title="<b>广告</b>")
    html = client_for(owner_a).get(page(community)).content.decode()
    assert "<script>alert(1)</script>" not in html and "<b>广告</b>" not in html
    assert "&lt;script&gt;" in html
