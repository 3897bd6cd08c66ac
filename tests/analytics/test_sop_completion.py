"""SOP completion in analytics (docs/metrics.md): the community page, the overview (column,
alert, CSV), the portfolio, the API and export_metrics show the same figure, from daily
runs built and ticked through the checklists' own services."""

import csv
import io
import json
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import NoReverseMatch, reverse

from checklists.models import ChecklistRun, InputKind, RunItem
from checklists.services import runs, templates
from communities.tokens import api_token_create
from tests.factories import CommunityFactory

pytestmark = pytest.mark.django_db


def local(community, day, hour=6):
    return datetime.combine(day, time(hour), ZoneInfo(community.time_zone))


def value_for(item: RunItem) -> str:
    """What the item asks for when ticked."""
    if item.input_kind == InputKind.NUMBER:
        return "12"
    if item.input_kind == InputKind.CHOICE:
        return item.choice_list[0]
    if item.input_kind == InputKind.LINK:
        return "https://example.com/summary"
    if item.input_kind == InputKind.NOTE:
        return "done"
    return ""


def daily_run(community, days_ago: int) -> list[RunItem]:
    """The community's daily run of that local day (made by the beat job), its items by due
    time."""
    day = community.local_today() - timedelta(days=days_ago)
    runs.daily_runs_open(now=local(community, day))
    run = ChecklistRun.objects.get(community=community, phase="daily", day=day)
    items = list(RunItem.objects.filter(run=run).order_by("due_at", "pk"))
    assert len(items) >= 4
    return items


def tick(items, staff, *, on_time=0, late=0) -> tuple[int, int]:
    """Tick the first ``on_time`` items before their due time, the next ``late`` an hour
    after it; the rest stay undone. Returns (items due, items on time)."""
    for item in items[:on_time]:
        runs.item_tick(
            item=item, staff=staff, value=value_for(item), now=item.due_at - timedelta(minutes=1)
        )
    for item in items[on_time : on_time + late]:
        runs.item_tick(
            item=item, staff=staff, value=value_for(item), now=item.due_at + timedelta(hours=1)
        )
    return len(items), on_time


def percent(on_time: int, due: int) -> str:
    return f"{round(on_time / due * 100)}%"


@pytest.fixture
def built(org_a, owner_a):
    """slipping: one run 2 days ago, 2 items on time, 2 late, the rest undone (below 50 %).
    steady: 2 days ago all on time but one late; 12 days ago nothing done (in the 30 days,
    not in the alert's 7); 40 days ago all on time (outside the window). none: no
    checklists at all."""
    template = templates.template_copy_builtin(organization=org_a, key="daily", language="zh-hans")
    slipping = CommunityFactory(organization=org_a, name="Slipping 落后群", slug="slipping")
    steady = CommunityFactory(organization=org_a, name="Steady 稳定群", slug="steady")
    none = CommunityFactory(organization=org_a, name="No SOP 无清单", slug="none")
    # The beat job opens a run for every community using a daily template: steady's older
    # days come before slipping uses one, so that slipping has only its one run.
    templates.template_use_set(template=template, community=steady)
    outside, older, recent = (daily_run(steady, days) for days in (40, 12, 2))
    templates.template_use_set(template=template, community=slipping)
    slipping_items = daily_run(slipping, 2)

    due, on_time = tick(slipping_items, owner_a, on_time=2, late=2)
    recent_due, recent_on_time = tick(recent, owner_a, on_time=len(recent) - 1, late=1)
    older_due, _nothing = tick(older, owner_a)
    tick(outside, owner_a, on_time=len(outside))
    return {
        "slipping": (slipping, due, on_time),
        "steady": (steady, recent_due + older_due, recent_on_time),
        "steady_7": (steady, recent_due, recent_on_time),
        "none": (none, 0, 0),
    }


