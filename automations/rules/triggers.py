"""What could make a rule fire: ``candidates(spec, start, end)`` per trigger.

The same candidates serve the live path (welcome and keyword rules, from the webhook's
events), beat's scan (every other trigger) and the dry-run (every trigger, over the last
7 days of the real log). A candidate's ``key`` names what triggered it, so a rule fires
once per key however often it is scanned:

- member joined: ``event:<id>`` of the join event;
- keyword: ``event:<id>``, or with a cooldown ``keyword:<community>:<bucket>`` (one reply
  per community and cooldown period; see ``keyword_key``);
- silence: ``silence:<community>:<id of the last activity before it>`` (once per spell);
- inactive N days: ``inactive:<membership>:<last activity time>`` (once per spell);
- check-in missed: ``check_in:<participant>:<day>``; item overdue: ``item:<id>``;
  tier changed: ``tier:<id>``; violation: ``violation:<id>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import formats
from django.utils.translation import gettext as _

from activities.calendar import challenges as challenge_time
from activities.calendar.models import Challenge, CheckIn
from activities.hooks import LiveEvent
from activities.models import ACTIVITY_KINDS, ActivityEvent, ActivityKind
from automations.models import RuleFiring, RuleTrigger
from automations.rules import matching
from automations.rules.spec import Candidate, RuleSpec
from checklists.models import RunItem
from communities.models import Community
from members.models import PRESENT_STATUSES, Member, Membership, TierChange, Violation

SILENCE = timedelta(hours=24)
# No trigger yields more than this many candidates in one call.
LIMIT = 1000


def _local_date(at: datetime, community: Community) -> str:
    return formats.date_format(
        at.astimezone(ZoneInfo(community.time_zone)), "SHORT_DATETIME_FORMAT"
    )


def keyword_key(spec: RuleSpec, community_id: int, event_id: int, at: datetime) -> str:
    """With a cooldown, one firing per community and cooldown-long time bucket: two
    workers handling two matching messages at once both try the same key, and the unique
    (rule, key) lets one win (``engine`` also skips a bucket started within a cooldown of
    the last reply)."""
    cooldown = int(spec.config.get("cooldown_minutes") or 0)
    if cooldown <= 0:
        return f"event:{event_id}"
    bucket = int(at.timestamp()) // (cooldown * 60)
    return f"keyword:{community_id}:{bucket}"


def _unfired(spec: RuleSpec, queryset, prefix: str):
    """Beat's scan skips rows this rule already fired for in the query itself, so that
    ``LIMIT`` never hides the rest behind rows done before."""
    if spec.pk is None or not spec.fresh_only:
        return queryset
    key = Concat(Value(prefix), Cast(OuterRef("pk"), CharField()))
    return queryset.exclude(Exists(RuleFiring.objects.filter(rule_id=spec.pk, key=key)))


def _in_scope(spec: RuleSpec, community: Community) -> bool:
    return community.organization_id == spec.organization.pk and (
        not spec.community_ids or community.pk in spec.community_ids
    )


def live_candidates(spec: RuleSpec, community: Community, events: list[LiveEvent]) -> list:
    """Candidates among events that just arrived through the webhook."""
    if not _in_scope(spec, community):
        return []
    if spec.trigger == RuleTrigger.MEMBER_JOINED:
        chosen = [(e, "") for e in events if e.kind == ActivityKind.JOIN]
    elif spec.trigger == RuleTrigger.KEYWORD:
        chosen = [
            (e, e.text[:200])
            for e in events
            if e.kind in ACTIVITY_KINDS and matching.matches(spec.config, e.text)
        ]
    else:
        return []
    members = Member.objects.in_bulk({e.member_id for e, _ in chosen})
    return [
        Candidate(
            key=(
                keyword_key(spec, community.pk, e.event_id, e.occurred_at)
                if spec.trigger == RuleTrigger.KEYWORD
                else f"event:{e.event_id}"
            ),
            community=community,
            member=members.get(e.member_id),
            at=e.occurred_at,
            evidence=evidence,
        )
        for e, evidence in sorted(chosen, key=lambda pair: (pair[0].occurred_at, pair[0].event_id))
    ]


def _events(spec: RuleSpec, start: datetime, end: datetime, communities: dict[int, Community]):
    return (
        ActivityEvent.objects.filter(
            community_id__in=communities, occurred_at__gte=start, occurred_at__lt=end
        )
        .select_related("member")
        .order_by("occurred_at", "id")
    )


def _joined(spec, start, end, communities) -> list[Candidate]:
    rows = _events(spec, start, end, communities).filter(kind=ActivityKind.JOIN)[:LIMIT]
    return [
        Candidate(f"event:{e.pk}", communities[e.community_id], e.member, e.occurred_at)
        for e in rows
    ]


def _keyword(spec, start, end, communities) -> list[Candidate]:
    # The log keeps text only when the organisation keeps message text: the dry-run can
    # show only what it has (the live path reads the text as it arrives).
    rows = (
        _events(spec, start, end, communities)
        .filter(kind__in=ACTIVITY_KINDS)
        .exclude(text="")
        .only("id", "community_id", "occurred_at", "text", "member__display_name")
    )
    found = []
    for event in rows.iterator(chunk_size=2000):
        if matching.matches(spec.config, event.text):
            key = keyword_key(spec, event.community_id, event.pk, event.occurred_at)
            found.append(
                Candidate(
                    key,
                    communities[event.community_id],
                    event.member,
                    event.occurred_at,
                    event.text[:200],
                )
            )
            if len(found) >= LIMIT:
                break
    return found


def _silence(spec, start, end, communities) -> list[Candidate]:
    """Each gap of more than 24 hours between activities whose 24-hour mark falls in
    [start, end), and a silence still going on at ``end`` (once per spell, whenever it
    began)."""
    found = []
    for community in communities.values():
        activity = ActivityEvent.objects.filter(community=community, kind__in=ACTIVITY_KINDS)
        before = (
            activity.filter(occurred_at__lt=start - SILENCE)
            .order_by("-occurred_at", "-id")
            .values_list("id", "occurred_at")
            .first()
        )
        times = list(
            activity.filter(occurred_at__gte=start - SILENCE, occurred_at__lt=end)
            .order_by("occurred_at", "id")
            .values_list("id", "occurred_at")
        )
        if before:
            times.insert(0, before)
        for (event_id, at), following in zip(times, [*times[1:], None], strict=True):
            silent_at = at + SILENCE
            next_at = following[1] if following else end
            ongoing = following is None
            if next_at - at > SILENCE and (ongoing or start <= silent_at < end):
                found.append(
                    Candidate(
                        f"silence:{community.pk}:{event_id}",
                        community,
                        None,
                        max(start, silent_at) if ongoing else silent_at,
                        _("quiet since %(date)s") % {"date": _local_date(at, community)},
                        extra={"last_activity": at},
                    )
                )
    return found[:LIMIT]


def _inactive(spec, start, end, communities) -> list[Candidate]:
    """Members whose last activity is at least N days before ``end`` (once per spell)."""
    days = max(1, int(spec.config.get("days") or 14))
    rows = (
        Membership.objects.filter(
            community_id__in=communities,
            status__in=PRESENT_STATUSES,
            last_active_at__lte=end - timedelta(days=days),
        )
        .select_related("member")
        .order_by("last_active_at", "pk")
    )
    if spec.pk is not None and spec.fresh_only:  # fired for this spell already
        rows = rows.exclude(
            Exists(
                RuleFiring.objects.filter(
                    rule_id=spec.pk,
                    community_id=OuterRef("community_id"),
                    member_id=OuterRef("member_id"),
                    fired_at__gte=OuterRef("last_active_at"),
                )
            )
        )
    rows = rows[:LIMIT]
    # A spell that began before ``start`` is still on: it would fire at ``start``.
    return [
        Candidate(
            f"inactive:{m.pk}:{m.last_active_at:%Y%m%dT%H%M%S}",
            communities[m.community_id],
            m.member,
            max(start, m.last_active_at + timedelta(days=days)),
            _("last active %(date)s")
            % {"date": _local_date(m.last_active_at, communities[m.community_id])},
            extra={"last_activity": m.last_active_at},
        )
        for m in rows
    ]


def _check_in_missed(spec, start, end, communities) -> list[Candidate]:
    """Each participant's day whose deadline passed in [start, end) without a check-in."""
    found = []
    running = (
        Challenge.objects.filter(community_id__in=communities)
        .filter(Q(settled_at__isnull=True) | Q(settled_at__gte=start))
        .select_related("community", "entry")
        .prefetch_related("participants__membership__member")
    )
    for challenge in running:
        days = [
            day
            for day in challenge_time.challenge_days(challenge)
            if start <= challenge_time.deadline_of(challenge, day) < end
        ]
        if not days:
            continue
        participants = list(challenge.participants.all())
        checked = set(
            CheckIn.objects.filter(participant__in=participants, day__in=days).values_list(
                "participant_id", "day"
            )
        )
        for day in days:
            for participant in participants:
                if (participant.pk, day) in checked:
                    continue
                found.append(
                    Candidate(
                        f"check_in:{participant.pk}:{day:%Y-%m-%d}",
                        communities[challenge.community_id],
                        participant.membership.member,
                        challenge_time.deadline_of(challenge, day),
                        f"{challenge.entry.title} · {day:%Y-%m-%d}",
                    )
                )
    return found[:LIMIT]


