"""The team view: SOP completion per community, moderator and template (page and CSV, as
computed by hand), the overdue list and reassigning a run, who may do what."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from checklists.models import ChecklistRun, Phase
from checklists.services.runs import daily_runs_open, item_tick
from checklists.services.templates import template_copy_builtin, template_use_set
from communities.models import Role
from tests.factories import CommunityFactory, OrganizationFactory, StaffFactory

pytestmark = pytest.mark.django_db

# Wednesday 2 December 2026, 10:00 in Shanghai: the runs of Tuesday 1 December are all due.
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
TUESDAY_MORNING = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
RANGE = {"from": "2026-11-30", "to": "2026-12-01"}
TEAM = reverse("checklists:team")
CSV_URL = reverse("checklists:team-csv")


def shanghai(hour: int, minute: int = 0) -> datetime:
    """1 December 2026 at hour:minute in Shanghai (UTC+8)."""
    return datetime(2026, 12, 1, hour - 8, minute, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def tick(run: ChecklistRun, hour: int, *, at: datetime, staff, value: str = "") -> None:
    """Tick the run's item due at ``hour``:00 (the first of them) at ``at``."""
    item = next(item for item in run.items.order_by("position") if item.due_at == shanghai(hour))
    item_tick(item=item, staff=staff, value=value, now=at)


@pytest.fixture
def team(org_a):
    """Tuesday's daily runs in three communities (7 items each on a Tuesday):

    - 读书会 (Chinese template), moderator 李雷: 2 on time, 1 late, 4 not done → 2/7 = 29 %;
    - Writers (English template), moderator hanmeimei: 4 on time → 4/7 = 57 %;
    - 跑步群 (Chinese template), nobody assigned: nothing done → 0 %.
    """
    reading = CommunityFactory(organization=org_a, name="读书会", slug="reading")
    writers = CommunityFactory(organization=org_a, name="Writers", slug="writers")
    running = CommunityFactory(organization=org_a, name="跑步群", slug="running")
    lilei = StaffFactory(organization=org_a, role=Role.MODERATOR, user__username="李雷")
    lilei.communities.add(reading)
    hanmeimei = StaffFactory(organization=org_a, role=Role.MODERATOR, user__username="hanmeimei")
    hanmeimei.communities.add(writers)
    chinese = template_copy_builtin(organization=org_a, key="daily", language="zh-hans")
    english = template_copy_builtin(organization=org_a, key="daily", language="en")
    template_use_set(template=chinese, community=reading)
    template_use_set(template=english, community=writers)
    template_use_set(template=chinese, community=running)
    assert daily_runs_open(now=TUESDAY_MORNING) == 3
    runs = {run.community.slug: run for run in ChecklistRun.objects.select_related("community")}
    assert [runs[slug].items.count() for slug in ("reading", "writers", "running")] == [7, 7, 7]
    assert runs["reading"].assignee == lilei and runs["writers"].assignee == hanmeimei
    assert runs["running"].assignee is None

    tick(runs["reading"], 9, at=shanghai(8, 50), staff=lilei)
    tick(runs["reading"], 9, at=shanghai(8, 55), staff=lilei)  # the same item again: no change
    item_tick(
        item=runs["reading"].items.get(due_at=shanghai(9, 30)), staff=lilei, now=shanghai(9, 20)
    )
    tick(runs["reading"], 20, at=shanghai(20, 30), staff=lilei)  # half an hour late
    for hour, minute in ((9, 0), (9, 30), (20, 0)):
        item_tick(
            item=runs["writers"].items.get(due_at=shanghai(hour, minute)),
            staff=hanmeimei,
            now=shanghai(hour, minute) - timedelta(minutes=5),
        )
    tick(runs["writers"], 21, at=shanghai(20, 50), staff=hanmeimei, value="12")
    return {
        "reading": reading,
        "writers": writers,
        "running": running,
        "lilei": lilei,
        "hanmeimei": hanmeimei,
        "chinese": chinese,
        "english": english,
        "runs": runs,
    }