def cells(html: str, marker: str, figure: str = "sop_completion") -> dict[str, str]:
    """slug → the text of the row's ``data-figure`` cell in the table after ``marker``."""
    body = html[html.index(marker) :]
    body = body[: body.index("</table>")]
    found = {}
    for slug, row in re.findall(r'<tr data-community="([^"]+)">(.*?)</tr>', body, re.S):
        cell = re.search(rf'data-figure="{figure}">(.*?)</td>', row, re.S).group(1)
        found[slug] = re.sub(r"<[^>]+>", "", cell).strip()
    return found


def csv_rows(response) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def api_client(staff) -> Client:
    key = api_token_create(staff=staff, name="sop")[1]
    return Client(headers={"authorization": f"Bearer {key}"})


# --- One figure everywhere ---------------------------------------------------------------------


def test_the_community_page_shows_the_figure_with_its_counts(built, client_for, manager_a):
    client = client_for(manager_a)
    for key in ("slipping", "steady"):
        community, due, on_time = built[key]
        html = client.get(reverse("analytics:community", args=[community.slug])).content.decode()
        card = re.search(r'data-testid="sop-completion">(.*?)</article>', html, re.S).group(1)
        figure = re.search(r'data-figure="sop_completion">(.*?)<', card).group(1)
        assert figure == percent(on_time, due)
        assert f"{on_time} of {due} checklist items done on time" in card
        day = community.local_today()
        assert f"({(day - timedelta(days=29)).isoformat()} to {day.isoformat()})" in card


def test_no_checklists_is_a_dash_not_zero(built, client_for, manager_a):
    community = built["none"][0]
    client = client_for(manager_a)
    html = client.get(reverse("analytics:community", args=[community.slug])).content.decode()
    card = re.search(r'data-testid="sop-completion">(.*?)</article>', html, re.S).group(1)
    assert 'data-figure="sop_completion">—<' in card
    assert "No checklist items fell due" in card
    assert "0%" not in card
    overview = client.get(reverse("overview")).content.decode()
    assert cells(overview, 'id="overview-table"')["none"] == "—"
    assert (
        cells(client.get(reverse("analytics:home")).content.decode(), "portfolio-table")["none"]
        == "—"
    )
    body = api_client(manager_a).get(reverse("api:metrics", args=[community.slug])).json()
    assert body["sop_completion"] == {
        "rate": None, "due": 0, "on_time": 0, "done": 0, "window_days": 30,
    }  # fmt: skip
    by_slug = {row[1]: row for row in csv_rows_raw(client.get(reverse("overview-csv")))}
    assert by_slug["none"][-4:] == ["", "0", "0", "no"]


def csv_rows_raw(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:]


def test_the_overview_column_and_csv(built, client_for, manager_a):
    client = client_for(manager_a)
    html = client.get(reverse("overview")).content.decode()
    shown = cells(html, 'id="overview-table"')
    rows = {row["slug"]: row for row in csv_rows(client.get(reverse("overview-csv")))}
    for key in ("slipping", "steady"):
        community, due, on_time = built[key]
        assert shown[community.slug] == percent(on_time, due)
        row = rows[community.slug]
        assert float(row["sop_completion"]) == pytest.approx(on_time / due)
        assert (row["sop_items_due"], row["sop_items_on_time"]) == (str(due), str(on_time))
    assert rows["slipping"]["sop_alert"] == "yes"
    assert rows["steady"]["sop_alert"] == "no"
    # The column sorts, best first on the first click; no figure sorts last.
    partial = client.get(reverse("overview"), {"sort": "-sop"}, headers={"HX-Request": "true"})
    order = re.findall(r'<tr data-community="([^"]+)"', partial.content.decode())
    rates = {key: built[key][2] / built[key][1] for key in ("slipping", "steady")}
    assert order == [*sorted(rates, key=rates.get, reverse=True), "none"]