def _item_overdue(spec, start, end, communities) -> list[Candidate]:
    rows = _unfired(
        spec,
        (
            RunItem.objects.filter(
                run__community_id__in=communities,
                run__cancelled_at__isnull=True,
                done_at__isnull=True,
                due_at__gte=start,
                due_at__lt=end,
            )
            .select_related("run")
            .order_by("due_at", "pk")
        ),
        "item:",
    )[:LIMIT]
    return [
        Candidate(
            f"item:{item.pk}",
            communities[item.run.community_id],
            None,
            item.due_at,
            f"{item.run.name}: {item.title}",
        )
        for item in rows
    ]


def _tier_changed(spec, start, end, communities) -> list[Candidate]:
    rows = _unfired(
        spec,
        (
            TierChange.objects.filter(
                membership__community_id__in=communities, created_at__gte=start, created_at__lt=end
            )
            .select_related("membership__member", "from_tier", "to_tier")
            .order_by("created_at", "pk")
        ),
        "tier:",
    )[:LIMIT]
    return [
        Candidate(
            f"tier:{change.pk}",
            communities[change.membership.community_id],
            change.membership.member,
            change.created_at,
            f"{change.from_tier.name if change.from_tier else '—'} → {change.to_tier.name}",
        )
        for change in rows
    ]


