"""A community's outlets as the page lists them: never a credential, only its last
characters (enough to tell two robots apart, too few to use one)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from automations.models import Outlet, OutletPlatform
from automations.platforms import telegram
from communities.models import Community

# How many of a credential's last characters a page shows, and how long it must be for
# that (a short credential shows none).
HINT_CHARS = 4
HINT_MIN_LENGTH = 12


def last_characters(value: str) -> str:
    """``…abcd`` for a long enough credential, ``…`` otherwise."""
    if len(value) < HINT_MIN_LENGTH:
        return "…"
    return "…" + value[-HINT_CHARS:]


@dataclass(frozen=True)
class OutletRow:
    outlet: Outlet
    host: str  # where it sends (not a secret)
    url_hint: str  # the end of the address's path and query, for webhook URLs
    token_hint: str  # the end of the bot token (Telegram)
    signed: bool  # a signing secret is kept

    @property
    def enabled(self) -> bool:
        return self.outlet.disabled_at is None


def outlet_row(outlet: Outlet) -> OutletRow:
    parts = urlsplit(outlet.url)
    secret_part = parts.path + ("?" + parts.query if parts.query else "")
    url_hint = ""
    if outlet.platform != OutletPlatform.TELEGRAM:
        url_hint = last_characters(secret_part)
    host = parts.hostname or ""
    if (
        outlet.platform == OutletPlatform.TELEGRAM
        and outlet.url.rstrip("/") == telegram.DEFAULT_API
    ):
        host = urlsplit(telegram.DEFAULT_API).hostname or ""
    return OutletRow(
        outlet=outlet,
        host=host,
        url_hint=url_hint,
        token_hint=last_characters(outlet.token) if outlet.token else "",
        signed=bool(outlet.secret),
    )


def outlet_list(*, community: Community) -> list[OutletRow]:
    """The community's outlets, by name, in one query."""
    return [outlet_row(outlet) for outlet in Outlet.objects.filter(community=community)]
