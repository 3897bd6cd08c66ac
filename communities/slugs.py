"""Readable ASCII slugs for names in any script: Chinese becomes pinyin.

Django's ``slugify`` drops Chinese characters, so "周末读书会" would be "community-1". Here
each run of Chinese characters is read with ``pypinyin`` (whose phrase dictionary picks
the right reading of a polyphone: 重庆 is *chong*qing, 银行 yin*hang*) and its syllables are
joined two by two, since most Chinese words have two characters: "周末读书会" →
"zhoumo-dushu-hui", "深圳跑步群" → "shenzhen-paobu-qun". Other scripts go through
``slugify`` as before ("AI 产品经理交流群" → "ai-chanpin-jingli-jiaoliu-qun"). Tones are
left out; a slug stays editable before it is saved.
"""

from __future__ import annotations

import re

from django.utils.text import slugify
from pypinyin import Style, lazy_pinyin

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _pinyin(run: str) -> str:
    syllables = lazy_pinyin(run, style=Style.NORMAL, errors="ignore")
    return " ".join("".join(syllables[i : i + 2]) for i in range(0, len(syllables), 2))


def readable_slug(name: str, *, max_length: int = 50) -> str:
    """An ASCII slug for ``name`` ("" when nothing in it can be spelt in ASCII)."""
    spelt = HAN.sub(lambda match: f" {_pinyin(match.group(0))} ", name or "")
    slug = slugify(spelt)[:max_length].strip("-")
    return slug
