"""Fresh numbers after an import (issue 13): the rollups of the touched days are
refreshed before the command exits and before the worker reports 100 %; a run whose
worker died is reaped, and "Try again" queues its stored file once more."""

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from activities import hooks, services
from activities.models import ActivityEvent, ImportRun, ImportStatus, TouchedDay
from activities.services import (
    HEARTBEAT_KEY,
    PROGRESS_KEY,
    import_create,
    import_execute,
    imports_reap_stale,
)
from analytics.models import CommunityDay, MemberDay
from tests.factories import CommunityFactory, StaffFactory

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
GOOD = FIXTURES / "events_generic.csv"
# events_generic.csv, in Asia/Shanghai: u1, u2 and u3 are active in the ISO week of
# Monday 2026-11-16 (messages, a reply, a reaction, a check-in, a post, an attendance);
# u5 only in the next week (2026-11-24 01:00 local); u4 only joins and leaves.
WEEK = ("2026-11-16", "2026-11-22")


def metrics(community, first, last) -> dict:
    out = io.StringIO()
    call_command(
        "export_metrics",
        "--community",
        community.slug,
        "--from",
        first,
        "--to",
        last,
        "--interval",
        "week",
        "--format",
        "json",
        stdout=out,
    )
    return json.loads(out.getvalue())


def test_export_metrics_right_after_import_events_shows_the_week(community_a):
    before = metrics(community_a, *WEEK)
    assert before["indicators"]["wau"] == 0

    call_command(
        "import_events",
        "--community",
        community_a.slug,
        "--format",
        "csv",
        str(GOOD),
        stdout=io.StringIO(),
    )

    after = metrics(community_a, *WEEK)
    assert after["indicators"]["wau"] == 3
    assert [(p["start"], p["active"], p["events"]) for p in after["activity"]] == [
        ("2026-11-16", 3, 6)
    ]
    following = metrics(community_a, "2026-11-23", "2026-11-29")
    assert following["indicators"]["wau"] == 1
    # Everything the import marked was drained: nothing is left for beat.
    assert not TouchedDay.objects.filter(community=community_a).exists()


def test_the_refresh_is_only_for_the_imported_community(community_a, org_a):
    other = CommunityFactory(organization=org_a, name="别的群", slug="other")
    TouchedDay.objects.create(community=other, day=timezone.localdate())
    call_command(
        "import_events", "--community", "reading", "--format", "csv", str(GOOD),
        stdout=io.StringIO(),
    )  # fmt: skip
    assert MemberDay.objects.filter(community=community_a).exists()
    # The other community's mark is beat's business, untouched by this import.
    assert TouchedDay.objects.filter(community=other).count() == 1
    assert not CommunityDay.objects.filter(community=other).exists()


def test_a_failed_import_refreshes_nothing(community_a, monkeypatch):
    calls = []
    monkeypatch.setitem(hooks._AFTER_IMPORT, "probe", lambda c, days: calls.append(days))
    bad = FIXTURES / "events_generic_bad.csv"
    with pytest.raises(Exception, match="Nothing was imported"):
        call_command(
            "import_events", "--community", "reading", "--format", "csv", str(bad),
            stdout=io.StringIO(), stderr=io.StringIO(),
        )  # fmt: skip
    assert calls == []


def test_a_failing_hook_does_not_undo_the_import(community_a, monkeypatch):
    def broken(community, days):
        raise RuntimeError("boom")

    monkeypatch.setitem(hooks._AFTER_IMPORT, "broken", broken)
    call_command(
        "import_events", "--community", "reading", "--format", "csv", str(GOOD),
        stdout=io.StringIO(),
    )  # fmt: skip
    assert ActivityEvent.objects.filter(community=community_a).count() == 10


def _queued_run(community, settings, tmp_path, *, operator=None) -> ImportRun:
    settings.MEDIA_ROOT = tmp_path
    return import_create(
        community=community,
        format="csv",
        upload=ContentFile(GOOD.read_bytes(), name=GOOD.name),
        by=(operator or StaffFactory(organization=community.organization, role="operator")).user,
        language="en",
        enqueue=False,
    )


