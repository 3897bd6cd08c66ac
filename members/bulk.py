"""Bulk writes for activity ingestion: thousands of people per batch in a few queries.

Ingestion (the ``activities`` app) calls these with plain ids and dates, so member data
still changes only here (docs/architecture.md §1: ``Membership.last_active_at`` is kept current
through a ``members`` service). They skip ``full_clean()`` on purpose: the values come
from ingestion's own validation and a per-row clean would cost more than the insert.
"""

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from itertools import islice

from django.db import connection

from communities.models import Community, Organization
from members.models import Member, Membership, MembershipStatus, PlatformHandle

CHUNK = 500  # ids per IN (…) list: well under every backend's parameter limit

_NAME_LENGTH = Member._meta.get_field("display_name").max_length


def _chunks(items: Iterable, size: int = CHUNK):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def members_resolve(
    *, organization: Organization, platform: str, people: Mapping[str, str]
) -> tuple[dict[str, int], int]:
    """Member ids for platform ids (``{platform id: display name}``).

    Unknown ids become new members with that handle. Returns ``({platform id: member
    id}, members created)``. Safe against a concurrent ingest creating the same person:
    the handle's unique constraint decides, and a member that lost the race is removed.
    """
    found: dict[str, int] = {}
    for keys in _chunks(people):
        found.update(
            PlatformHandle.objects.filter(
                organization=organization, platform=platform, external_id__in=keys
            ).values_list("external_id", "member_id")
        )
    missing = [key for key in people if key not in found]
    if not missing:
        return found, 0
    new_members = Member.objects.bulk_create(
        [
            Member(
                organization=organization,
                display_name=(people[key] or key).strip()[:_NAME_LENGTH] or key[:_NAME_LENGTH],
            )
            for key in missing
        ],
        batch_size=CHUNK,
    )
    PlatformHandle.objects.bulk_create(
        [
            PlatformHandle(
                organization=organization, member=member, platform=platform, external_id=key
            )
            for key, member in zip(missing, new_members, strict=True)
        ],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    winners: dict[str, int] = {}
    for keys in _chunks(missing):
        winners.update(
            PlatformHandle.objects.filter(
                organization=organization, platform=platform, external_id__in=keys
            ).values_list("external_id", "member_id")
        )
    losers = [m.pk for key, m in zip(missing, new_members, strict=True) if winners[key] != m.pk]
    if losers:
        Member.objects.filter(pk__in=losers).delete()
    found.update(winners)
    return found, len(missing) - len(losers)


def memberships_ensure(*, community: Community, first_seen: Mapping[int, date]) -> int:
    """Give every member in ``first_seen`` a membership (active, bottom tier, joined on
    the day they were first seen) unless they have one. Returns how many were created."""
    existing: set[int] = set()
    for ids in _chunks(first_seen):
        existing.update(
            Membership.objects.filter(community=community, member_id__in=ids).values_list(
                "member_id", flat=True
            )
        )
    missing = [member_id for member_id in first_seen if member_id not in existing]
    if not missing:
        return 0
    bottom = community.tiers.order_by("rank").first()  # the ladder came with the community
    created = Membership.objects.bulk_create(
        [
            Membership(
                community=community,
                member_id=member_id,
                status=MembershipStatus.ACTIVE,
                joined_on=first_seen[member_id],
                tier=bottom,
            )
            for member_id in missing
        ],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    return len(created)


def _db_value(field: str, value):
    """A value as the backend stores it, for the raw ``executemany`` below."""
    return Membership._meta.get_field(field).get_db_prep_value(value, connection)


def memberships_record_presence(
    *, community: Community, changes: Mapping[int, tuple[str, date]]
) -> None:
    """Apply the latest join / leave / removal per member: ``{member id: (status, day)}``
    where status is active (joined), left or removed."""
    rows = []
    for ids in _chunks(changes):
        current = Membership.objects.filter(community=community, member_id__in=ids).values_list(
            "id", "member_id", "status", "joined_on", "left_on"
        )
        for pk, member_id, status, joined_on, left_on in current:
            wanted, day = changes[member_id]
            if wanted == MembershipStatus.ACTIVE:
                if status not in (MembershipStatus.ACTIVE, MembershipStatus.LURKER):
                    status, left_on = MembershipStatus.ACTIVE, None
                # History imported later may show an earlier join than the one recorded.
                joined_on = min(joined_on, day)
            else:
                status, left_on = wanted, day
            rows.append(
                (status, _db_value("joined_on", joined_on), _db_value("left_on", left_on), pk)
            )
    # One statement run many times (pipelined by psycopg): bulk_update's CASE WHEN costs
    # more than the writes themselves at tens of thousands of rows.
    with connection.cursor() as cursor:
        cursor.executemany(_SET_PRESENCE, rows)


def memberships_touch(*, community: Community, last_active: Mapping[int, datetime]) -> None:
    """Move ``last_active_at`` forward (never back) to the given times."""
    rows = [
        (value, community.pk, member_id, value)
        for member_id, value in (
            (member_id, _db_value("last_active_at", when))
            for member_id, when in last_active.items()
        )
    ]
    with connection.cursor() as cursor:
        cursor.executemany(_TOUCH, rows)


_TABLE = Membership._meta.db_table
# Table and column names are constants, never input.
_SET_PRESENCE = f"UPDATE {_TABLE} SET status = %s, joined_on = %s, left_on = %s WHERE id = %s"  # noqa: S608
_TOUCH = (
    f"UPDATE {_TABLE} SET last_active_at = %s WHERE community_id = %s AND member_id = %s"  # noqa: S608
    " AND (last_active_at IS NULL OR last_active_at < %s)"
)
