"""The events' part of a member's privacy requests (members.privacy calls it).

Registered at start-up into ``communities.panels``' member-data registry, so members can
export and erase a member's events without importing activities.

Export: every event of the member, oldest first, read in chunks. Erasure: the events stay
(same member, community, kind, source and time, so every rollup and dashboard figure is
unchanged); their text is removed and their external id, which can carry the sender's
platform id (a reaction's id names the reactor), becomes ``erased:<event id>``. An erased
member's events are therefore no longer recognised as duplicates if an old export file is
imported again.
"""

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from activities.models import ActivityEvent
from communities.panels import MemberData, MemberDataSection, register_member_data

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


register_member_data(
    MemberData(key="activities.events", export=events_export, erase=events_erase, order=50)
)