def test_the_worker_leaves_the_rollups_fresh_when_it_reports_success(
    community_a, settings, tmp_path, monkeypatch
):
    run = _queued_run(community_a, settings, tmp_path)
    seen = {}
    set_progress = services.import_progress_set

    def spy(*, run_id, percent):
        if percent == 100:  # what the page shows once it is 100 %
            seen["wau"] = metrics(community_a, *WEEK)["indicators"]["wau"]
            seen["marks"] = TouchedDay.objects.filter(community=community_a).count()
        set_progress(run_id=run_id, percent=percent)

    monkeypatch.setattr(services, "import_progress_set", spy)
    import_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED
    assert seen == {"wau": 3, "marks": 0}


# --- The reaper -------------------------------------------------------------------------


def _running(community, settings, tmp_path, *, minutes_ago: float, beat=True) -> ImportRun:
    run = _queued_run(community, settings, tmp_path)
    started = timezone.now() - timedelta(minutes=minutes_ago)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING, started_at=started)
    if beat:
        cache.set(PROGRESS_KEY.format(run.pk), 40)
        cache.set(HEARTBEAT_KEY.format(run.pk), started.timestamp())
    run.refresh_from_db()
    return run


def test_a_run_that_stopped_reporting_is_marked_failed_once(community_a, settings, tmp_path):
    settings.IMPORT_STALE_MINUTES = 15
    stale = _running(community_a, settings, tmp_path, minutes_ago=16)
    fresh = _running(community_a, settings, tmp_path, minutes_ago=14)
    assert imports_reap_stale() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == ImportStatus.FAILED
    assert stale.finished_at is not None
    assert stale.problems == [
        {
            "where": "",
            "message": "The worker stopped while reading this file; nothing was imported. "
            "Try again.",
        }
    ]
    assert stale.file  # kept: it can be tried again
    assert fresh.status == ImportStatus.RUNNING
    # Twice is once.
    finished_at = stale.finished_at
    assert imports_reap_stale() == 0
    stale.refresh_from_db()
    assert (stale.status, stale.finished_at) == (ImportStatus.FAILED, finished_at)


def test_the_heartbeat_not_the_start_decides(community_a, settings, tmp_path):
    # Started an hour ago but reported a minute ago: alive.
    run = _running(community_a, settings, tmp_path, minutes_ago=60)
    cache.set(HEARTBEAT_KEY.format(run.pk), (timezone.now() - timedelta(minutes=1)).timestamp())
    assert imports_reap_stale() == 0
    # No heartbeat at all (the cache lost it): the start time stands in.
    lost = _running(community_a, settings, tmp_path, minutes_ago=20, beat=False)
    assert imports_reap_stale() == 1
    lost.refresh_from_db()
    assert lost.status == ImportStatus.FAILED


def test_the_reapers_message_is_in_the_uploaders_language(community_a, settings, tmp_path):
    run = _running(community_a, settings, tmp_path, minutes_ago=30)
    ImportRun.objects.filter(pk=run.pk).update(language="zh-hans")
    imports_reap_stale()
    run.refresh_from_db()
    assert run.problems[0]["message"] == "读取此文件时后台任务中断了；没有导入任何内容。请重试。"


def test_the_beat_entry_runs_the_reaper():
    from config.beat import beat_schedule

    entry = beat_schedule(60)["reap-stale-imports"]
    assert entry["task"] == "activities.reap_stale_imports"
    from activities.tasks import reap_stale_imports_task

    assert reap_stale_imports_task.name == entry["task"]


# --- Try again ----------------------------------------------------------------------------


def _reaped(community, settings, tmp_path) -> ImportRun:
    run = _running(community, settings, tmp_path, minutes_ago=30)
    assert imports_reap_stale() == 1
    run.refresh_from_db()
    return run


def retry_url(run) -> str:
    return reverse("activities:import-retry", kwargs={"import_id": run.pk})


