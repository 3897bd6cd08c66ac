"""The template pages: copy a built-in, edit items (versioned), reorder, communities using a
template, preview a run, start a run by hand; permissions and escaping."""

from datetime import time

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from checklists.models import ChecklistRun, DueAnchor, Phase, SopItem, SopTemplate, TemplateUse
from checklists.services import runs, templates
from communities.models import Role
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db


def page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def copy(client, key, language):
    return client.post(reverse("checklists:template-copy"), {"key": key, "language": language})


def template_url(template):
    return reverse("checklists:template", kwargs={"template_id": template.pk})


def item_data(item, **changes):
    """What the item form posts for ``item``, with ``changes``."""
    data = {
        "title": item.title,
        "guidance": item.guidance,
        "role": item.role,
        "anchor": item.anchor,
        "due_time": item.due_time.strftime("%H:%M") if item.due_time else "",
        "offset_amount": abs(item.offset_minutes),
        "offset_unit": "minutes",
        "offset_direction": "before" if item.offset_minutes < 0 else "after",
        "weekdays": list(item.weekdays),
        "input_kind": item.input_kind,
        "input_required": "on" if item.input_required else "",
        "choices": item.choices,
        "message": item.message,
    }
    if item.template.phase in (Phase.PLANNING, Phase.SETUP, Phase.GROWTH):
        data["day"] = item.offset_days + 1
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("language", "expected_title"),
    [("zh-hans", "社群规划全流程SOP"), ("en", "Whole-process planning")],
)
def test_copy_a_builtin_in_either_language(client_for, operator_a, language, expected_title):
    client = client_for(operator_a)
    response = copy(client, "planning", language)
    template = SopTemplate.objects.get(organization=operator_a.organization)
    assert response.status_code == 302
    assert response["Location"] == template_url(template)
    assert template.name == expected_title
    assert template.language == language
    assert template.version == 1
    assert template.builtin_key == "planning"
    first = template.items.order_by("position").first()
    # The copy's items are in the chosen language (Chinese titles have CJK characters).
    has_cjk = any("\u4e00" <= char <= "\u9fff" for char in first.title)
    assert has_cjk == (language == "zh-hans")
    html = page(client, template_url(template))
    assert escape(first.title) in html
    assert "Version 1" in html


def test_the_list_shows_builtins_in_the_interface_language(client_for, operator_a):
    client = client_for(operator_a)
    html = page(client, reverse("checklists:templates"))
    assert "Whole-process planning" in html and "社群规划全流程SOP" not in html
    # The copy's language defaults to the interface's.
    assert '<option value="en" selected>' in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = page(client, reverse("checklists:templates"))
    assert "社群规划全流程SOP" in html
    assert '<option value="zh-hans" selected>' in html


def test_builtin_preview_and_an_unknown_key(client_for, moderator_a):
    client = client_for(moderator_a)
    html = page(client, reverse("checklists:builtin", kwargs={"builtin_key": "daily"}))
    assert "Daily" in html
    assert "Sat, Sun" in html  # a weekend item's weekdays, in short names
    assert 'action="/checklists/templates/copy/"' not in html  # moderators cannot copy
    url = reverse("checklists:builtin", kwargs={"builtin_key": "nope"})
    assert client.get(url).status_code == 404


