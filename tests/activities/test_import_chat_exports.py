"""WhatsApp's "Export chat" zip and Telegram's numeric ids, through the import service
and the worker (issue 13, "Other formats, as they are found in the wild"). Counts were
read off the fixtures by hand; tests/fixtures/imports/SOURCES.md says where each layout
comes from."""

import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activities.models import ActivityEvent, ImportStatus
from activities.services import import_create, import_execute, import_file
from members.models import Member, Membership, MembershipStatus

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


def kinds(community) -> dict[str, int]:
    found: dict[str, int] = {}
    for kind in ActivityEvent.objects.filter(community=community).values_list("kind", flat=True):
        found[kind] = found.get(kind, 0) + 1
    return found


def names(community) -> set[str]:
    return set(
        Member.objects.filter(memberships__community=community).values_list(
            "display_name", flat=True
        )
    )


@pytest.mark.parametrize(
    ("fixture", "events", "members", "skipped", "people"),
    [
        (
            "whatsapp_ios.zip",
            {"message": 4, "join": 3, "leave": 1, "removed": 1},
            5,
            {"system": 3, "you": 1},
            {"Ash", "Misty", "Brock", "Gary", "Sam"},
        ),
        (
            "whatsapp_android.zip",
            {"message": 5, "join": 2, "leave": 1},
            4,
            {"system": 2, "you": 1},
            {"Alice", "Bob", "Sam Lee", "Carol"},
        ),
    ],
)
def test_whatsapp_zip_imports_exactly_and_once(
    community_a, fixture, events, members, skipped, people
):
    outcome = import_file(community=community_a, format="whatsapp", path=FIXTURES / fixture)
    assert outcome.ok, outcome.problems
    assert outcome.result.events_created == sum(events.values())
    assert outcome.result.members_created == members
    assert outcome.skipped == skipped
    assert kinds(community_a) == events
    assert names(community_a) == people  # never the group's name ("Pokemon Chat")

    again = import_file(community=community_a, format="whatsapp", path=FIXTURES / fixture)
    assert again.ok
    assert again.result.events_created == again.result.members_created == 0
    assert again.result.duplicates_skipped == sum(events.values())
    assert ActivityEvent.objects.filter(community=community_a).count() == sum(events.values())


def test_the_exporting_users_name_adds_their_join_and_no_new_member(community_a):
    path = FIXTURES / "whatsapp_ios.zip"
    first = import_file(community=community_a, format="whatsapp", path=path)
    assert first.skipped == {"system": 3, "you": 1}
    named = import_file(community=community_a, format="whatsapp", path=path, source_name="Sam")
    assert named.ok
    # "Ash added you" is Sam's join now; Sam already signed messages: the same member.
    assert (named.result.events_created, named.result.members_created) == (1, 0)
    assert named.result.duplicates_skipped == 9
    assert named.skipped == {"system": 3}
    sam = Member.objects.get(memberships__community=community_a, display_name="Sam")
    assert ActivityEvent.objects.filter(member=sam).count() == 2
    again = import_file(community=community_a, format="whatsapp", path=path, source_name="Sam")
    assert (again.result.events_created, again.result.members_created) == (0, 0)


def test_a_zip_upload_goes_through_the_worker(community_a, operator_a):
    upload = SimpleUploadedFile(
        "WhatsApp Chat - Builders.zip",
        (FIXTURES / "whatsapp_android.zip").read_bytes(),
        content_type="application/zip",
    )
    run = import_create(
        community=community_a,
        format="whatsapp",
        upload=upload,
        source_name="Sam Lee",
        by=operator_a.user,
        language="en",
        enqueue=False,
    )
    run = import_execute(run_id=run.pk)
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert (run.events_created, run.members_created, run.skipped) == (9, 4, {"system": 2})
    assert kinds(community_a) == {"message": 5, "join": 3, "leave": 1}
    bob = Membership.objects.get(community=community_a, member__display_name="Bob")
    assert bob.status == MembershipStatus.LEFT


def test_telegram_numeric_ids_are_one_member_with_user_ids(community_a):
    path = FIXTURES / "telegram_numeric_ids.json"
    outcome = import_file(community=community_a, format="telegram", path=path)
    assert outcome.ok, outcome.problems
    assert outcome.skipped == {"system": 1}
    assert outcome.result.events_created == 9
    assert kinds(community_a) == {"message": 4, "reply": 1, "join": 3, "leave": 1}
    # user1001 written as 1001 and as "user1001": one Alice; "1003" is user1003.
    alice = Member.objects.get(handles__external_id="user1001")
    assert ActivityEvent.objects.filter(member=alice).count() == 2
    assert not Member.objects.filter(handles__external_id="1001").exists()
    assert outcome.result.members_created == 6
    assert names(community_a) == {"Alice", "Bob", "Erin", "Carol", "Rust 北京", "Dave"}
    keys = set(Member.objects.values_list("handles__external_id", flat=True))
    assert keys == {"user1001", "user1002", "Erin", "user1003", "channel1234567890", "user1004"}
    bob = Membership.objects.get(community=community_a, member__handles__external_id="user1002")
    assert bob.status == MembershipStatus.LEFT

    again = import_file(community=community_a, format="telegram", path=path)
    assert (again.result.events_created, again.result.members_created) == (0, 0)
    assert again.result.duplicates_skipped == 9


def test_a_newer_export_of_the_same_chat_adds_no_members(community_a, tmp_path):
    """The chat exported again by a current Telegram Desktop: "user…" ids, one message
    more. Its messages already imported are duplicates; nobody becomes a second member."""
    old = FIXTURES / "telegram_numeric_ids.json"
    import_file(community=community_a, format="telegram", path=old)
    members = Member.objects.count()

    data = json.loads(old.read_text(encoding="utf-8"))
    for message in data["messages"]:
        for key in ("from_id", "actor_id"):
            value = message.get(key)
            if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                message[key] = f"user{value}"
    data["messages"].append(
        {
            "id": 11,
            "type": "message",
            "date": "2020-06-04T08:00:00",
            "date_unixtime": "1591228800",
            "from": "Bob",
            "from_id": "user1002",
            "text": "back again",
            "text_entities": [{"type": "plain", "text": "back again"}],
        }
    )
    newer = tmp_path / "result.json"
    newer.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    outcome = import_file(community=community_a, format="telegram", path=newer)
    assert outcome.ok, outcome.problems
    assert (outcome.result.events_created, outcome.result.duplicates_skipped) == (1, 9)
    assert outcome.result.members_created == 0
    assert Member.objects.count() == members