def test_try_again_queues_the_same_file_as_a_new_run(
    client_for, operator_a, community_a, settings, tmp_path, django_capture_on_commit_callbacks
):
    run = _reaped(community_a, settings, tmp_path)
    client = client_for(operator_a)
    page = client.get(reverse("activities:import", kwargs={"import_id": run.pk})).content.decode()
    assert 'data-testid="import-retry"' in page
    assert "csrfmiddlewaretoken" in page
    assert "The worker stopped while reading this file" in page

    stored = Path(run.file.path)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(retry_url(run))
    assert len(callbacks) == 1  # queued after commit
    retry = ImportRun.objects.exclude(pk=run.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:import", kwargs={"import_id": retry.pk})
    assert (retry.status, retry.file.name, retry.created_by) == (
        ImportStatus.QUEUED,
        run.file.name,
        operator_a.user,
    )
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED and not run.file  # the file changed hands

    import_execute(run_id=retry.pk)
    retry.refresh_from_db()
    assert (retry.status, retry.events_created) == (ImportStatus.SUCCEEDED, 10)
    assert not stored.exists()
    # The old run has nothing to try again with any more; a second POST adds nothing.
    again = client.post(retry_url(run), follow=True)
    assert "upload the file again" in again.content.decode()
    assert ImportRun.objects.count() == 2


def test_a_late_worker_of_a_reaped_run_does_not_delete_the_retrys_file(
    client_for, operator_a, community_a, settings, tmp_path, monkeypatch
):
    run = _queued_run(community_a, settings, tmp_path)
    client = client_for(operator_a)
    read = services.import_file

    def slow_worker(**kwargs):
        outcome = read(**kwargs)
        # Meanwhile the reaper took the worker for dead, and someone tried again.
        assert imports_reap_stale(now=timezone.now() + timedelta(hours=1)) == 1
        client.post(retry_url(run))
        return outcome

    monkeypatch.setattr(services, "import_file", slow_worker)
    import_execute(run_id=run.pk)
    run.refresh_from_db()
    assert (run.status, run.events_created) == (ImportStatus.SUCCEEDED, 10)  # what happened
    assert not run.file
    retry = ImportRun.objects.exclude(pk=run.pk).get()
    assert Path(retry.file.path).exists()  # still there for the retry's worker
    monkeypatch.setattr(services, "import_file", read)
    import_execute(run_id=retry.pk)
    retry.refresh_from_db()
    assert (retry.status, retry.events_created, retry.duplicates_skipped) == (
        ImportStatus.SUCCEEDED,
        0,
        10,
    )


def test_a_run_whose_file_was_read_asks_for_a_new_upload(
    client_for, operator_a, community_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    bad = FIXTURES / "events_generic_bad.csv"
    run = import_create(
        community=community_a,
        format="csv",
        upload=ContentFile(bad.read_bytes(), name=bad.name),
        by=operator_a.user,
        language="en",
        enqueue=False,
    )
    import_execute(run_id=run.pk)
    client = client_for(operator_a)
    page = client.get(reverse("activities:import", kwargs={"import_id": run.pk})).content.decode()
    assert 'data-testid="import-retry"' not in page
    assert 'data-testid="import-upload-again"' in page
    response = client.post(retry_url(run))
    assert response.status_code == 302
    assert ImportRun.objects.count() == 1


@pytest.mark.parametrize("role", ["manager_a", "moderator_a"])
def test_only_those_who_may_import_can_try_again(
    request, role, client_for, community_a, settings, tmp_path
):
    run = _reaped(community_a, settings, tmp_path)
    response = client_for(request.getfixturevalue(role)).post(retry_url(run))
    assert response.status_code in (403, 404)
    assert ImportRun.objects.count() == 1


def test_another_organisations_run_is_a_404(
    client_for, operator_a, community_b, settings, tmp_path
):
    run = _reaped(community_b, settings, tmp_path)
    response = client_for(operator_a).post(retry_url(run))
    assert response.status_code == 404
    run.refresh_from_db()
    assert run.file
    assert ImportRun.objects.count() == 1


def test_try_again_needs_the_csrf_token(operator_a, community_a, settings, tmp_path):
    run = _reaped(community_a, settings, tmp_path)
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_a.user)
    assert client.post(retry_url(run)).status_code == 403
    assert ImportRun.objects.count() == 1
    assert client.get(retry_url(run)).status_code == 405


def test_try_again_is_translated(client_for, operator_a, community_a, settings, tmp_path):
    run = _reaped(community_a, settings, tmp_path)
    page = client_for(operator_a).get(
        reverse("activities:import", kwargs={"import_id": run.pk}),
        headers={"accept-language": "zh-hans"},
    )
    assert "重试" in page.content.decode()
    assert translation.get_language() == "zh-hans"