def test_editing_an_item_bumps_the_version_and_a_run_keeps_its_copy(
    client_for, operator_a, community_a
):
    client = client_for(operator_a)
    copy(client, "setup", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    run = runs.run_start(template=template, community=community_a)
    item = template.items.order_by("position").first()
    old_title = item.title

    response = client.post(
        reverse("checklists:item-edit", kwargs={"sop_item_id": item.pk}),
        item_data(item, title="Say hello to everyone"),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    item.refresh_from_db()
    assert item.title == "Say hello to everyone"
    assert template.version == 2
    assert run.items.order_by("position").first().title == old_title
    html = page(client, template_url(template))
    assert "Version 2" in html and "Say hello to everyone" in html
    assert "keep their copy" in html


def test_an_item_due_outside_the_run_is_refused_and_nothing_changes(client_for, operator_a):
    client = client_for(operator_a)
    template = templates.template_create(
        organization=operator_a.organization,
        data={"name": "Setup", "phase": Phase.SETUP, "duration_days": 3},
    )
    item = templates.item_save(
        template=template,
        data={"title": "Welcome", "anchor": DueAnchor.CLOCK, "due_time": time(10)},
    )
    before = SopItem.objects.values().get(pk=item.pk)
    url = reverse("checklists:item-edit", kwargs={"sop_item_id": item.pk})

    response = client.post(url, item_data(item, day=5, title="Changed"))
    assert response.status_code == 400
    assert "This run lasts 3 days: choose a day from 0 to 2." in response.content.decode()
    assert SopItem.objects.values().get(pk=item.pk) == before
    template.refresh_from_db()
    assert template.version == 2  # the item_save above; nothing since

    response = client.post(
        url,
        item_data(item, anchor=DueAnchor.RUN_START, offset_amount=4, offset_unit="days"),
    )
    assert response.status_code == 400
    assert "This run lasts 3 days: the item must fall due within it." in (response.content.decode())
    # A choice with one option.
    response = client.post(url, item_data(item, input_kind="choice", choices="Only one"))
    assert response.status_code == 400
    assert "Give at least two options, one per line." in response.content.decode()
    assert SopItem.objects.values().get(pk=item.pk) == before
    # A new item that does not fit is not added either.
    response = client.post(
        reverse("checklists:item-create", kwargs={"template_id": template.pk}),
        item_data(item, title="Late", day=9),
    )
    assert response.status_code == 400
    assert template.items.count() == 1


def test_a_daily_item_needs_a_weekday(client_for, operator_a):
    client = client_for(operator_a)
    copy(client, "daily", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    item = template.items.order_by("position").first()
    url = reverse("checklists:item-edit", kwargs={"sop_item_id": item.pk})
    data = item_data(item)
    data.pop("weekdays")
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Choose at least one day of the week." in response.content.decode()
    template.refresh_from_db()
    assert template.version == 1


def test_add_an_item_with_an_offset_before_the_activity(client_for, operator_a):
    client = client_for(operator_a)
    template = templates.template_create(
        organization=operator_a.organization, data={"name": "Talk", "phase": Phase.ACTIVITY}
    )
    response = client.post(
        reverse("checklists:item-create", kwargs={"template_id": template.pk}),
        {
            "title": "Remind the guest",
            "role": "moderator",
            "anchor": DueAnchor.OCCURRENCE_START,
            "offset_amount": 1,
            "offset_unit": "days",
            "offset_direction": "before",
            "input_kind": "none",
            "day": 0,
        },
    )
    assert response.status_code == 302
    item = template.items.get()
    assert item.offset_minutes == -24 * 60
    html = page(client, template_url(template))
    assert "1 day before the start" in html
    edit = page(client, reverse("checklists:item-edit", kwargs={"sop_item_id": item.pk}))
    assert 'name="offset_amount" value="1"' in edit
    assert '<option value="days" selected>' in edit
    assert '<option value="before" selected>' in edit


def test_reorder_up_and_down_with_htmx(client_for, operator_a):
    client = client_for(operator_a)
    copy(client, "setup", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    first, second, third = template.items.order_by("position")[:3]
    move = reverse("checklists:item-move", kwargs={"sop_item_id": second.pk})

    response = client.post(move, {"direction": "up"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="item-list"')
    assert html.index(second.title) < html.index(first.title)
    order = list(template.items.order_by("position").values_list("pk", flat=True))
    assert order[:3] == [second.pk, first.pk, third.pk]

    response = client.post(move, {"direction": "down"})  # without htmx: back to the page
    assert response.status_code == 302
    response = client.post(move, {"direction": "down"})
    order = list(template.items.order_by("position").values_list("pk", flat=True))
    assert order[:3] == [first.pk, third.pk, second.pk]
    # Drag and drop posts a position.
    client.post(move, {"position": 1}, headers={"HX-Request": "true"})
    assert template.items.order_by("position").first().pk == second.pk
    template.refresh_from_db()
    assert template.version == 5  # one per move
    # Nowhere to go: the first item up changes nothing.
    client.post(move, {"direction": "up"})
    template.refresh_from_db()
    assert template.version == 5


def test_delete_an_item_and_the_template(client_for, operator_a, community_a):
    client = client_for(operator_a)
    copy(client, "setup", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    run = runs.run_start(template=template, community=community_a)
    item = template.items.order_by("position").first()
    count = template.items.count()
    response = client.post(reverse("checklists:item-delete", kwargs={"sop_item_id": item.pk}))
    assert response.status_code == 302
    assert template.items.count() == count - 1

    response = client.post(
        reverse("checklists:template-delete", kwargs={"template_id": template.pk})
    )
    assert response.status_code == 302
    assert not SopTemplate.objects.filter(pk=template.pk).exists()
    run.refresh_from_db()
    assert run.items.count() == count  # the run keeps its copy


def test_a_second_daily_template_for_a_community_is_refused(client_for, operator_a, community_a):
    client = client_for(operator_a)
    copy(client, "daily", "en")
    copy(client, "daily", "zh-hans")
    english, chinese = SopTemplate.objects.filter(organization=operator_a.organization).order_by(
        "pk"
    )
    response = client.post(
        reverse("checklists:template-use", kwargs={"template_id": english.pk}),
        {"community": community_a.slug},
    )
    assert response.status_code == 302
    assert TemplateUse.objects.filter(template=english, community=community_a).exists()

    response = client.post(
        reverse("checklists:template-use", kwargs={"template_id": chinese.pk}),
        {"community": community_a.slug},
    )
    assert response.status_code == 400
    assert f"{community_a.name} already uses the daily template “{english.name}”." in (
        response.content.decode()
    )
    assert not TemplateUse.objects.filter(template=chinese).exists()

    html = page(client, template_url(english))
    assert community_a.name in html and "First assigned moderator" in html
    response = client.post(
        reverse("checklists:template-use-remove", kwargs={"template_id": english.pk}),
        {"community": community_a.slug},
    )
    assert response.status_code == 302
    assert not TemplateUse.objects.filter(template=english).exists()


def test_an_assignee_must_be_assigned_to_the_community(client_for, operator_a, community_a):
    moderator = StaffFactory(organization=operator_a.organization, role=Role.MODERATOR)
    client = client_for(operator_a)
    copy(client, "daily", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    url = reverse("checklists:template-use", kwargs={"template_id": template.pk})
    response = client.post(url, {"community": community_a.slug, "assignee": moderator.pk})
    assert response.status_code == 400
    assert not TemplateUse.objects.exists()
    moderator.communities.add(community_a)
    response = client.post(url, {"community": community_a.slug, "assignee": moderator.pk})
    assert response.status_code == 302
    assert TemplateUse.objects.get().assignee == moderator
    assert moderator.user.get_username() in page(client, template_url(template))


def test_preview_shows_a_weekend_item_on_saturday_not_on_monday(
    client_for, operator_a, community_a
):
    client = client_for(operator_a)
    template = templates.template_create(
        organization=operator_a.organization, data={"name": "Daily", "phase": Phase.DAILY}
    )
    templates.item_save(
        template=template,
        data={
            "title": "Morning greeting",
            "anchor": DueAnchor.CLOCK,
            "due_time": time(9),
            "message": "Good morning {community}! {unknown}",
        },
    )
    templates.item_save(
        template=template,
        data={
            "title": "Weekend reading list",
            "anchor": DueAnchor.CLOCK,
            "due_time": time(10),
            "weekdays": "67",
        },
    )
    url = reverse("checklists:template-preview", kwargs={"template_id": template.pk})
    saturday = page(client, url, community=community_a.slug, day="2026-12-05")
    assert "Weekend reading list" in saturday and "Morning greeting" in saturday
    assert "10:00" in saturday
    assert f"Good morning {community_a.name}! {{unknown}}" in saturday
    monday = page(client, url, community=community_a.slug, day="2026-12-07")
    items = monday.split('data-testid="preview-items"')[1].split("</ol>")[0]
    assert "Weekend reading list" not in items and "Morning greeting" in items
    assert "Not on this weekday" in monday
    assert not ChecklistRun.objects.exists()


@pytest.mark.parametrize(
    "params",
    [
        {"community": "no-such-group", "day": "2026-12-05"},
        {"community": "secret-b", "day": "9999-12-31"},
        {"day": "2026-02-30"},
        {"community": "\x00", "day": "x" * 300},
    ],
)
def test_preview_falls_back_on_odd_query_values(
    client_for, operator_a, community_a, community_b, params
):
    client = client_for(operator_a)
    copy(client, "daily", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    html = page(
        client,
        reverse("checklists:template-preview", kwargs={"template_id": template.pk}),
        **params,
    )
    assert 'data-testid="preview-note"' in html
    assert community_b.name not in html
    assert 'data-testid="preview-items"' in html


def test_start_a_setup_run_from_the_template_page(client_for, operator_a, community_a):
    client = client_for(operator_a)
    copy(client, "setup", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    assert 'data-testid="start"' in page(client, template_url(template))
    response = client.post(
        reverse("checklists:run-start", kwargs={"template_id": template.pk}),
        {"community": community_a.slug},
    )
    run = ChecklistRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("checklists:run", kwargs={"run_id": run.pk})
    assert run.phase == Phase.SETUP and run.community == community_a
    assert run.items.count() == template.items.count()


def test_a_daily_template_cannot_be_started_by_hand(client_for, operator_a, community_a):
    client = client_for(operator_a)
    copy(client, "daily", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    assert 'data-testid="start"' not in page(client, template_url(template))
    response = client.post(
        reverse("checklists:run-start", kwargs={"template_id": template.pk}),
        {"community": community_a.slug},
        follow=True,
    )
    assert "Daily runs open every morning" in response.content.decode()
    assert not ChecklistRun.objects.exists()


def test_another_organisations_template_is_a_404(client_for, operator_a, org_b):
    other = templates.template_copy_builtin(organization=org_b, key="daily", language="en")
    item = other.items.first()
    client = client_for(operator_a)
    assert client.get(template_url(other)).status_code == 404
    assert (
        client.get(reverse("checklists:item-edit", kwargs={"sop_item_id": item.pk})).status_code
        == 404
    )
    assert (
        client.post(
            reverse("checklists:template-delete", kwargs={"template_id": other.pk})
        ).status_code
        == 404
    )
    assert SopTemplate.objects.filter(pk=other.pk).exists()


def test_a_moderator_can_view_but_not_edit(client_for, moderator_a, org_a):
    template = templates.template_copy_builtin(organization=org_a, key="setup", language="en")
    item = template.items.order_by("position").first()
    client = client_for(moderator_a)
    html = page(client, template_url(template))
    assert item.title in html
    assert "Move up" not in html and 'data-testid="item-add"' not in html
    assert page(client, reverse("checklists:templates")).count("Copy</button>") == 0
    edit = reverse("checklists:item-edit", kwargs={"sop_item_id": item.pk})
    assert client.get(edit).status_code == 403
    assert client.post(edit, item_data(item, title="Mine now")).status_code == 403
    response = client.post(
        reverse("checklists:template-edit", kwargs={"template_id": template.pk}), {"name": "x"}
    )
    assert response.status_code == 403
    assert copy(client, "daily", "en").status_code == 403
    template.refresh_from_db()
    assert template.version == 1 and template.name != "x"


def test_edit_the_templates_settings(client_for, operator_a):
    client = client_for(operator_a)
    copy(client, "activity", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    url = reverse("checklists:template-edit", kwargs={"template_id": template.pk})
    response = client.post(
        url,
        {"name": "Guest talks", "description": "", "language": "en", "entry_kinds": ["guest"]},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Guest talks" and template.kinds == ["guest"]
    assert template.version == 2
    response = client.post(url, {"name": "", "language": "en"})
    assert response.status_code == 400
    template.refresh_from_db()
    assert template.name == "Guest talks"


HOSTILE = "<script>alert(1)</script>"


def test_script_in_titles_is_escaped(client_for, operator_a, community_a):
    template = templates.template_create(
        organization=operator_a.organization, data={"name": HOSTILE, "phase": Phase.SETUP}
    )
    templates.item_save(
        template=template,
        data={"title": HOSTILE, "anchor": DueAnchor.CLOCK, "due_time": time(9), "message": HOSTILE},
    )
    templates.template_use_set(template=template, community=community_a)
    client = client_for(operator_a)
    for url in (
        reverse("checklists:templates"),
        template_url(template),
        reverse("checklists:template-preview", kwargs={"template_id": template.pk}),
        reverse("checklists:item-edit", kwargs={"sop_item_id": template.items.get().pk}),
        reverse("communities:detail", kwargs={"community_slug": community_a.slug}),
    ):
        html = page(client, url)
        assert HOSTILE not in html, url
        assert "&lt;script&gt;" in html, url


def test_the_community_page_panel(client_for, operator_a, moderator_a, community_a):
    setup = templates.template_copy_builtin(
        organization=operator_a.organization, key="setup", language="en"
    )
    daily = templates.template_copy_builtin(
        organization=operator_a.organization, key="daily", language="en"
    )
    templates.template_use_set(template=daily, community=community_a)
    run = runs.run_start(template=setup, community=community_a)
    first = run.items.order_by("position").first()
    runs.item_tick(item=first, staff=operator_a, value="https://example.com/x")
    detail = reverse("communities:detail", kwargs={"community_slug": community_a.slug})
    client = client_for(operator_a)
    panel = page(client, detail).split('data-testid="checklists-panel"')[1].split("</article>")[0]
    assert run.name in panel
    assert f"1 of {run.items.count()}" in panel
    assert daily.name in panel
    assert 'data-testid="start-setup"' in panel
    assert reverse("checklists:mine") in panel

    moderator_a.communities.add(community_a)
    client.force_login(moderator_a.user)
    panel = page(client, detail).split('data-testid="checklists-panel"')[1].split("</article>")[0]
    assert run.name in panel
    assert 'data-testid="start-setup"' not in panel


def test_the_panel_is_left_out_for_a_viewer_who_may_not_see_it(rf, org_b, community_a):
    from checklists.panels import checklists_panel

    request = rf.get("/")
    request.staff = None
    assert checklists_panel(request, community_a) is None
    request.staff = StaffFactory(organization=org_b, role=Role.OWNER)
    assert checklists_panel(request, community_a) is None


def test_the_list_groups_by_phase_with_uses(client_for, operator_a, community_a):
    other = CommunityFactory(organization=operator_a.organization, name="跑步群", slug="run")
    daily = templates.template_copy_builtin(
        organization=operator_a.organization, key="daily", language="en"
    )
    templates.template_use_set(template=daily, community=community_a)
    templates.template_use_set(template=daily, community=other)
    html = page(client_for(operator_a), reverse("checklists:templates"))
    section = html.split('data-testid="templates"')[1].split('data-testid="builtins"')[0]
    assert "Daily maintenance" in section and daily.name in section
    assert community_a.name in section and other.name in section
    assert f"<td>{daily.items.count()}</td>" in section


def test_a_daily_items_form_offers_only_the_daily_anchors(client_for, operator_a):
    client = client_for(operator_a)
    copy(client, "daily", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    html = page(client, reverse("checklists:item-create", kwargs={"template_id": template.pk}))
    assert 'value="clock"' in html and 'value="run_start"' in html
    assert 'value="occurrence_start"' not in html
    response = client.post(
        reverse("checklists:item-create", kwargs={"template_id": template.pk}),
        {"title": "x", "role": "moderator", "anchor": "occurrence_end", "input_kind": "none"},
    )
    assert response.status_code == 400
    assert template.items.count() == 9


@pytest.mark.parametrize(
    ("phase", "fields", "english", "chinese"),
    [
        (Phase.DAILY, {"due_time": time(9)}, "by 09:00", "09:00 前"),
        (Phase.SETUP, {"due_time": time(10), "offset_days": 2}, "day 3 at 10:00", "第 3 天 10:00"),
        (
            Phase.ACTIVITY,
            {"anchor": DueAnchor.OCCURRENCE_START, "offset_minutes": -1440},
            "1 day before the start",
            "开始前 1 天",
        ),
        (
            Phase.ACTIVITY,
            {"anchor": DueAnchor.OCCURRENCE_START, "offset_minutes": -2880},
            "2 days before the start",
            "开始前 2 天",
        ),
        (
            Phase.ACTIVITY,
            {"anchor": DueAnchor.OCCURRENCE_END, "offset_minutes": 30},
            "30 minutes after the end",
            "结束后 30 分钟",
        ),
        (
            Phase.ACTIVITY,
            {"anchor": DueAnchor.OCCURRENCE_END, "offset_minutes": 60},
            "1 hour after the end",
            "结束后 1 小时",
        ),
        (
            Phase.ACTIVITY,
            {"due_time": time(20), "offset_days": -1},
            "1 day before, by 20:00",
            "提前 1 天，20:00 前",
        ),
        (Phase.GROWTH, {"anchor": DueAnchor.RUN_START}, "at the start", "开始时"),
    ],
)
def test_due_times_in_words(phase, fields, english, chinese):
    from django.utils import translation

    from checklists.describe import due_in_words

    item = SopItem(**{"anchor": DueAnchor.CLOCK, **fields})
    assert due_in_words(item, phase) == english
    with translation.override("zh-hans"):
        assert due_in_words(item, phase) == chinese


def test_weekdays_in_words():
    from django.utils import translation

    from checklists.describe import weekdays_in_words

    assert weekdays_in_words("67") == "Sat, Sun"
    assert weekdays_in_words("1234567") == "every day"
    with translation.override("zh-hans"):
        assert weekdays_in_words("1234567") == "每天"


def test_an_activity_preview_follows_that_days_occurrence(client_for, operator_a, community_a):
    from datetime import date

    from activities.calendar import services as calendar

    calendar.entry_create(
        organization=operator_a.organization,
        communities=[community_a],
        data={
            "kind": "guest",
            "title": "Guest talk on reading",
            "start_date": date(2026, 12, 8),
            "start_time": time(19, 30),
            "duration_minutes": 60,
        },
    )
    client = client_for(operator_a)
    copy(client, "activity", "en")
    template = SopTemplate.objects.get(organization=operator_a.organization)
    url = reverse("checklists:template-preview", kwargs={"template_id": template.pk})
    html = page(client, url, community=community_a.slug, day="2026-12-08")
    assert "For “Guest talk on reading” on" in html and "from 19:30 to 20:30" in html
    assert "2026-12-07 19:30" in html  # an item due 1 day before the start
    other_day = page(client, url, community=community_a.slug, day="2026-12-09")
    assert "As if an activity took place" in other_day
    assert not ChecklistRun.objects.exists()


@pytest.mark.parametrize("copies", [1, 4])
def test_the_list_costs_the_same_queries_however_many_templates(
    copies, client_for, operator_a, django_assert_num_queries
):
    for _ in range(copies):
        community = CommunityFactory(organization=operator_a.organization)
        template = templates.template_copy_builtin(
            organization=operator_a.organization, key="setup", language="en"
        )
        templates.template_use_set(template=template, community=community)
    client = client_for(operator_a)
    # session, user, staff + organisation, templates with item counts, their uses
    with django_assert_num_queries(5):
        response = client.get(reverse("checklists:templates"))
    assert response.content.decode().count('href="/checklists/templates/') >= copies + 5


@pytest.mark.parametrize("uses", [1, 4])
def test_the_template_page_costs_the_same_queries_however_many_uses(
    uses, client_for, operator_a, django_assert_num_queries
):
    template = templates.template_copy_builtin(
        organization=operator_a.organization, key="setup", language="en"
    )
    for _ in range(uses):
        templates.template_use_set(
            template=template, community=CommunityFactory(organization=operator_a.organization)
        )
    client = client_for(operator_a)
    # session, user, staff + organisation, the template, its uses, its items, and the
    # community and assignee choices of the use form and of the start form
    with django_assert_num_queries(10):
        response = client.get(template_url(template))
    assert response.status_code == 200
