"""My checklists and the run page: ticking in place (htmx and plain forms), required input,
the audit trail, who may see and tick what, messages to post, and the pinned query count."""

from datetime import UTC, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from activities.calendar import services as calendar
from checklists import messages
from checklists.models import ChecklistRun, DueAnchor, InputKind, ItemTick, Phase, RunItem
from checklists.services import runs, templates
from communities.models import Role
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def noon_zone() -> str:
    """A fixed-offset zone where it is about noon now, so that today's daily run is open
    (it opens at 05:00 local) whatever the hour the tests run at."""
    offset = 12 - timezone.now().astimezone(UTC).hour  # -11 … +12
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # Etc signs are inverted


def daily_template(org, *, items: int = 3, name: str = "Daily", message: str = ""):
    """A daily template of ``items`` items: a plain one (with ``message``), a number, then
    notes; all due at 23:00 local except the first (00:30, so overdue from the morning)."""
    template = templates.template_create(
        organization=org, data={"name": name, "phase": Phase.DAILY}
    )
    for position in range(items):
        data = {"title": f"Item {position + 1}", "anchor": DueAnchor.CLOCK}
        if position == 0:
            data |= {"title": "Morning post", "due_time": time(0, 30), "message": message}
        elif position == 1:
            data |= {
                "title": "Questions answered",
                "due_time": time(23, 0),
                "input_kind": InputKind.NUMBER,
            }
        else:
            data |= {"due_time": time(23, 0), "input_kind": InputKind.NOTE}
        templates.item_save(template=template, data=data)
    return template


@pytest.fixture
def community(org_a):
    return CommunityFactory(
        organization=org_a, name="读书会", slug="reading", time_zone=noon_zone()
    )


@pytest.fixture
def moderator(org_a, community):
    staff = StaffFactory(organization=org_a, role=Role.MODERATOR, user__username="mod")
    staff.communities.add(community)
    return staff


def open_today(org, community, **kwargs) -> ChecklistRun:
    template = daily_template(org, **kwargs)
    templates.template_use_set(template=template, community=community)
    assert runs.daily_runs_open(now=timezone.now()) >= 1
    return ChecklistRun.objects.get(community=community, day=community.local_today())


