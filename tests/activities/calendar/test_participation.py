"""Invitations, RSVP and the waitlist, attendance → points and the ``attend`` event, closing
attendance → no-shows → violations (activities/calendar/participation.py), and the
occurrence page's participation section (views_occurrence.py)."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from activities.calendar import participation, services
from activities.calendar.models import CalendarRules, Occurrence, Participation, Response
from activities.models import ActivityEvent, ActivityKind, EventSource
from activities.tasks import close_attendance_task
from analytics.models import MemberDay
from analytics.rollups import rollups_refresh_touched
from communities.models import Penalty, Role, Rule, RuleKind
from members.models import MembershipStatus, PointsEntry, Violation
from members.services import squad_create
from tests.factories import CommunityFactory, MembershipFactory, StaffFactory

pytestmark = pytest.mark.django_db


def minute(when: datetime) -> datetime:
    return when.replace(second=0, microsecond=0)


def make_entry(community, *, start, minutes=60, capacity=None, communities=None, **data):
    """A one-off entry starting at aware ``start``; returns its Occurrence row."""
    local = start.astimezone(ZoneInfo(community.time_zone))
    entry = services.entry_create(
        organization=community.organization,
        communities=communities or [community],
        data={
            "kind": "meetup",
            "title": data.pop("title", "线下聚会"),
            "start_date": local.date(),
            "start_time": local.time().replace(second=0, microsecond=0),
            "duration_minutes": minutes,
            "capacity": capacity,
            **data,
        },
        invite_picked=data.pop("picked", ()),
    )
    return Occurrence.objects.get(entry=entry)


def future(community, **kwargs):
    return make_entry(community, start=minute(timezone.now()) + timedelta(days=2), **kwargs)


def started(community, **kwargs):
    """Started an hour ago, ends in an hour."""
    return make_entry(
        community, start=minute(timezone.now()) - timedelta(hours=1), minutes=120, **kwargs
    )


def ended(community, *, days_ago=1, **kwargs):
    return make_entry(
        community, start=minute(timezone.now()) - timedelta(days=days_ago, hours=2), **kwargs
    )


@pytest.fixture
def community(org_a):
    return CommunityFactory(organization=org_a, name="跑步群", slug="runners")


def members(community, n, **kwargs):
    return [
        MembershipFactory(community=community, member__display_name=f"成员{i:02d}", **kwargs)
        for i in range(n)
    ]


def encouraged(community, points=5):
    return Rule.objects.create(
        community=community, kind=RuleKind.ENCOURAGED, title="参加活动", points=points
    )


def forbidden(community, points=0, penalty=Penalty.WARNING):
    return Rule.objects.create(
        community=community, kind=RuleKind.FORBIDDEN, title="报名不到", points=points,
        penalty=penalty,
    )  # fmt: skip


# --- Invitations ---------------------------------------------------------------------------


def test_invited_are_present_members_of_every_community_of_the_entry(org_a, community):
    other = CommunityFactory(organization=org_a, name="读书会", slug="books")
    here, there = MembershipFactory(community=community), MembershipFactory(community=other)
    lurker = MembershipFactory(community=community, status=MembershipStatus.LURKER)
    MembershipFactory(community=community, status=MembershipStatus.LEFT)
    MembershipFactory(community=community, status=MembershipStatus.APPLICANT)
    MembershipFactory()  # another organisation
    occurrence = future(community, communities=[community, other])
    invited = set(participation.invited_memberships(occurrence.entry))
    assert invited == {here, there, lurker}


def test_tier_and_above_squad_and_picked_scopes(community):
    low, mid, high = members(community, 3)
    tiers = list(community.tiers.order_by("rank"))
    mid.tier, high.tier = tiers[1], tiers[2]
    mid.save()
    high.save()
    squad = squad_create(community=community, name="晨跑小组")
    low.squad = squad
    low.save()

    by_tier = future(community, invite_scope="tier", invite_tier=tiers[1])
    assert set(participation.invited_memberships(by_tier.entry)) == {mid, high}
    by_squad = future(community, invite_scope="squad", invite_squad=squad)
    assert set(participation.invited_memberships(by_squad.entry)) == {low}
    picked = future(community, invite_scope="picked", picked=[high])
    assert list(participation.invited_memberships(picked.entry)) == [high]


# --- RSVP and the waitlist -----------------------------------------------------------------


def test_going_beyond_capacity_waits_and_a_decline_moves_the_first_up(community):
    a, b, c, d = members(community, 4)
    occurrence = future(community, capacity=2)
    for m in (a, b, c, d):
        participation.rsvp(occurrence=occurrence, membership=m, response="going")
    rows = {p.membership_id: p for p in Participation.objects.filter(occurrence=occurrence)}
    assert [rows[m.pk].response for m in (a, b, c, d)] == ["going", "going", "waitlist", "waitlist"]

    participation.rsvp(occurrence=occurrence, membership=b, response="declined")
    c_row = Participation.objects.get(occurrence=occurrence, membership=c)
    assert c_row.response == Response.GOING
    assert c_row.promoted_at is not None
    assert Participation.objects.get(occurrence=occurrence, membership=d).response == "waitlist"
    assert Participation.objects.filter(occurrence=occurrence, response="going").count() == 2

    listing = participation.occurrence_list(occurrence)
    assert [p.membership for p in listing.waitlist] == [d]
    assert [p.membership for p in listing.going if p.promoted] == [c]


def test_saying_going_twice_keeps_the_place_and_maybe_frees_it(community):
    a, b, c = members(community, 3)
    occurrence = future(community, capacity=1)
    participation.rsvp(occurrence=occurrence, membership=a, response="going")
    participation.rsvp(occurrence=occurrence, membership=b, response="going")
    participation.rsvp(occurrence=occurrence, membership=c, response="going")
    participation.rsvp(occurrence=occurrence, membership=c, response="going")  # still third
    participation.rsvp(occurrence=occurrence, membership=a, response="maybe")
    assert Participation.objects.get(occurrence=occurrence, membership=b).response == "going"
    assert Participation.objects.get(occurrence=occurrence, membership=c).response == "waitlist"


def test_clearing_a_going_answer_moves_the_waitlist_up(community):
    a, b = members(community, 2)
    occurrence = future(community, capacity=1)
    participation.rsvp(occurrence=occurrence, membership=a, response="going")
    participation.rsvp(occurrence=occurrence, membership=b, response="going")
    participation.rsvp_clear(occurrence=occurrence, membership=a)
    assert Participation.objects.get(occurrence=occurrence, membership=a).response == ""
    assert Participation.objects.get(occurrence=occurrence, membership=b).response == "going"


# The PostgreSQL pass only (integration): the SQLite test database is in memory with a
# shared cache, whose table locks fail at once ("database table is locked") instead of
# waiting; the file database used outside tests serialises writers (IMMEDIATE
# transactions, a busy timeout).
@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_never_overfill_the_capacity(org_a, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("concurrent writers need PostgreSQL (make test-postgres): row locks")
    community = CommunityFactory(organization=org_a, name="并发群", slug="race")
    people = members(community, 2)
    occurrence = future(community, capacity=1)
    # Each answer, once it has counted who is going, waits for the other to have counted
    # too: without the occurrence's row lock both would count 0 and both be "going". With
    # it the second waits at the lock, the first gives up waiting (timeout) and commits.
    both_counted = threading.Barrier(2, timeout=2)
    count = participation._going_count
    errors: list[BaseException] = []

    def racing_count(row):
        going_now = count(row)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_counted.wait()
        return going_now

    def answer(membership):
        try:
            participation.rsvp(occurrence=occurrence, membership=membership, response="going")
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    monkeypatch.setattr(participation, "_going_count", racing_count)
    threads = [threading.Thread(target=answer, args=(m,)) for m in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    answers = sorted(
        Participation.objects.filter(occurrence=occurrence).values_list("response", flat=True)
    )
    assert answers == ["going", "waitlist"]


def test_bad_answers_are_refused_and_write_nothing(org_a, community):
    member = MembershipFactory(community=community)
    stranger = MembershipFactory(community=CommunityFactory(organization=org_a))
    occurrence = future(community)
    with pytest.raises(ValidationError, match="not invited"):
        participation.rsvp(occurrence=occurrence, membership=stranger, response="going")
    with pytest.raises(ValidationError, match="going, maybe or declined"):
        participation.rsvp(occurrence=occurrence, membership=member, response="waitlist")
    past = ended(community)
    with pytest.raises(ValidationError, match="has ended"):
        participation.rsvp(occurrence=past, membership=member, response="going")
    assert not Participation.objects.exists()


# --- Attendance ----------------------------------------------------------------------------


def test_attendance_earns_points_once_and_the_attend_event_once(community):
    member = MembershipFactory(community=community)
    rule = encouraged(community, points=5)
    CalendarRules.objects.create(community=community, attendance_rule=rule)
    occurrence = started(community)

    for attended in (True, False, True, True):
        participation.attendance_set(occurrence=occurrence, membership=member, attended=attended)

    row = Participation.objects.get(occurrence=occurrence, membership=member)
    assert row.attended and row.response == Response.NONE  # ticked without an answer
    # Credited, taken back by the untick (a correcting entry), credited again: once, net.
    deltas = list(PointsEntry.objects.filter(membership=member).values_list("delta", flat=True))
    assert sorted(deltas) == [-5, 5, 5]
    assert row.points_entry.delta == 5 and row.points_entry.rule == rule
    member.refresh_from_db()
    assert member.points_balance == 5
    events = ActivityEvent.objects.filter(community=community, kind=ActivityKind.ATTEND)
    assert list(events.values_list("source", "external_id", "occurred_at", "member_id")) == [
        (EventSource.MANUAL, f"attend:{occurrence.pk}:{member.member_id}", occurrence.starts_at,
         member.member_id)
    ]  # fmt: skip
    rollups_refresh_touched()
    day = timezone.localtime(occurrence.starts_at, ZoneInfo(community.time_zone)).date()
    assert (
        MemberDay.objects.get(community=community, member_id=member.member_id, day=day).attends == 1
    )


def test_an_untick_takes_the_attendance_out_of_the_dashboards(community):
    member = MembershipFactory(community=community)
    CalendarRules.objects.create(community=community, attendance_rule=encouraged(community, 5))
    occurrence = started(community)
    participation.attendance_set(occurrence=occurrence, membership=member, attended=True)
    rollups_refresh_touched()
    day = timezone.localtime(occurrence.starts_at, ZoneInfo(community.time_zone)).date()
    figures = MemberDay.objects.filter(community=community, member_id=member.member_id, day=day)
    assert figures.get().attends == 1

    participation.attendance_set(occurrence=occurrence, membership=member, attended=False)
    rollups_refresh_touched()
    assert not ActivityEvent.objects.filter(community=community, kind=ActivityKind.ATTEND)
    assert not figures.filter(attends__gt=0).exists()
    member.refresh_from_db()
    assert member.points_balance == 0


def test_attendance_without_rules_earns_nothing_but_is_recorded(community):
    member = MembershipFactory(community=community)
    occurrence = started(community)
    participation.attendance_set(occurrence=occurrence, membership=member, attended=True)
    assert not PointsEntry.objects.exists()
    assert ActivityEvent.objects.filter(kind=ActivityKind.ATTEND).count() == 1


def test_attendance_at_resolves_the_occurrence_of_a_series(community):
    member = MembershipFactory(community=community)
    local = timezone.localtime(
        minute(timezone.now()) - timedelta(minutes=30), ZoneInfo(community.time_zone)
    )
    entry = services.entry_create(
        organization=community.organization,
        communities=[community],
        data={"kind": "topic", "title": "每日分享", "start_date": local.date() - timedelta(days=7),
              "start_time": local.time(), "duration_minutes": 60, "rrule": "FREQ=DAILY"},
    )  # fmt: skip
    original = services.first_start(entry) + timedelta(days=7)
    participation.attendance_set_at(
        entry=entry, original_start=original, membership=member, attended=True
    )
    assert Occurrence.objects.get(entry=entry).original_start == original
    assert Participation.objects.get(membership=member).attended
    with pytest.raises(ValidationError):
        participation.attendance_set_at(
            entry=entry, original_start=original + timedelta(minutes=5), membership=member,
            attended=True,
        )  # fmt: skip


def test_attendance_refused_before_the_start_after_closing_and_for_strangers(org_a, community):
    member = MembershipFactory(community=community)
    stranger = MembershipFactory(community=CommunityFactory(organization=org_a))
    with pytest.raises(ValidationError, match="not started"):
        participation.attendance_set(occurrence=future(community), membership=member, attended=True)
    occurrence = ended(community)
    with pytest.raises(ValidationError, match="not invited"):
        participation.attendance_set(occurrence=occurrence, membership=stranger, attended=True)
    participation.attendance_close(occurrence=occurrence)
    with pytest.raises(ValidationError, match="closed"):
        participation.attendance_set(occurrence=occurrence, membership=member, attended=True)
    assert not Participation.objects.filter(attended=True).exists()
    assert not ActivityEvent.objects.exists()


# --- Closing, no-shows ---------------------------------------------------------------------


def going(occurrence, membership, attended=False):
    """An answer given before the occurrence (which has ended now)."""
    return Participation.objects.create(
        occurrence=occurrence, membership=membership, response=Response.GOING,
        responded_at=occurrence.starts_at - timedelta(days=1), attended=attended,
    )  # fmt: skip


def test_close_freezes_invitations_marks_no_shows_and_twice_changes_nothing(community):
    came, skipped, silent = members(community, 3)
    occurrence = ended(community)
    going(occurrence, came, attended=True)
    going(occurrence, skipped)

    result = participation.attendance_close(occurrence=occurrence)
    assert result.closed and [p.membership for p in result.no_shows] == [skipped]
    rows = {p.membership_id: p for p in Participation.objects.filter(occurrence=occurrence)}
    assert set(rows) == {came.pk, skipped.pk, silent.pk}
    assert rows[silent.pk].response == Response.NONE and not rows[silent.pk].no_show
    assert rows[skipped.pk].no_show and not rows[came.pk].no_show
    occurrence.refresh_from_db()
    closed_at = occurrence.attendance_closed_at
    assert closed_at is not None

    # Someone who joins the group afterwards is not invited to what is closed.
    MembershipFactory(community=community)
    snapshot = list(Participation.objects.order_by("pk").values())
    again = participation.attendance_close(occurrence=occurrence)
    assert not again.closed
    assert list(Participation.objects.order_by("pk").values()) == snapshot
    occurrence.refresh_from_db()
    assert occurrence.attendance_closed_at == closed_at
    assert participation.occurrence_list(occurrence).invited_count == 3


def test_closing_before_the_end_is_refused(community):
    occurrence = started(community)
    with pytest.raises(ValidationError, match="once the occurrence has ended"):
        participation.attendance_close(occurrence=occurrence)
    occurrence.refresh_from_db()
    assert occurrence.attendance_closed_at is None


def test_n_no_shows_in_30_days_make_one_violation_per_crossing(community):
    member = MembershipFactory(community=community)
    rule = forbidden(community)
    CalendarRules.objects.create(community=community, no_show_limit=2, no_show_rule=rule)

    def no_show(days_ago, title):
        occurrence = ended(community, days_ago=days_ago, title=title)
        going(occurrence, member)
        return participation.attendance_close(occurrence=occurrence)

    assert no_show(60, "很久以前").violations == []  # alone, and outside the next window
    assert no_show(20, "第一次").violations == []  # the one 45 days ago is too old to count
    second = no_show(10, "第二次")
    assert len(second.violations) == 1
    violation = second.violations[0]
    assert violation.rule == rule and violation.membership == member
    assert "第一次" in violation.evidence and "第二次" in violation.evidence
    assert "很久以前" not in violation.evidence
    triggered = Participation.objects.get(no_show_violation=violation)
    assert triggered.occurrence.entry.title == "第二次"
    assert no_show(5, "第三次").violations == []  # a new crossing needs two more
    assert len(no_show(2, "第四次").violations) == 1
    assert Violation.objects.filter(membership=member).count() == 2


def test_no_show_evidence_is_in_the_organisations_language(community):
    community.organization.language = "zh-hans"
    community.organization.save()
    member = MembershipFactory(community=community)
    CalendarRules.objects.create(
        community=community, no_show_limit=1, no_show_rule=forbidden(community)
    )
    occurrence = ended(community)
    going(occurrence, member)
    violation = participation.attendance_close(occurrence=occurrence).violations[0]
    assert "30 天内报名未到" in violation.evidence


def test_the_beat_task_closes_ticked_occurrences_a_day_after_they_ended(community):
    member = MembershipFactory(community=community)
    ticked_old = ended(community, days_ago=2, title="已点名")
    going(ticked_old, member, attended=True)
    untouched_old = ended(community, days_ago=2, title="没人点名")
    going(untouched_old, member)
    recent = make_entry(community, start=minute(timezone.now()) - timedelta(hours=3))
    going(recent, member, attended=True)

    assert close_attendance_task.apply().get() == 1
    closed = set(Occurrence.objects.filter(attendance_closed_at__isnull=False))
    assert closed == {ticked_old}
    assert close_attendance_task.apply().get() == 0


def test_another_organisations_member_cannot_answer(org_b, community):
    occurrence = future(community)
    outsider = MembershipFactory(community=CommunityFactory(organization=org_b))
    with pytest.raises(ValidationError):
        participation.rsvp(occurrence=occurrence, membership=outsider, response="going")
    assert not Participation.objects.exists()


# --- The occurrence page's participation section --------------------------------------------


def key_of(occurrence) -> str:
    return f"{occurrence.entry_id}-{occurrence.original_start.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def url(name, occurrence, *args):
    return reverse(f"activities:{name}", args=[key_of(occurrence), *args])


HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def moderator(org_a, community):
    staff = StaffFactory(organization=org_a, role=Role.MODERATOR)
    staff.communities.add(community)
    return staff


def test_the_section_lists_answers_waitlist_and_moved_up(client_for, operator_a, community):
    a, b, c, d = members(community, 4)
    occurrence = future(community, capacity=2)
    for m in (a, b, c, d):
        participation.rsvp(occurrence=occurrence, membership=m, response="going")
    participation.rsvp(occurrence=occurrence, membership=a, response="declined")
    html = client_for(operator_a).get(url("occurrence-participation", occurrence)).content.decode()
    assert "4 invited" in html and "2 of 2 places taken" in html and "1 declined" in html
    assert "moved up" in html
    waitlist = html.split('data-testid="waitlist"')[1].split("</ol>")[0]
    assert d.member.display_name in waitlist and c.member.display_name not in waitlist


def test_staff_record_an_answer_given_in_chat(client_for, moderator, community):
    member = MembershipFactory(community=community, member__display_name="王芳")
    occurrence = future(community)
    client = client_for(moderator)
    response = client.post(
        url("occurrence-answer", occurrence),
        {"answer-membership": member.pk, "answer-response": "going"},
        **HTMX,
    )
    assert response.status_code == 200
    assert "1 going" in response.content.decode()
    assert Participation.objects.get(membership=member).response == "going"
    # Someone who is not on the list: the form says so and nothing is written.
    stranger = MembershipFactory(community=CommunityFactory(organization=community.organization))
    response = client.post(
        url("occurrence-answer", occurrence),
        {"answer-membership": stranger.pk, "answer-response": "going"},
        **HTMX,
    )
    assert "Choose someone invited" in response.content.decode()
    assert not Participation.objects.filter(membership=stranger).exists()


def test_ticking_re_renders_the_row_with_the_new_points_balance(client_for, moderator, community):
    member = MembershipFactory(community=community)
    CalendarRules.objects.create(community=community, attendance_rule=encouraged(community, 7))
    occurrence = started(community)
    client = client_for(moderator)
    target = url("occurrence-attendance", occurrence, member.pk)
    response = client.post(target, {"attended": "1"}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="person-{member.pk}"')
    assert f'data-testid="points-{member.pk}">7<' in html and "checked" in html
    response = client.post(target, {}, **HTMX)  # unticked (a mis-tick): the points go back
    assert f'data-testid="points-{member.pk}">0<' in response.content.decode()
    assert "checked" not in response.content.decode()
    assert not Participation.objects.get(membership=member).attended
    client.post(target, {"attended": "1"}, **HTMX)
    member.refresh_from_db()
    assert member.points_balance == 7


def test_ticking_before_the_start_says_why_and_writes_nothing(client_for, moderator, community):
    member = MembershipFactory(community=community)
    occurrence = future(community)
    response = client_for(moderator).post(
        url("occurrence-attendance", occurrence, member.pk), {"attended": "1"}, **HTMX
    )
    assert "has not started yet" in response.content.decode()
    assert not Participation.objects.exists()


def test_a_moderator_of_another_group_gets_404_and_a_manager_403(
    client_for, org_a, community, manager_a
):
    member = MembershipFactory(community=community)
    occurrence = started(community)
    other = StaffFactory(organization=org_a, role=Role.MODERATOR)
    other.communities.add(CommunityFactory(organization=org_a))
    target = url("occurrence-attendance", occurrence, member.pk)
    assert client_for(other).post(target, {"attended": "1"}).status_code == 404
    assert client_for(other).get(url("occurrence-participation", occurrence)).status_code == 404
    assert client_for(manager_a).post(target, {"attended": "1"}).status_code == 403
    assert not Participation.objects.exists()


def test_another_organisations_occurrence_is_a_404(client_for, operator_a, org_b):
    theirs = CommunityFactory(organization=org_b)
    member = MembershipFactory(community=theirs)
    occurrence = started(theirs)
    client = client_for(operator_a)
    assert client.get(url("occurrence-participation", occurrence)).status_code == 404
    assert client.post(url("occurrence-attendance", occurrence, member.pk)).status_code == 404
    assert client.post(url("occurrence-close", occurrence)).status_code == 404
    assert not Participation.objects.exists()


def test_a_member_of_another_community_is_not_ticked_here(client_for, operator_a, org_a, community):
    outsider = MembershipFactory(community=CommunityFactory(organization=org_a))
    occurrence = started(community)
    response = client_for(operator_a).post(
        url("occurrence-attendance", occurrence, outsider.pk), {"attended": "1"}
    )
    assert response.status_code == 404
    assert not Participation.objects.exists()


def test_closing_shows_the_no_shows(client_for, moderator, community):
    came, skipped = members(community, 2)
    occurrence = ended(community)
    going(occurrence, came, attended=True)
    going(occurrence, skipped)
    response = client_for(moderator).post(url("occurrence-close", occurrence), **HTMX)
    html = response.content.decode()
    assert "1 no-show." in html and "no-show</span>" in html
    assert "Close attendance</button>" not in html
    assert Participation.objects.get(membership=skipped).no_show


@pytest.mark.parametrize("count", [3, 15])
def test_the_section_in_pinned_queries(
    count, client_for, operator_a, community, django_assert_num_queries
):
    people = members(community, count)
    CalendarRules.objects.create(community=community, attendance_rule=encouraged(community))
    occurrence = started(community, capacity=2)
    for m in people:
        participation.rsvp(occurrence=occurrence, membership=m, response="going")
    participation.attendance_set(occurrence=occurrence, membership=people[0], attended=True)
    client = client_for(operator_a)
    # session, user, staff, entry (resolver), occurrence row, visible communities, people,
    # their rows, the entry's communities
    with django_assert_num_queries(9):
        response = client.get(url("occurrence-participation", occurrence))
    assert response.content.decode().count('data-testid="attended-') == count


# --- Calendar rules ------------------------------------------------------------------------


def test_calendar_rules_page_saves_both_halves(client_for, operator_a, community):
    attend, skip = encouraged(community), forbidden(community)
    client = client_for(operator_a)
    target = reverse("activities:calendar-rules", args=[community.slug])
    assert client.get(target).status_code == 200
    response = client.post(
        target, {"attendance_rule": attend.pk, "no_show_limit": 3, "no_show_rule": skip.pk}
    )
    assert response.status_code == 302
    rules = CalendarRules.objects.get(community=community)
    assert (rules.attendance_rule, rules.no_show_limit, rules.no_show_rule) == (attend, 3, skip)


def test_calendar_rules_refuse_half_a_no_show_rule_and_other_communities_rules(
    client_for, operator_a, org_a, community, moderator
):
    other_rule = encouraged(CommunityFactory(organization=org_a))
    client = client_for(operator_a)
    target = reverse("activities:calendar-rules", args=[community.slug])
    response = client.post(target, {"no_show_limit": 2})
    assert "Choose the rule that no-shows break." in response.content.decode()
    response = client.post(target, {"attendance_rule": other_rule.pk})
    assert response.status_code == 200 and response.context["form"].errors["attendance_rule"]
    assert not CalendarRules.objects.exists()
    assert client_for(moderator).get(target).status_code == 403


def test_the_occurrence_page_is_constant_in_the_number_invited(client_for, operator_a, community):
    """The occurrence page (views.occurrence_page) with this section in it."""
    client = client_for(operator_a)
    occurrence = started(community, capacity=3)
    counts = []
    for first, total in ((0, 3), (3, 15)):
        for n in range(first, total):
            m = MembershipFactory(community=community, member__display_name=f"人{n:02d}")
            participation.rsvp(occurrence=occurrence, membership=m, response="going")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("occurrence", occurrence))
        assert response.content.decode().count('data-testid="attended-') == total
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_community_page_links_to_its_calendar_rules(
    client_for, operator_a, moderator, community
):
    target = reverse("activities:calendar-rules", args=[community.slug])
    page = reverse("communities:detail", args=[community.slug])
    assert f'href="{target}"' in client_for(operator_a).get(page).content.decode()
    assert f'href="{target}"' not in client_for(moderator).get(page).content.decode()


def test_a_raised_capacity_moves_the_waitlist_up_in_order(community):
    a, b, c = members(community, 3)
    occurrence = future(community, capacity=1)
    for m in (a, b, c):
        participation.rsvp(occurrence=occurrence, membership=m, response="going")
    occurrence.entry.capacity = 2
    occurrence.entry.save(update_fields=["capacity"])
    promoted = participation.waitlist_promote(occurrence=occurrence)
    assert [p.membership for p in promoted] == [b]
    assert Participation.objects.get(membership=c).response == Response.WAITLIST
    assert participation.waitlist_promote(occurrence=occurrence) == []


def test_raising_the_capacity_in_an_edit_fills_the_freed_places(community):
    a, b, c = members(community, 3)
    occurrence = future(community, capacity=1)
    for m in (a, b, c):
        participation.rsvp(occurrence=occurrence, membership=m, response="going")
    services.entry_update(entry=occurrence.entry, data={"capacity": 1})  # unchanged: nobody
    assert Participation.objects.filter(response=Response.WAITLIST).count() == 2
    services.entry_update(entry=occurrence.entry, data={"capacity": 2})
    by_member = dict(Participation.objects.values_list("membership", "response"))
    assert by_member == {a.pk: Response.GOING, b.pk: Response.GOING, c.pk: Response.WAITLIST}
    assert Participation.objects.get(membership=b).promoted_at is not None
    services.entry_update(entry=occurrence.entry, data={"capacity": None})  # no cap: everyone
    assert set(Participation.objects.values_list("response", flat=True)) == {Response.GOING}


def test_a_capacity_raised_for_the_following_occurrences_fills_only_theirs(community):
    """A weekly series of capacity 1 with a waitlist at its next two occurrences and at one
    that ended: raised from the second on, only the second's waitlist moves up."""
    a, b = members(community, 2)
    zone = ZoneInfo(community.time_zone)
    first = minute(timezone.now()).astimezone(zone) - timedelta(days=6)  # ended one
    entry = services.entry_create(
        organization=community.organization,
        communities=[community],
        data={
            "kind": "meetup",
            "title": "夜跑",
            "start_date": first.date(),
            "start_time": first.time().replace(second=0, microsecond=0),
            "duration_minutes": 60,
            "rrule": "FREQ=WEEKLY",
            "capacity": 1,
        },
    )
    starts = [services.first_start(entry) + timedelta(weeks=w) for w in range(3)]
    rows = [services.occurrence_for(entry=entry, original_start=s) for s in starts]
    for row in rows:
        Participation.objects.create(
            occurrence=row, membership=a, response=Response.GOING, responded_at=timezone.now()
        )
        Participation.objects.create(
            occurrence=row, membership=b, response=Response.WAITLIST, responded_at=timezone.now()
        )
    rest = services.entry_update(
        entry=entry, scope="following", original_start=starts[2], data={"capacity": 2}
    )
    assert rest.pk != entry.pk and rest.capacity == 2
    waiting = dict(Participation.objects.filter(membership=b).values_list("occurrence", "response"))
    assert waiting == {
        rows[0].pk: Response.WAITLIST,  # ended: stays as it was
        rows[1].pk: Response.WAITLIST,  # before the split: still capacity 1
        rows[2].pk: Response.GOING,
    }