def _violation(spec, start, end, communities) -> list[Candidate]:
    rows = _unfired(
        spec,
        (
            Violation.objects.filter(
                membership__community_id__in=communities, created_at__gte=start, created_at__lt=end
            )
            .select_related("membership__member", "rule")
            .order_by("created_at", "pk")
        ),
        "violation:",
    )[:LIMIT]
    return [
        Candidate(
            f"violation:{row.pk}",
            communities[row.membership.community_id],
            row.membership.member,
            row.created_at,
            f"{row.rule.title if row.rule_id else ''} {row.evidence[:150]}".strip(),
        )
        for row in rows
    ]


_BY_TRIGGER = {
    RuleTrigger.MEMBER_JOINED: _joined,
    RuleTrigger.KEYWORD: _keyword,
    RuleTrigger.SILENCE: _silence,
    RuleTrigger.INACTIVE: _inactive,
    RuleTrigger.CHECK_IN_MISSED: _check_in_missed,
    RuleTrigger.ITEM_OVERDUE: _item_overdue,
    RuleTrigger.TIER_CHANGED: _tier_changed,
    RuleTrigger.VIOLATION: _violation,
}


def candidates(spec: RuleSpec, start: datetime, end: datetime) -> list[Candidate]:
    """What could make ``spec`` fire over [start, end), oldest first (with
    ``spec.fresh_only``, beat's scan: without what the rule already fired for)."""
    communities = {c.pk: c for c in spec.communities()}
    if not communities:
        return []
    return _BY_TRIGGER[spec.trigger](spec, start, end, communities)
