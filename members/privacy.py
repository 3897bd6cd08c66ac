"""Members' privacy requests (GDPR; PIPL for Chinese operators): export and erasure.

*Export* writes one ZIP of everything held about a member: ``member.json`` (every section
below, one object) and one CSV per section. The members app's own sections come first;
a higher app adds its own through ``communities.panels.register_member_data`` (activities:
the events), so this module never names a higher app. Rows are read in chunks and
written straight into a temporary file: a member with millions of events costs bounded
memory.

*Erasure* removes the person and keeps the figures, in one transaction:

- the ``Member`` row stays (every rollup, count and ledger points at it), renamed
  "Erased member #<id>" in the organisation's language, its notes cleared, ``erased_at``
  set; its platform handles are deleted, its tags detached (a tag no other member
  carries is deleted: it described only this person);
- ledgers stay as anonymous entries: points, deposits, tier changes and violations keep
  their amounts, kinds, strikes, rules and dates (so balances and figures still add up);
  their free text (reason, note, evidence), which could carry the name, is cleared;
- applications (the member's, and any in the organisation under one of their handles)
  lose their name, platform id, answers and decision note;
- every registered provider erases its part (activities: events keep their member,
  community, kind, source and time, so every figure is unchanged; their text is removed
  and their external id, which can hold the sender's platform id, is replaced);
- the staff log records the erasure, with who asked and when; the name and handles are
  removed from the details of this member's earlier export and erasure records.

What "unchanged" means (the definition the tests hold erasure to): every dashboard figure
of every day is the same after the erasure as before it, for every day, the days before
it included; nothing is "otherwise by definition". The rollups store counts per member id
and day and tier names, none of which erasure changes, so analytics registers no erasure
step and no rollup needs refreshing. Not covered: what *other* people wrote about the
member (another member's messages or notes mentioning the name) is their data and stays;
uploaded import files are files, not database rows (see the import history).
"""

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from communities.models import StaffAction, StaffLogEntry
from communities.panels import MemberDataSection, registered_member_data
from communities.services import staff_log_record
from members.models import (
    Application,
    DepositEntry,
    Member,
    Membership,
    PointsEntry,
    Tag,
    TierChange,
    Violation,
)
from members.transfer import neutralise

CHUNK_SIZE = 2000
BUNDLE_FORMAT = "communityops.member-export/1"
JSON_NAME = "member.json"


# --- What is held about a member -------------------------------------------------------------


def _rows(queryset, fields: tuple[str, ...], names: tuple[str, ...] | None = None):
    """A callable that reads ``fields`` of the queryset in chunks, as dicts named ``names``."""
    names = names or fields

    def read() -> Iterator[dict]:
        for values in queryset.values_list(*fields).iterator(chunk_size=CHUNK_SIZE):
            yield dict(zip(names, values, strict=True))

    return read


def member_applications(member: Member) -> Q:
    """The applications that are this member's: by membership, or under one of their handles."""
    condition = Q(membership__member=member)
    for platform, external_id in member.handles.values_list("platform", "external_id"):
        condition |= Q(
            community__organization_id=member.organization_id,
            platform=platform,
            external_id=external_id,
        )
    return condition


def _memberships(member: Member):
    def read() -> Iterator[dict]:
        memberships = (
            Membership.objects.filter(member=member)
            .select_related("community", "tier", "squad")
            .prefetch_related("roles")
            .order_by("community__name", "pk")
        )
        for membership in memberships:
            yield {
                "id": membership.pk,
                "community": membership.community.name,
                "status": membership.status,
                "joined_on": membership.joined_on,
                "left_on": membership.left_on,
                "tier": membership.tier.name if membership.tier else None,
                "tier_rank": membership.tier.rank if membership.tier else None,
                "tier_set_by_staff": membership.tier_set_by_staff,
                "squad": membership.squad.name if membership.squad else None,
                "roles": [role.role for role in membership.roles.all()],
                "points_balance": membership.points_balance,
                "last_active_at": membership.last_active_at,
                "created_at": membership.created_at,
            }

    return read