def table_rows(html: str, group: str) -> dict[str, tuple[str, ...]]:
    """{name: (due, on time, late, not done, rate)} of one table of the page."""
    rows = {}
    pattern = re.compile(
        rf'<tr data-group="{group}" data-key="[^"]*">\s*<th scope="row">(.*?)</th>(.*?)</tr>',
        re.DOTALL,
    )
    for name, cells in pattern.findall(html):
        rows[name] = tuple(re.findall(r"<td[^>]*>(.*?)</td>", cells))
    return rows


def test_rates_per_community_moderator_and_template_on_the_page(team, client_for, operator_a):
    response = client_for(operator_a).get(TEAM, RANGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert table_rows(html, "community") == {
        "跑步群": ("7", "0", "0", "7", "0%"),
        "读书会": ("7", "2", "1", "4", "29%"),
        "Writers": ("7", "4", "0", "3", "57%"),
    }
    assert table_rows(html, "moderator") == {
        "李雷": ("7", "2", "1", "4", "29%"),
        "hanmeimei": ("7", "4", "0", "3", "57%"),
        "Unassigned": ("7", "0", "0", "7", "0%"),
    }
    assert table_rows(html, "template") == {
        team["chinese"].name: ("14", "2", "1", "11", "14%"),  # 读书会 and 跑步群
        team["english"].name: ("7", "4", "0", "3", "57%"),
    }
    assert "29%" in html.split('data-testid="total">')[1].split("</p>")[0]
    assert "6 of 21 items done on time" in html
    # The charts reach the page as data: completion per day (Monday: nothing due, a gap).
    day_chart = response.context["day_chart"]["data"][0]
    assert day_chart["x"] == ["2026-11-30", "2026-12-01"]
    assert day_chart["y"] == [None, 29]
    moderator_chart = response.context["moderator_chart"]["data"][0]
    assert dict(zip(moderator_chart["x"], moderator_chart["y"], strict=True)) == {
        "李雷": 29,
        "hanmeimei": 57,
        "Unassigned": 0,
    }
    assert 'data-chart="team-day-chart"' in html and 'id="team-day-chart"' in html


def test_filters_narrow_to_a_community_and_a_phase(team, client_for, manager_a):
    client = client_for(manager_a)
    html = client.get(TEAM, {**RANGE, "community": "writers"}).content.decode()
    assert set(table_rows(html, "community")) == {"Writers"}
    assert table_rows(html, "moderator") == {"hanmeimei": ("7", "4", "0", "3", "57%")}
    html = client.get(TEAM, {**RANGE, "phase": Phase.SETUP}).content.decode()
    assert table_rows(html, "community") == {}
    assert "Nothing fell due in this range." in html
    assert "—" in html.split('data-testid="total">')[1].split("</p>")[0]


def test_ticking_one_more_item_on_time_raises_the_rate(team, client_for, owner_a):
    client = client_for(owner_a)
    tick(team["runs"]["reading"], 21, at=shanghai(20, 45), staff=team["lilei"], value="5")
    html = client.get(TEAM, RANGE).content.decode()
    assert table_rows(html, "community")["读书会"] == ("7", "3", "1", "3", "43%")
    assert table_rows(html, "moderator")["李雷"] == ("7", "3", "1", "3", "43%")
    assert table_rows(html, "template")[team["chinese"].name] == ("14", "3", "1", "10", "21%")


def test_the_csv_has_the_three_tables(team, client_for, owner_a):
    response = client_for(owner_a).get(CSV_URL, RANGE)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff"))))
    assert rows[0] == [
        "group", "name", "items_due", "on_time", "late", "not_done", "completion_percent"
    ]  # fmt: skip
    assert sorted(rows[1:]) == sorted(
        [
            ["community", "跑步群", "7", "0", "0", "7", "0"],
            ["community", "读书会", "7", "2", "1", "4", "29"],
            ["community", "Writers", "7", "4", "0", "3", "57"],
            ["moderator", "李雷", "7", "2", "1", "4", "29"],
            ["moderator", "hanmeimei", "7", "4", "0", "3", "57"],
            ["moderator", "(unassigned)", "7", "0", "0", "7", "0"],
            ["template", team["chinese"].name, "14", "2", "1", "11", "14"],
            ["template", team["english"].name, "7", "4", "0", "3", "57"],
        ]
    )


def test_the_csv_is_for_those_who_export(team, client_for, operator_a, manager_a):
    assert client_for(operator_a).get(CSV_URL, RANGE).status_code == 403
    assert client_for(manager_a).get(CSV_URL, RANGE).status_code == 200


def test_the_default_range_is_the_last_30_days_in_the_organisations_zone(client_for, owner_a):
    owner_a.organization.time_zone = "America/Los_Angeles"  # 1 December, 18:00 there
    owner_a.organization.save()
    response = client_for(owner_a).get(TEAM)
    assert response.status_code == 200
    form = response.context["form"]
    assert (form.start.isoformat(), form.end.isoformat()) == ("2026-11-02", "2026-12-01")
    assert 'value="2026-11-02"' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-12-05", "to": "2026-12-01"}, "The start date must be on or before"),
        ({"from": "9999-12-31"}, "Dates must lie between"),
        ({"from": "2020-01-01", "to": "2026-12-01"}, "at most two years"),
        ({"to": "2026-02-30"}, "Enter a valid date."),
        ({"community": "nope"}, "Select a valid choice."),
    ],
)
def test_a_bad_range_or_filter_is_a_form_error(query, message, client_for, owner_a):
    client = client_for(owner_a)
    response = client.get(TEAM, query)
    assert response.status_code == 400
    assert message in response.content.decode()
    htmx = client.get(TEAM, query, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and message in htmx.content.decode()
    assert client.get(CSV_URL, query).status_code == 400


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.OWNER, 200), (Role.OPERATOR, 200), (Role.MANAGER, 200), (Role.MODERATOR, 403)],
)
def test_who_sees_the_team_view(role, status, client_for, org_a):
    assert client_for(StaffFactory(organization=org_a, role=role)).get(TEAM).status_code == status


