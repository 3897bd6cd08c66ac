"""The built-in silence nudge: a community quiet for more than 24 hours (DESIGN's silence
alert: no activity event for more than 24 hours) is announced to its moderators and the
operators, and its topic prompt (``CommunityAutomation.silence_prompt``) is posted through
its outlet (when it has an enabled one), once per silence.

A silence is named by the community's last activity event before it
(``nudge:<community>:<event id>``): the notice and the action are made once under that key,
so beat's half-hourly run repeats nothing until someone speaks and the group falls quiet
again. Only live communities count: not archived, with members, with any activity ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from activities.models import ACTIVITY_KINDS, ActivityEvent
from automations.models import ActionKind, CommunityAutomation, Outlet, ScheduledAction
from automations.selectors.recipients import moderators_and_operators
from communities.models import Community
from communities.notifications import notify
from members.models import PRESENT_STATUSES, Membership

SILENCE = timedelta(hours=24)


def silent_communities(*, now: datetime) -> list[Community]:
    """Live communities whose last activity event is more than ``SILENCE`` ago, each with
    ``last_event_id`` and ``last_event_at`` (one query)."""
    last = ActivityEvent.objects.filter(
        community=OuterRef("pk"), kind__in=sorted(ACTIVITY_KINDS)
    ).order_by("-occurred_at", "-pk")
    return list(
        Community.objects.filter(archived=False)
        .filter(
            pk__in=Membership.objects.filter(status__in=PRESENT_STATUSES).values("community_id")
        )
        .annotate(
            last_event_id=Subquery(last.values("pk")[:1]),
            last_event_at=Subquery(last.values("occurred_at")[:1]),
        )
        .filter(last_event_at__isnull=False, last_event_at__lt=now - SILENCE)
        .select_related("organization", "automation")
        .order_by("pk")
    )


def nudge_silent(*, now: datetime | None = None) -> int:
    """Announce each silent community once per silence (and post its prompt). Returns how
    many silences were announced now."""
    now = now or timezone.now()
    announced = 0
    for community in silent_communities(now=now):
        key = f"nudge:{community.pk}:{community.last_event_id}"
        hours = int((now - community.last_event_at).total_seconds() // 3600)
        with transaction.atomic():
            rows = notify(
                recipients=moderators_and_operators(community),
                message=gettext_noop(
                    "%(community)s has been quiet for %(hours)s hours — post a topic to wake it up."
                ),
                subject=gettext_noop("%(community)s has gone quiet"),
                params={"community": community.name, "hours": hours},
                url=reverse("communities:detail", kwargs={"community_slug": community.slug}),
                key=key,
            )
            made = _prompt(community, key, now)
        announced += bool(rows or made)
    return announced


def _prompt(community: Community, key: str, now: datetime) -> bool:
    try:
        options = community.automation
    except CommunityAutomation.DoesNotExist:
        return False
    prompt = options.silence_prompt.strip()
    if not prompt:
        return False
    # Posted only where it can be: without an enabled outlet the notice alone goes out.
    if not Outlet.objects.filter(community=community, disabled_at__isnull=True).exists():
        return False
    if ScheduledAction.objects.filter(
        organization_id=community.organization_id, source_key=key
    ).exists():
        return False
    try:
        with transaction.atomic():
            action = ScheduledAction.objects.create(
                organization_id=community.organization_id,
                kind=ActionKind.NUDGE,
                title=community.name[:200],
                text=prompt,
                due_at=now,
                source_key=key,
            )
            action.communities.add(community)
    except IntegrityError:
        return False  # another run made it
    return True
