"""Keyword matching: a keyword is found in a message NFKC-normalised and case folded (so
``＃打卡`` and ``#打卡`` are one), a regular expression is matched by the ``regex``
package with a timeout and on a bounded length of text, so that no pattern can hang a
worker; patterns that backtrack catastrophically are refused when the rule is saved."""

from __future__ import annotations

import logging
import unicodedata
from functools import lru_cache

import regex
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# The longest text a keyword rule reads of one message, and how long one match may take.
MAX_TEXT = 4000
MATCH_TIMEOUT = 0.05
# How long a pattern may take on any of the save-time test strings.
PROBE_TIMEOUT = 0.05
MAX_PATTERN = 300


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold()


@lru_cache(maxsize=256)
def _compiled(pattern: str):
    return regex.compile(normalize(pattern), regex.IGNORECASE | regex.V0)


def _probes(pattern: str) -> list[str]:
    """Strings that make a backtracking pattern explode: long runs of the characters it
    names (and of a few common ones), each followed by one that breaks the match."""
    chars = [c for c in dict.fromkeys(pattern) if c.isalnum() or c in " -_.@"][:12]
    for common in ("a", "1", " ", "x"):
        if common not in chars:
            chars.append(common)
    probes = [c * 48 + "\x00" for c in chars]
    probes.append("".join(chars) * 8 + "\x00")
    probes.append(("".join(chars) + " ") * 8 + "\x00")
    return probes


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a keyword rule's expression, or None."""
    if not pattern:
        return _("Enter a keyword or a regular expression.")
    if len(pattern) > MAX_PATTERN:
        return _("A regular expression may be at most %(limit)s characters long.") % {
            "limit": MAX_PATTERN
        }
    try:
        compiled = _compiled(pattern)
    except (regex.error, OverflowError, RecursionError) as error:
        return _("This regular expression does not compile: %(error)s.") % {"error": error}
    for probe in _probes(pattern):
        try:
            compiled.search(probe, timeout=PROBE_TIMEOUT)
        except TimeoutError:
            return _(
                "This regular expression backtracks catastrophically on some messages "
                "(for example nested repetition such as (a|aa)+); write it more simply."
            )
    return None


def check_config(config: dict) -> dict:
    """The keyword trigger's settings, cleaned; ValidationError with the user's words."""
    keyword = (config.get("keyword") or "").strip()
    is_regex = bool(config.get("regex"))
    if is_regex:
        problem = regex_problem(keyword)
        if problem:
            raise ValidationError({"keyword": problem})
    elif not keyword:
        raise ValidationError({"keyword": _("Enter a keyword or a regular expression.")})
    try:
        cooldown = int(config.get("cooldown_minutes") or 0)
    except (TypeError, ValueError):
        cooldown = -1
    if not 0 <= cooldown <= 7 * 24 * 60:
        raise ValidationError(
            {"cooldown_minutes": _("The cooldown is a number of minutes from 0 to 10080.")}
        )
    return {"keyword": keyword, "regex": is_regex, "cooldown_minutes": cooldown}


def matches(config: dict, text: str) -> bool:
    """Whether ``text`` matches the keyword trigger ``config`` (a timeout is no match)."""
    keyword = config.get("keyword") or ""
    if not keyword or not text:
        return False
    text = normalize(text[:MAX_TEXT])
    if not config.get("regex"):
        return normalize(keyword) in text
    try:
        return _compiled(keyword).search(text, timeout=MATCH_TIMEOUT) is not None
    except TimeoutError:
        logger.warning("Keyword rule pattern timed out: %r", keyword)
        return False
    except regex.error:
        return False