def test_a_moderator_gets_403(team, client_for):
    client = client_for(team["lilei"])
    assert client.get(TEAM).status_code == 403
    assert client.get(CSV_URL).status_code == 403
    run = team["runs"]["reading"]
    response = client.post(reverse("checklists:run-reassign", args=[run.pk]), {"assignee": ""})
    assert response.status_code == 403
    run.refresh_from_db()
    assert run.assignee == team["lilei"]


# --- The overdue list and reassigning ---------------------------------------------------------


def overdue_row(html: str, run: ChecklistRun) -> str:
    start = html.index(f'<tr id="overdue-run-{run.pk}"')
    return html[start : html.index("</tr>", start)]


def test_the_overdue_list_shows_undone_items_with_due_times_in_the_communitys_zone(
    team, client_for, manager_a
):
    html = client_for(manager_a).get(TEAM).content.decode()
    reading = overdue_row(html, team["runs"]["reading"])
    assert "读书会" in reading and "李雷" in reading
    undone = team["runs"]["reading"].items.filter(done_at__isnull=True).order_by("due_at")
    assert all(item.title in reading for item in undone)
    assert reading.count("data-item=") == 4
    assert "2026-12-01 21:00" in reading  # Shanghai time, not UTC's 13:00
    assert "2026-12-01 13:00" not in reading
    assert "Unassigned" in overdue_row(html, team["runs"]["running"])
    # Managers see the list, not the form.
    assert reverse("checklists:run-reassign", args=[team["runs"]["reading"].pk]) not in html


