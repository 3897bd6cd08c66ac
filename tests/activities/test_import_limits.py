"""Bad input through the real entry points: the upload page, the command, the worker.

What the parsers refuse is pinned in ``test_import_guard.py``; here: an upload over the
limit is refused without being received, a file with nothing to import fails (the command
exits non-zero) and the reasons are plain words in the user's language.
"""

import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart
from django.urls import reverse

from activities.models import ActivityEvent, ImportRun, ImportStatus
from activities.services import import_create, import_execute

pytestmark = pytest.mark.django_db

CSV_HEADER = "occurred_at,kind,member_id,member_name,external_id,text\n"
CSV_ROW = "2026-11-20T21:03:00+08:00,message,u1,Ann,m1,hi\n"


class CountingPayload(FakePayload):
    """The request body, counting what the server reads of it."""

    def __init__(self, content):
        super().__init__(content)
        self.bytes_read = 0

    def read(self, size=-1, /):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1, /):
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def post_upload(client, community, content: bytes, name="export.csv"):
    body = encode_multipart(
        BOUNDARY,
        {
            "community": community.slug,
            "format": "csv",
            "file": SimpleUploadedFile(name, content),
            "source_name": "",
        },
    )
    payload = CountingPayload(body)
    response = client.generic(
        "POST",
        reverse("activities:imports"),
        body,
        content_type=MULTIPART_CONTENT,
        **{"wsgi.input": payload},
    )
    return response, payload, len(body)


# --- Uploads ----------------------------------------------------------------------------


def test_an_upload_declared_over_the_limit_is_refused_before_it_is_read(
    client_for, operator_a, community_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    response, payload, size = post_upload(client_for(operator_a), community_a, b"x" * 2_000_000)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The file is too large; the limit is 1000\xa0bytes." in page
    # The fields before the file are read (the form comes back filled in), the file is not.
    assert f'<option value="{community_a.slug}" selected>' in page
    assert payload.bytes_read < 200_000 < size
    assert not ImportRun.objects.exists()
    assert not any(tmp_path.iterdir())


def test_an_upload_that_passes_the_limit_while_read_is_refused(
    client_for, operator_a, community_a, settings, tmp_path
):
    # Declared within the allowance for the other fields: caught while the file is read.
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_UPLOAD_BYTES = 50_000
    response, _payload, _size = post_upload(client_for(operator_a), community_a, b"x" * 60_000)
    assert response.status_code == 200
    assert "The file is too large; the limit is 48.8\xa0KB." in response.content.decode()
    assert not ImportRun.objects.exists()
    assert not any(tmp_path.iterdir())


def test_an_upload_within_the_limit_is_taken(
    client_for, operator_a, community_a, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    content = (CSV_HEADER + CSV_ROW).encode()
    with django_capture_on_commit_callbacks(execute=False):
        response, _payload, _size = post_upload(client_for(operator_a), community_a, content)
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert run.size == len(content)


def test_the_import_form_still_needs_its_csrf_token(operator_a, community_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_a.user)
    response, _payload, _size = post_upload(client, community_a, (CSV_HEADER + CSV_ROW).encode())
    assert response.status_code == 403
    assert not ImportRun.objects.exists()


# --- Nothing to import ------------------------------------------------------------------


def slack_zip_of_bots(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("channels.json", json.dumps([{"id": "C1", "name": "general"}]))
        bot = {"type": "message", "subtype": "bot_message", "text": "hi", "ts": "1700000000.1"}
        archive.writestr("general/2023-11-14.json", json.dumps([bot]))
        archive.writestr("random/2023-11-14.json", json.dumps([{"user": "U1", "ts": "1.1"}]))
    return path


@pytest.mark.parametrize("case", ["csv header only", "slack channel of bots"])
def test_the_command_fails_when_nothing_was_imported(community_a, capsys, tmp_path, case):
    if case == "csv header only":
        path, format = tmp_path / "empty.csv", "csv"
        path.write_text(CSV_HEADER)
    else:
        path, format = slack_zip_of_bots(tmp_path / "export.zip"), "slack"
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command(
            "import_events", "--community", community_a.slug, "--format", format, str(path)
        )
    assert "The file holds nothing to import" in capsys.readouterr().err


def test_the_command_names_an_unknown_community_without_a_repr():
    with pytest.raises(CommandError) as refused:
        call_command("import_events", "--community", "nope", "--format", "csv", "x.csv")
    assert str(refused.value) == "No community with the slug “nope”."


def test_the_command_still_succeeds_when_everything_was_there_already(community_a, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text(CSV_HEADER + CSV_ROW)
    for _ in range(2):
        call_command("import_events", "--community", community_a.slug, "--format", "csv", str(path))
    assert ActivityEvent.objects.count() == 1


def _run_as(community, staff, path, format, language="en"):
    with open(path, "rb") as raw:
        run = import_create(
            community=community,
            format=format,
            upload=SimpleUploadedFile(path.name, raw.read()),
            by=staff.user,
            language=language,
            enqueue=False,
        )
    import_execute(run_id=run.pk)
    run.refresh_from_db()
    return run


def test_an_upload_with_nothing_to_import_fails_saying_so(
    community_a, operator_a, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "empty.csv"
    path.write_text(CSV_HEADER)
    run = _run_as(community_a, operator_a, path, "csv")
    assert run.status == ImportStatus.FAILED
    assert run.problems[0]["message"].startswith("The file holds nothing to import")


# --- Plain words, in the user's language ------------------------------------------------


def test_the_command_names_what_is_wrong_with_the_json_and_where(community_a, capsys, tmp_path):
    path = tmp_path / "result.json"
    path.write_bytes(b'{"id": 1, "messages": ["\xff"]}')
    with pytest.raises(CommandError):
        call_command(
            "import_events", "--community", community_a.slug, "--format", "telegram", str(path)
        )
    assert capsys.readouterr().err.strip() == "The text is not UTF-8 (line 1, column 26)."


def test_json_problems_come_in_the_uploaders_language(community_a, operator_a, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    path = tmp_path / "result.json"
    path.write_bytes(b'{"id": 1, "messages": [1,, 2]}')
    run = _run_as(community_a, operator_a, path, "telegram", language="zh-hans")
    assert run.status == ImportStatus.FAILED
    message = run.problems[0]["message"]
    assert "JSON" in message and "第 1 行" in message
    assert "valid" not in message and "error" not in message
