"""API tokens: keys that let scripts and BI tools read the metrics API as one staff member.

A key is ``coa_`` + 32 random bytes (URL-safe base64). Only its SHA-256 digest and its
first characters (to recognise it in a list) are stored; the key itself is returned once,
by ``api_token_create``, and never again. A token acts with its staff member's *current*
role and communities: a demoted or removed staff member's tokens lose access with them.
"""

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from communities.models import ApiToken, Staff

KEY_PREFIX = "coa_"
PREFIX_LENGTH = 8  # "coa_" and the first four random characters
# A key is 4 + 43 characters; anything much longer is not a key (and is not hashed).
MAX_KEY_LENGTH = 128
# last_used_at is written at most this often, so a busy script does not write every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, staff: Staff, name: str) -> tuple[ApiToken, str]:
    """A new token for ``staff``; returns it and the key, which is not stored anywhere."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        staff=staff, name=name.strip(), prefix=key[:PREFIX_LENGTH], digest=key_digest(key)
    )
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    """Stop the token working from now on (idempotent: a second revoke changes nothing)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


def authenticate(key: str | None) -> Staff | None:
    """The staff member a key acts as, or ``None`` for a missing, unknown or revoked key."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.startswith(KEY_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("staff__organization", "staff__user")
        .filter(digest=key_digest(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.staff.user.is_active or token.staff.deactivated_at is not None:
        return None  # a deactivated staff member's tokens stop with them
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        token.save(update_fields=["last_used_at"])
    return token.staff
