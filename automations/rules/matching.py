"""Keyword matching: a keyword is found in a message NFKC-normalised and case folded (so
``＃打卡`` and ``#打卡`` are one), a regular expression is matched by the ``regex``
package with a timeout and on a bounded length of text, so that no pattern can hang a
worker; patterns that backtrack catastrophically are refused when the rule is saved."""

from __future__ import annotations

import logging
import re._constants as _sre_constants
import re._parser as _sre_parse
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


def _nested_repeat(pattern: str) -> bool:
    """Whether ``pattern`` repeats something that itself repeats (``(a+)+``, ``(\\w*)*``):
    the classic catastrophic shape. The ``regex`` package happens to match some of these
    quickly, but they are refused all the same — the next engine may not, and there is
    always a simpler way to write them. Read with the standard library's parser; a pattern
    it cannot read is left to the probes."""
    try:
        parsed = _sre_parse.parse(pattern)
    except Exception:
        return False
    repeats = {_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT}
    if hasattr(_sre_constants, "POSSESSIVE_REPEAT"):
        repeats.add(_sre_constants.POSSESSIVE_REPEAT)

    def children(op, value) -> list:
        if op is _sre_constants.SUBPATTERN:
            return [value[-1]]
        if op is _sre_constants.BRANCH:
            return list(value[1])
        if op in {_sre_constants.ASSERT, _sre_constants.ASSERT_NOT}:
            return [value[1]]
        return []

    def walk(items, inside: bool) -> bool:
        for op, value in items:
            if op in repeats:
                _low, high, sub = value
                many = high is _sre_constants.MAXREPEAT or high > 1
                if (many and inside) or walk(sub, inside or many):
                    return True
            elif any(walk(child, inside) for child in children(op, value)):
                return True
        return False

    return walk(parsed, False)


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
    if _nested_repeat(pattern):
        return _catastrophic()
    for probe in _probes(pattern):
        try:
            compiled.search(probe, timeout=PROBE_TIMEOUT)
        except TimeoutError:
            return _catastrophic()
    return None


def _catastrophic() -> str:
    return _(
        "This regular expression backtracks catastrophically on some messages "
        "(for example nested repetition such as (a|aa)+); write it more simply."
    )


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
