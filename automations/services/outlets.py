"""A community's outlets: add one, switch it off and on, delete it, send it a test message.

Credentials are validated when an outlet is saved — an http(s) address that does not
resolve to a loopback or private address (unless ``CONNECTOR_ALLOW_PRIVATE_URLS`` allows
such addresses, for intranets and the tests' stand-in), and what the platform's ``check``
says is missing — so bad input is a clear error at edit time and nothing is written. They
are written once and never rendered back; the pages show their last characters only.

The test message goes out synchronously, with a short timeout, through the platform's own
module and its shared pace; its outcome and the platform's answer are kept on the outlet,
with every credential taken out of the answer first.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from automations.models import Outlet, OutletPlatform
from automations.platforms import addresses, get_platform, pacing, telegram
from automations.platforms.base import DETAIL_CHARS, Destination, Message, Outcome, Result
from communities.models import Community

# A test message waits this long for the platform's answer (the page is waiting too).
TEST_TIMEOUT_SECONDS = 5.0
# A test message waits at most this long for its slot in the platform's pace; beyond it,
# staff are told to try again rather than the page hanging.
TEST_MAX_PACE_WAIT_SECONDS = 1.0
# Platforms whose requests carry a signing secret.
SIGNED_PLATFORMS = frozenset(
    {OutletPlatform.WEBHOOK, OutletPlatform.FEISHU, OutletPlatform.DINGTALK}
)
REDACTED = "•••"


def allow_private_urls() -> bool:
    return settings.CONNECTOR_ALLOW_PRIVATE_URLS


def test_text(community: Community) -> str:
    return _("Test message from CommunityOps for “%(community)s”: this outlet works.") % {
        "community": community.name
    }


def destination_of(outlet: Outlet) -> Destination:
    return Destination(
        url=outlet.url, secret=outlet.secret, token=outlet.token, chat_id=outlet.chat_id
    )


def _url_is_ours(platform: str, url: str) -> bool:
    """Telegram's public API base is the product's default, not an address staff typed."""
    return platform == OutletPlatform.TELEGRAM and url.rstrip("/") == telegram.DEFAULT_API


def _check_url(platform: str, url: str) -> str | None:
    if _url_is_ours(platform, url):
        return None
    return addresses.url_problem(url, allow_private=allow_private_urls())


@transaction.atomic
def outlet_create(
    *,
    community: Community,
    by,
    name: str,
    platform: str,
    url: str = "",
    secret: str = "",
    token: str = "",
    chat_id: str = "",
) -> Outlet:
    """Add an outlet to ``community``; raises ValidationError (nothing written) when the
    address may not be sent to or the platform says a credential is missing."""
    if platform not in OutletPlatform.values:
        raise ValidationError({"platform": _("Choose a platform from the list.")})
    name, url, secret, token, chat_id = (
        value.strip() for value in (name, url, secret, token, chat_id)
    )
    if platform == OutletPlatform.TELEGRAM:
        url = url or telegram.DEFAULT_API
    if platform not in SIGNED_PLATFORMS:
        secret = ""
    if platform != OutletPlatform.TELEGRAM:
        token = chat_id = ""
    outlet = Outlet(
        community=community,
        name=name,
        platform=platform,
        url=url,
        secret=secret,
        token=token,
        chat_id=chat_id,
        created_by=by if getattr(by, "pk", None) else None,
    )
    errors: dict[str, list[str]] = {}
    if not name:
        errors.setdefault("name", []).append(_("Give the outlet a name."))
    if not url:
        errors.setdefault("url", []).append(_("The webhook URL is missing."))
    else:
        problem = _check_url(platform, url)
        if problem:
            errors.setdefault("url", []).append(problem)
    if not errors:
        module = get_platform(platform)
        problems = module.check(Message(test_text(community)), destination_of(outlet))
        if problems:
            errors[NON_FIELD_ERRORS] = problems
    if errors:
        raise ValidationError(errors)
    outlet.full_clean()
    outlet.save()
    return outlet


def outlet_set_enabled(*, outlet: Outlet, enabled: bool) -> Outlet:
    outlet.disabled_at = None if enabled else (outlet.disabled_at or timezone.now())
    outlet.save(update_fields=["disabled_at"])
    return outlet


def outlet_delete(*, outlet: Outlet) -> None:
    outlet.delete()


def redact(text: str, outlet: Outlet) -> str:
    """``text`` with every credential of ``outlet`` taken out (a platform's answer or an
    error may quote the address it was sent to)."""
    secrets = {outlet.url, outlet.secret, outlet.token}
    if not _url_is_ours(outlet.platform, outlet.url):
        # The parts of the address that carry the key (WeCom's ?key=, a Slack path).
        parts = urlsplit(outlet.url)
        secrets |= {parts.path, parts.query}
        secrets |= {piece for piece in parts.path.split("/") if len(piece) >= 8}
        secrets |= {value for _k, _s, value in (p.partition("=") for p in parts.query.split("&"))}
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def outlet_test_send(*, outlet: Outlet, timeout: float = TEST_TIMEOUT_SECONDS) -> Result:
    """Send a short test message through ``outlet`` now and keep what became of it."""
    module = get_platform(outlet.platform)
    destination = destination_of(outlet)
    message = Message(test_text(outlet.community))
    problems = module.check(message, destination)
    url_problem = _check_url(outlet.platform, outlet.url)
    if url_problem:  # a name's addresses can change after it was checked
        result = Result(Outcome.REJECTED, detail=url_problem)
    elif problems:
        result = Result(Outcome.REJECTED, detail=" ".join(problems))
    else:
        wait = pacing.wait_for(module.pace_key(destination), *module.PACE)
        if wait > TEST_MAX_PACE_WAIT_SECONDS:
            result = Result(
                Outcome.RETRY,
                detail=_(
                    "The platform takes only so many messages a minute: try again in "
                    "%(seconds)s seconds."
                )
                % {"seconds": int(wait + 0.999)},
                retry_after=wait,
            )
        else:
            time.sleep(wait)
            result = module.send(destination, message, timeout=timeout)
    detail = redact(result.detail, outlet)[:DETAIL_CHARS]
    outlet.last_test_at = timezone.now()
    outlet.last_test_result = str(result.outcome)
    outlet.last_test_detail = detail
    outlet.save(update_fields=["last_test_at", "last_test_result", "last_test_detail"])
    return Result(result.outcome, result.status, detail, result.retry_after, result.message_id)