def _own_sections(member: Member) -> list[MemberDataSection]:
    ledger = ("membership_id", "membership__community__name")
    ledger_names = ("membership_id", "community")
    by_member = {"membership__member": member}
    profile = ("id", "display_name", "notes", "created_at", "erased_at")
    sections = [
        MemberDataSection("profile", profile, _rows(Member.objects.filter(pk=member.pk), profile)),
        MemberDataSection(
            "platform_handles",
            ("platform", "external_id"),
            _rows(member.handles.order_by("platform", "external_id"), ("platform", "external_id")),
        ),
        MemberDataSection(
            "tags", ("kind", "name"), _rows(member.tags.order_by("kind", "name"), ("kind", "name"))
        ),
        MemberDataSection(
            "memberships",
            (
                "id",
                "community",
                "status",
                "joined_on",
                "left_on",
                "tier",
                "tier_rank",
                "tier_set_by_staff",
                "squad",
                "roles",
                "points_balance",
                "last_active_at",
                "created_at",
            ),
            _memberships(member),
        ),
    ]
    tables = [
        (
            "tier_changes",
            TierChange,
            ("from_tier__name", "to_tier__name", "reason", "changed_by__username", "created_at"),
            ("from_tier", "to_tier", "reason", "changed_by", "created_at"),
        ),
        (
            "points_entries",
            PointsEntry,
            ("delta", "reason", "rule__title", "created_by__username", "created_at"),
            ("delta", "reason", "rule", "created_by", "created_at"),
        ),
        (
            "deposit_entries",
            DepositEntry,
            ("kind", "amount", "note", "created_by__username", "created_at"),
            ("kind", "amount", "note", "created_by", "created_at"),
        ),
        (
            "violations",
            Violation,
            ("rule__title", "strike", "action", "evidence", "recorded_by__username", "created_at"),
            ("rule", "strike", "action", "evidence", "recorded_by", "created_at"),
        ),
    ]
    for key, model, fields, names in tables:
        queryset = model.objects.filter(**by_member).order_by("created_at", "pk")
        sections.append(
            MemberDataSection(
                key,
                ledger_names + names,
                _rows(queryset, ledger + fields, ledger_names + names),
            )
        )
    application = (
        "id",
        "community__name",
        "display_name",
        "platform",
        "external_id",
        "answers",
        "status",
        "submitted_at",
        "reviewed_by__username",
        "reviewed_at",
        "decision_note",
    )
    application_names = ("id", "community", *application[2:8], "reviewed_by", *application[9:])
    sections.append(
        MemberDataSection(
            "applications",
            application_names,
            _rows(
                Application.objects.filter(member_applications(member))
                .distinct()
                .order_by("submitted_at", "pk"),
                application,
                application_names,
            ),
        )
    )
    return sections


def member_sections(member: Member) -> list[MemberDataSection]:
    """Every section of the member's bundle: the members app's, then the registered ones."""
    sections = _own_sections(member)
    for provider in registered_member_data():
        if provider.export is not None:
            sections.extend(provider.export(member))
    return sections


# --- The bundle ------------------------------------------------------------------------------


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return neutralise("; ".join(str(item) for item in value))
    if isinstance(value, dict):
        return neutralise(json.dumps(value, ensure_ascii=False, default=_json_default))
    return neutralise(str(value))


def _write_json(text: IO[str], member: Member, sections: Iterable[MemberDataSection]) -> None:
    head = {
        "format": BUNDLE_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "member_id": member.pk,
        "organization": member.organization.name,
    }
    text.write(json.dumps(head, ensure_ascii=False)[:-1])  # the object stays open
    for section in sections:
        text.write(f",\n{json.dumps(section.key)}: [")
        for index, row in enumerate(section.rows()):
            text.write(",\n  " if index else "\n  ")
            text.write(json.dumps(row, ensure_ascii=False, default=_json_default))
        text.write("\n]")
    text.write("\n}\n")


