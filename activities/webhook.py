"""The signed webhook: signature check and payload validation, kept apart from the view.

Signature: ``X-CommunityOps-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">``
with the connector's secret, ``X-CommunityOps-Timestamp`` in unix seconds, at most
``INGEST_SIGNATURE_TOLERANCE_SECONDS`` (300) away from the server's clock: 300 s is
accepted, 301 s is not. Several ``v1=`` values may be sent, comma-separated (a bot that
signs with both secrets during a rotation).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from activities.importers.base import IncomingEvent, make_aware
from activities.models import ActivityEvent, ActivityKind
from communities.models import Connector
from communities.validators import EARLIEST_DATE

_ID_LENGTH = ActivityEvent._meta.get_field("external_id").max_length
_NAME_LENGTH = 120
_TEXT_LENGTH = 20_000
# Events from before the product's first date are refused (the one date rule of every form).
EARLIEST = datetime.combine(EARLIEST_DATE, time.min, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # clocks of bots drift; a day ahead is still plausible


def sign(secret: str, timestamp: str | int, body: bytes) -> str:
    """The signature a client sends (also used by the docs' example and the tests)."""
    message = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(
    *, connector: Connector, timestamp: str | None, signature: str | None, body: bytes, now: float
) -> bool:
    if not timestamp or not signature:
        return False
    timestamp = timestamp.strip()
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return False
    sent_at = int(timestamp)
    # Whole seconds on both sides: "300 s away" is accepted for the whole second.
    if abs(int(now) - sent_at) > settings.INGEST_SIGNATURE_TOLERANCE_SECONDS:
        return False
    offered = [part.strip() for part in signature.split(",") if part.strip().startswith("v1=")]
    expected = [sign(secret, sent_at, body) for secret in connector.valid_secrets(now=_dt(now))]
    # Compare every pair in constant time; no early exit that would leak which matched.
    matched = False
    for candidate in offered:
        for reference in expected:
            matched |= hmac.compare_digest(candidate.encode(), reference.encode())
    return matched


def _dt(now: float) -> datetime:
    return datetime.fromtimestamp(now, tz=UTC)


def _error(index: int | None, field: str, message: str) -> dict:
    error = {"field": field, "message": str(message)}
    if index is not None:
        error["index"] = index
    return error


class TooManyEvents(Exception):
    pass


def parse_payload(
    body: bytes, *, time_zone: ZoneInfo, max_events: int
) -> tuple[list[IncomingEvent], list[dict]]:
    """Events of a request body, or the list of everything wrong with it.

    Raises ``TooManyEvents`` when the batch is longer than ``max_events``."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return [], [_error(None, "body", _("The body is not valid UTF-8 JSON."))]
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        return [], [_error(None, "events", _("Send an object with an “events” list."))]
    items = payload["events"]
    if len(items) > max_events:
        raise TooManyEvents
    if not items:
        return [], [_error(None, "events", _("The “events” list is empty."))]
    events: list[IncomingEvent] = []
    errors: list[dict] = []
    for index, item in enumerate(items):
        event, item_errors = _parse_event(index, item, time_zone)
        errors.extend(item_errors)
        if event is not None:
            events.append(event)
    return (events, []) if not errors else ([], errors)


def _text_field(item: dict, name: str, *, required: bool, limit: int) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        return None if required else ""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return None
    try:
        value.encode("utf-8")  # a lone surrogate ("\ud800") is valid JSON, not text
    except UnicodeEncodeError:
        return None
    return value


def _parse_event(index: int, item, tz: ZoneInfo) -> tuple[IncomingEvent | None, list[dict]]:
    if not isinstance(item, dict):
        return None, [_error(index, "", _("Each event must be an object."))]
    errors = []
    external_id = _text_field(item, "external_id", required=True, limit=_ID_LENGTH)
    if external_id is None or not external_id.strip():
        errors.append(
            _error(
                index,
                "external_id",
                _("Give a non-empty string of at most %(limit)s characters.")
                % {"limit": _ID_LENGTH},
            )
        )
    kind = item.get("kind")
    if kind not in ActivityKind.values:
        errors.append(
            _error(
                index,
                "kind",
                _("Unknown kind; use one of: %(kinds)s.")
                % {"kinds": ", ".join(ActivityKind.values)},
            )
        )
    occurred_at = None
    raw_time = item.get("occurred_at")
    if isinstance(raw_time, str):
        try:
            occurred_at = make_aware(datetime.fromisoformat(raw_time.strip()), tz)
            occurred_at.astimezone(UTC)  # offsets that overflow (year 1, +23:59) fail here
        except (ValueError, OverflowError):
            occurred_at = None
    if occurred_at is not None and not (EARLIEST <= occurred_at <= timezone.now() + FUTURE_SLACK):
        errors.append(
            _error(
                index,
                "occurred_at",
                _("The time must lie between %(earliest)s and tomorrow.")
                % {"earliest": EARLIEST_DATE.isoformat()},
            )
        )
    elif occurred_at is None:
        errors.append(
            _error(
                index,
                "occurred_at",
                _("Give an ISO 8601 date and time, e.g. 2026-11-20T21:03:00+08:00."),
            )
        )
    member = item.get("member")
    member_id = name = None
    if isinstance(member, dict):
        member_id = _text_field(member, "id", required=True, limit=_ID_LENGTH)
        name = _text_field(member, "name", required=False, limit=_NAME_LENGTH)
    if member_id is None or not member_id.strip():
        errors.append(
            _error(
                index,
                "member.id",
                _("Give the member as an object with a non-empty “id”."),
            )
        )
    elif name is None:
        errors.append(
            _error(
                index,
                "member.name",
                _("The name must be a string of at most %(limit)s characters.")
                % {"limit": _NAME_LENGTH},
            )
        )
    text = _text_field(item, "text", required=False, limit=_TEXT_LENGTH)
    if text is None:
        errors.append(
            _error(
                index,
                "text",
                _("The text must be a string of at most %(limit)s characters.")
                % {"limit": _TEXT_LENGTH},
            )
        )
    if errors:
        return None, errors
    return (
        IncomingEvent(
            external_id=external_id.strip(),
            kind=kind,
            occurred_at=occurred_at,
            member_key=member_id.strip(),
            member_name=name.strip(),
            text=text,
        ),
        [],
    )
