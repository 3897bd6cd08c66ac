"""An operator uploads a Telegram export; a real Celery worker imports it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from activities.models import ActivityEvent, ImportRun, ImportStatus
from communities.models import Platform, Role
from tests.browser.test_layout import log_in
from tests.factories import CommunityFactory, StaffFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
EXPORT = ROOT / "tests" / "fixtures" / "imports" / "telegram_single.json"


@pytest.fixture
def import_worker(redis_url, tmp_path, settings):
    """A real worker on the imports queue, reading the test database and the uploads."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if connection.vendor != "postgresql" or not broker.startswith("redis"):
        pytest.fail("Needs PostgreSQL and a Redis broker (make test-postgres)")
    settings.MEDIA_ROOT = tmp_path / "media"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VAR_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--queues", "imports", "--loglevel", "INFO", "--hostname", f"imports-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    yield process
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    print(output)


def test_upload_a_telegram_export_and_watch_it_finish(page, live_server, org_a, import_worker):
    staff = StaffFactory(organization=org_a, role=Role.OPERATOR)
    CommunityFactory(organization=org_a, name="Shanghai Runners", slug="runners",
                     platform=Platform.TELEGRAM)  # fmt: skip

    log_in(page, live_server, staff.user.username)
    page.click("nav.sidebar >> text=Imports")
    page.select_option("select[name=community]", "runners")
    page.select_option("select[name=format]", "telegram")
    page.set_input_files("input[name=file]", str(EXPORT))
    page.click("[data-testid=import-form] button[type=submit]")

    page.wait_for_selector("[data-testid=import-status]")
    page.evaluate("window.__marker = 'same page'")
    # htmx polls the status until the worker is done; no reload.
    expect(page.locator("[data-testid=import-state]")).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator("[data-testid=import-percent]")).to_have_text("100 %")
    assert page.locator("#import-status progress").get_attribute("value") == "100"
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED
    assert run.events_created == ActivityEvent.objects.count() > 0
    assert str(run.events_created) in page.locator("[data-testid=import-counts]").inner_text()
    assert page.evaluate("window.__marker") == "same page"

    page.click("text=See the community's members")
    table = page.locator(".members-table")
    expect(table).to_contain_text("Carol Chen")
    # Bob left the chat: not a current member, but there among everyone.
    expect(table).not_to_contain_text("Bob")
    page.select_option("select[name=status]", "all")
    # A name that is markup stays text.
    expect(table).to_contain_text("Bob <script>alert('x')</script>")
    assert page.console_problems == []
