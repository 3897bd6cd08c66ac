"""Every write to organisations, staff and communities goes through a function here."""

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from communities.models import (
    Community,
    Connector,
    Organization,
    Programme,
    Role,
    Rule,
    RuleKind,
    Staff,
    StaffAction,
    StaffLogEntry,
    validate_time_zone,
)
from communities.panels import registered_setup_steps
from communities.slugs import readable_slug

BASIC_COMMUNITY_FIELDS = ("name", "slug", "platform", "time_zone", "created_on", "archived")
# The positioning card (社群定位): goal, funnel role, 5W1H, size and dates.
POSITIONING_FIELDS = (
    "programme",
    "goal",
    "funnel_role",
    "capacity",
    "start_date",
    "end_date",
    "why",
    "what",
    "where",
    "who",
    "when",
    "how",
)
LADDER_FIELDS = ("demotion_enabled", "demotion_grace_days")
EDITABLE_COMMUNITY_FIELDS = (*BASIC_COMMUNITY_FIELDS, *POSITIONING_FIELDS, *LADDER_FIELDS)
# The rules' texts; the behaviours themselves are Rule rows (rule_create and friends).
RULE_TEXT_FIELDS = ("value_statement", "entry_standard", "vision", "announcement_language")


CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def organization_slug_suggest(*, name: str) -> str:
    """An unused ASCII slug for an organisation's name (Chinese as pinyin)."""
    base = readable_slug(name) or "organization"
    taken = set(Organization.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken and base != "organization":
        return base
    n = 2 if base != "organization" else 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _organization_build(
    *, name: str, slug: str, currency: str, time_zone: str, language: str
) -> Organization:
    """A validated, unsaved organisation; every problem at once in one ValidationError."""
    name = name.strip()
    organization = Organization(
        name=name,
        slug=slug or organization_slug_suggest(name=name),
        currency=currency.strip().upper(),
        time_zone=time_zone,
        language=language,
    )
    errors: dict[str, list] = {}
    if not CURRENCY_CODE.fullmatch(organization.currency):
        errors["currency"] = [_("Enter a three-letter ISO 4217 code such as CNY, USD or SGD.")]
    try:
        validate_time_zone(time_zone)
    except ValidationError as error:
        errors["time_zone"] = error.messages
    try:
        organization.full_clean()
    except ValidationError as error:
        for field_name, messages in error.message_dict.items():
            errors.setdefault(field_name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return organization


def organization_create(
    *,
    name: str,
    slug: str = "",
    currency: str = "CNY",
    time_zone: str = "Asia/Shanghai",
    language: str = "zh-hans",
) -> Organization:
    """A bare organisation (no staff); ``organization_create_for_owner`` gives it its owner."""
    organization = _organization_build(
        name=name, slug=slug, currency=currency, time_zone=time_zone, language=language
    )
    organization.save()
    return organization


@transaction.atomic
def organization_create_for_owner(*, owner, **fields: Any) -> Organization:
    """A new organisation with ``owner`` as its owner, recorded in its staff log.
    ``fields`` are ``organization_create``'s."""
    organization = organization_create(**fields)
    staff_add(organization=organization, user=owner, role=Role.OWNER)
    staff_log_record(
        organization=organization,
        actor=owner,
        action=StaffAction.ORGANIZATION_CREATED,
        target_user=owner,
        detail=organization.name,
    )
    return organization


def _user_account_build(*, username: str, email: str, password: str, first_name: str = ""):
    """A validated, unsaved account whose password passes the project's validators."""
    User = get_user_model()
    user = User(username=username, email=email, first_name=first_name)
    errors: dict[str, list] = {}
    # Case-insensitively, as Django's own sign-up form: "Wang" and "wang" are one person.
    if username and User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("A user with that user name already exists.")]
    try:
        user.full_clean(exclude=["password"], validate_unique=False)
    except ValidationError as error:
        for field_name, messages in error.message_dict.items():
            errors.setdefault(field_name, []).extend(messages)
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        errors["password"] = error.messages
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    return user


@transaction.atomic
def organization_create_with_new_owner(
    *,
    username: str,
    email: str,
    password: str,
    name: str,
    slug: str = "",
    currency: str = "CNY",
    time_zone: str = "Asia/Shanghai",
    language: str = "zh-hans",
) -> Organization:
    """A new organisation and a new account that owns it (the ``organization_create``
    command and the first-run page). Nothing is written unless both are valid."""
    fields = {
        "name": name,
        "slug": slug,
        "currency": currency,
        "time_zone": time_zone,
        "language": language,
    }
    errors: dict[str, list] = {}
    try:
        _organization_build(**fields)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        owner = _user_account_build(username=username, email=email, password=password)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    owner.save()
    return organization_create_for_owner(owner=owner, **fields)


class FirstRunDone(Exception):
    """The installation already has an organisation: the first run is over for good."""


def _lock_organizations() -> None:
    """Serialise first runs: on PostgreSQL a table lock that conflicts with itself (and with
    every insert), held until the transaction ends; SQLite's writers already take the
    database lock at BEGIN (``transaction_mode`` IMMEDIATE in settings)."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Organization._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")


@transaction.atomic
def organization_first_run(
    *, username: str, email: str, password: str, **fields: Any
) -> Organization:
    """The installation's first organisation and its owner, once: ``FirstRunDone`` as soon
    as any organisation exists, also for the loser of two simultaneous submissions."""
    _lock_organizations()
    if Organization.objects.exists():
        raise FirstRunDone
    return organization_create_with_new_owner(
        username=username, email=email, password=password, **fields
    )


@transaction.atomic
def organization_set_privacy(*, organization: Organization, keep_message_text: bool) -> None:
    """Whether message text is stored; it applies to what arrives from now on."""
    organization.keep_message_text = keep_message_text
    organization.save(update_fields=["keep_message_text"])


def staff_user_create(
    *,
    organization: Organization,
    username: str,
    password: str,
    role: str,
    email: str = "",
    first_name: str = "",
    communities: Iterable[Community] = (),
):
    """Create a sign-in account and give it a role in the organisation."""
    user = get_user_model().objects.create_user(
        username=username, password=password, email=email, first_name=first_name
    )
    staff_add(organization=organization, user=user, role=role, communities=communities)
    return user


def staff_add(
    *, organization: Organization, user, role: str, communities: Iterable[Community] = ()
) -> Staff:
    staff = Staff(organization=organization, user=user, role=role)
    staff.full_clean()
    staff.save()
    communities = list(communities)
    if any(c.organization_id != organization.id for c in communities):
        raise ValueError("A staff member can only be assigned their organisation's communities.")
    staff.communities.set(communities)
    return staff


# Words of the communities URLs that a community's slug would collide with. ("new" does
# too, but communities may already use it: the create page wins over such a community.)
RESERVED_SLUGS = frozenset({"programmes"})


def _check_slug(slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise ValidationError(
            {"slug": _("“%(slug)s” is a reserved word; choose another.") % {"slug": slug}}
        )


def community_slug_suggest(*, organization: Organization, name: str) -> str:
    """An unused ASCII slug for a name (Chinese as pinyin, ``communities.slugs``); a name
    with nothing to spell falls back to "community-N"."""
    base = readable_slug(name) or "community"
    if base in RESERVED_SLUGS:
        base = f"{base}-group"
    taken = set(
        Community.objects.filter(organization=organization, slug__startswith=base).values_list(
            "slug", flat=True
        )
    )
    if base not in taken and base != "community":
        return base
    n = 2 if base != "community" else 1
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


@transaction.atomic
def community_create(
    *,
    organization: Organization,
    name: str,
    platform: str,
    slug: str = "",
    time_zone: str | None = None,
    created_on: date | None = None,
    archived: bool = False,
    **details: Any,
) -> Community:
    """Add a community, set up by every app in the same transaction (``community_set_up``).
    ``details`` are positioning, ladder and rule-text fields (POSITIONING_FIELDS,
    LADDER_FIELDS, RULE_TEXT_FIELDS); ``None`` keeps the default. The announcement language
    matters at creation: the default ladder is named in it."""
    unknown = set(details) - {*POSITIONING_FIELDS, *LADDER_FIELDS, *RULE_TEXT_FIELDS}
    if unknown:
        raise ValueError(f"Not settable on creation: {sorted(unknown)}")
    community = Community(
        organization=organization,
        name=name,
        slug=slug or community_slug_suggest(organization=organization, name=name),
        platform=platform,
        archived=archived,
    )
    # The organisation's default time zone unless the caller names one.
    community.time_zone = time_zone or organization.time_zone
    if created_on:
        community.created_on = created_on
    for field_name, value in details.items():
        if value is not None:
            setattr(community, field_name, value)
    _check_slug(community.slug)
    community.full_clean()
    community.save()
    community_set_up(community=community)
    return community


def community_set_up(*, community: Community) -> None:
    """What every new community gets from the apps above this one (their registered setup
    steps, e.g. the members app's default tier ladder), inside the caller's transaction.
    ``community_create`` runs it; so does the admin when it adds a community."""
    with transaction.atomic():
        for step in registered_setup_steps():
            step.run(community)


def _fields_update(instance, data: dict, allowed: Iterable[str], *, stamp: str | None = None):
    """Set the changed fields of ``data`` (keys must be in ``allowed``), validate, save them."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    changed = [name for name, value in data.items() if getattr(instance, name) != value]
    if not changed:
        return instance
    for name in changed:
        setattr(instance, name, data[name])
    instance.full_clean()
    instance.save(update_fields=[*changed, stamp] if stamp else changed)
    return instance


def community_update(*, community: Community, data: dict, by) -> Community:
    """Change the editable fields named in ``data``; other keys are a programming error.
    A change of the ladder options (the tiers' settings) is logged as ``by``'s."""
    if data.get("slug", community.slug) != community.slug:
        _check_slug(data["slug"])
    ladder_changed = _changed_fields(
        community, {k: v for k, v in data.items() if k in LADDER_FIELDS}
    )
    _fields_update(community, data, EDITABLE_COMMUNITY_FIELDS, stamp="updated_at")
    if ladder_changed:
        _log_change(
            by=by,
            community=community,
            action=StaffAction.TIERS_CHANGED,
            detail=lambda: _ladder_detail(community),
        )
    return community


def _ladder_detail(community: Community) -> str:
    if not community.demotion_enabled:
        return _("demotion of members who stop qualifying: off")
    return ngettext(
        "demotion of members who stop qualifying: on, after %(days)s day of grace",
        "demotion of members who stop qualifying: on, after %(days)s days of grace",
        community.demotion_grace_days,
    ) % {"days": community.demotion_grace_days}


def _changed_fields(instance, data: dict) -> list[str]:
    return [name for name, value in data.items() if getattr(instance, name) != value]


def _log_change(*, by, community: Community, action: StaffAction, detail) -> None:
    """The staff-log entry of a change ``by`` made to ``community``. ``detail`` (a callable)
    is worded in the organisation's default language: the log is the organisation's shared
    record, read later by any of its owners. ``by=None`` is a change made by code, not a
    person (the demo's set-up, fixtures): nothing is logged."""
    if by is None:
        return
    with translation.override(community.organization.language):
        text = detail()
    staff_log_record(
        organization=community.organization,
        actor=by,
        action=action,
        community=community,
        detail=text,
    )


# --- Rules (群规) ----------------------------------------------------------------------------


def community_rules_update(*, community: Community, data: dict, by) -> Community:
    """Change the rules' texts: value, entry standard, vision, announcement language."""
    changes = _rule_texts_update(community=community, data=data)
    _log_rules(by=by, community=community, changes=changes)
    return community


# One rules change, as the log words it: ("texts" | "added" | "changed" | "removed", what).
RuleChange = tuple[str, Any]


def _rule_texts_update(*, community: Community, data: dict) -> list[RuleChange]:
    changed = _changed_fields(community, data)
    _fields_update(community, data, RULE_TEXT_FIELDS, stamp="updated_at")
    return [("texts", changed)] if changed else []


def _rules_detail(changes: list[RuleChange]) -> str:
    words = {
        "added": lambda title: _("added “%(rule)s”") % {"rule": title},
        "changed": lambda title: _("changed “%(rule)s”") % {"rule": title},
        "removed": lambda title: _("removed “%(rule)s”") % {"rule": title},
        "texts": lambda names: (
            _("changed the texts (%(fields)s)")
            % {"fields": ", ".join(str(Community._meta.get_field(n).verbose_name) for n in names)}
        ),
    }
    return "; ".join(words[kind](what) for kind, what in changes)


def _log_rules(*, by, community: Community, changes: list[RuleChange]) -> None:
    if changes:
        _log_change(
            by=by,
            community=community,
            action=StaffAction.RULES_CHANGED,
            detail=lambda: _rules_detail(changes),
        )


RULE_FIELDS = {
    RuleKind.ENCOURAGED: ("title", "points", "position"),
    RuleKind.FORBIDDEN: ("title", "points", "penalty", "strikes_to_removal", "position"),
}


def rule_create(*, community: Community, by, **fields) -> Rule:
    """Add a behaviour to the rules; by default after the others of its kind (fields: kind,
    title, points, penalty, strikes_to_removal, position)."""
    rule = _rule_create(community=community, **fields)
    _log_rules(by=by, community=community, changes=[("added", rule.title)])
    return rule


def _rule_create(
    *,
    community: Community,
    kind: str,
    title: str,
    points: int = 0,
    penalty: str = "",
    strikes_to_removal: int | None = None,
    position: int | None = None,
) -> Rule:
    if position is None:
        last = community.rules.filter(kind=kind).aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    rule = Rule(
        community=community,
        kind=kind,
        title=title,
        points=points or 0,
        penalty=penalty,
        strikes_to_removal=strikes_to_removal,
        position=position,
    )
    rule.full_clean()
    rule.save()
    return rule


def rule_update(*, rule: Rule, data: dict, by) -> Rule:
    """Change a behaviour; its kind never changes (delete it and add one of the other kind)."""
    _log_rules(by=by, community=rule.community, changes=_rule_update(rule=rule, data=data))
    return rule


def _rule_update(*, rule: Rule, data: dict) -> list[RuleChange]:
    data = {**data}
    if "points" in data:
        data["points"] = data["points"] or 0
    changed = _changed_fields(rule, data)
    _fields_update(rule, data, RULE_FIELDS[rule.kind])
    return [("changed", rule.title)] if changed else []


def rule_delete(*, rule: Rule, by) -> None:
    """Remove a behaviour from the rules, unless violations of it are on record."""
    community = rule.community
    _log_rules(by=by, community=community, changes=_rule_delete(rule=rule))


def _rule_delete(*, rule: Rule) -> list[RuleChange]:
    title = rule.title
    try:
        rule.delete()
    except ProtectedError:
        raise ValidationError(
            _("“%(rule)s” has recorded violations, so it stays in the rules.") % {"rule": rule}
        ) from None
    return [("removed", title)]


@dataclass(frozen=True)
class RuleEdit:
    """One row of the rules editor: a new behaviour (``rule`` None), a change or a deletion."""

    kind: str
    rule: Rule | None = None
    data: dict = field(default_factory=dict)
    delete: bool = False


@transaction.atomic
def community_rules_save(
    *, community: Community, texts: dict, edits: Iterable[RuleEdit], by
) -> Community:
    """Save the rules editor in one go: the texts, then every added, changed or deleted row.

    All or nothing: a row that fails validation leaves everything as it was. One save that
    changed anything is one entry in the staff log, naming what changed.
    """
    changes = _rule_texts_update(community=community, data=texts)
    for edit in edits:
        if edit.rule is not None and edit.rule.community_id != community.pk:
            raise ValueError("A rule of another community.")
        if edit.rule is not None and edit.rule.kind != edit.kind:
            raise ValueError("A rule's kind never changes.")
        if edit.delete:
            if edit.rule is not None:
                changes += _rule_delete(rule=edit.rule)
        elif edit.rule is not None:
            changes += _rule_update(rule=edit.rule, data=edit.data)
        else:
            rule = _rule_create(community=community, kind=edit.kind, **edit.data)
            changes.append(("added", rule.title))
    _log_rules(by=by, community=community, changes=changes)
    return community


# --- Programmes (社群矩阵) ---------------------------------------------------------------------


def programme_create(*, organization: Organization, name: str, description: str = "") -> Programme:
    programme = Programme(organization=organization, name=name.strip(), description=description)
    programme.full_clean()
    programme.save()
    return programme


def programme_update(*, programme: Programme, data: dict) -> Programme:
    return _fields_update(programme, data, ("name", "description"))


# --- Connectors (webhook API) ------------------------------------------------------------


@dataclass(frozen=True)
class IssuedSecret:
    """A connector with its secret in clear: shown to staff once, never again."""

    connector: Connector
    secret: str


def _new_secret() -> str:
    return "cos_" + secrets.token_urlsafe(32)


def connector_create(*, community: Community, name: str, platform: str, by) -> IssuedSecret:
    secret = _new_secret()
    connector = Connector(
        community=community,
        name=name.strip(),
        platform=platform,
        public_id=secrets.token_hex(8),
        secret=secret,
        created_by=by,
    )
    connector.full_clean()
    connector.save()
    _log_connector(by=by, connector=connector, what=lambda: _("“%(name)s”: created"))
    return IssuedSecret(connector, secret)


def _log_connector(*, by, connector: Connector, what) -> None:
    _log_change(
        by=by,
        community=connector.community,
        action=StaffAction.CONNECTOR_CHANGED,
        detail=lambda: what() % {"name": connector.name},
    )


def connector_rotate(*, connector: Connector, by) -> IssuedSecret:
    """A new secret; the old one keeps signing for the grace period, so bots can move."""
    now = timezone.now()
    secret = _new_secret()
    connector.previous_secret = connector.secret
    connector.previous_valid_until = now + timedelta(hours=settings.CONNECTOR_ROTATION_GRACE_HOURS)
    connector.secret = secret
    connector.rotated_at = now
    connector.save(
        update_fields=["previous_secret", "previous_valid_until", "secret", "rotated_at"]
    )
    _log_connector(by=by, connector=connector, what=lambda: _("“%(name)s”: new secret issued"))
    return IssuedSecret(connector, secret)


def connector_revoke(*, connector: Connector, by) -> None:
    """Stop the connector's secrets from signing; revoking it again changes nothing."""
    if connector.revoked_at is not None:
        return
    connector.revoked_at = timezone.now()
    connector.save(update_fields=["revoked_at"])
    _log_connector(by=by, connector=connector, what=lambda: _("“%(name)s”: revoked"))


def connector_seen(*, connector: Connector) -> None:
    connector.last_seen_at = timezone.now()
    connector.save(update_fields=["last_seen_at"])


# --- The staff log -------------------------------------------------------------------------


def staff_log_record(
    *,
    organization: Organization,
    actor,
    action: StaffAction,
    target_user=None,
    community: Community | None = None,
    detail: str = "",
) -> StaffLogEntry:
    """Append one entry to the organisation's staff log (the only way it is written)."""
    return StaffLogEntry.objects.create(
        organization=organization,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_user=target_user,
        community=community,
        detail=detail[:300],
    )