def test_the_portfolio_page_csv_and_api(built, client_for, manager_a):
    client = client_for(manager_a)
    shown = cells(client.get(reverse("analytics:home")).content.decode(), "portfolio-table")
    rows = {row["slug"]: row for row in csv_rows(client.get(reverse("analytics:portfolio-csv")))}
    api = api_client(manager_a)
    portfolio = {
        row["slug"]: row for row in api.get(reverse("api:portfolio")).json()["communities"]
    }
    listed = {row["slug"]: row for row in api.get(reverse("api:communities")).json()["communities"]}
    for key in ("slipping", "steady"):
        community, due, on_time = built[key]
        assert shown[community.slug] == percent(on_time, due)
        assert float(rows[community.slug]["sop_completion"]) == pytest.approx(on_time / due)
        for answer in (portfolio, listed):
            figure = answer[community.slug]["sop_completion"]
            assert (figure["due"], figure["on_time"], figure["window_days"]) == (due, on_time, 30)
            assert figure["rate"] == pytest.approx(on_time / due)
    assert portfolio["none"]["sop_completion"]["rate"] is None
    assert rows["none"]["sop_completion"] == ""


def test_the_metrics_api_its_csv_export_metrics_and_the_page_csv(built, client_for, manager_a):
    community, due, on_time = built["steady"]
    api = api_client(manager_a)
    body = api.get(reverse("api:metrics", args=[community.slug])).json()
    figure = body["sop_completion"]
    assert (figure["due"], figure["on_time"], figure["window_days"]) == (due, on_time, 30)
    assert figure["rate"] == pytest.approx(on_time / due)
    assert figure["done"] == on_time + 1  # the late one is done, not on time

    # A range ending 10 days ago: the 30 days to it leave the run of 2 days ago out.
    end = community.local_today() - timedelta(days=10)
    older = api.get(reverse("api:metrics", args=[community.slug]), {"to": end.isoformat()})
    assert older.json()["sop_completion"]["on_time"] == 0
    assert older.json()["sop_completion"]["due"] == due - built["steady_7"][1]

    out = io.StringIO()
    call_command("export_metrics", "--community", community.slug, stdout=out)
    assert json.loads(out.getvalue())["sop_completion"] == figure

    response = api.get(reverse("api:metric-csv", args=[community.slug, "sop_completion"]))
    (row,) = csv_rows(response)
    assert row["day"] == community.local_today().isoformat()
    assert (row["due"], row["on_time"], row["window_days"]) == (str(due), str(on_time), "30")
    assert float(row["rate"]) == figure["rate"]
    out = io.StringIO()
    call_command(
        "export_metrics", "--community", community.slug, "--format", "csv",
        "--metric", "sop_completion", stdout=out,
    )  # fmt: skip
    assert out.getvalue().splitlines() == response.content.decode("utf-8-sig").splitlines()

    page_csv = client_for(manager_a).get(
        reverse("analytics:chart-csv", args=[community.slug, "indicators"])
    )
    values = {r[0]: r[2] for r in csv_rows_raw(page_csv)}
    assert float(values["sop_completion"]) == pytest.approx(on_time / due, abs=1e-4)
    assert (values["sop_items_due"], values["sop_items_on_time"]) == (str(due), str(on_time))


# --- The alert -------------------------------------------------------------------------------


def alert_block(html: str) -> str | None:
    match = re.search(r'data-testid="alert-sop">(.*?)</ul>', html, re.S)
    return match.group(1) if match else None


def test_the_alert_shows_below_the_threshold_from_daily_runs_of_7_days(
    built, client_for, manager_a
):
    _slipping, due, on_time = built["slipping"]
    html = client_for(manager_a).get(reverse("overview")).content.decode()
    block = alert_block(html)
    assert block is not None
    assert re.findall(r'href="/analytics/([^/]+)/"', block) == ["slipping"]
    assert (
        f"Daily SOP completion {round(on_time / due * 100)}% over the last 7 days (below 50%)"
        in block
    )
    # steady's 30 days are below 50 % too, but its last 7 days are not: no alert.
    _steady, due_30, on_time_30 = built["steady"]
    assert on_time_30 * 2 < due_30
    try:
        team = reverse("checklists:team")
    except NoReverseMatch:
        team = ""
    if team:
        link = re.search(r'<a href="([^"]+)" data-testid="sop-team-link">', block).group(1)
        today = built["slipping"][0].local_today()
        assert link.replace("&amp;", "&") == (
            f"{team}?from={(today - timedelta(days=6)).isoformat()}&to={today.isoformat()}"
            "&community=slipping&phase=daily"
        )
        page = client_for(manager_a).get(link.replace("&amp;", "&"))
        assert page.status_code == 200
        assert f"{round(on_time / due * 100)}%" in page.content.decode()  # the same figure
    else:
        assert "Team view" not in block
    assert 'data-testid="attention-count">' in html


