"""``POST /api/v1/ingest/<connector_id>/events``: chat bots send signed batches.

Answers (always JSON, never a 500 for any input):
202 counts · 400 ``{"errors": [...]}`` (nothing written), or a ``Content-Length`` that is
not a number · 401 bad or missing signature, stale timestamp, unknown or revoked
connector · 409 the community is archived · 413 body or batch too large · 415 a body
that is not ``application/json`` (UTF-8) · 429 over the connector's rate
(``Retry-After``).
"""

import re
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from activities.services import webhook_ingest
from activities.webhook import TooManyEvents, parse_payload, signature_valid
from communities.models import Connector
from communities.ratelimit import count_in_window

CONNECTOR_ID = re.compile(r"[0-9a-f]{1,32}")
JSON_CHARSETS = {None, "utf-8", "utf8"}  # the body is decoded as UTF-8, nothing else


def _answer(status: int, message: str, **extra) -> JsonResponse:
    return JsonResponse({"detail": str(message), **extra}, status=status)


def _over_rate(connector: Connector, now: float) -> int:
    """Seconds to wait when the connector used up this minute's requests, else 0."""
    window = int(now // 60)
    key = f"activities:ingest-rate:{connector.pk}:{window}"
    if count_in_window(key, seconds=120) > settings.INGEST_RATE_PER_MINUTE:
        return 60 - int(now % 60)
    return 0


@csrf_exempt  # machine-to-machine: authenticated by the HMAC signature, not a cookie
@require_POST
def ingest(request, connector_id: str):
    now = time.time()
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not (declared.isascii() and declared.isdigit()):
        return _answer(400, _("The Content-Length header must be a whole number of bytes."))
    if int(declared) > settings.INGEST_MAX_BODY_BYTES:
        return _answer(
            413,
            _("The body is larger than %(limit)s KB.")
            % {"limit": settings.INGEST_MAX_BODY_BYTES // 1024},
        )
    # An empty body has no type to check: it is answered as any other bad batch.
    charset = request.content_params.get("charset")
    if int(declared) and (
        request.content_type.lower() != "application/json"
        or (charset.lower() if charset else None) not in JSON_CHARSETS
    ):
        return _answer(415, _("Send the events as JSON: “Content-Type: application/json”."))
    body = request.body
    if len(body) > settings.INGEST_MAX_BODY_BYTES:
        return _answer(413, _("The body is too large."))
    if not CONNECTOR_ID.fullmatch(connector_id):  # also keeps NUL bytes away from the DB
        return _answer(401, _("Missing or invalid signature, or a stale timestamp."))
    connector = (
        Connector.objects.select_related("community__organization")
        .filter(public_id=connector_id, revoked_at__isnull=True)
        .first()
    )
    if connector is None or not signature_valid(
        connector=connector,
        timestamp=request.headers.get("X-CommunityOps-Timestamp"),
        signature=request.headers.get("X-CommunityOps-Signature"),
        body=body,
        now=now,
    ):
        return _answer(401, _("Missing or invalid signature, or a stale timestamp."))
    if connector.community.archived:
        # 409, not 410: archiving is undone by unticking "archived" on the community's
        # form, so the refusal lasts only as long as that state (410 means for good); not
        # 401/403 either, since the bot's credentials are fine and the signature proved it.
        return _answer(
            409, _("This community is archived and takes no new events; unarchive it first.")
        )
    retry_after = _over_rate(connector, now)
    if retry_after:
        response = _answer(429, _("Too many requests for this connector; slow down."))
        response["Retry-After"] = str(retry_after)
        return response
    try:
        events, errors = parse_payload(
            body,
            time_zone=ZoneInfo(connector.community.time_zone),
            max_events=settings.INGEST_MAX_EVENTS,
        )
    except TooManyEvents:
        return _answer(
            413,
            _("Send at most %(limit)s events per request.") % {"limit": settings.INGEST_MAX_EVENTS},
        )
    if errors:
        return JsonResponse(
            {"detail": _("Nothing was stored; fix these events."), "errors": errors[:100]},
            status=400,
        )
    result = webhook_ingest(connector=connector, events=events)
    return JsonResponse(
        {
            "received": len(events),
            "created": result.events_created,
            "duplicates": result.duplicates_skipped,
            "members_created": result.members_created,
        },
        status=202,
    )
