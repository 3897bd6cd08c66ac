"""Members' privacy requests: the export bundle and the erasure (members.privacy).

"Unchanged" (the definition erasure is held to, in members.privacy's docstring): every
dashboard figure, for every day before the erasure, is exactly the same afterwards;
nothing is "otherwise by definition". And no text column of any model holds the
member's name or any of their platform ids afterwards.
"""

import csv
import io
import json
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast
from django.urls import reverse

from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityEvent, EventSource
from analytics import selectors as analytics_selectors
from analytics import serializers
from analytics.rollups import rollups_refresh_all
from communities import panels
from communities.models import Rule, RuleKind, StaffAction, StaffLogEntry
from members import privacy, services
from members.models import (
    Application,
    DepositKind,
    Member,
    Membership,
    PointsEntry,
    QuestionKind,
    TagKind,
)
from tests.factories import CommunityFactory, MemberFactory, MembershipFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NAME = "<script>张三</script> O'Brien"
HANDLE = "wxid_zhangsan_7731"
OTHER_HANDLE = "zs-telegram-55120"
OTHER_NAME = "李四 Lisi"
OTHER_HANDLE_B = "wxid_lisi_0042"


def _events(community, key, name, texts, days_ago_start):
    now = datetime.now(SHANGHAI).replace(hour=12, minute=0, second=0, microsecond=0)
    events = []
    for index, text in enumerate(texts):
        when = now - timedelta(days=days_ago_start - index)
        events.append(IncomingEvent(f"{key}-m{index}", "message", when, key, name, text))
    events.append(
        IncomingEvent(f"{key}-m0:reaction:👍:{key}", "reaction", now - timedelta(days=3), key, name)
    )
    ingest_events(community=community, source=EventSource.WEBHOOK, events=events)


@pytest.fixture
def world(org_a, owner_a, community_a):
    """Two members with everything a member can have; the first is the one who asks."""
    rule = Rule.objects.create(
        community=community_a, kind=RuleKind.ENCOURAGED, title="打卡", points=5
    )
    forbidden = Rule.objects.create(
        community=community_a, kind=RuleKind.FORBIDDEN, title="广告", points=0
    )
    question = community_a.questions.create(
        kind=QuestionKind.TEXT, prompt="你是谁？", tag_kind=TagKind.OTHER
    )
    people = {}
    for name, handle, texts in [
        (NAME, HANDLE, [f"大家好，我是{NAME}", "今天打卡", "第三条"]),
        (OTHER_NAME, OTHER_HANDLE_B, ["李四的消息", "李四第二条"]),
    ]:
        application = services.application_submit(
            community=community_a,
            display_name=name,
            platform=community_a.platform,
            external_id=handle,
            answers={str(question.pk): f"{name} 本人"},
        )
        membership = services.application_approve(application=application, by=owner_a.user)
        member = membership.member
        _events(community_a, handle, name, texts, days_ago_start=20)
        membership.refresh_from_db()
        services.member_update(member=member, display_name=name, notes=f"{name} 的备注")
        services.points_for_rule(membership=membership, rule=rule, by=owner_a.user)
        services.points_add(membership=membership, delta=7, reason=f"帮助了 {name}")
        services.deposit_record(
            membership=membership, kind=DepositKind.HELD, amount=Decimal("50"), note=name
        )
        services.violation_record(
            membership=membership, rule=forbidden, evidence=f"{name} 发广告", by=owner_a.user
        )
        people[name] = member
    asker = people[NAME]
    services.handle_add(member=asker, platform="telegram", external_id=OTHER_HANDLE)
    # A second community, and a pending application under the asker's other handle.
    other_community = CommunityFactory(organization=org_a, name="跑步群", slug="run")
    MembershipFactory(community=other_community, member=asker)
    services.application_submit(
        community=other_community,
        display_name=f"{NAME} again",
        platform="telegram",
        external_id=OTHER_HANDLE,
        answers={},
    )
    rollups_refresh_all()
    return {"asker": asker, "other": people[OTHER_NAME], "community": community_a}


def bundle_of(response) -> dict[str, str]:
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as bundle:
        return {name: bundle.read(name).decode("utf-8-sig") for name in bundle.namelist()}


# --- Export ----------------------------------------------------------------------------------


