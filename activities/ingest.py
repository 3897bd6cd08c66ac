"""The one path every activity takes into the event log (imports, webhook, manual, demo).

``ingest_events`` reads an iterator of ``IncomingEvent``s in batches, so memory stays flat
whatever the file size: per batch it resolves platform ids to members (creating unknown
people with an active membership), writes the events deduplicated on (community, source,
external_id), applies joins/leaves to memberships, moves ``last_active_at`` forward and
marks the touched (community, local day) pairs for the analytics rollups.

One person, one member (``members.bulk.members_resolve``). A member key is a platform id,
or the display name when the source names people only (WeChat system lines, WhatsApp): a
name key is one whose key equals its name. Within one community:

- an event whose key is a platform id and whose name is borne by one member of *that
  community* known only by that name (created from a name-keyed event, no platform id
  yet) is that member, who gets the id, so later imports find them by it;
- a name-keyed event whose name is borne by one member of that community (known only by
  the name, or with a platform id and that display name) is that member, so a removal by
  name lands on the person who spoke;
- names never match across communities (only memberships of the community count), and
  an ambiguous name (two members of the community bear it) matches nobody: a member is
  created as before (once: a name key then finds the one member known only by that
  name), and the namesakes show among the members page's possible duplicates, for staff
  to merge (``members.merge``).

Each key is resolved once per import, by a few queries per batch (none per event); name
lookups for new platform ids are made only when the community has someone known only by
name, or the import names someone (one query, once per import, says which).

Writing is the hot path (a million-message export): on PostgreSQL a batch is COPYed into
a temporary table and moved with one ``INSERT … SELECT … ON CONFLICT DO NOTHING``; on
SQLite it is one ``executemany`` of ``INSERT … ON CONFLICT DO NOTHING``. Only the few
membership events are inserted with ``RETURNING``, so that a join or leave seen twice
(a re-import) is applied once.

The caller owns the transaction: an import wraps a whole file, so a problem anywhere
leaves nothing written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from activities.calendar.challenges import CHAT_KINDS, ChatCheckIns, chat_check_ins
from activities.importers.base import IncomingEvent, stable_id
from activities.models import (
    MEMBERSHIP_KINDS,
    ActivityEvent,
    ActivityKind,
    EventSource,
    TouchedDay,
)
from communities.models import Community
from members.bulk import (
    members_known_by_name,
    members_resolve,
    memberships_ensure,
    memberships_record_presence,
    memberships_touch,
)
from members.models import MembershipStatus

BATCH_SIZE = 5_000

_PRESENCE = {
    ActivityKind.JOIN: MembershipStatus.ACTIVE,
    ActivityKind.LEAVE: MembershipStatus.LEFT,
    ActivityKind.REMOVED: MembershipStatus.REMOVED,
}
_TABLE = ActivityEvent._meta.db_table
_COLUMNS = "community_id, member_id, kind, occurred_at, source, external_id, text"
# Table and column names are constants of this module, never input.
_ON_CONFLICT = "ON CONFLICT (community_id, source, external_id) DO NOTHING"
_INSERT_VALUES = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s) {_ON_CONFLICT}"  # noqa: S608
)
_INSERT_FROM_STAGE = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM ingest_stage {_ON_CONFLICT}"  # noqa: S608
)
_INSERT_MANY = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES {{values}} {_ON_CONFLICT} RETURNING external_id"  # noqa: S608
)
_STAGE_TYPES = ["int8", "int8", "varchar", "timestamptz", "varchar", "varchar", "text"]
_MAX_ID = ActivityEvent._meta.get_field("external_id").max_length


@dataclass
class IngestResult:
    events_created: int = 0
    duplicates_skipped: int = 0
    members_created: int = 0
    memberships_created: int = 0
    days_touched: set[date] = field(default_factory=set)

    def add(self, other: IngestResult) -> None:
        self.events_created += other.events_created
        self.duplicates_skipped += other.duplicates_skipped
        self.members_created += other.members_created
        self.memberships_created += other.memberships_created
        self.days_touched |= other.days_touched


def _batches(events: Iterable[IncomingEvent], size: int) -> Iterator[list[IncomingEvent]]:
    iterator = iter(events)
    while batch := list(islice(iterator, size)):
        yield batch


class _LocalDays:
    """The community-local day of a UTC instant, remembering the last day's bounds:
    events come roughly in time order, so most lookups are two comparisons."""

    def __init__(self, tz: ZoneInfo):
        self.tz = tz
        self.start = self.end = datetime.min.replace(tzinfo=UTC)
        self.day = date.min

    def __call__(self, when: datetime) -> date:
        if not (self.start <= when < self.end):
            self.day = when.astimezone(self.tz).date()
            self.start = datetime.combine(self.day, time.min, self.tz).astimezone(UTC)
            next_day = self.day + timedelta(days=1)
            self.end = datetime.combine(next_day, time.min, self.tz).astimezone(UTC)
        return self.day


@dataclass
class _State:
    """What one ingest carries from batch to batch."""

    community: Community
    source: str
    platform: str
    keep_text: bool
    local_day: _LocalDays
    member_ids: dict[str, int]  # member key → member id
    writer: _Writer
    with_membership: set[str] = field(default_factory=set)  # member keys
    # Applied once at the end: per member, the latest activity and membership change.
    last_active: dict[str, datetime] = field(default_factory=dict)  # by member key
    presence: dict[int, tuple[datetime, str]] = field(default_factory=dict)
    # Keyword check-ins of the community's challenges; None (the usual case): none open.
    check_ins: ChatCheckIns | None = None
    # Whether new platform ids may be someone known by name (members.bulk.members_resolve).
    match_names: bool | None = None  # None: not looked up yet


def ingest_events(
    *,
    community: Community,
    source: str,
    events: Iterable[IncomingEvent],
    platform: str | None = None,
    batch_size: int = BATCH_SIZE,
    known_members: dict[str, int] | None = None,
) -> IngestResult:
    """Write ``events`` into ``community``'s log, all or nothing.

    ``known_members`` maps member keys to member ids the caller has already resolved
    (manual entry for a member who has no platform id).
    """
    state = _State(
        community=community,
        source=source,
        platform=platform or community.platform,
        keep_text=community.organization.keep_message_text,
        local_day=_LocalDays(ZoneInfo(community.time_zone)),
        member_ids=dict(known_members or {}),
        writer=_Writer(),
        check_ins=chat_check_ins(community),
    )
    result = IngestResult()
    with transaction.atomic():
        rows = 0
        try:
            for batch in _batches(events, batch_size):
                rows += len(batch)
                result.add(_ingest_batch(state, batch))
        finally:
            result.events_created += state.writer.close()
        result.duplicates_skipped = rows - result.events_created
        for member_id, kind, occurred_at in state.writer.new_membership_events:
            known = state.presence.get(member_id)
            if known is None or occurred_at >= known[0]:
                state.presence[member_id] = (occurred_at, kind)
        _apply_to_memberships(state)
        if state.check_ins is not None:
            state.check_ins.apply()
        days_mark(community_id=community.pk, days=result.days_touched)
    return result


def days_mark(*, community_id: int, days: Iterable[date]) -> None:
    """Mark (community, local day)s for the analytics rollups to refresh.

    A day marked already gets a new time, so a refresh running now keeps the mark.
    """
    TouchedDay.objects.bulk_create(
        [TouchedDay(community_id=community_id, day=day) for day in sorted(days)],
        update_conflicts=True,
        unique_fields=["community", "day"],
        update_fields=["marked_at"],
    )


def manual_event_withdraw(*, community_id: int, external_id: str, day: date) -> None:
    """Take back an event that staff recorded (an unticked attendance, a removed check-in):
    the one way out of the log, the inverse of ``ingest_events`` for one manual event."""
    ActivityEvent.objects.filter(
        community_id=community_id, source=EventSource.MANUAL, external_id=external_id
    ).delete()
    days_mark(community_id=community_id, days=[day])


def _ingest_batch(state: _State, batch: list[IncomingEvent]) -> IngestResult:
    result = IngestResult()
    community = state.community
    # First the pure-Python pass, keyed by member key: on PostgreSQL it runs while the
    # previous batch is still being written (see _Writer); the database is needed only
    # afterwards, to resolve the keys.
    first_seen: dict[str, date] = {}  # keys without a membership here yet → first day
    last_active = state.last_active
    with_membership = state.with_membership
    local_day = state.local_day
    days = result.days_touched
    activity, membership = [], []
    keep_text = state.keep_text
    # Chat rows a challenge's keyword may match, with their text (before it is dropped).
    check_ins, chat = state.check_ins, []
    for event in map(fit_event, batch):
        key = event.member_key
        # Kept in UTC from here on: PostgreSQL refuses offsets beyond ±15:59 that
        # Python (and ISO 8601 senders) allow.
        when = event.occurred_at.astimezone(UTC)
        day = local_day(when)
        days.add(day)
        if key not in with_membership:
            seen = first_seen.get(key)
            if seen is None or day < seen[0]:
                first_seen[key] = (day, event.member_name)
        row = (key, event.kind, when, event.external_id, event.text if keep_text else "")
        if event.kind in MEMBERSHIP_KINDS:
            membership.append(row)
        else:
            activity.append(row)
            if check_ins is not None and event.kind in CHAT_KINDS:
                chat.append((key, event.kind, when, event.text))
            previous = last_active.get(key)
            if previous is None or when > previous:
                last_active[key] = when

    member_ids = state.member_ids
    unknown = {key: name for key, (_day, name) in first_seen.items() if key not in member_ids}
    if unknown:
        if state.match_names is None:
            # Looked up once, when first needed: a community of people known by id only
            # (most webhook and id-keyed imports) costs no name lookups at all.
            state.match_names = members_known_by_name(community=community, platform=state.platform)
        if any(key == name for key, name in unknown.items()):
            state.match_names = True  # from now on, new ids may be people named earlier
        resolved, result.members_created = members_resolve(
            community=community,
            platform=state.platform,
            people=unknown,
            match_names=state.match_names,
        )
        member_ids.update(resolved)
    if first_seen:
        result.memberships_created = memberships_ensure(
            community=community,
            first_seen={member_ids[key]: day for key, (day, _name) in first_seen.items()},
        )
        with_membership.update(first_seen)

    if chat:
        check_ins.feed([(member_ids[k], kind, w, text) for k, kind, w, text in chat])

    community_id, source = community.pk, state.source
    state.writer.write(
        [(community_id, member_ids[k], kind, w, source, x, t) for k, kind, w, x, t in activity],
        [(community_id, member_ids[k], kind, w, source, x, t) for k, kind, w, x, t in membership],
    )
    return result


def _apply_to_memberships(state: _State) -> None:
    """Joins, leaves and last activity, once per ingest rather than once per batch."""
    if state.presence:
        memberships_record_presence(
            community=state.community,
            changes={
                member_id: (_PRESENCE[kind], state.local_day(when))
                for member_id, (when, kind) in state.presence.items()
            },
        )
    if state.last_active:
        memberships_touch(
            community=state.community,
            last_active={state.member_ids[key]: when for key, when in state.last_active.items()},
        )


def fit_event(event: IncomingEvent) -> IncomingEvent:
    """Ids longer than the columns become stable hashes instead of failing the batch."""
    if len(event.external_id) <= _MAX_ID and len(event.member_key) <= _MAX_ID:
        return event
    return IncomingEvent(
        external_id=event.external_id
        if len(event.external_id) <= _MAX_ID
        else stable_id(event.external_id),
        kind=event.kind,
        occurred_at=event.occurred_at,
        member_key=event.member_key
        if len(event.member_key) <= _MAX_ID
        else stable_id(event.member_key),
        member_name=event.member_name,
        text=event.text,
    )


# --- Writers ----------------------------------------------------------------------------


def _sqlite_row(row: tuple) -> tuple:
    # Django keeps SQLite datetimes as naive UTC text; match it so lookups still work.
    when = row[3].astimezone(UTC).replace(tzinfo=None)
    return (*row[:3], str(when), *row[4:])


class _Writer:
    """Inserts a batch's rows, skipping duplicates; counts the new ones and keeps the new
    membership events (a join or leave seen twice is applied once).

    On PostgreSQL batch N is written by a second thread on the *same* database
    connection, hence in the same transaction, while this thread reads and matches batch
    N+1: the server's work and Python's overlap. psycopg serialises a connection's use
    with a lock, so this thread's own queries wait their turn; one batch is in flight.
    """

    def __init__(self):
        self.created = 0
        self.new_membership_events: list[tuple[int, str, datetime]] = []
        self._pending: Future | None = None
        self._pool = None
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            self._raw = connection.connection
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest")

    def write(self, activity_rows: list[tuple], membership_rows: list[tuple]) -> None:
        if self._pool is None:
            with connection.cursor() as cursor:
                self._collect(_write_sqlite(cursor, activity_rows, membership_rows))
            return
        self._wait()
        self._pending = self._pool.submit(
            _write_postgresql, self._raw, activity_rows, membership_rows
        )

    def _collect(self, outcome: tuple[int, list]) -> None:
        created, new_membership_events = outcome
        self.created += created + len(new_membership_events)
        self.new_membership_events.extend(new_membership_events)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self._collect(pending.result())

    def close(self) -> int:
        """Wait for the last batch (its error, if any, is raised here); the count."""
        try:
            self._wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        return self.created


def _write_postgresql(raw_connection, activity_rows, membership_rows) -> tuple[int, list]:
    created = 0
    with raw_connection.cursor() as cursor:
        if activity_rows:
            _copy_to_stage(cursor, activity_rows)
            cursor.execute(_INSERT_FROM_STAGE)
            created = cursor.rowcount
        return created, _insert_returning(cursor, membership_rows, membership_rows)


def _write_sqlite(cursor, activity_rows, membership_rows) -> tuple[int, list]:
    created = 0
    if activity_rows:
        cursor.executemany(_INSERT_VALUES, [_sqlite_row(row) for row in activity_rows])
        created = cursor.rowcount
    sqlite_rows = [_sqlite_row(row) for row in membership_rows]
    return created, _insert_returning(cursor, sqlite_rows, membership_rows)


def _insert_returning(cursor, params_rows: list[tuple], rows: list[tuple]) -> list[tuple]:
    """Insert membership rows (``params_rows``: as the backend takes them); returns
    (member, kind, when) of the ``rows`` that were new."""
    new = []
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        params = [v for row in params_rows[start : start + 500] for v in row]
        cursor.execute(_INSERT_MANY.format(values=values), params)
        created = {external_id for (external_id,) in cursor.fetchall()}
        for row in chunk:
            if row[5] in created:
                created.discard(row[5])  # a repeat within the batch was not the new one
                new.append((row[1], row[2], row[3]))
    return new


def _copy_to_stage(cursor, rows: list[tuple]) -> None:
    cursor.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS ingest_stage ("
        " community_id bigint, member_id bigint, kind varchar(10),"
        " occurred_at timestamptz, source varchar(10), external_id varchar(200), text text"
        ") ON COMMIT DROP"
    )
    cursor.execute("TRUNCATE ingest_stage")
    # Binary COPY: values are packed in C, and the server parses no text.
    with cursor.copy(f"COPY ingest_stage ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(_STAGE_TYPES)
        for row in rows:
            copy.write_row(row)
