"""Imports through their real entry points: the service, the command, the pages."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from activities.models import ActivityEvent, ImportRun, ImportStatus
from activities.services import import_execute, import_file
from members.models import Member, Membership, MembershipStatus

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
GOOD = FIXTURES / "events_generic.csv"
BAD = FIXTURES / "events_generic_bad.csv"


def test_generic_csv_imports_everything(community_a):
    outcome = import_file(community=community_a, format="csv", path=GOOD)
    assert outcome.ok
    assert outcome.result.events_created == 10
    assert outcome.result.members_created == 5
    assert ActivityEvent.objects.filter(community=community_a).count() == 10
    # A time without offset is read in the community's zone (Asia/Shanghai by default).
    naive = ActivityEvent.objects.get(external_id="m3")
    assert naive.occurred_at == datetime(2026, 11, 20, 13, 10, tzinfo=UTC)
    # u4 joined and left; u5 was removed.
    u4 = Membership.objects.get(member__handles__external_id="u4")
    assert u4.status == MembershipStatus.LEFT
    u5 = Membership.objects.get(member__handles__external_id="u5")
    assert u5.status == MembershipStatus.REMOVED


def test_reimport_adds_nothing(community_a):
    import_file(community=community_a, format="csv", path=GOOD)
    again = import_file(community=community_a, format="csv", path=GOOD)
    assert again.ok
    assert (again.result.events_created, again.result.duplicates_skipped) == (0, 10)
    assert again.result.members_created == 0
    assert ActivityEvent.objects.count() == 10


def test_malformed_file_writes_nothing_and_says_where(community_a):
    outcome = import_file(community=community_a, format="csv", path=BAD)
    assert not outcome.ok
    assert outcome.rows_rejected == 3
    assert [p.where for p in outcome.problems] == ["row 3", "row 5", "row 6"]
    assert ActivityEvent.objects.count() == 0
    assert Member.objects.count() == 0
    assert Membership.objects.count() == 0


def test_problems_come_in_the_users_language(community_a):
    with translation.override("zh-hans"):
        outcome = import_file(community=community_a, format="csv", path=BAD)
    assert outcome.problems[0].where == "第 3 行"


def test_a_file_of_another_format_is_rejected_whole(community_a):
    outcome = import_file(
        community=community_a, format="csv", path=FIXTURES / "telegram_single.json"
    )
    assert not outcome.ok
    assert outcome.problems[0].where == ""
    assert ActivityEvent.objects.count() == 0


def test_command_prints_a_summary(community_a, capsys):
    call_command("import_events", "--community", community_a.slug, "--format", "csv", str(GOOD))
    out = capsys.readouterr().out
    assert "events created: 10" in out
    assert "members created: 5" in out
    call_command("import_events", "--community", community_a.slug, "--format", "csv", str(GOOD))
    out = capsys.readouterr().out
    assert "events created: 0" in out
    assert "duplicates skipped: 10" in out


def test_command_fails_on_a_bad_file(community_a, capsys):
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_events", "--community", community_a.slug, "--format", "csv", str(BAD))
    captured = capsys.readouterr()
    assert "rows rejected: 3" in captured.out
    assert "row 3:" in captured.err
    assert ActivityEvent.objects.count() == 0


def test_command_refuses_an_unknown_community():
    with pytest.raises(CommandError, match="No community"):
        call_command("import_events", "--community", "nope", "--format", "csv", str(GOOD))


def _upload(client, community, path=GOOD, fmt="csv", **extra):
    return client.post(
        reverse("activities:imports"),
        {
            "community": community.slug,
            "format": fmt,
            "file": SimpleUploadedFile(path.name, path.read_bytes()),
            **extra,
        },
    )


def test_upload_queues_a_run_that_the_worker_completes(
    client_for, operator_a, community_a, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(operator_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _upload(client, community_a)
    assert len(callbacks) == 1  # the task is sent after commit, not inside the request
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("activities:import", kwargs={"import_id": run.pk})
    assert run.status == ImportStatus.QUEUED
    stored = Path(run.file.path)
    assert stored.exists()

    page = client.get(response["Location"])
    assert b'hx-trigger="every 1s"' in page.content

    import_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportStatus.SUCCEEDED
    assert (run.events_created, run.members_created) == (10, 5)
    assert not stored.exists()  # the export is deleted once read
    # A redelivered task does not import twice.
    import_execute(run_id=run.pk)
    assert ActivityEvent.objects.count() == 10

    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    assert b"every 1s" not in partial.content
    assert b"<html" not in partial.content
    assert b"100 %" in partial.content
    history = client.get(reverse("activities:imports"))
    assert "events_generic.csv" in history.content.decode()


def test_failed_run_lists_problems_in_the_uploaders_language(
    client_for, operator_a, community_a, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    client = client_for(operator_a)
    with django_capture_on_commit_callbacks(execute=False):
        _upload(client, community_a, BAD, HTTP_ACCEPT_LANGUAGE="zh-hans")
    run = ImportRun.objects.get()
    run.language = "zh-hans"
    run.save()
    import_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert run.rows_rejected == 3
    assert run.problems[0]["where"] == "第 3 行"
    page = client.get(reverse("activities:import", kwargs={"import_id": run.pk})).content.decode()
    assert "第 3 行" in page
    assert ActivityEvent.objects.count() == 0


def test_upload_over_the_limit_is_refused(client_for, operator_a, community_a, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = _upload(client_for(operator_a), community_a)
    assert response.status_code == 200
    assert "the limit is 100" in response.content.decode()
    assert not ImportRun.objects.exists()


def test_cannot_import_into_another_organisations_community(client_for, operator_a, community_b):
    response = _upload(client_for(operator_a), community_b)
    assert response.status_code == 200  # the form says the choice is not valid
    assert not ImportRun.objects.exists()


def test_another_organisations_import_is_a_404(client_for, operator_a, community_b):
    run = ImportRun.objects.create(
        organization=community_b.organization,
        community=community_b,
        format="csv",
        original_name="x.csv",
    )
    response = client_for(operator_a).get(
        reverse("activities:import", kwargs={"import_id": run.pk})
    )
    assert response.status_code == 404


def test_staff_record_an_activity_by_hand(client_for, operator_a, community_a):
    from members.services import member_create, membership_create

    member = member_create(organization=community_a.organization, display_name="线下的人")
    membership = membership_create(community=community_a, member=member)
    client = client_for(operator_a)
    profile = client.get(reverse("members:profile", kwargs={"member_id": member.pk}))
    assert b'data-testid="activity-entry"' in profile.content
    assert b"csrfmiddlewaretoken" in profile.content
    response = client.post(
        reverse("activities:record", kwargs={"membership_id": membership.pk}),
        {f"a{membership.pk}-kind": "attend", f"a{membership.pk}-occurred_at": "2026-11-20T19:30"},
    )
    assert response.status_code == 302
    stored = ActivityEvent.objects.get()
    assert (stored.member, stored.kind, stored.source) == (member, "attend", "manual")
    # Typed in the community's zone (Asia/Shanghai): 19:30 there is 11:30 UTC.
    assert stored.occurred_at == datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
    assert not member.handles.exists()  # no made-up platform id
    membership.refresh_from_db()
    assert membership.last_active_at == stored.occurred_at


def test_manual_entry_refuses_the_future_and_membership_kinds(client_for, operator_a, community_a):
    from members.services import member_create, membership_create

    member = member_create(organization=community_a.organization, display_name="X")
    membership = membership_create(community=community_a, member=member)
    client = client_for(operator_a)
    url = reverse("activities:record", kwargs={"membership_id": membership.pk})
    client.post(
        url,
        {f"a{membership.pk}-kind": "attend", f"a{membership.pk}-occurred_at": "2099-01-01T10:00"},
    )
    client.post(
        url,
        {f"a{membership.pk}-kind": "leave", f"a{membership.pk}-occurred_at": "2026-01-01T10:00"},
    )
    assert not ActivityEvent.objects.exists()


def test_owner_turns_message_text_off(client_for, owner_a, operator_a, community_a):
    from members.services import member_create, membership_create

    client = client_for(operator_a)
    assert client.post(reverse("organization-privacy"), {}).status_code == 403
    client = client_for(owner_a)
    assert b'data-testid="privacy-form"' in client.get(reverse("settings")).content
    client.post(reverse("organization-privacy"), {})  # the unticked box is absent
    owner_a.organization.refresh_from_db()
    assert owner_a.organization.keep_message_text is False
    membership = membership_create(
        community=community_a,
        member=member_create(organization=community_a.organization, display_name="Y"),
    )
    client.post(
        reverse("activities:record", kwargs={"membership_id": membership.pk}),
        {
            f"a{membership.pk}-kind": "check_in",
            f"a{membership.pk}-occurred_at": "2026-11-20T08:00",
            f"a{membership.pk}-note": "private words",
        },
    )
    assert ActivityEvent.objects.get().text == ""


def test_the_form_names_the_export_tools_of_the_communitys_platform(client_for, operator_a, org_a):
    from tests.factories import CommunityFactory

    CommunityFactory(organization=org_a, slug="wx", platform="wechat")
    CommunityFactory(organization=org_a, slug="tg", platform="telegram")
    client = client_for(operator_a)
    wechat = client.get(reverse("activities:imports"), {"community": "wx"})
    form = wechat.context["form"]
    assert form["format"].value() == "auto"  # it reads every WeChat tool's export
    help_text = str(form.fields["format"].help_text)
    assert "PyWxDump" in help_text and "EchoTrace" in help_text and "Telegram" not in help_text
    telegram = client.get(reverse("activities:imports"), {"community": "tg"})
    assert "Telegram Desktop" in str(telegram.context["form"].fields["format"].help_text)
    # No community chosen: every platform's tools.
    plain = client.get(reverse("activities:imports")).context["form"]
    assert "PyWxDump" in str(plain.fields["format"].help_text)
    assert "DiscordChatExporter" in str(plain.fields["format"].help_text)
