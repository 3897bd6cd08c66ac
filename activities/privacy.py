"""The events' part of a member's privacy requests (members.privacy calls it).

Registered at start-up into ``communities.panels``' member-data registry, so members can
export and erase a member's events without importing activities.

Export: every event of the member, oldest first, read in chunks. Erasure: the events stay
(same member, community, kind, source and time, so every rollup and dashboard figure is
unchanged); their text is removed and their external id, which can carry the sender's
platform id (a reaction's id names the reactor), becomes ``erased:<event id>``. An erased
member's events are therefore no longer recognised as duplicates if an old export file is
imported again.

Merge (``members.merge``): the merged member's events become the kept member's, and the
days they fall on (with the memberships' join and leave days members collected, and
today) are marked for the rollups, per community, in the merge's transaction.
"""

from zoneinfo import ZoneInfo

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, TruncDate

from activities.ingest import days_mark
from activities.models import ActivityEvent
from communities.models import Community
from communities.panels import MemberData, MemberDataSection, MemberMerge, register_member_data

CHUNK_SIZE = 2000
FIELDS = ("id", "community__name", "kind", "occurred_at", "source", "external_id", "text")
COLUMNS = ("id", "community", "kind", "occurred_at", "source", "external_id", "text")


def events_export(member) -> list[MemberDataSection]:
    def rows():
        events = ActivityEvent.objects.filter(member=member).order_by("occurred_at", "id")
        for values in events.values_list(*FIELDS).iterator(chunk_size=CHUNK_SIZE):
            yield dict(zip(COLUMNS, values, strict=True))

    return [MemberDataSection("activity_events", COLUMNS, rows)]


def events_erase(member) -> None:
    ActivityEvent.objects.filter(member=member).update(
        text="",
        external_id=Concat(Value("erased:"), Cast("id", output_field=CharField())),
    )


def events_merge(merge: MemberMerge) -> None:
    events = ActivityEvent.objects.filter(member=merge.source)
    ids = set(events.values_list("community_id", flat=True).distinct()) | set(merge.days)
    for community in Community.objects.filter(pk__in=ids):
        tz = ZoneInfo(community.time_zone)
        days = merge.days.setdefault(community.pk, set())
        days.update(
            events.filter(community=community)
            .annotate(day=TruncDate("occurred_at", tzinfo=tz))
            .values_list("day", flat=True)
            .order_by()
            .distinct()
        )
        days.add(community.local_today())
        days_mark(community_id=community.pk, days=days)
    events.update(member=merge.target)


register_member_data(
    MemberData(
        key="activities.events",
        export=events_export,
        erase=events_erase,
        merge=events_merge,
        order=50,
    )
)