def test_export_bundle_holds_the_members_data_and_nothing_of_another(client_for, manager_a, world):
    asker = world["asker"]
    response = client_for(manager_a).post(
        reverse("members:data_export", args=[asker.pk]),
        {"requested_by": "the member, by e-mail on 3 March"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    files = bundle_of(response)
    assert set(files) >= {
        "member.json",
        "profile.csv",
        "platform_handles.csv",
        "tags.csv",
        "memberships.csv",
        "tier_changes.csv",
        "points_entries.csv",
        "deposit_entries.csv",
        "violations.csv",
        "applications.csv",
        "activity_events.csv",
    }
    data = json.loads(files["member.json"])
    assert data["member_id"] == asker.pk
    assert data["profile"][0]["display_name"] == NAME
    assert data["profile"][0]["notes"] == f"{NAME} 的备注"
    assert {h["external_id"] for h in data["platform_handles"]} == {HANDLE, OTHER_HANDLE}
    assert {m["community"] for m in data["memberships"]} == {"读书会", "跑步群"}
    assert data["memberships"][0]["tier"]
    assert {e["reason"] for e in data["points_entries"]} >= {f"帮助了 {NAME}"}
    assert data["deposit_entries"][0]["amount"] == "50.00"
    assert data["violations"][0]["evidence"] == f"{NAME} 发广告"
    assert len(data["applications"]) == 2  # the approved one and the pending one
    assert [e["text"] for e in data["activity_events"] if e["kind"] == "message"] == [
        f"大家好，我是{NAME}",
        "今天打卡",
        "第三条",
    ]
    assert {t["name"] for t in data["tags"]} == {f"{NAME} 本人"}
    rows = list(csv.DictReader(io.StringIO(files["activity_events.csv"])))
    assert len(rows) == len(data["activity_events"]) == 4
    # The formula guard applies to CSV cells as to every CSV download.
    assert list(csv.reader(io.StringIO(files["profile.csv"])))[1][1] == NAME
    everything = "\n".join(files.values())
    for trace in (OTHER_NAME, OTHER_HANDLE_B, "李四的消息", "李四第二条"):
        assert trace not in everything
    entry = StaffLogEntry.objects.get(action=StaffAction.MEMBER_EXPORTED)
    assert entry.actor == manager_a.user
    assert entry.detail == f"#{asker.pk} · the member, by e-mail on 3 March"


def test_export_reads_events_in_chunks(monkeypatch, world):
    from activities import privacy as events_privacy

    monkeypatch.setattr(events_privacy, "CHUNK_SIZE", 1)
    monkeypatch.setattr(privacy, "CHUNK_SIZE", 1)
    target = io.BytesIO()
    privacy.bundle_write(world["asker"], target)
    with zipfile.ZipFile(target) as bundle:
        data = json.loads(bundle.read("member.json"))
    assert len(data["activity_events"]) == 4


def test_export_needs_who_asked_and_the_export_capability(client_for, operator_a, owner_a, world):
    url = reverse("members:data_export", args=[world["asker"].pk])
    assert client_for(operator_a).get(url).status_code == 403
    response = client_for(owner_a).post(url, {"requested_by": ""})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert not StaffLogEntry.objects.filter(action=StaffAction.MEMBER_EXPORTED).exists()


def test_another_organisations_member_is_a_404(client_for, owner_a, org_b):
    stranger = MemberFactory(organization=org_b, display_name="外人")
    client = client_for(owner_a)
    for name in ("members:data_export", "members:erase"):
        assert client.get(reverse(name, args=[stranger.pk])).status_code == 404
        assert client.post(reverse(name, args=[stranger.pk]), {}).status_code == 404


# --- Erasure ---------------------------------------------------------------------------------


def figures(staff, community) -> str:
    today = community.local_today()
    start = today - timedelta(days=60)
    yesterday = today - timedelta(days=1)
    data = {
        "daily": serializers.community_metrics(
            community=community, start=start, end=yesterday, interval="day"
        ),
        "weekly": serializers.community_metrics(
            community=community, start=start, end=yesterday, interval="week"
        ),
        "portfolio": serializers.portfolio_data(analytics_selectors.portfolio(staff=staff)),
        "list": serializers.community_list_data([community]),
        "overview": [vars(row) for row in analytics_selectors.community_overview(staff=staff).rows],
    }
    return json.dumps(data, default=str, sort_keys=True)


def text_columns():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                yield model, field


def traces(secrets) -> list[str]:
    found = []
    for model, field in text_columns():
        queryset = model._default_manager.annotate(_as_text=Cast(field.name, models.TextField()))
        for secret in secrets:
            # JSON may be stored with non-ASCII escaped (SQLite): look for both spellings.
            for spelling in {secret, json.dumps(secret)[1:-1]}:
                if queryset.filter(_as_text__contains=spelling).exists():
                    found.append(f"{model._meta.label}.{field.name} holds {secret!r}")
    return found


def test_erasure_keeps_every_figure_and_leaves_no_trace(client_for, owner_a, world):
    asker, other, community = world["asker"], world["other"], world["community"]
    client = client_for(owner_a)
    client.post(
        reverse("members:data_export", args=[asker.pk]),
        {"requested_by": f"{NAME} by e-mail ({HANDLE})"},
    )
    secrets = [NAME, HANDLE, OTHER_HANDLE, "张三"]
    assert traces(secrets)  # the search finds them before
    before = figures(owner_a, community)
    events_before = ActivityEvent.objects.filter(member=asker).count()
    balances = dict(Membership.objects.values_list("pk", "points_balance"))

    url = reverse("members:erase", args=[asker.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "&lt;script&gt;张三" in page.content.decode()
    response = client.post(
        url, {"reason": f"{NAME} asked in the group on 3 March (PIPL)", "confirm": "on"}
    )
    assert response.status_code == 302

    rollups_refresh_all()  # as the worker would: the figures come out the same
    assert figures(owner_a, community) == before
    assert traces(secrets) == []
    asker.refresh_from_db()
    # The placeholder is in the organisation's language (Chinese by default).
    assert asker.display_name == privacy.erased_name(asker) == f"已抹除的成员 #{asker.pk}"
    assert asker.erased_at is not None
    assert ActivityEvent.objects.filter(member=asker).count() == events_before
    assert not ActivityEvent.objects.filter(member=asker).exclude(text="").exists()
    assert dict(Membership.objects.values_list("pk", "points_balance")) == balances
    assert PointsEntry.objects.filter(membership__member=asker).count() == 2
    # The other member keeps everything.
    other.refresh_from_db()
    assert other.display_name == OTHER_NAME
    assert other.handles.get().external_id == OTHER_HANDLE_B
    assert ActivityEvent.objects.filter(member=other, text="李四的消息").exists()
    assert Application.objects.filter(display_name=OTHER_NAME).exists()
    entry = StaffLogEntry.objects.get(action=StaffAction.MEMBER_ERASED)
    assert entry.actor == owner_a.user
    assert entry.detail == (
        f"#{asker.pk} · 已抹除的成员 #{asker.pk} asked in the group on 3 March (PIPL)"
    )
    profile = client.get(reverse("members:profile", args=[asker.pk]))
    assert f"已抹除的成员 #{asker.pk}" in profile.content.decode()
    # Once is enough: a second erasure is refused on the form.
    again = client.post(url, {"reason": "again", "confirm": "on"})
    assert again.status_code == 200
    assert "already been erased" in again.content.decode()


def test_erasure_is_owners_only_and_needs_confirmation(
    client_for, manager_a, operator_a, owner_a, world
):
    url = reverse("members:erase", args=[world["asker"].pk])
    for staff in (manager_a, operator_a):
        assert client_for(staff).post(url, {"reason": "x", "confirm": "on"}).status_code == 403
    response = client_for(owner_a).post(url, {"reason": "asked"})
    assert response.status_code == 200
    world["asker"].refresh_from_db()
    assert world["asker"].display_name == NAME


def test_erasure_is_all_or_nothing(monkeypatch, owner_a, world):
    def fail(member):
        raise RuntimeError("a later step failed")

    monkeypatch.setitem(
        panels._MEMBER_DATA,
        "tests.fail",
        panels.MemberData(key="tests.fail", erase=fail, order=999),
    )
    with pytest.raises(RuntimeError):
        privacy.member_erase(member=world["asker"], actor=owner_a.user, reason="asked")
    asker = Member.objects.get(pk=world["asker"].pk)
    assert asker.display_name == NAME
    assert asker.handles.count() == 2
    assert ActivityEvent.objects.filter(member=asker, text="今天打卡").exists()
    assert not StaffLogEntry.objects.filter(action=StaffAction.MEMBER_ERASED).exists()
