"""The demo moderator's morning in a real browser, then the operator's team view.

On the demo (``seed_demo``): the moderator signs in and lands on My checklists, ticks three
items of today's run in place (one asks for a number), sees the progress bar move, copies a
message to post; the operator's team view then shows the community's completion rate for
today go up.

An item counts in the completion rate once its due time has passed (docs/metrics.md): a
tick before then changes nothing yet, a tick after it is late. So the three items the
moderator ticks are made to fall due shortly after the ticks, and the operator looks again
once they have — the figure then moves as it does every day in real use.
"""

import io
import os
import time as clock
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from checklists import due
from checklists.models import ChecklistRun, InputKind, Phase
from communities.models import Staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "communityops-demo"
FALLS_DUE_IN = timedelta(seconds=30)


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _todays_run(monkeypatch):
    """The demo, with today's run open even in the small hours (beat opens it at 05:00)."""
    monkeypatch.setattr(due, "DAILY_OPENS_AT", due.DAILY_OPENS_AT.replace(hour=0))
    call_command("seed_demo", stdout=io.StringIO())
    moderator = Staff.objects.get(user__username="moderator")
    run = ChecklistRun.objects.get(
        assignee=moderator,
        phase=Phase.DAILY,
        community__slug="reading-50",
        opens_at__lte=timezone.now(),
        closes_at__gt=timezone.now(),
    )
    return run


def _three_to_tick(run):
    """One item asking for a number and two asking for nothing (or for something
    optional), still open, made to fall due shortly."""
    undone = list(run.items.filter(done_at=None).order_by("position"))
    number = next(item for item in undone if item.input_kind == InputKind.NUMBER)
    plain = [
        item for item in undone if item.input_kind == InputKind.NONE or not item.input_required
    ]
    assert len(plain) >= 2, f"today's run has no two open items that ask for nothing: {undone}"
    chosen = [*plain[:2], number]
    falls_due = timezone.now() + FALLS_DUE_IN
    for item in chosen:
        item.due_at = falls_due
        item.save(update_fields=["due_at"])
    if run.closes_at < falls_due + timedelta(minutes=5):  # a minute before midnight
        run.closes_at = falls_due + timedelta(minutes=5)
        run.save(update_fields=["closes_at"])
    return chosen, falls_due


def _rate(page, live_server, run):
    today = run.day.isoformat()
    page.goto(
        f"{live_server.url}/checklists/team/?from={today}&to={today}"
        f"&community={run.community.slug}&phase={Phase.DAILY}"
    )
    cell = page.locator(
        f"tr[data-group=community][data-key='{run.community_id}'] td[data-figure=rate]"
    )
    return cell.inner_text().strip(), page.locator("[data-testid=total]").inner_text()


def test_the_demo_moderator_ticks_three_items_and_the_operator_sees_the_rate_move(
    browser, live_server, monkeypatch, tmp_path, evening_in_shanghai
):
    run = _todays_run(monkeypatch)
    chosen, falls_due = _three_to_tick(run)
    # Screenshots to look at: CHECKLIST_SHOTS=/some/folder keeps them.
    shots = Path(os.environ.get("CHECKLIST_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    operator = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    team = operator.new_page()
    _sign_in(team, live_server, "operator")
    before, _total = _rate(team, live_server, run)

    moderator = browser.new_context(
        locale="en-GB",
        viewport={"width": 1280, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = moderator.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda line: line.type == "error" and problems.append(line.text))
    _sign_in(page, live_server, "moderator")
    assert page.url == f"{live_server.url}/checklists/", "the moderator lands on My checklists"
    card = page.locator(f"#run-{run.pk}")
    progress = card.locator(f"#progress-{run.pk} progress")
    start = int(progress.get_attribute("value"))
    page.screenshot(path=str(shots / "mine-desktop.png"))
    page.screenshot(path=str(shots / "mine-desktop-full.png"), full_page=True)

    page.evaluate("window.__stillHere = true")
    for n, item in enumerate(chosen, start=1):
        row = page.locator(f"#item-{item.pk}")
        if item.input_kind == InputKind.NUMBER:
            row.locator(f"#value-{item.pk}").fill("12")
        row.locator("form.sop-form button[type=submit]").click()
        page.locator(f"#item-{item.pk}.sop-done").wait_for()
        assert int(card.locator(f"#progress-{run.pk} progress").get_attribute("value")) == (
            start + n
        )
    assert page.evaluate("window.__stillHere === true"), "ticking reloaded the page"
    assert "12" in page.locator(f"#item-{chosen[-1].pk}").inner_text()

    # A done item's message folds away; copy one of an item still to do.
    message = page.locator("[data-copy-target]:visible").first
    target = message.get_attribute("data-copy-target")
    message.click()
    status = page.locator(f"#{message.get_attribute('data-copy-status')}")
    expect(status).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator(f"#{target}").input_value() and copied
    assert not problems
    card.screenshot(path=str(shots / "mine-ticked-run.png"))

    phone = moderator.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(f"{live_server.url}/checklists/")
    phone.screenshot(path=str(shots / "mine-phone.png"))
    phone.screenshot(path=str(shots / "mine-phone-full.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    # Once the three items have fallen due they count, done on time.
    clock.sleep(max(0.0, (falls_due - timezone.now()).total_seconds()) + 1)
    after, _total = _rate(team, live_server, run)
    team.screenshot(path=str(shots / "team.png"), full_page=True)
    team.goto(f"{live_server.url}/checklists/team/")
    team.wait_for_load_state("networkidle")
    team.screenshot(path=str(shots / "team-default.png"))
    team.screenshot(path=str(shots / "team-default-full.png"), full_page=True)
    assert before != after, (before, after)
    assert int(after.rstrip("%")) > int(before.rstrip("%") if before[0].isdigit() else 0)