def test_the_threshold_is_a_setting(built, client_for, manager_a):
    _slipping, due, on_time = built["slipping"]
    rate = on_time * 100 / due
    client = client_for(manager_a)
    with override_settings(SOP_ALERT_PERCENT=int(rate)):  # at or just below: no alert
        assert alert_block(client.get(reverse("overview")).content.decode()) is None
    with override_settings(SOP_ALERT_PERCENT=int(rate) + 1):
        block = alert_block(client.get(reverse("overview")).content.decode())
        assert block is not None
        assert f"(below {int(rate) + 1}%)" in block
    with override_settings(SOP_ALERT_PERCENT=100):  # steady's late item: below 100 % too
        block = alert_block(client.get(reverse("overview")).content.decode())
        assert re.findall(r'href="/analytics/([^/]+)/"', block) == ["slipping", "steady"]


def test_the_figures_are_translated(built, client_for, manager_a):
    slipping, due, on_time = built["slipping"]
    client = client_for(manager_a)
    headers = {"accept-language": "zh-hans"}
    html = client.get(reverse("overview"), headers=headers).content.decode()
    block = alert_block(html)
    assert f"近 7 天日常 SOP 完成率 {round(on_time / due * 100)}%（低于 50%）" in block
    assert "SOP 完成率（30 天）" in html and "Daily SOP completion" not in html
    page = client.get(reverse("analytics:community", args=[slipping.slug]), headers=headers)
    card = re.search(
        r'data-testid="sop-completion">(.*?)</article>', page.content.decode(), re.S
    ).group(1)
    assert f"{due} 项清单事项中 {on_time} 项按时完成" in card


# --- Query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [0, 3])
def test_queries_stay_constant_with_checklists(
    extra, built, org_a, owner_a, client_for, operator_a, django_assert_num_queries
):
    template = templates.template_copy_builtin(organization=org_a, key="daily", language="en")
    for n in range(extra):
        community = CommunityFactory(organization=org_a, slug=f"more-{n}")
        templates.template_use_set(template=template, community=community)
        tick(daily_run(community, 1), owner_a, on_time=1)
    client = client_for(operator_a)
    client.get(reverse("overview"))  # warm the session
    with django_assert_num_queries(11):  # tests/analytics/test_overview.py's pin
        client.get(reverse("overview"))
    with django_assert_num_queries(10):  # tests/analytics/test_portfolio.py's pin
        client.get(reverse("analytics:home"))


def test_communities_in_other_time_zones_get_their_own_30_days(
    org_a, owner_a, client_for, manager_a
):
    """Each community's window ends on its own today, as its page's does, even when the
    overview shows communities whose local days differ."""
    template = templates.template_copy_builtin(organization=org_a, key="daily", language="en")
    east = CommunityFactory(organization=org_a, slug="east", time_zone="Asia/Shanghai")
    west = CommunityFactory(organization=org_a, slug="west", time_zone="America/Los_Angeles")
    for community, ticked in ((east, 1), (west, 3)):
        templates.template_use_set(template=template, community=community)
        tick(daily_run(community, 1), owner_a, on_time=ticked)
    client = client_for(manager_a)
    overview = cells(client.get(reverse("overview")).content.decode(), 'id="overview-table"')
    portfolio = cells(client.get(reverse("analytics:home")).content.decode(), "portfolio-table")
    for community in (east, west):
        html = client.get(reverse("analytics:community", args=[community.slug])).content.decode()
        figure = re.search(r'data-figure="sop_completion">(.*?)<', html).group(1)
        assert figure != "—"
        assert overview[community.slug] == portfolio[community.slug] == figure