def _write_csv(text: IO[str], section: MemberDataSection) -> None:
    writer = csv.writer(text)
    writer.writerow(section.columns)
    for row in section.rows():
        writer.writerow([_cell(row.get(column)) for column in section.columns])


def bundle_write(member: Member, target: IO[bytes]) -> None:
    """Write the member's ZIP into ``target``, section by section (bounded memory)."""
    sections = member_sections(member)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        entries = [(JSON_NAME, "utf-8", lambda text: _write_json(text, member, sections))]
        entries += [
            (f"{section.key}.csv", "utf-8-sig", lambda text, s=section: _write_csv(text, s))
            for section in sections
        ]
        for name, encoding, write in entries:
            with bundle.open(name, "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding=encoding, newline="")
                write(text)
                text.flush()
                text.detach()


def _detail(member: Member, text: str) -> str:
    return f"#{member.pk} · {text.strip()}"


def member_export(*, member: Member, actor, requested_by: str) -> IO[bytes]:
    """The member's bundle as an open temporary file (at its start), the export recorded."""
    target = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    try:
        bundle_write(member, target)
    except BaseException:
        target.close()
        raise
    staff_log_record(
        organization=member.organization,
        actor=actor,
        action=StaffAction.MEMBER_EXPORTED,
        detail=_detail(member, requested_by),
    )
    target.seek(0)
    return target


# --- Erasure ---------------------------------------------------------------------------------


def erased_name(member: Member) -> str:
    """The placeholder an erased member goes by, in the organisation's language."""
    with translation.override(member.organization.language or settings.LANGUAGE_CODE):
        return _("Erased member #%(id)s") % {"id": member.pk}


def _scrub(text: str, secrets: list[str], placeholder: str) -> str:
    for secret in secrets:
        text = text.replace(secret, placeholder)
    return text


@transaction.atomic
def member_erase(*, member: Member, actor, reason: str) -> Member:
    """Erase the person behind ``member`` and keep every figure (see the module's text).

    All or nothing: any error leaves the member exactly as they were."""
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    if member.erased_at is not None:
        raise ValidationError(_("This member's data has already been erased."))
    placeholder = erased_name(member)
    handles = list(member.handles.values_list("external_id", flat=True))
    # Longest first, so a name that contains a handle (or the other way round) goes whole.
    secrets = sorted({s for s in [member.display_name, *handles] if s}, key=len, reverse=True)

    for provider in registered_member_data():
        if provider.erase is not None:
            provider.erase(member)

    Application.objects.filter(
        pk__in=Application.objects.filter(member_applications(member)).values("pk")
    ).update(display_name=placeholder, external_id="", answers={}, decision_note="")
    by_member = {"membership__member": member}
    PointsEntry.objects.filter(**by_member).exclude(reason="").update(reason="")
    TierChange.objects.filter(**by_member).exclude(reason="").update(reason="")
    DepositEntry.objects.filter(**by_member).exclude(note="").update(note="")
    Violation.objects.filter(**by_member).exclude(evidence="").update(evidence="")

    tag_ids = list(member.tags.values_list("pk", flat=True))
    member.tags.clear()
    Tag.objects.filter(pk__in=tag_ids, members__isnull=True).delete()
    member.handles.all().delete()

    member.display_name = placeholder
    member.notes = ""
    member.erased_at = timezone.now()
    member.save(update_fields=["display_name", "notes", "erased_at"])

    # The details of this member's earlier privacy records may name them.
    earlier = StaffLogEntry.objects.filter(
        organization_id=member.organization_id,
        action__in=[StaffAction.MEMBER_EXPORTED, StaffAction.MEMBER_ERASED],
        detail__startswith=_detail(member, ""),
    )
    for entry in earlier:
        scrubbed = _scrub(entry.detail, secrets, placeholder)
        if scrubbed != entry.detail:
            StaffLogEntry.objects.filter(pk=entry.pk).update(detail=scrubbed)
    staff_log_record(
        organization=member.organization,
        actor=actor,
        action=StaffAction.MEMBER_ERASED,
        detail=_detail(member, _scrub(reason, secrets, placeholder)),
    )
    return member
