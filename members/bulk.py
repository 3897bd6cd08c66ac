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
from django.db.models import Exists, F, OuterRef

from communities.models import Community
from members.models import Member, Membership, MembershipStatus, PlatformHandle

CHUNK = 500  # ids per IN (…) list: well under every backend's parameter limit

_NAME_LENGTH = Member._meta.get_field("display_name").max_length


def _chunks(items: Iterable, size: int = CHUNK):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def members_known_by_name(*, community: Community, platform: str) -> bool:
    """Whether ``community`` has a member known only by name on ``platform`` (one query)."""
    with_id = PlatformHandle.objects.filter(member=OuterRef("member"), platform=platform).exclude(
        external_id=OuterRef("member__display_name")
    )
    return Membership.objects.filter(community=community).exclude(Exists(with_id)).exists()


def members_resolve(
    *, community: Community, platform: str, people: Mapping[str, str], match_names: bool = True
) -> tuple[dict[str, int], int]:
    """Member ids for member keys (``{key: display name}``) seen in ``community``.

    A key is a platform id, or the person's display name when the source has no ids (the
    key equals the name: WeChat system lines, WhatsApp). The rule (one person, one member):

    - a platform id is found through its handle, across the organisation;
    - a new platform id whose name is borne by exactly one member of *this* community, a
      member known only by that name (no platform id on ``platform`` yet), is that member:
      it gets the id as a handle, so later imports find it by id;
    - a name key is a member of *this* community: the one known only by that name, else
      the one member bearing that name (who may have a platform id);
    - names never match across communities (only memberships of ``community`` count),
      and an ambiguous name (two members of the community bear it) matches nobody: a
      new member is created and shows among the members page's possible duplicates.

    ``match_names=False`` says the caller knows the community has nobody known only by name
    (``members_known_by_name``): new platform ids are then not looked up by name.

    Unknown keys become new members; a name key's member gets the name as a handle when no
    other member of the organisation holds it (kept for a rename's sake; never looked up
    across communities). Returns ``({key: member id}, members created)``. Safe against a
    concurrent ingest creating the same platform id: the handle's unique constraint
    decides, and a member that lost the race is removed.
    """
    organization = community.organization
    name_keys = {key for key, name in people.items() if key.strip() == (name or "").strip()}
    found: dict[str, int] = {}
    id_keys = [key for key in people if key not in name_keys]
    for keys in _chunks(id_keys):
        found.update(
            PlatformHandle.objects.filter(
                organization=organization, platform=platform, external_id__in=keys
            ).values_list("external_id", "member_id")
        )
    for keys in _chunks(name_keys):
        found.update(
            PlatformHandle.objects.filter(
                organization=organization,
                platform=platform,
                external_id__in=keys,
                member__memberships__community=community,
            ).values_list("external_id", "member_id")
        )
    missing = [key for key in people if key not in found]
    if not missing:
        return found, 0

    if match_names or any(key in name_keys for key in missing):
        names = {_name(people, key) for key in missing}
        by_name, name_only = _community_names(community, platform, names)
    else:
        by_name, name_only = {}, set()
    new_names: list[str] = []  # one new member per name
    new_index: dict[str, int] = {}  # name → index in new_names
    name_handle: dict[str, str] = {}  # name → the name key it came as
    attach: dict[str, int | str] = {}  # platform id → existing member id, or a new name
    plan: dict[str, int | str] = {}  # key → existing member id, or a new member's name
    for key in missing:
        if key not in name_keys:
            continue
        name = _name(people, key)
        members = by_name.get(name, [])
        only = [m for m in members if m in name_only]
        if len(only) == 1:
            plan[key] = only[0]
        elif len(members) == 1:
            plan[key] = members[0]
        else:
            plan[key] = name
            name_handle.setdefault(name, key)
            new_index.setdefault(name, len(new_names))
            if new_index[name] == len(new_names):
                new_names.append(name)
    # Platform ids: several new ids under one name are several people; nobody is guessed.
    id_names: dict[str, int] = {}
    for key in missing:
        if key not in name_keys and (people[key] or "").strip():
            id_names[_name(people, key)] = id_names.get(_name(people, key), 0) + 1
    for key in missing:
        if key in name_keys:
            continue
        name = _name(people, key)
        if not (people[key] or "").strip() or id_names.get(name) != 1:
            continue
        members = by_name.get(name, [])
        if name in new_index and not members:
            attach[key] = name  # named earlier in this batch, speaks with an id now
        elif len(members) == 1 and members[0] in name_only and name not in new_index:
            attach[key] = members[0]
    creating = [key for key in missing if key not in name_keys and key not in attach]

    new_members = Member.objects.bulk_create(
        [Member(organization=organization, display_name=name) for name in new_names]
        + [Member(organization=organization, display_name=_name(people, k)) for k in creating],
        batch_size=CHUNK,
    )
    by_new_name = {name: new_members[i].pk for i, name in enumerate(new_names)}
    id_members = dict(zip(creating, new_members[len(new_names) :], strict=True))
    for key, target in plan.items():
        found[key] = target if isinstance(target, int) else by_new_name[target]
    wanted: dict[str, int] = {key: m.pk for key, m in id_members.items()}
    for key, target in attach.items():
        wanted[key] = target if isinstance(target, int) else by_new_name[target]
    PlatformHandle.objects.bulk_create(
        [
            PlatformHandle(
                organization=organization, member_id=member_id, platform=platform, external_id=key
            )
            for key, member_id in [
                *wanted.items(),
                *((name_handle[n], by_new_name[n]) for n in new_names),
            ]
        ],
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    winners: dict[str, int] = {}
    for keys in _chunks(wanted):
        winners.update(
            PlatformHandle.objects.filter(
                organization=organization, platform=platform, external_id__in=keys
            ).values_list("external_id", "member_id")
        )
    losers = [m.pk for key, m in id_members.items() if winners[key] != m.pk]
    if losers:
        Member.objects.filter(pk__in=losers).delete()
    found.update(winners)
    return found, len(new_members) - len(losers)


def _name(people: Mapping[str, str], key: str) -> str:
    """The display name a new member gets (and names are compared by)."""
    return (people[key] or key).strip()[:_NAME_LENGTH] or key[:_NAME_LENGTH]


def _community_names(
    community: Community, platform: str, names: set[str]
) -> tuple[dict[str, list[int]], set[int]]:
    """Members of ``community`` bearing ``names`` (``{name: [member id…]}``), and which of
    them are known only by name on ``platform`` (no handle other than their name)."""
    by_name: dict[str, list[int]] = {}
    for chunk in _chunks(names):
        # Through the members' (organisation, display name) index, then the membership.
        rows = Membership.objects.filter(
            community=community,
            member__organization_id=community.organization_id,
            member__display_name__in=chunk,
        ).values_list("member_id", "member__display_name")
        for member_id, name in rows:
            by_name.setdefault(name, []).append(member_id)
    ids = [member_id for members in by_name.values() for member_id in members]
    with_id: set[int] = set()
    for chunk in _chunks(ids):
        with_id.update(
            PlatformHandle.objects.filter(member_id__in=chunk, platform=platform)
            .exclude(external_id=F("member__display_name"))
            .values_list("member_id", flat=True)
        )
    return by_name, set(ids) - with_id


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
