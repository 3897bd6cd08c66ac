"""Check-in challenges (打卡): creation, check-ins (staff, chat keyword through the real import
and webhook paths), the deadline in the community's zone, the grid's reads, settlement."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from activities.calendar import challenges
from activities.calendar.models import (
    CalendarEntry,
    Challenge,
    ChallengeParticipant,
    CheckIn,
    CheckInSource,
    EntryKind,
    Outcome,
)
from activities.importers.base import IncomingEvent
from activities.ingest import ingest_events
from activities.models import ActivityEvent, ActivityKind, EventSource
from activities.services import import_file
from communities.models import Rule, RuleKind
from members.models import DepositEntry, Member, PointsEntry
from members.selectors import deposit_held
from members.services import member_create
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


# --- Helpers -----------------------------------------------------------------------------


def make(community, **overrides):
    data = {
        "title": "21 天早起打卡",
        "start_date": date(2026, 11, 2),
        "days": 5,
        "deadline": time(22, 0),
        "max_missed_days": 1,
        "deposit": "",
        "keyword": "#打卡",
    }
    data.update(overrides)
    return challenges.challenge_create(community=community, data=data)


def member_in(community, name, handle=None):
    handles = [(community.platform, handle)] if handle else []
    member = member_create(organization=community.organization, display_name=name, handles=handles)
    return MembershipFactory(community=community, member=member)


def join_directly(challenge, membership):
    """A participant of a challenge dated in the past (participant_add refuses ended ones)."""
    return ChallengeParticipant.objects.create(challenge=challenge, membership=membership)


def days_of(participant):
    return sorted(CheckIn.objects.filter(participant=participant).values_list("day", flat=True))


def message(member_key, when, text, kind=ActivityKind.MESSAGE, external_id=None):
    return IncomingEvent(
        external_id=external_id or f"{member_key}-{when.isoformat()}",
        kind=kind,
        occurred_at=when,
        member_key=member_key,
        member_name=member_key,
        text=text,
    )


def running(community, days=3, **overrides):
    """A challenge whose first day was two local days ago (so today is its third day)."""
    today = timezone.now().astimezone(ZoneInfo(community.time_zone)).date()
    return make(
        community,
        start_date=today - timedelta(days=2),
        days=days,
        deadline=time(23, 59),
        **overrides,
    )


# --- Creating ----------------------------------------------------------------------------


def test_create_puts_a_daily_entry_on_the_calendar(community_a):
    challenge = make(community_a)
    entry = challenge.entry
    assert entry.kind == EntryKind.CHALLENGE
    assert list(entry.communities.all()) == [community_a]
    assert entry.rrule == "FREQ=DAILY;COUNT=5"
    assert entry.start_time == time(22, 0)
    assert entry.start_date == date(2026, 11, 2)
    assert entry.time_zone == community_a.time_zone
    assert challenges.last_day(challenge) == date(2026, 11, 6)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 367}, "days"),
        ({"deposit": "-5"}, "deposit"),
        ({"deposit": "0"}, "deposit"),
        ({"deposit": "abc"}, "deposit"),
        ({"deposit": "1.001"}, "deposit"),
        ({"max_missed_days": 5}, "max_missed_days"),
        ({"keyword": "打" * 61}, "keyword"),
        ({"deadline": None}, "deadline"),
        ({"title": "  "}, "title"),
        ({"start_date": date(1999, 12, 31)}, "start_date"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(community_a, overrides, field):
    with pytest.raises(ValidationError) as raised:
        make(community_a, **overrides)
    assert field in raised.value.message_dict
    assert not Challenge.objects.exists()
    assert not CalendarEntry.objects.exists()


def test_errors_are_translated(community_a):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ValidationError) as raised:
        make(community_a, days=0)
    assert "天" in raised.value.message_dict["days"][0]


def test_reward_rule_of_another_community_is_refused(community_a):
    other = CommunityFactory(organization=community_a.organization)
    rule = Rule.objects.create(community=other, kind=RuleKind.ENCOURAGED, title="打卡", points=5)
    with pytest.raises(ValidationError) as raised:
        make(community_a, reward_rule=rule)
    assert "reward_rule" in raised.value.message_dict


# --- Participants ------------------------------------------------------------------------


def test_joining_holds_the_deposit_once(community_a):
    challenge = running(community_a, deposit="50")
    membership = member_in(community_a, "张三")
    first = challenges.participant_add(challenge=challenge, membership=membership)
    again = challenges.participant_add(challenge=challenge, membership=membership)
    assert first.pk == again.pk
    assert deposit_held(membership=membership) == Decimal("50")
    assert first.deposit_held.kind == "held"


def test_a_member_of_another_community_cannot_join(community_a):
    challenge = running(community_a)
    other = CommunityFactory(organization=community_a.organization)
    with pytest.raises(ValidationError):
        challenges.participant_add(challenge=challenge, membership=member_in(other, "外人"))
    assert not ChallengeParticipant.objects.exists()


def test_nobody_joins_an_ended_challenge(community_a):
    challenge = make(community_a, start_date=date(2026, 1, 1), days=3)
    with pytest.raises(ValidationError):
        challenges.participant_add(challenge=challenge, membership=member_in(community_a, "晚"))


def test_removing_before_the_start_gives_the_deposit_back(community_a):
    today = timezone.now().astimezone(ZoneInfo(community_a.time_zone)).date()
    challenge = make(community_a, start_date=today + timedelta(days=3), deposit="20")
    membership = member_in(community_a, "张三")
    participant = challenges.participant_add(challenge=challenge, membership=membership)
    challenges.participant_remove(participant=participant)
    assert not ChallengeParticipant.objects.exists()
    assert deposit_held(membership=membership) == 0


def test_removing_after_the_start_is_refused(community_a):
    challenge = running(community_a)
    participant = challenges.participant_add(
        challenge=challenge, membership=member_in(community_a, "张三")
    )
    with pytest.raises(ValidationError):
        challenges.participant_remove(participant=participant)
    assert ChallengeParticipant.objects.count() == 1


# --- Staff check-ins ---------------------------------------------------------------------


def test_staff_check_in_is_idempotent_and_enters_the_log_once(community_a):
    challenge = running(community_a)
    membership = member_in(community_a, "张三")
    participant = challenges.participant_add(challenge=challenge, membership=membership)
    day = challenge.start_date
    challenges.check_in(challenge=challenge, participant=participant, day=day)
    challenges.check_in(challenge=challenge, participant=participant, day=day)
    assert days_of(participant) == [day]
    event = ActivityEvent.objects.get(kind=ActivityKind.CHECK_IN)
    assert event.source == EventSource.MANUAL
    assert event.external_id == f"checkin:{challenge.pk}:{membership.member_id}:{day}"
    assert event.member_id == membership.member_id
    # A late tick counts for its own day in the log, and says it came from staff.
    local = event.occurred_at.astimezone(ZoneInfo(community_a.time_zone))
    assert local.date() == day
    assert CheckIn.objects.get().source == CheckInSource.STAFF


def test_check_in_by_membership(community_a):
    challenge = running(community_a)
    membership = member_in(community_a, "张三")
    with pytest.raises(ValidationError):
        challenges.check_in(challenge=challenge, membership=membership, day=challenge.start_date)
    participant = challenges.participant_add(challenge=challenge, membership=membership)
    challenges.check_in(challenge=challenge, membership=membership, day=challenge.start_date)
    assert days_of(participant) == [challenge.start_date]


def test_staff_can_take_a_check_in_back(community_a):
    challenge = running(community_a)
    participant = challenges.participant_add(
        challenge=challenge, membership=member_in(community_a, "张三")
    )
    day = challenge.start_date
    challenges.check_in(challenge=challenge, participant=participant, day=day)
    assert challenges.check_in_remove(challenge=challenge, participant=participant, day=day)
    assert not CheckIn.objects.exists()
    assert not ActivityEvent.objects.filter(kind=ActivityKind.CHECK_IN).exists()
    assert not challenges.check_in_remove(challenge=challenge, participant=participant, day=day)
    # Ticked again, it is back in the log.
    challenges.check_in(challenge=challenge, participant=participant, day=day)
    assert ActivityEvent.objects.filter(kind=ActivityKind.CHECK_IN).count() == 1


def test_check_ins_only_on_the_challenges_days(community_a):
    challenge = running(community_a, days=5)
    participant = challenges.participant_add(
        challenge=challenge, membership=member_in(community_a, "张三")
    )
    for day in (challenge.start_date - timedelta(days=1), challenges.last_day(challenge)):
        # The day before the first, and a day still to come.
        with pytest.raises(ValidationError):
            challenges.check_in(challenge=challenge, participant=participant, day=day)
    assert not CheckIn.objects.exists()


# --- Check-ins from chat -----------------------------------------------------------------


CSV_HEADER = "occurred_at,kind,member_id,member_name,external_id,text\n"


def test_keyword_check_ins_from_an_imported_export_fill_the_grid(community_a, tmp_path):
    # Asia/Shanghai; five days from 2026-11-02, deadline 22:00.
    challenge = make(community_a)
    zhang = join_directly(challenge, member_in(community_a, "张三", "u1"))
    li = join_directly(challenge, member_in(community_a, "李四", "u2"))
    member_in(community_a, "王五", "u3")  # not a participant
    rows = [
        "2026-11-02T07:00:00+08:00,message,u1,张三,m1,#打卡 Day 1 早起",
        "2026-11-02T08:00:00+08:00,message,u1,张三,m2,＃打卡 again the same day",
        "2026-11-03T21:59:00+08:00,reply,u1,张三,m3,打卡 day 2 #打卡",
        # After the deadline: counts for no day (not the next one either).
        "2026-11-04T22:30:00+08:00,message,u1,张三,m4,#打卡 late",
        "2026-11-05T09:00:00+08:00,post,u1,张三,m5,#打卡",
        # Reactions never check in; neither do words without the keyword.
        "2026-11-02T09:00:00+08:00,reaction,u2,李四,m6,#打卡",
        "2026-11-03T09:00:00+08:00,message,u2,李四,m7,打卡",
        "2026-11-04T09:00:00+08:00,message,u2,李四,m8,今天 #打卡！",
        # Outside the challenge's days.
        "2026-11-01T09:00:00+08:00,message,u2,李四,m9,#打卡",
        "2026-11-07T09:00:00+08:00,message,u2,李四,m10,#打卡",
        # Not taking part: nothing recorded.
        "2026-11-02T09:00:00+08:00,message,u3,王五,m11,#打卡",
    ]
    path = tmp_path / "export.csv"
    path.write_text(CSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")

    outcome = import_file(community=community_a, format="csv", path=path)
    assert outcome.ok, outcome.problems
    assert days_of(zhang) == [date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 5)]
    assert days_of(li) == [date(2026, 11, 4)]
    assert set(CheckIn.objects.values_list("source", flat=True)) == {CheckInSource.CHAT}
    # Each check-in is one check_in event, besides the messages themselves.
    assert ActivityEvent.objects.filter(kind=ActivityKind.CHECK_IN).count() == 4

    now = datetime(2026, 11, 10, tzinfo=UTC)
    grid = challenges.board(challenge, now=now)
    by_name = {row.member.display_name: row for row in grid.rows}
    assert [state for _d, state, _s in by_name["张三"].cells] == [
        "checked",
        "checked",
        "missed",
        "checked",
        "missed",
    ]
    assert by_name["李四"].missed == 4

    # Importing the same file again adds nothing.
    again = import_file(community=community_a, format="csv", path=path)
    assert again.ok
    assert CheckIn.objects.count() == 4
    assert ActivityEvent.objects.filter(kind=ActivityKind.CHECK_IN).count() == 4


def test_keyword_matches_even_when_message_text_is_not_kept(community_a):
    organization = community_a.organization
    organization.keep_message_text = False
    organization.save(update_fields=["keep_message_text"])
    challenge = make(community_a)
    zhang = join_directly(challenge, member_in(community_a, "张三", "u1"))
    ingest_events(
        community=community_a,
        source=EventSource.IMPORT,
        events=[message("u1", datetime(2026, 11, 2, 1, 0, tzinfo=UTC), "#打卡 day 1")],
    )
    assert days_of(zhang) == [date(2026, 11, 2)]
    assert ActivityEvent.objects.get(kind=ActivityKind.MESSAGE).text == ""


def test_webhook_messages_check_in(community_a, operator_a):
    from activities.services import webhook_ingest
    from communities.models import Platform
    from communities.services import connector_create

    connector = connector_create(
        community=community_a, name="机器人", platform=Platform.WECOM, by=operator_a.user
    ).connector
    challenge = make(community_a, keyword="打卡")
    membership = member_in(community_a, "张三")
    membership.member.handles.create(
        organization=community_a.organization, platform=Platform.WECOM, external_id="zs"
    )
    participant = join_directly(challenge, membership)
    webhook_ingest(
        connector=connector,
        events=[message("zs", datetime(2026, 11, 3, 12, 0, tzinfo=UTC), "打卡 Day 2")],
    )
    assert days_of(participant) == [date(2026, 11, 3)]


def test_check_in_events_do_not_trigger_matching_again(community_a, django_assert_num_queries):
    challenge = make(community_a)
    join_directly(challenge, member_in(community_a, "张三", "u1"))
    # A check_in event whose text holds the keyword is not a message: no check-in.
    ingest_events(
        community=community_a,
        source=EventSource.IMPORT,
        events=[
            message(
                "u1", datetime(2026, 11, 2, 1, 0, tzinfo=UTC), "#打卡", kind=ActivityKind.CHECK_IN
            )
        ],
    )
    assert not CheckIn.objects.exists()


def test_without_a_challenge_an_ingest_asks_once(community_a, django_assert_num_queries):
    """The no-challenge path costs one query per ingest, not per batch."""
    member_in(community_a, "张三", "u1")
    events = [
        message("u1", datetime(2026, 11, 2, 1, n, tzinfo=UTC), f"#打卡 {n}") for n in range(6)
    ]

    def count(batch_size):
        with connection.execute_wrapper(counter := QueryCounter()):
            ingest_events(
                community=community_a,
                source=EventSource.IMPORT,
                events=events,
                batch_size=batch_size,
            )
        return counter.challenge_queries

    assert count(batch_size=2) == 1  # three batches, one question
    ActivityEvent.objects.all().delete()
    assert count(batch_size=6) == 1


class QueryCounter:
    def __init__(self):
        self.challenge_queries = 0

    def __call__(self, execute, sql, params, many, context):
        if Challenge._meta.db_table in sql:
            self.challenge_queries += 1
        return execute(sql, params, many, context)


def test_a_settled_challenge_takes_no_more_chat_check_ins(community_a):
    challenge = make(community_a)
    participant = join_directly(challenge, member_in(community_a, "张三", "u1"))
    Challenge.objects.filter(pk=challenge.pk).update(settled_at=timezone.now())
    ingest_events(
        community=community_a,
        source=EventSource.IMPORT,
        events=[message("u1", datetime(2026, 11, 2, 1, 0, tzinfo=UTC), "#打卡")],
    )
    assert days_of(participant) == []


# --- The deadline in the community's zone ------------------------------------------------


def test_deadline_in_berlin_across_the_dst_change():
    community = CommunityFactory(time_zone="Europe/Berlin")
    # 2026-10-25: Berlin goes from CEST (+2) to CET (+1).
    challenge = make(community, start_date=date(2026, 10, 24), days=3, deadline=time(21, 0))
    participant = join_directly(challenge, member_in(community, "Anna", "anna"))
    ingest_events(
        community=community,
        source=EventSource.IMPORT,
        events=[
            # 24 Oct, 20:59:59 CEST = 18:59:59 UTC: in time.
            message("anna", datetime(2026, 10, 24, 18, 59, 59, tzinfo=UTC), "#打卡"),
            # 25 Oct, 21:30 CET = 20:30 UTC: too late (a UTC reading would say 20:30 < 21:00).
            message("anna", datetime(2026, 10, 25, 20, 30, tzinfo=UTC), "#打卡"),
            # 26 Oct, 20:30 CET = 19:30 UTC: in time (in CEST terms it would be 21:30).
            message("anna", datetime(2026, 10, 26, 19, 30, tzinfo=UTC), "#打卡"),
        ],
    )
    assert days_of(participant) == [date(2026, 10, 24), date(2026, 10, 26)]
    assert challenges.deadline_of(challenge, date(2026, 10, 24)) == datetime(
        2026, 10, 24, 19, 0, tzinfo=UTC
    )
    assert challenges.deadline_of(challenge, date(2026, 10, 26)) == datetime(
        2026, 10, 26, 20, 0, tzinfo=UTC
    )


def test_local_day_in_shanghai():
    community = CommunityFactory(time_zone="Asia/Shanghai")
    challenge = make(community, start_date=date(2026, 11, 2), days=3, deadline=time(23, 0))
    participant = join_directly(challenge, member_in(community, "张三", "zs"))
    ingest_events(
        community=community,
        source=EventSource.IMPORT,
        events=[
            # 2 Nov 16:30 UTC is 3 Nov 00:30 in Shanghai: day 2, not day 1.
            message("zs", datetime(2026, 11, 2, 16, 30, tzinfo=UTC), "#打卡"),
            # 3 Nov 23:00:00 local exactly: in time (the deadline is inclusive).
            message("zs", datetime(2026, 11, 3, 15, 0, tzinfo=UTC), "#打卡"),
            # 4 Nov 23:00:01 local: too late.
            message("zs", datetime(2026, 11, 4, 15, 0, 1, tzinfo=UTC), "#打卡"),
        ],
    )
    assert days_of(participant) == [date(2026, 11, 3)]


def test_chat_check_in_service_refuses_after_the_deadline(community_a):
    challenge = make(community_a)
    participant = join_directly(challenge, member_in(community_a, "张三"))
    late = datetime(2026, 11, 2, 14, 1, tzinfo=UTC)  # 22:01 in Shanghai
    with pytest.raises(ValidationError):
        challenges.check_in(
            challenge=challenge,
            participant=participant,
            day=date(2026, 11, 2),
            source=CheckInSource.CHAT,
            at=late,
        )
    assert not CheckIn.objects.exists()


# --- Reads -------------------------------------------------------------------------------


def ticked(challenge, participant, *offsets):
    for offset in offsets:
        CheckIn.objects.create(
            participant=participant,
            day=challenge.start_date + timedelta(days=offset),
            source=CheckInSource.STAFF,
        )


def test_streaks_leaderboard_completion_and_preview(community_a):
    # Seven days from 2 Nov, deadline 22:00 Shanghai; "now" is 6 Nov 12:00 local, so
    # days 0-3 are closed, day 4 is today (open), days 5-6 are to come.
    challenge = make(community_a, days=7, max_missed_days=1)
    a = join_directly(challenge, member_in(community_a, "A"))
    b = join_directly(challenge, member_in(community_a, "B"))
    c = join_directly(challenge, member_in(community_a, "C"))
    ticked(challenge, a, 0, 1, 2, 3, 4)  # every day, today too
    ticked(challenge, b, 0, 2, 3)  # missed day 1
    ticked(challenge, c, 0, 1)  # missed days 2, 3
    now = datetime(2026, 11, 6, 4, 0, tzinfo=UTC)
    grid = challenges.board(challenge, now=now)
    assert grid.closed_days == 4
    assert grid.today == date(2026, 11, 6)
    rows = {row.member.display_name: row for row in grid.rows}
    assert [s for _d, s, _x in rows["B"].cells] == [
        "checked",
        "missed",
        "checked",
        "checked",
        "today",
        "future",
        "future",
    ]
    assert (rows["A"].current_streak, rows["A"].longest_streak) == (5, 5)
    assert (rows["B"].current_streak, rows["B"].longest_streak) == (2, 2)
    assert (rows["C"].current_streak, rows["C"].longest_streak) == (0, 2)
    assert [r.member.display_name for r in grid.leaderboard] == ["A", "B", "C"]
    # Closed days only: (4 + 3 + 2) check-ins ÷ (3 participants × 4 days).
    assert grid.completion == pytest.approx(9 / 12)
    assert [r.member.display_name for r in grid.would_refund] == ["A", "B"]
    assert [r.member.display_name for r in grid.would_forfeit] == ["C"]


def test_leaderboard_ties_are_broken_by_the_streak(community_a):
    challenge = make(community_a, days=4)
    early = join_directly(challenge, member_in(community_a, "Early"))
    late = join_directly(challenge, member_in(community_a, "Late"))
    ticked(challenge, early, 0, 1)
    ticked(challenge, late, 2, 3)
    grid = challenges.board(challenge, now=datetime(2026, 11, 10, tzinfo=UTC))
    assert [r.member.display_name for r in grid.leaderboard] == ["Late", "Early"]
    assert grid.completion == pytest.approx(4 / 8)


# --- Settlement --------------------------------------------------------------------------


def settle_ready(community, *, deposit="30", reward_points=10):
    rule = Rule.objects.create(
        community=community, kind=RuleKind.ENCOURAGED, title="完成打卡挑战", points=reward_points
    )
    challenge = running(community, deposit=deposit, reward_rule=rule, max_missed_days=1)
    made = challenges.participant_add(challenge=challenge, membership=member_in(community, "A"))
    almost = challenges.participant_add(challenge=challenge, membership=member_in(community, "B"))
    failed = challenges.participant_add(challenge=challenge, membership=member_in(community, "C"))
    for offset in (0, 1, 2):
        challenges.check_in(
            challenge=challenge,
            participant=made,
            day=challenge.start_date + timedelta(days=offset),
        )
    challenges.check_in(challenge=challenge, participant=almost, day=challenge.start_date)
    challenges.check_in(
        challenge=challenge, participant=almost, day=challenge.start_date + timedelta(days=2)
    )
    challenges.check_in(challenge=challenge, participant=failed, day=challenge.start_date)
    return challenge, made, almost, failed


def test_settlement_refunds_forfeits_and_credits_once(community_a):
    challenge, made, almost, failed = settle_ready(community_a)
    with pytest.raises(ValidationError):
        challenges.challenge_settle(challenge=challenge)  # the last day is still running
    after = challenges.ends_at(challenge) + timedelta(minutes=1)
    result = challenges.challenge_settle(challenge=challenge, now=after)
    assert result.settled
    assert (result.met, result.missed) == (2, 1)
    assert result.refunded == Decimal("60")
    assert result.forfeited == Decimal("30")
    assert result.points == 20
    expected = ((made, "met", 10), (almost, "met", 10), (failed, "missed", 0))
    for participant, outcome, points in expected:
        participant.refresh_from_db()
        participant.membership.refresh_from_db()
        assert participant.outcome == outcome
        assert deposit_held(membership=participant.membership) == 0
        assert participant.membership.points_balance == points
    assert made.deposit_settled.kind == "refunded"
    assert failed.deposit_settled.kind == "forfeited"
    assert failed.deposit_settled.amount == Decimal("30")

    ledger = (DepositEntry.objects.count(), PointsEntry.objects.count())
    again = challenges.challenge_settle(challenge=challenge, now=after + timedelta(days=1))
    assert not again.settled
    assert (DepositEntry.objects.count(), PointsEntry.objects.count()) == ledger
    # Settled check-ins are final.
    with pytest.raises(ValidationError):
        challenges.check_in_remove(challenge=challenge, participant=made, day=challenge.start_date)


def test_the_beat_task_settles_what_has_ended(community_a):
    from activities.tasks import settle_challenges_task

    challenge, *_ = settle_ready(community_a)
    assert settle_challenges_task() == 0  # still running
    after = challenges.ends_at(challenge) + timedelta(minutes=1)
    assert challenges.challenges_settle_due(now=after) == 1
    assert challenges.challenges_settle_due(now=after) == 0
    challenge.refresh_from_db()
    assert challenge.settled_at == after


def test_the_beat_entry_exists():
    from config.beat import beat_schedule

    entry = beat_schedule(60)["settle-challenges"]
    assert entry["task"] == "activities.settle_challenges"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_settlements_settle_once(community_a):
    if connection.vendor != "postgresql":
        pytest.fail("Needs PostgreSQL (make test-postgres): row locks")
    challenge, *_ = settle_ready(community_a)
    after = challenges.ends_at(challenge) + timedelta(minutes=1)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def settle():
        try:
            barrier.wait(timeout=10)
            results.append(challenges.challenge_settle(challenge=challenge, now=after).settled)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=settle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(results) == [False, True]
    assert DepositEntry.objects.filter(kind__in=["refunded", "forfeited"]).count() == 3
    assert PointsEntry.objects.count() == 2
    assert sorted(ChallengeParticipant.objects.values_list("outcome", flat=True)) == [
        Outcome.MET,
        Outcome.MET,
        Outcome.MISSED,
    ]
    assert Member.objects.count() == 3


# --- Pages -------------------------------------------------------------------------------


def page_url(challenge):
    from django.urls import reverse

    return reverse("activities:challenge", args=[challenge.pk])


def test_the_page_shows_the_grid_and_the_figures(community_a, operator_a, client_for):
    challenge = running(community_a, deposit="10")
    a = challenges.participant_add(challenge=challenge, membership=member_in(community_a, "甲"))
    challenges.check_in(challenge=challenge, participant=a, day=challenge.start_date)
    response = client_for(operator_a).get(page_url(challenge))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-state="checked"' in html
    assert 'data-state="missed"' in html  # day 2 is past its deadline
    assert "甲" in html
    assert response.context["board"].completion == pytest.approx(1 / 2)


def test_the_page_in_chinese(community_a, operator_a, client_for):
    challenge = running(community_a)
    client = client_for(operator_a)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(page_url(challenge)).content.decode()
    for words in ("打卡完成率", "排行榜", "结算预览", "每日打卡表"):
        assert words in html


def test_a_moderator_ticks_and_unticks_a_cell(community_a, moderator_a, client_for):
    from django.urls import reverse

    community_a.assigned_staff.add(moderator_a)
    challenge = running(community_a)
    participant = challenges.participant_add(
        challenge=challenge, membership=member_in(community_a, "乙")
    )
    url = reverse("activities:challenge-check-in", args=[challenge.pk])
    client = client_for(moderator_a)
    day = challenge.start_date.isoformat()
    data = {"participant": participant.pk, "day": day, "checked": "1"}
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'data-testid="cell-{participant.pk}-{day}"' in response.content.decode()
    assert days_of(participant) == [challenge.start_date]
    assert CheckIn.objects.get().recorded_by == moderator_a.user
    response = client.post(url, {**data, "checked": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert days_of(participant) == []
    # A day still to come is refused with the reason, nothing written.
    future = {**data, "day": (challenge.start_date + timedelta(days=5)).isoformat()}
    response = client.post(url, future, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert not CheckIn.objects.exists()
    # Odd input never 500s.
    for odd in ({"participant": "9" * 30, "day": day}, {"participant": participant.pk, "day": "x"}):
        assert client.post(url, odd, HTTP_HX_REQUEST="true").status_code == 400


def test_a_moderator_cannot_create_or_add(community_a, moderator_a, client_for):
    from django.urls import reverse

    community_a.assigned_staff.add(moderator_a)
    challenge = running(community_a)
    client = client_for(moderator_a)
    membership = member_in(community_a, "丙")
    response = client.post(
        reverse("activities:challenge-participants", args=[challenge.pk]),
        {"memberships": [membership.pk]},
    )
    assert response.status_code == 403
    assert not ChallengeParticipant.objects.exists()
    assert (
        client.get(reverse("activities:challenge-create", args=[community_a.slug])).status_code
        == 403
    )


def test_another_organisations_challenge_is_a_404(community_b, operator_a, client_for):
    from django.urls import reverse

    challenge = running(community_b)
    client = client_for(operator_a)
    assert client.get(page_url(challenge)).status_code == 404
    response = client.post(
        reverse("activities:challenge-check-in", args=[challenge.pk]),
        {"participant": 1, "day": challenge.start_date.isoformat(), "checked": "1"},
    )
    assert response.status_code == 404


def test_create_and_add_participants_through_the_pages(community_a, operator_a, client_for):
    from django.urls import reverse

    client = client_for(operator_a)
    url = reverse("activities:challenge-create", args=[community_a.slug])
    bad = client.post(
        url, {"title": "x", "start_date": "2026-12-01", "days": "0", "deadline": "22:00"}
    )
    assert bad.status_code == 200
    assert not Challenge.objects.exists()
    today = timezone.now().astimezone(ZoneInfo(community_a.time_zone)).date()
    response = client.post(
        url,
        {
            "title": "早起",
            "start_date": (today + timedelta(days=1)).isoformat(),
            "days": "7",
            "deadline": "08:00",
            "max_missed_days": "1",
            "deposit": "20",
            "keyword": "#早起",
        },
    )
    challenge = Challenge.objects.get()
    assert response.status_code == 302
    assert response["Location"] == page_url(challenge)
    one, other = member_in(community_a, "一"), member_in(community_a, "二")
    stranger = member_in(CommunityFactory(organization=community_a.organization), "外")
    add = reverse("activities:challenge-participants", args=[challenge.pk])
    assert client.post(add, {"memberships": [stranger.pk]}).status_code == 400
    assert client.post(add, {"memberships": [one.pk, other.pk]}).status_code == 302
    assert challenge.participants.count() == 2
    assert deposit_held(membership=one) == Decimal("20")
    remove = reverse("activities:challenge-participant-remove", args=[challenge.pk])
    client.post(remove, {"participant": challenge.participants.get(membership=one).pk})
    assert challenge.participants.count() == 1
    listing = client.get(reverse("activities:challenge-list", args=[community_a.slug]))
    assert "早起" in listing.content.decode()


def test_settle_from_the_page_shows_outcomes(community_a, operator_a, client_for):
    from django.urls import reverse

    challenge = make(community_a, start_date=date(2026, 11, 2), days=2, max_missed_days=0)
    made = join_directly(challenge, member_in(community_a, "成"))
    failed = join_directly(challenge, member_in(community_a, "败"))
    ticked(challenge, made, 0, 1)
    client = client_for(operator_a)
    client.post(reverse("activities:challenge-settle", args=[challenge.pk]))
    challenge.refresh_from_db()
    assert challenge.settled_at is not None
    response = client.get(page_url(challenge))
    html = " ".join(response.content.decode().split())
    assert f'data-testid="outcome-{made.pk}"> Made it </td>' in html
    assert f'data-testid="outcome-{failed.pk}"> Did not make it </td>' in html
    assert response.context["board"].status == "settled"


@pytest.mark.parametrize("people", [3, 30])
def test_the_grid_costs_the_same_queries_for_3_and_30(
    people, community_a, operator_a, client_for, django_assert_num_queries
):
    challenge = running(community_a, days=3, deposit="5")
    for n in range(people):
        participant = challenges.participant_add(
            challenge=challenge, membership=member_in(community_a, f"成员{n}")
        )
        ticked(challenge, participant, 0)
    member_in(community_a, "还没参加")  # so the page offers the form to add participants
    client = client_for(operator_a)
    client.get(page_url(challenge))  # sessions, caches
    # Session and staff, the challenge; participants, check-ins; organisation (currency).
    with django_assert_num_queries(6):
        response = client.get(page_url(challenge), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().count('data-state="checked"') == people
    # The whole page adds the members that can still join (whether any, the choices).
    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(page_url(challenge))
    assert response.content.decode().count('data-state="checked"') == people


PAGE_QUERIES = 8


def test_the_community_page_links_to_its_challenges(community_a, operator_a, client_for):
    from django.urls import reverse

    html = client_for(operator_a).get(reverse("communities:detail", args=[community_a.slug]))
    listing = reverse("activities:challenge-list", args=[community_a.slug])
    assert f'href="{listing}" data-link="activities.challenges"' in html.content.decode()


def test_a_signed_webhook_request_checks_in(community_a, operator_a):
    """Through the bot's real endpoint: signature, JSON, ingest, the keyword."""
    import json
    import time as clock

    from django.test import Client
    from django.urls import reverse

    from activities.webhook import sign
    from communities.models import Platform
    from communities.services import connector_create

    issued = connector_create(
        community=community_a, name="机器人", platform=Platform.WECOM, by=operator_a.user
    )
    challenge = running(community_a)  # deadline 23:59 local, today is its third day
    membership = member_in(community_a, "张三")
    membership.member.handles.create(
        organization=community_a.organization, platform=Platform.WECOM, external_id="zs"
    )
    participant = challenges.participant_add(challenge=challenge, membership=membership)
    tz = ZoneInfo(community_a.time_zone)
    when = (timezone.now() - timedelta(hours=1)).astimezone(tz).replace(microsecond=0)
    if when.hour == 23:
        when -= timedelta(hours=2)  # before the 23:59 deadline, whatever the clock says
    body = json.dumps(
        {
            "events": [
                {
                    "external_id": "wh1",
                    "kind": "message",
                    "occurred_at": when.isoformat(),
                    "member": {"id": "zs", "name": "张三"},
                    "text": "＃打卡 第三天",
                }
            ]
        },
        ensure_ascii=False,
    ).encode()
    stamp = int(clock.time())
    response = Client(enforce_csrf_checks=True).post(
        reverse("activities:api-ingest", args=[issued.connector.public_id]),
        data=body,
        content_type="application/json",
        headers={
            "X-CommunityOps-Timestamp": str(stamp),
            "X-CommunityOps-Signature": sign(issued.secret, stamp, body),
        },
    )
    assert response.status_code == 202, response.content
    assert days_of(participant) == [when.date()]
    assert CheckIn.objects.get().source == CheckInSource.CHAT


def test_the_page_gives_times_in_the_communitys_zone(operator_a, client_for, org_a):
    community = CommunityFactory(organization=org_a, time_zone="Europe/Berlin")
    challenge = make(community, start_date=date(2026, 12, 20), days=3, deadline=time(21, 30))
    html = client_for(operator_a).get(page_url(challenge)).content.decode()
    # The last deadline, 22 Dec 21:30 in Berlin (04:30 the next day in Shanghai).
    assert "2026-12-22 21:30" in html
    assert "Europe/Berlin" in html


def test_the_calendar_filtered_by_a_community_links_to_its_challenges(
    community_a, operator_a, client_for
):
    from django.urls import reverse

    client = client_for(operator_a)
    listing = reverse("activities:challenge-list", args=[community_a.slug])
    plain = client.get(reverse("activities:calendar")).content.decode()
    assert listing not in plain
    url = f"{reverse('activities:calendar')}?community={community_a.slug}"
    assert f'href="{listing}"' in client.get(url).content.decode()
