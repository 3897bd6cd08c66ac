"""``{{ moment|ago }}``: how long ago (or how soon) a moment is, read naturally in each
language — "2 years, 6 months ago", 「2 年 6 个月前」 — with this project's own words
instead of Django's ``naturaltime`` (whose Chinese reads 「2 年，6 月前」).

Two adjacent units at most, as Django's ``timesince`` does (years and months, days and
hours); under a minute is "just now". The words are translated here, in the project's
catalogue, under their own context.
"""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.translation import npgettext, pgettext

register = template.Library()

MINUTE, HOUR, DAY = 60, 3600, 86400
# (seconds in the unit, how to say n of them); months and years by the calendar's mean.
UNITS = [
    (365 * DAY, lambda n: npgettext("time span", "%(num)d year", "%(num)d years", n)),
    (30 * DAY, lambda n: npgettext("time span", "%(num)d month", "%(num)d months", n)),
    (7 * DAY, lambda n: npgettext("time span", "%(num)d week", "%(num)d weeks", n)),
    (DAY, lambda n: npgettext("time span", "%(num)d day", "%(num)d days", n)),
    (HOUR, lambda n: npgettext("time span", "%(num)d hour", "%(num)d hours", n)),
    (MINUTE, lambda n: npgettext("time span", "%(num)d minute", "%(num)d minutes", n)),
]


def span(seconds: float) -> str:
    """``seconds`` as at most two adjacent units ("2 years, 6 months")."""
    seconds = int(abs(seconds))
    index = next((i for i, (size, _say) in enumerate(UNITS) if seconds >= size), None)
    if index is None:
        return ""
    parts = []
    for size, say in UNITS[index : index + 2]:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(say(count) % {"num": count})
    # Translators: between the two units of a time span ("2 years, 6 months"); a space in
    # Chinese (「2 年 6 个月」).
    return pgettext("time span separator", ", ").join(parts)


@register.filter
def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if not moment:
        return ""
    now = now or timezone.now()
    seconds = (now - moment).total_seconds()
    words = span(seconds)
    if not words:
        return pgettext("time span", "just now")
    if seconds >= 0:
        return pgettext("time span", "%(span)s ago") % {"span": words}
    return pgettext("time span", "in %(span)s") % {"span": words}
