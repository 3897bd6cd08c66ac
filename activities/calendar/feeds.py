"""Calendar feeds: private, revocable iCalendar URLs (``calendar/feeds/<key>.ics``).

Two kinds:

- a community's feed: every entry of that community (made and revoked by whoever may
  manage the community, ``MANAGE_COMMUNITIES``);
- a staff member's "my events": the entries they host, plus every entry of the
  communities assigned to them (for a moderator: their groups; owners, operators and
  managers see all communities, but only the ones assigned to them count here, so the
  feed stays theirs rather than the whole organisation's). Always limited to what the
  staff member may see *now*: a moderator taken off a group loses its entries, a
  deactivated staff member's feeds answer 404.

The key is the credential, the way API tokens work (``communities.tokens``): ``cal_`` +
32 random bytes, of which only the SHA-256 digest and the first characters are stored;
the full URL is shown once, when the feed is made. A revoked feed answers 404 at once.
``last_fetched_at`` is written at most once a minute, so a polling calendar does not
write on every fetch.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from activities.calendar import ics
from activities.calendar.models import CalendarEntry, CalendarFeed
from communities.models import Community, Staff
from communities.permissions import Capability, communities_for, has_capability
from communities.tokens import LAST_USED_RESOLUTION, MAX_KEY_LENGTH, PREFIX_LENGTH, key_digest

KEY_PREFIX = "cal_"


@transaction.atomic
def feed_create(*, staff: Staff, community: Community | None = None) -> tuple[CalendarFeed, str]:
    """A new feed (the community's, or ``staff``'s own); returns it and its key.

    The key is not stored anywhere: the caller shows it once.
    """
    if community is not None and not may_manage(staff, community):
        raise PermissionDenied
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(
        organization_id=staff.organization_id,
        community=community,
        user=None if community is not None else staff.user,
        prefix=key[:PREFIX_LENGTH],
        digest=key_digest(key),
        created_by=staff.user,
    )
    return feed, key


def feed_revoke(*, feed: CalendarFeed) -> None:
    """Stop the feed answering (idempotent)."""
    if feed.revoked_at is None:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])


def may_manage(staff: Staff, community: Community) -> bool:
    return (
        community.organization_id == staff.organization_id
        and has_capability(staff, Capability.MANAGE_COMMUNITIES)
        and communities_for(staff).filter(pk=community.pk).exists()
    )


def feeds_for(staff: Staff) -> QuerySet[CalendarFeed]:
    """The feeds a staff member sees on the feeds page: their own, and the communities'
    feeds they may manage."""
    mine = Q(user_id=staff.user_id, community__isnull=True)
    if has_capability(staff, Capability.MANAGE_COMMUNITIES):
        mine |= Q(community__in=communities_for(staff))
    return (
        CalendarFeed.objects.filter(organization_id=staff.organization_id)
        .filter(mine)
        .select_related("community")
    )


def feed_for_key(key: str) -> CalendarFeed | None:
    """The live feed a URL key names, or None (unknown, revoked, malformed, gone owner)."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.startswith(KEY_PREFIX):
        return None
    feed = (
        CalendarFeed.objects.select_related("organization", "community", "user")
        .filter(digest=key_digest(key), revoked_at__isnull=True)
        .first()
    )
    if feed is None:
        return None
    if feed.user_id is not None and owner_staff(feed) is None:
        return None
    return feed


def owner_staff(feed: CalendarFeed) -> Staff | None:
    """The active staff record behind a "my events" feed."""
    if feed.user_id is None or not feed.user.is_active:
        return None
    return Staff.objects.filter(
        organization_id=feed.organization_id, user_id=feed.user_id, deactivated_at__isnull=True
    ).first()


def mark_fetched(feed: CalendarFeed) -> None:
    """Record a fetch, at most once per ``LAST_USED_RESOLUTION``."""
    now = timezone.now()
    if feed.last_fetched_at is None or now - feed.last_fetched_at >= LAST_USED_RESOLUTION:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
        feed.last_fetched_at = now


def feed_queryset(feed: CalendarFeed) -> QuerySet[CalendarEntry]:
    """The entries a feed is about, before ``ics.feed_entries`` drops what is over."""
    entries = CalendarEntry.objects.filter(organization_id=feed.organization_id)
    through = CalendarEntry.communities.through.objects
    if feed.community_id is not None:
        return entries.filter(
            pk__in=through.filter(community_id=feed.community_id).values("calendarentry_id")
        )
    staff = owner_staff(feed)
    if staff is None:
        return entries.none()
    visible = communities_for(staff)
    in_visible = through.filter(community__in=visible).values("calendarentry_id")
    assigned = through.filter(community__in=visible.filter(assigned_staff=staff)).values(
        "calendarentry_id"
    )
    hosted = CalendarEntry.host_staff.through.objects.filter(user_id=staff.user_id).values(
        "calendarentry_id"
    )
    return entries.filter(pk__in=in_visible).filter(Q(pk__in=assigned) | Q(pk__in=hosted))


def feed_name(feed: CalendarFeed) -> str:
    if feed.community_id is not None:
        return feed.community.name
    user = feed.user.get_username() if feed.user else ""
    return _("My events (%(user)s) · %(organization)s") % {
        "user": user,
        "organization": feed.organization.name,
    }


def feed_language(feed: CalendarFeed) -> str:
    return feed.organization.language


def feed_filename(feed: CalendarFeed) -> str:
    if feed.community_id is not None:
        return f"{feed.community.slug}.ics"
    return "my-events.ics"


def feed_ics(feed: CalendarFeed) -> bytes:
    """The feed's iCalendar text (constant queries in the number of entries)."""
    language = feed_language(feed)
    with translation.override(language):
        name = feed_name(feed)
    entries = ics.feed_entries(feed_queryset(feed))
    return ics.to_ical(ics.calendar_for(entries, name=name, language=language))