def test_ticking_in_place_with_htmx_and_without(client_for, org_a, community, moderator):
    run = open_today(org_a, community)
    client = client_for(moderator)
    page = client.get(reverse("checklists:mine"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Morning post" in html and "0 of 3" in html
    first = run.items.get(title="Morning post")
    tick_url = reverse("checklists:item-tick", args=[first.pk])
    assert f'hx-post="{tick_url}"' in html and f'action="{tick_url}"' in html

    response = client.post(tick_url, {"page": "mine"}, **HTMX)
    assert response.status_code == 200
    fragment = response.content.decode()
    assert f'id="item-{first.pk}"' in fragment
    assert f'id="progress-{run.pk}" hx-swap-oob="true"' in fragment and "1 of 3" in fragment
    assert reverse("checklists:item-untick", args=[first.pk]) in fragment
    first.refresh_from_db()
    assert first.done_at is not None and first.done_by == moderator.user

    response = client.post(
        reverse("checklists:item-untick", args=[first.pk]), {"page": "mine"}, **HTMX
    )
    assert "0 of 3" in response.content.decode()
    first.refresh_from_db()
    assert first.done_at is None

    # Without JavaScript: the form posts and comes back to the page it was on.
    response = client.post(tick_url, {"page": "mine"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('checklists:mine')}#item-{first.pk}"
    response = client.post(reverse("checklists:item-untick", args=[first.pk]), {"page": "run"})
    assert response["Location"] == reverse("checklists:run", args=[run.pk])
    assert list(ItemTick.objects.values_list("action", flat=True)) == [
        "tick",
        "untick",
        "tick",
        "untick",
    ]


def test_a_number_item_requires_a_number(client_for, org_a, community, moderator):
    run = open_today(org_a, community)
    number = run.items.get(title="Questions answered")
    client = client_for(moderator)
    url = reverse("checklists:item-tick", args=[number.pk])
    response = client.post(url, {"value": ""}, **HTMX)
    html = response.content.decode()
    assert "Enter the number this item asks for." in html and 'role="alert"' in html
    assert 'type="number" inputmode="numeric"' in html
    response = client.post(url, {"value": "twelve", "page": "mine"})  # no JavaScript
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a whole number, such as 12." in html and 'value="twelve"' in html
    assert not ItemTick.objects.exists()
    number.refresh_from_db()
    assert number.done_at is None

    client.post(url, {"value": "12"}, **HTMX)
    number.refresh_from_db()
    assert number.value == "12" and number.done_at is not None


def test_errors_are_in_the_users_language(client_for, org_a, community, moderator):
    from django.conf import settings

    run = open_today(org_a, community)
    number = run.items.get(title="Questions answered")
    client = client_for(moderator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.post(reverse("checklists:item-tick", args=[number.pk]), {}, **HTMX)
    from django.utils import translation

    with translation.override("zh-hans"):
        expected = translation.gettext("Enter the number this item asks for.")
    assert expected != "Enter the number this item asks for."
    assert expected in response.content.decode()


def test_the_run_page_shows_the_audit_trail_after_the_template_changed(
    client_for, org_a, community, moderator
):
    run = open_today(org_a, community)
    number = run.items.get(title="Questions answered")
    client = client_for(moderator)
    url = reverse("checklists:item-tick", args=[number.pk])
    client.post(url, {"value": "12"}, **HTMX)
    client.post(reverse("checklists:item-untick", args=[number.pk]), **HTMX)
    client.post(url, {"value": "14", "page": "run"}, **HTMX)
    # The template changes afterwards: the run reads only its own copies.
    item = run.template.items.get(title="Questions answered")
    templates.item_save(
        template=run.template, item=item, data={"title": "Renamed", "due_time": time(23, 0)}
    )
    run.template.delete()

    page = client.get(reverse("checklists:run", args=[run.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    trail = html[html.index('data-testid="audit-trail"') :]
    assert trail.count("Questions answered") == 3 and "Renamed" not in html
    assert trail.count("Ticked") == 2 and trail.count("Unticked") == 1
    assert "14" in trail and "12" in trail and "mod" in trail
    assert "Template version" in html and "1 of 3" in html
    assert "Done by mod" in html


def test_a_moderator_cannot_see_or_tick_runs_of_communities_not_assigned_to_them(
    client_for, org_a, community, moderator
):
    other = CommunityFactory(organization=org_a, name="Other", slug="other", time_zone=noon_zone())
    run = open_today(org_a, other, name="Other daily")
    item = run.items.first()
    client = client_for(moderator)
    assert "Other daily" not in client.get(reverse("checklists:mine")).content.decode()
    for url in (
        reverse("checklists:run", args=[run.pk]),
        reverse("checklists:item-tick", args=[item.pk]),
        reverse("checklists:item-untick", args=[item.pk]),
    ):
        response = client.post(url) if "items" in url else client.get(url)
        assert response.status_code == 404, url
    assert not ItemTick.objects.exists()


def test_yesterdays_run_is_corrected_only_by_an_operator(
    client_for, org_a, community, moderator, operator_a
):
    template = daily_template(org_a)
    templates.template_use_set(template=template, community=community)
    runs.daily_runs_open(now=timezone.now() - timedelta(days=1))
    run = ChecklistRun.objects.get()
    assert run.closes_at <= timezone.now()
    item = run.items.get(title="Morning post")
    client = client_for(moderator)
    page = client.get(reverse("checklists:mine")).content.decode()
    overdue = page[page.index('id="overdue-heading"') :]
    assert "Morning post" in overdue and "only an owner or an operator" in overdue
    assert reverse("checklists:item-tick", args=[item.pk]) not in page  # read-only
    response = client.post(reverse("checklists:item-tick", args=[item.pk]), **HTMX)
    assert "only an owner or an operator can correct it" in response.content.decode()
    item.refresh_from_db()
    assert item.done_at is None and not ItemTick.objects.exists()

    client.force_login(operator_a.user)
    response = client.post(reverse("checklists:item-tick", args=[item.pk]), {"page": "run"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.done_by == operator_a.user


def test_managers_are_sent_to_the_team_view_and_cannot_tick(
    client_for, org_a, community, manager_a
):
    run = open_today(org_a, community)
    client = client_for(manager_a)
    response = client.get(reverse("checklists:mine"))
    assert response.status_code == 302
    assert response["Location"] == reverse("checklists:team")
    item = run.items.first()
    assert client.post(reverse("checklists:item-tick", args=[item.pk])).status_code == 403
    page = client.get(reverse("checklists:run", args=[run.pk])).content.decode()
    assert reverse("checklists:item-tick", args=[item.pk]) not in page  # read-only


MESSAGE = "早上好，{community}！今天是{date}。下次：{next_topic}。欢迎{newcomers}。{x} {"


def test_messages_fill_the_four_placeholders_and_nothing_else(
    client_for, org_a, community, moderator
):
    run = open_today(org_a, community, message=MESSAGE)
    run.language = "zh-hans"
    run.save(update_fields=["language"])
    MembershipFactory(community=community, member__display_name="<script>alert(1)</script>")
    MembershipFactory(community=community, member__display_name="小明")
    MembershipFactory(community=community, member__display_name="走了", status="left")
    MembershipFactory(
        community=community,
        member__display_name="老朋友",
        joined_on=community.local_today() - timedelta(days=3),
    )
    zone = ZoneInfo(community.time_zone)
    start = (timezone.now() + timedelta(days=2)).astimezone(zone)
    calendar.entry_create(
        organization=org_a,
        communities=[community],
        data={
            "kind": "topic",
            "title": "读书分享",
            "time_zone": community.time_zone,
            "start_date": start.date(),
            "start_time": time(21, 0),
            "duration_minutes": 60,
        },
    )
    run = ChecklistRun.objects.select_related("community", "entry").prefetch_related("items").get()
    filled = messages.run_messages([run], staff=moderator)
    text = filled[run.items.get(title="Morning post").pk]
    day = run.day
    assert text.startswith(f"早上好，读书会！今天是{day.isoformat()}。")  # one date format
    assert "下次：读书分享（" in text and "21:00" in text and "星期" in text
    assert (
        "欢迎<script>alert(1)</script>、小明。" in text
        and "老朋友" not in text
        and "走了" not in text
    )
    assert text.endswith("{x} {")

    page = client_for(moderator).get(reverse("checklists:mine")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;、小明" in page
    assert "<script>alert(1)</script>" not in page
    assert "data-copy-target=" in page


def test_messages_say_when_nothing_is_scheduled_and_nobody_joined(org_a, community, moderator):
    run = open_today(org_a, community, message="{next_topic} / {newcomers} / {date}")
    run.language = "en"
    run.save(update_fields=["language"])
    run = ChecklistRun.objects.select_related("community").prefetch_related("items").get()
    (text,) = messages.run_messages([run], staff=moderator).values()
    assert text.startswith("(nothing scheduled) / (no newcomers today) / ")
    assert text.endswith(run.day.isoformat())


def test_only_the_four_placeholders_are_replaced():
    assert messages.fill("{community} {nope} {", {"community": "A"}) == "A {nope} {"
    assert messages.fill("{{community}}", {"community": "A"}) == "{A}"


def make_runs(org, count: int, items: int, moderator):
    for index in range(count):
        community = CommunityFactory(
            organization=org, slug=f"pin-{index}", name=f"Pin {index}", time_zone=noon_zone()
        )
        moderator.communities.add(community)
        template = daily_template(
            org,
            items=items,
            name=f"Daily {index}",
            message="{community} {date} {next_topic} {newcomers}",
        )
        templates.template_use_set(template=template, community=community)
        MembershipFactory(community=community)
        calendar.entry_create(
            organization=org,
            communities=[community],
            data={
                "kind": "topic",
                "title": f"Talk {index}",
                "time_zone": community.time_zone,
                "start_date": community.local_today() + timedelta(days=1),
                "start_time": time(21, 0),
                "duration_minutes": 60,
                "rrule": "FREQ=WEEKLY",
            },
        )
    runs.daily_runs_open(now=timezone.now())


@pytest.mark.parametrize(("count", "items"), [(1, 3), (4, 9)])
def test_my_checklists_costs_a_constant_number_of_queries(
    client_for, org_a, count, items, django_assert_num_queries
):
    moderator = StaffFactory(organization=org_a, role=Role.MODERATOR)
    make_runs(org_a, count, items, moderator)
    # Yesterday's runs too, so the Overdue section is filled.
    runs.daily_runs_open(now=timezone.now() - timedelta(days=1))
    assert ChecklistRun.objects.count() == 2 * count
    assert RunItem.objects.count() == 2 * count * items
    client = client_for(moderator)
    client.get(reverse("checklists:mine"))  # the session
    # Session, user, staff; runs, their items; the calendar's entries, their communities
    # and exception rows (for {next_topic}); the day's joins (for {newcomers}); the
    # communities' enabled outlets (automations' "Send to the group", item_actions).
    with django_assert_num_queries(10):
        response = client.get(reverse("checklists:mine"))
    html = response.content.decode()
    assert html.count('data-testid="sop-run"') == 2 * count
    assert html.count('data-testid="sop-item"') == 2 * count * items
    assert html.count("Talk ") == 2 * count  # every message names its community's next talk


def test_a_moderator_lands_on_my_checklists_after_login(client, org_a, community, moderator):
    moderator.user.set_password("a long password 123")
    moderator.user.save()
    response = client.post(reverse("login"), {"username": "mod", "password": "a long password 123"})
    assert response.status_code == 302 and response["Location"] == reverse("checklists:mine")


def test_others_land_on_the_overview_unless_next_says(client, owner_a, moderator):
    owner_a.user.set_password("a long password 123")
    owner_a.user.save()
    login = reverse("login")
    data = {"username": owner_a.user.username, "password": "a long password 123"}
    assert client.post(login, data)["Location"] == reverse("overview")
    client.logout()
    moderator.user.set_password("a long password 123")
    moderator.user.save()
    data = {"username": "mod", "password": "a long password 123"}
    response = client.post(f"{login}?next={reverse('members:list')}", data)
    assert response["Location"] == reverse("members:list")


def test_the_run_page_links_an_activity_runs_occurrence(client_for, org_a, community, moderator):
    template = templates.template_create(
        organization=org_a,
        data={"name": "Talk", "phase": Phase.ACTIVITY, "entry_kinds": "topic"},
    )
    templates.item_save(
        template=template,
        data={"title": "Announce", "anchor": DueAnchor.OCCURRENCE_START, "offset_minutes": -60},
    )
    templates.template_use_set(template=template, community=community)
    start = (timezone.now() + timedelta(days=1)).astimezone(ZoneInfo(community.time_zone))
    entry = calendar.entry_create(
        organization=org_a,
        communities=[community],
        data={
            "kind": "topic",
            "title": "Guest talk",
            "time_zone": community.time_zone,
            "start_date": start.date(),
            "start_time": time(21, 0),
            "duration_minutes": 60,
        },
    )
    calendar.entry_create(  # an earlier occurrence of another entry: not the run's topic
        organization=org_a,
        communities=[community],
        data={
            "kind": "topic",
            "title": "Sooner",
            "time_zone": community.time_zone,
            "start_date": start.date() - timedelta(days=1),
            "start_time": time(23, 0),
            "duration_minutes": 30,
        },
    )
    runs.activity_runs_sync(entry=entry)
    run = ChecklistRun.objects.get(entry=entry)
    page = client_for(moderator).get(reverse("checklists:run", args=[run.pk])).content.decode()
    key = f"{entry.pk}-{run.original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    assert f'href="{reverse("activities:occurrence", args=[key])}">Guest talk</a>' in page
    # Its message's {next_topic} is its own occurrence, not the community's next one.
    run.language = "en"
    run.save(update_fields=["language"])
    item = run.items.get()
    item.message = "Next: {next_topic}"
    item.save(update_fields=["message"])
    run = ChecklistRun.objects.select_related("community", "entry").prefetch_related("items").get()
    assert messages.run_messages([run], staff=moderator)[item.pk].startswith("Next: Guest talk (")