def test_runs_closed_more_than_a_week_ago_or_cancelled_leave_the_list(team, client_for, owner_a):
    runs = team["runs"]
    ChecklistRun.objects.filter(pk=runs["writers"].pk).update(cancelled_at=NOW)
    ChecklistRun.objects.filter(pk=runs["running"].pk).update(
        closes_at=NOW - timedelta(days=7, minutes=1)
    )
    html = client_for(owner_a).get(TEAM).content.decode()
    assert f'id="overdue-run-{runs["reading"].pk}"' in html
    assert f'id="overdue-run-{runs["writers"].pk}"' not in html
    assert f'id="overdue-run-{runs["running"].pk}"' not in html


def test_reassign_offers_who_may_see_the_community(team, client_for, org_a, owner_a):
    operator = StaffFactory(organization=org_a, role=Role.OPERATOR, user__username="operator-x")
    StaffFactory(organization=org_a, role=Role.MANAGER, user__username="manager-x")
    gone = StaffFactory(organization=org_a, role=Role.OPERATOR, user__username="gone-x")
    gone.deactivated_at = NOW
    gone.save()
    html = client_for(owner_a).get(TEAM).content.decode()
    row = overdue_row(html, team["runs"]["reading"])
    assert f'value="{team["lilei"].pk}"' in row
    assert f'value="{operator.pk}"' in row and f'value="{owner_a.pk}"' in row
    assert f'value="{team["hanmeimei"].pk}"' not in row  # not assigned to 读书会
    assert "manager-x" not in row and "gone-x" not in row


