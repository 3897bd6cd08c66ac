"""Members CSV export and import: one format both ways, so an export re-imports.

The file is UTF-8 (a byte-order mark is written on export so that Excel shows Chinese
correctly, and accepted or not on import), comma-separated, one header row and then one
row per membership::

    display_name,platform,external_id,status,joined_on,tier,roles,squad,tags,points,notes

``display_name``
    The person's name. Required.
``platform``, ``external_id``
    Where the person is known and their id there (``wechat`` and a WeChat id…). Both or
    neither. ``platform`` is one of ``communities.models.Platform``'s values. A row whose
    platform id is already a member of the organisation is that person (their name, notes
    and other details are kept as they are; the row's tags are added); if that person is
    already in this community, the row is an error. Without a platform id, a row always
    adds a new person. On export, the platform id on the community's own platform is
    written, else the member's first one.
``status``
    A ``MembershipStatus`` value; empty means ``active``.
``joined_on``
    ISO date (``2026-03-01``); empty means today in the community's time zone.
``tier``
    A tier name of the community's ladder, or its rank number; empty means the bottom
    tier. A tier above the bottom counts as set by staff: the nightly promotion leaves it.
``roles``
    ``MemberRole`` values separated by semicolons (``admin;kol``).
``squad``
    A squad name; a squad missing from the community is created.
``tags``
    Separated by semicolons, each ``kind:name`` (kind a ``TagKind`` value) or a plain name
    (kind ``other``).
``points``
    A whole number, the starting balance: written to the points ledger as one entry
    (“Imported”). On export, the current balance.
``notes``
    Free text about the person.

Values (``wechat``, ``active``, ``admin``, ``interest``) are accepted in any case, as are
their labels in the user's language. The header is row 1, so the first member is row 2,
as a spreadsheet numbers them. An import with any invalid row writes nothing and reports
every problem found, row by row. Files over ``MAX_BYTES`` (5 MB) or ``MAX_ROWS`` (2,000)
rows are refused.

Formula injection: a cell that would start with ``= + - @``, a tab, a carriage return or
NUL (after any leading single quotes) is written with one more leading single quote, so
a spreadsheet shows it as text; the import takes that one quote away again.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import TextChoices
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from communities.models import Community, Platform
from communities.validators import validate_date_in_range
from members import hooks, services
from members.models import (
    Member,
    MemberRole,
    Membership,
    MembershipStatus,
    PlatformHandle,
    Squad,
    Tag,
    TagKind,
    Tier,
)

COLUMNS = (
    "display_name",
    "platform",
    "external_id",
    "status",
    "joined_on",
    "tier",
    "roles",
    "squad",
    "tags",
    "points",
    "notes",
)
REQUIRED_COLUMNS = ("display_name",)
LIST_SEPARATOR = ";"
TAG_KIND_SEPARATOR = ":"
MAX_BYTES = 5 * 1024 * 1024
# Imports run inside the web request, every row through the services (about 5 ms a row on
# SQLite): 2,000 rows stay around 10 s, well inside gunicorn's 30 s timeout. Larger files
# wait for the Celery import pipeline of the ingestion issue.
MAX_ROWS = 2_000
MAX_POINTS = 10_000_000


def import_limits() -> dict[str, str]:
    """``MAX_BYTES`` and ``MAX_ROWS`` as the page and the messages say them (in MB, and
    with the language's digit grouping): one source for the numbers, the constants."""
    return {
        "megabytes": str(MAX_BYTES // (1024 * 1024)),
        "rows": number_format(MAX_ROWS, force_grouping=True),
    }


# What a spreadsheet may read as the start of a formula (OWASP "CSV injection").
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
BOM = "\ufeff"


def csv_download(filename: str) -> tuple[HttpResponse, "csv._writer"]:
    """An attachment response that starts with a BOM (so Excel reads UTF-8, Chinese
    names included) and a csv writer on it; every CSV download goes through here.

    Never stored by a browser or proxy cache (``Cache-Control: no-store``, private): the
    files hold members' names and an organisation's figures."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)
    response.write(BOM)
    return response, csv.writer(response)


# --- Formula injection -------------------------------------------------------------------


def neutralise(value: str) -> str:
    """The cell as written: with one more leading quote if it could start a formula.

    Leading quotes are looked past, so that ``unneutralise`` restores any value exactly.
    """
    if value.lstrip("'").startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """The inverse of ``neutralise``: drop the quote an export put in front of a formula."""
    if value.startswith("'") and value.lstrip("'").startswith(DANGEROUS_PREFIXES):
        return value[1:]
    return value


# --- Export ------------------------------------------------------------------------------


def export_filename(*, community: Community) -> str:
    return f"members-{community.slug}-{community.local_today().isoformat()}.csv"


def _handle_for(member: Member, platform: str) -> PlatformHandle | None:
    handles = list(member.handles.all())  # prefetched by the selector
    return next((h for h in handles if h.platform == platform), None) or (
        handles[0] if handles else None
    )


def membership_row(membership: Membership) -> list[str]:
    """One membership as the CSV's cells (not yet neutralised), in ``COLUMNS`` order."""
    member = membership.member
    handle = _handle_for(member, membership.community.platform)
    tags = sorted(member.tags.all(), key=lambda t: (t.kind, t.name))
    return [
        member.display_name,
        handle.platform if handle else "",
        handle.external_id if handle else "",
        membership.status,
        membership.joined_on.isoformat() if membership.joined_on else "",
        membership.tier.name if membership.tier else "",
        LIST_SEPARATOR.join(sorted(r.role for r in membership.roles.all())),
        membership.squad.name if membership.squad else "",
        LIST_SEPARATOR.join(f"{t.kind}{TAG_KIND_SEPARATOR}{t.name}" for t in tags),
        str(membership.points_balance),
        member.notes,
    ]


def members_csv_write(*, memberships: Iterable[Membership], writer: "csv._writer") -> None:
    """Write the memberships with ``writer`` (``csv_download``'s): the header, then one
    neutralised row each.

    ``memberships`` should come from ``selectors.membership_list`` (it joins and
    prefetches what a row needs, so the export costs a constant number of queries).
    """
    writer.writerow(COLUMNS)
    for membership in memberships:
        writer.writerow([neutralise(cell) for cell in membership_row(membership)])


# --- Import ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem: the row (header = 1; None for the file as a whole), column, message."""

    row: int | None
    column: str
    message: str
    name: str = ""  # the row's display name, to help find it


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    members_created: int = 0
    members_matched: int = 0
    squads_created: int = 0
    points_entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    number: int
    display_name: str = ""
    platform: str = ""
    external_id: str = ""
    status: str = MembershipStatus.ACTIVE
    joined_on: date | None = None
    tier: Tier | None = None
    roles: list[str] = field(default_factory=list)
    squad: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)
    points: int = 0
    notes: str = ""
    member: Member | None = None  # an existing person, found by platform id


class _Rejected(Exception):
    """The file as a whole cannot be imported."""

    def __init__(self, message: str, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.error = RowError(row=row, column=column, message=message)


class _HeaderRejected(Exception):
    """The header row is wrong: every problem with it."""

    def __init__(self, errors: list[RowError]):
        super().__init__("header")
        self.errors = errors


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


def _too_long(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return _("At most %(max)s characters (this one has %(length)s).") % {
            "max": limit,
            "length": len(value),
        }
    return None


def _choices_lookup(choices: type[TextChoices]) -> dict[str, str]:
    """Value and label in the current language, lower-cased, to the value."""
    lookup = {}
    for value, label in choices.choices:
        lookup[str(label).strip().lower()] = value
    for value in choices.values:
        lookup[value.lower()] = value
    return lookup


def _choices_text(choices: type[TextChoices]) -> str:
    return ", ".join(choices.values)


def _read_text(file) -> str:
    too_big = _Rejected(
        _("The file is larger than %(max)s MB. Split it into smaller files.")
        % {"max": import_limits()["megabytes"]}
    )
    if (getattr(file, "size", None) or 0) > MAX_BYTES:
        raise too_big
    data = file.read(MAX_BYTES + 1)  # never more, whatever the file claims
    if len(data) > MAX_BYTES:
        raise too_big
    if isinstance(data, str):
        return data.removeprefix(BOM)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise _Rejected(
            _(
                "The file is not UTF-8 text (first problem on line %(line)s). "
                "In Excel, save it as “CSV UTF-8 (comma delimited)”."
            )
            % {"line": line}
        ) from error


def _read_records(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the non-blank data records, each with its row number (header = 1)."""
    if not text.strip():
        raise _Rejected(_("The file is empty."))
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    number = 0
    try:
        header = next(reader)
        number = 1
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, often at the end of a spreadsheet
            if len(records) == MAX_ROWS:
                raise _Rejected(
                    _("The file has more than %(max)s member rows. Split it into smaller files.")
                    % {"max": import_limits()["rows"]}
                )
            records.append((number, cells))
    except csv.Error as error:
        raise _Rejected(
            _("This row could not be read as CSV; check its quotation marks."), row=number + 1
        ) from error
    return header, records


def _read_header(header: list[str]) -> list[str]:
    columns = [cell.strip().removeprefix(BOM).lower() for cell in header]
    errors = []
    if len(columns) == 1 and any(sep in columns[0] for sep in (";", "\t")):
        raise _Rejected(_("Separate the columns with commas."), row=1)
    seen = set()
    for column in columns:
        if not column:
            continue
        if column not in COLUMNS:
            errors.append(
                RowError(
                    1,
                    column,
                    _("Unknown column “%(value)s”. The columns are: %(choices)s.")
                    % {"value": column, "choices": ", ".join(COLUMNS)},
                )
            )
        elif column in seen:
            errors.append(
                RowError(1, column, _("The column “%(value)s” appears twice.") % {"value": column})
            )
        seen.add(column)
    for column in REQUIRED_COLUMNS:
        if column not in seen:
            errors.append(
                RowError(
                    1,
                    column,
                    _("The header must include the column “%(value)s”.") % {"value": column},
                )
            )
    if errors:
        raise _HeaderRejected(errors)
    return columns


def _clean_cell(value: str) -> str:
    return unneutralise(value.strip()).strip()


class _Validator:
    """Checks rows against the community, without writing anything."""

    def __init__(self, community: Community):
        self.community = community
        self.today = community.local_today()
        self.platforms = _choices_lookup(Platform)
        self.statuses = _choices_lookup(MembershipStatus)
        self.roles = _choices_lookup(MemberRole)
        self.tag_kinds = _choices_lookup(TagKind)
        self.ladder = list(community.tiers.order_by("rank"))
        self.handles_seen: dict[tuple[str, str], int] = {}
        self.members_seen: dict[int, int] = {}
        self.present_member_ids = set(
            Membership.objects.filter(community=community).values_list("member_id", flat=True)
        )

    def existing_members(self, rows: list[_Row]) -> dict[tuple[str, str], Member]:
        """The organisation's people behind the rows' platform ids, in a few queries."""
        wanted = {(r.platform, r.external_id) for r in rows if r.platform and r.external_id}
        ids = sorted({external_id for _platform, external_id in wanted})
        found: dict[tuple[str, str], Member] = {}
        for start in range(0, len(ids), 500):
            handles = PlatformHandle.objects.filter(
                organization_id=self.community.organization_id,
                external_id__in=ids[start : start + 500],
            ).select_related("member")
            for handle in handles:
                key = (handle.platform, handle.external_id)
                if key in wanted:
                    found[key] = handle.member
        return found

    def row(self, number: int, values: dict[str, str]) -> tuple[_Row, list[RowError]]:
        row = _Row(number=number)
        errors: list[tuple[str, str]] = []

        def error(column: str, message: str) -> None:
            errors.append((column, message))

        for column, value in values.items():
            if "\0" in value:
                error(column, _("This cell contains an invisible NUL character; remove it."))
        if errors:
            return row, self._errors(row, errors, values.get("display_name", ""))

        row.display_name = values.get("display_name", "")
        if not row.display_name:
            error("display_name", _("A display name is required."))
        elif message := _too_long(row.display_name, _max_length(Member, "display_name")):
            error("display_name", message)

        platform, external_id = values.get("platform", ""), values.get("external_id", "")
        if platform:
            row.platform = self.platforms.get(platform.lower(), "")
            if not row.platform:
                error(
                    "platform",
                    _("Unknown platform “%(value)s”. Use one of: %(choices)s.")
                    % {"value": platform, "choices": _choices_text(Platform)},
                )
            elif not external_id:
                error(
                    "external_id",
                    _("Give the platform id too, or leave both platform and platform id empty."),
                )
        elif external_id:
            error("platform", _("Say which platform this id is on."))
        if external_id:
            row.external_id = external_id
            if message := _too_long(external_id, _max_length(PlatformHandle, "external_id")):
                error("external_id", message)

        status = values.get("status", "")
        if status:
            row.status = self.statuses.get(status.lower(), "")
            if not row.status:
                error(
                    "status",
                    _("Unknown status “%(value)s”. Use one of: %(choices)s.")
                    % {"value": status, "choices": _choices_text(MembershipStatus)},
                )

        joined_on = values.get("joined_on", "")
        if joined_on:
            try:
                row.joined_on = date.fromisoformat(joined_on)
            except ValueError:
                error("joined_on", _("Write the date as year-month-day, e.g. 2026-03-01."))
            else:
                if row.joined_on > self.today:
                    error("joined_on", _("The joining date is in the future."))
                else:
                    try:  # the rule of every date form
                        validate_date_in_range(row.joined_on)
                    except ValidationError as problem:
                        error("joined_on", " ".join(problem.messages))

        tier = values.get("tier", "")
        if tier:
            row.tier = self._tier(tier, error)

        for role in filter(None, (r.strip() for r in values.get("roles", "").split(";"))):
            value = self.roles.get(role.lower())
            if value is None:
                error(
                    "roles",
                    _("Unknown role “%(value)s”. Use one of: %(choices)s.")
                    % {"value": role, "choices": _choices_text(MemberRole)},
                )
            elif value not in row.roles:
                row.roles.append(value)

        row.squad = values.get("squad", "")
        if message := _too_long(row.squad, _max_length(Squad, "name")):
            error("squad", message)

        for tag in filter(None, (t.strip() for t in values.get("tags", "").split(";"))):
            kind, separator, name = tag.partition(TAG_KIND_SEPARATOR)
            if not separator:
                kind, name = TagKind.OTHER, tag
            else:
                kind, name = self.tag_kinds.get(kind.strip().lower()), name.strip()
                if kind is None:
                    error(
                        "tags",
                        _("Unknown tag kind in “%(value)s”. Use one of: %(choices)s.")
                        % {"value": tag, "choices": _choices_text(TagKind)},
                    )
                    continue
            if not name:
                error("tags", _("The tag “%(value)s” has no name.") % {"value": tag})
            elif message := _too_long(name, _max_length(Tag, "name")):
                error("tags", message)
            elif (kind, name) not in row.tags:
                row.tags.append((kind, name))

        points = values.get("points", "")
        if points:
            try:
                row.points = int(points)
            except ValueError:
                error("points", _("Points must be a whole number, e.g. 120 or -5."))
            else:
                if abs(row.points) > MAX_POINTS:
                    error(
                        "points",
                        _("Points must be between %(min)s and %(max)s.")
                        % {"min": -MAX_POINTS, "max": MAX_POINTS},
                    )

        row.notes = values.get("notes", "")
        return row, self._errors(row, errors, row.display_name)

    def _tier(self, value: str, error) -> Tier | None:
        named = [t for t in self.ladder if t.name.strip().lower() == value.lower()]
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            error(
                "tier",
                _("Several tiers are named “%(value)s”; give the rank number instead.")
                % {"value": value},
            )
            return None
        ranked = [t for t in self.ladder if value.isdigit() and t.rank == int(value)]
        if ranked:
            return ranked[0]
        error(
            "tier",
            _("This community has no tier “%(value)s”. Its tiers are: %(choices)s.")
            % {"value": value, "choices": ", ".join(t.name for t in self.ladder)},
        )
        return None

    def person(self, row: _Row, existing: dict[tuple[str, str], Member]) -> list[RowError]:
        """Who the row is: a new person, or one already known by their platform id."""
        if not (row.platform and row.external_id):
            return []
        key = (row.platform, row.external_id)
        if key in self.handles_seen:
            return self._errors(
                row,
                [
                    (
                        "external_id",
                        _("The same platform id is already on row %(row)s.")
                        % {"row": self.handles_seen[key]},
                    )
                ],
                row.display_name,
            )
        self.handles_seen[key] = row.number
        row.member = existing.get(key)
        if row.member is None:
            return []
        if row.member.pk in self.members_seen:
            message = _("This is the same person as on row %(row)s.") % {
                "row": self.members_seen[row.member.pk]
            }
            return self._errors(row, [("external_id", message)], row.display_name)
        self.members_seen[row.member.pk] = row.number
        if row.member.pk in self.present_member_ids:
            message = _("“%(name)s” is already a member of this community.") % {
                "name": row.member.display_name
            }
            return self._errors(row, [("external_id", message)], row.display_name)
        return []

    @staticmethod
    def _errors(row: _Row, errors: list[tuple[str, str]], name: str) -> list[RowError]:
        return [RowError(row.number, column, message, name) for column, message in errors]


def members_csv_parse(*, community: Community, file) -> tuple[list[_Row], list[RowError]]:
    """Read and check a members CSV for ``community``; writes nothing.

    Returns the rows, ready to write, and every problem found (row by row, header = 1).
    """
    try:
        header, records = _read_records(_read_text(file))
        columns = _read_header(header)
    except _Rejected as rejected:
        return [], [rejected.error]
    except _HeaderRejected as rejected:
        return [], rejected.errors
    if not records:
        return [], [RowError(None, "", _("The file has a header but no member rows."))]

    validator = _Validator(community)
    rows: list[_Row] = []
    errors: list[RowError] = []
    for number, cells in records:
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
            errors.append(
                RowError(number, "", _("This row has more cells than the header has columns."))
            )
            continue
        values = {
            column: _clean_cell(cell)
            for column, cell in zip(columns, cells, strict=False)
            if column
        }
        row, row_errors = validator.row(number, values)
        rows.append(row)
        errors.extend(row_errors)
    existing = validator.existing_members(rows)
    for row in rows:
        errors.extend(validator.person(row, existing))
    errors.sort(key=lambda e: (e.row or 0, COLUMNS.index(e.column) if e.column in COLUMNS else -1))
    return rows, errors


def _messages(error: ValidationError) -> str:
    return " ".join(error.messages)


def members_import_csv(*, community: Community, file, by) -> ImportResult:
    """Add the members in a CSV file to ``community``: every row, or none at all.

    Everything is checked first and the whole import runs in one transaction, so a file
    with any invalid row (or a write that fails) leaves the database as it was and the
    result lists every problem by row number. The format is in this module's docstring.
    """
    result = ImportResult()
    try:
        with transaction.atomic():
            rows, result.errors = members_csv_parse(community=community, file=file)
            if result.errors:
                transaction.set_rollback(True)
                return result
            _write(community, rows, by, result)
            if result.errors:
                transaction.set_rollback(True)
                return ImportResult(errors=result.errors)
    except IntegrityError:
        return ImportResult(
            errors=[
                RowError(
                    None,
                    "",
                    _(
                        "These members changed while the file was being imported, so nothing "
                        "was imported. Try again."
                    ),
                )
            ]
        )
    result.rows = len(rows)
    return result


def _write(community: Community, rows: list[_Row], by, result: ImportResult) -> None:
    organization = community.organization
    with translation.override(community.announcement_language):
        reason = _("Imported")
    by_tier: dict[Tier, list[Membership]] = defaultdict(list)
    by_squad: dict[str, list[Membership]] = defaultdict(list)
    by_tag: dict[tuple[str, str], list[Membership]] = defaultdict(list)
    for row in rows:
        try:
            if row.member is None:
                member = services.member_create(
                    organization=organization,
                    display_name=row.display_name,
                    handles=[(row.platform, row.external_id)] if row.platform else [],
                    notes=row.notes,
                )
                result.members_created += 1
            else:
                member = row.member
                result.members_matched += 1
            membership = services.membership_create(
                community=community,
                member=member,
                joined_on=row.joined_on,
                status=row.status,
                roles=row.roles,
                announce=False,  # once for the whole roster, below
            )
            if row.points:
                services.points_add(membership=membership, delta=row.points, reason=reason, by=by)
                result.points_entries += 1
        except ValidationError as error:
            result.errors.append(RowError(row.number, "", _messages(error), row.display_name))
            continue
        if row.tier is not None and row.tier.pk != membership.tier_id:
            by_tier[row.tier].append(membership)
        if row.squad:
            by_squad[row.squad].append(membership)
        for tag in row.tags:
            by_tag[tag].append(membership)
    if result.errors:
        return
    joined = [row.joined_on for row in rows if row.joined_on]
    hooks.membership_changed(
        community_id=community.pk, since=min(joined, default=community.local_today())
    )
    try:
        for tier, memberships in by_tier.items():
            services.memberships_set_tier(memberships=memberships, tier=tier, by=by, reason=reason)
        squads = {squad.name: squad for squad in community.squads.all()}
        for name, memberships in by_squad.items():
            if name not in squads:
                squads[name] = services.squad_create(community=community, name=name)
                result.squads_created += 1
            services.memberships_assign_squad(memberships=memberships, squad=squads[name])
        for (kind, name), memberships in by_tag.items():
            tag = services.tag_get_or_create(organization=organization, kind=kind, name=name)
            services.members_tag(memberships=memberships, tag=tag)
    except ValidationError as error:
        result.errors.append(RowError(None, "", _messages(error)))
