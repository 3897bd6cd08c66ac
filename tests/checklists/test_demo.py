"""The demo's checklists (checklists/demo.py) as `manage.py seed_demo` leaves them.

The demo is made once for this module through the command (twice, to prove the second run
adds nothing). Its checklists are then made again at a fixed moment — 16:00 in Shanghai,
today or yesterday, whichever has passed — so that "today" has items done, overdue and
ahead whatever the hour the suite runs at; every figure below is read at that moment.
"""

import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import timezone

from activities.calendar.models import CalendarEntry, EntryKind
from activities.calendar.selectors import entry_slots
from checklists import demo as sops
from checklists.builtin import BUILTINS
from checklists.models import ChecklistRun, ItemTick, Phase, SopTemplate, TemplateUse
from checklists.selectors.completion import completion
from communities.models import Community, Notification, Organization, Role, Staff

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _moment() -> datetime:
    now = timezone.now()
    moment = datetime.combine(now.astimezone(SHANGHAI).date(), time(16, 0), SHANGHAI)
    return moment if moment <= now else moment - timedelta(days=1)


def _checklist_rows(organization) -> tuple[int, ...]:
    return (
        SopTemplate.objects.filter(organization=organization).count(),
        ChecklistRun.objects.filter(organization=organization).count(),
        ItemTick.objects.filter(item__run__organization=organization).count(),
        Staff.objects.filter(organization=organization).count(),
    )


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        organization = Organization.objects.get(slug="demo")
        first = _checklist_rows(organization)
        again = io.StringIO()
        call_command("seed_demo", stdout=again)
        assert _checklist_rows(organization) == first
        assert "Checklists: 0 SOP templates, 0 runs" in again.getvalue()
        assert first[1] > 250, out.getvalue()
        # The same demo, made at a fixed moment.
        ChecklistRun.objects.filter(organization=organization).delete()
        SopTemplate.objects.filter(organization=organization).delete()
        Notification.objects.filter(staff__organization=organization).delete()
        moment = _moment()
        counts = sops.seed_checklists(
            organization=organization, password="communityops-demo", now=moment
        )
        yield organization, moment, counts
        call_command("flush", interactive=False, verbosity=0)


def _window(moment, first, last):
    today = moment.astimezone(SHANGHAI).date()
    return today - timedelta(days=first), today - timedelta(days=last)


def _by_slug(rows):
    names = dict(Community.objects.values_list("pk", "slug"))
    return {names[key]: value for key, value in rows.items()}


def test_the_five_sops_are_copied_and_the_daily_one_used_in_every_running_community(demo):
    organization, _moment, counts = demo
    templates = SopTemplate.objects.filter(organization=organization)
    assert {t.builtin_key for t in templates} == {b.key for b in BUILTINS}
    assert counts["templates"] == templates.count()
    daily = {
        use.community.slug: use.template.language
        for use in TemplateUse.objects.filter(phase=Phase.DAILY).select_related(
            "community", "template"
        )
    }
    running = set(organization.communities.filter(archived=False).values_list("slug", flat=True))
    assert set(daily) == running
    assert daily["design-guild"] == "en" and daily["reading-50"] == "zh-hans"


def test_thirty_days_of_daily_runs_per_community_and_the_camp_while_it_lasted(demo):
    organization, moment, _counts = demo
    start, end = _window(moment, 29, 0)
    for community in organization.communities.filter(archived=False):
        days = set(
            ChecklistRun.objects.filter(
                community=community, phase=Phase.DAILY, day__gte=start
            ).values_list("day", flat=True)
        )
        if community.end_date:  # the 7-day camp: only the days it ran
            assert days == {
                community.start_date + timedelta(days=n)
                for n in range((community.end_date - community.start_date).days + 1)
                if start <= community.start_date + timedelta(days=n) <= end
            }, community.slug
        else:
            assert len(days) == 30, community.slug
            assert max(days) == end


def test_most_communities_keep_up_one_slips_and_one_moderator_is_overloaded(demo):
    _organization, moment, _counts = demo
    month = _by_slug(completion(**_range(moment, 29, 0)))
    first = _by_slug(completion(**_range(moment, 29, 23)))
    last = _by_slug(completion(**_range(moment, 6, 0)))
    # Product Design Guild: from about 85 % to about 30 %.
    slipping = sops.SLIPPING_COMMUNITY
    assert first[slipping].percent >= 65 and last[slipping].percent <= 45
    assert first[slipping].percent - last[slipping].percent >= 30
    assert sum(month[slug].percent >= 75 for slug in month) >= 4  # most keep up
    # Liu Yang runs the most groups and has the lowest completion.
    by_moderator = completion(**_range(moment, 29, 0), by="assignee")
    usernames = dict(Staff.objects.values_list("pk", "user__username"))
    rates = {usernames[key]: value.rate for key, value in by_moderator.items()}
    assert set(rates) == {"moderator", "moderator_sam", sops.OVERLOADED_MODERATOR}
    assert min(rates, key=rates.get) == sops.OVERLOADED_MODERATOR
    loads = {
        staff.user.username: staff.communities.count()
        for staff in Staff.objects.filter(role=Role.MODERATOR, deactivated_at=None)
    }
    assert max(loads, key=loads.get) == sops.OVERLOADED_MODERATOR
    assert loads["moderator"] == 2


def _range(moment, first, last):
    start, end = _window(moment, first, last)
    return {"start": start, "end": end, "now": moment, "phase": Phase.DAILY}


def test_the_demo_moderator_has_today_open_with_done_overdue_and_ahead_items(demo):
    organization, moment, _counts = demo
    moderator = Staff.objects.get(organization=organization, user__username="moderator")
    today = moment.astimezone(SHANGHAI).date()
    run = ChecklistRun.objects.get(
        assignee=moderator, phase=Phase.DAILY, day=today, community__slug="reading-50"
    )
    assert run.opens_at <= moment < run.closes_at
    items = list(run.items.all())
    done = [item for item in items if item.done_at is not None]
    overdue = [item for item in items if item.done_at is None and item.due_at <= moment]
    ahead = [item for item in items if item.due_at > moment]
    assert done and overdue and len(ahead) >= 3
    assert all(item.done_at <= item.due_at for item in done)  # done this morning, on time
    assert any(item.input_kind == "number" for item in ahead)
    # The overdue item was announced to the moderator.
    assert Notification.objects.filter(staff=moderator, key__startswith=f"overdue:{run.pk}:")


def test_the_next_guest_talk_has_its_activity_run(demo):
    organization, moment, _counts = demo
    talk = CalendarEntry.objects.get(organization=organization, kind=EntryKind.GUEST)
    upcoming = [
        slot.starts_at
        for slot in entry_slots(talk, moment, moment + timedelta(days=45))
        if not slot.slot.cancelled and slot.starts_at > moment
    ]
    run = ChecklistRun.objects.get(phase=Phase.ACTIVITY, entry=talk)
    assert run.occurrence_starts_at == min(upcoming)
    assert run.community.slug == sops.ACTIVITY_COMMUNITY
    assert run.assignee.user.username == "moderator"
    assert run.cancelled_at is None and run.items.count() == 12


def test_the_newest_running_community_has_a_half_done_setup_run(demo):
    organization, _moment, _counts = demo
    newest = max(
        (c for c in organization.communities.filter(archived=False) if not c.is_finished),
        key=lambda c: c.created_on,
    )
    run = ChecklistRun.objects.get(phase=Phase.SETUP)
    assert run.community == newest
    items = list(run.items.all())
    assert sum(item.done_at is not None for item in items) == len(items) // 2
    assert run.language == "en" and newest.slug == "sg-founders"