def test_reassign_with_htmx_swaps_the_row(team, client_for, org_a, operator_a):
    run = team["runs"]["reading"]
    zhang = StaffFactory(organization=org_a, role=Role.MODERATOR, user__username="张伟")
    zhang.communities.add(team["reading"])
    response = client_for(operator_a).post(
        reverse("checklists:run-reassign", args=[run.pk]),
        {"assignee": zhang.pk, "next": TEAM},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="overdue-run-{run.pk}"')
    assert f'data-assignee="{zhang.pk}"' in html
    assert "now goes to 张伟" in html
    run.refresh_from_db()
    assert run.assignee == zhang


def test_reassign_without_javascript_redirects_back(team, client_for, operator_a):
    run = team["runs"]["running"]
    back = f"{TEAM}?community=running"
    client = client_for(operator_a)
    response = client.post(
        reverse("checklists:run-reassign", args=[run.pk]),
        {"assignee": operator_a.pk, "next": back},
    )
    assert response.status_code == 302 and response["Location"] == back
    run.refresh_from_db()
    assert run.assignee == operator_a
    assert "now goes to" in client.get(back).content.decode()
    # Somewhere else than this site is not where we came from.
    response = client.post(
        reverse("checklists:run-reassign", args=[run.pk]),
        {"assignee": "", "next": "https://evil.example/"},
    )
    assert response["Location"] == TEAM
    run.refresh_from_db()
    assert run.assignee is None


def test_reassign_to_a_moderator_of_another_community_is_refused(team, client_for, owner_a):
    run = team["runs"]["reading"]
    client = client_for(owner_a)
    url = reverse("checklists:run-reassign", args=[run.pk])
    response = client.post(url, {"assignee": team["hanmeimei"].pk}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "This moderator is not assigned to the run" in response.content.decode()
    run.refresh_from_db()
    assert run.assignee == team["lilei"]
    response = client.post(url, {"assignee": team["hanmeimei"].pk, "next": TEAM}, follow=True)
    assert "This moderator is not assigned to the run" in response.content.decode()
    run.refresh_from_db()
    assert run.assignee == team["lilei"]


def test_reassign_refuses_a_manager_and_another_organisations_staff(
    team, client_for, owner_a, manager_a
):
    run = team["runs"]["reading"]
    url = reverse("checklists:run-reassign", args=[run.pk])
    stranger = StaffFactory(organization=OrganizationFactory(slug="other"), role=Role.OPERATOR)
    client = client_for(owner_a)
    for assignee in (manager_a, stranger):
        response = client.post(url, {"assignee": assignee.pk}, headers={"HX-Request": "true"})
        assert "Select a valid choice" in response.content.decode()
    run.refresh_from_db()
    assert run.assignee == team["lilei"]
    # A manager sees the list but may not reassign.
    assert client_for(manager_a).post(url, {"assignee": ""}).status_code == 403
    run.refresh_from_db()
    assert run.assignee == team["lilei"]


def test_another_organisations_run_is_a_404(team, client_for, org_b):
    owner_b = StaffFactory(organization=org_b, role=Role.OWNER)
    run = team["runs"]["reading"]
    response = client_for(owner_b).post(
        reverse("checklists:run-reassign", args=[run.pk]), {"assignee": owner_b.pk}
    )
    assert response.status_code == 404
    run.refresh_from_db()
    assert run.assignee == team["lilei"]


def test_user_text_is_escaped(team, client_for, owner_a):
    reading = team["reading"]
    reading.name = "<script>alert(1)</script>"
    reading.save(update_fields=["name"])
    lilei = team["lilei"].user
    lilei.username = "<b>李雷</b>"
    lilei.save(update_fields=["username"])
    response = client_for(owner_a).get(TEAM, {**RANGE, "community": "reading"})
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>李雷</b>" not in html
    # In the charts' data too: json_script escapes <, and plotly gets entities.
    assert (
        response.context["day_chart"]["data"][0]["name"] == "&lt;script&gt;alert(1)&lt;/script&gt;"
    )
    assert "&lt;b&gt;李雷&lt;/b&gt;" in response.context["moderator_chart"]["data"][0]["x"]


def _communities_with_runs(org, count: int) -> None:
    template = template_copy_builtin(organization=org, key="daily", language="zh-hans")
    for index in range(count):
        community = CommunityFactory(organization=org, slug=f"pin-{index}")
        moderator = StaffFactory(organization=org, role=Role.MODERATOR)
        moderator.communities.add(community)
        template_use_set(template=template, community=community)
    daily_runs_open(now=TUESDAY_MORNING)
    for run in ChecklistRun.objects.filter(organization=org).select_related("assignee"):
        first = run.items.order_by("position").first()
        item_tick(item=first, staff=run.assignee, now=first.due_at - timedelta(minutes=1))


@pytest.mark.parametrize("count", [1, 5])
def test_the_team_view_costs_the_same_queries_for_1_or_5_communities(
    count, client_for, owner_a, django_assert_num_queries
):
    _communities_with_runs(owner_a.organization, count)
    client = client_for(owner_a)
    client.get(TEAM, RANGE)  # the session is warm
    with django_assert_num_queries(14):
        response = client.get(TEAM, RANGE)
    assert response.status_code == 200
    assert response.content.decode().count('id="overdue-run-') == count
    assert len(table_rows(response.content.decode(), "community")) == count


def test_htmx_filtering_swaps_the_body_only(team, client_for, owner_a):
    response = client_for(owner_a).get(
        TEAM, {**RANGE, "community": "reading"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="team-body">')
    assert "<html" not in html
    assert set(table_rows(html, "community")) == {"读书会"}
    assert f'id="overdue-run-{team["runs"]["reading"].pk}"' in html
    assert f'id="overdue-run-{team["runs"]["writers"].pk}"' not in html


@pytest.mark.parametrize(
    "back",
    [f"{TEAM}?x=\x00", f"{TEAM}?a\r\nSet-Cookie: x=1", "/\\evil.example", "//evil", "/settings/"],
)
def test_a_hostile_next_goes_back_to_the_team_view(back, team, client_for, owner_a):
    run = team["runs"]["reading"]
    response = client_for(owner_a).post(
        reverse("checklists:run-reassign", args=[run.pk]), {"assignee": "", "next": back}
    )
    assert response.status_code == 302
    assert response["Location"] == TEAM
