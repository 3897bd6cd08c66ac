"""One Chinese term per concept: the glossary beside the translation
(locale/zh_Hans/GLOSSARY.md) names the retired variants, and none may appear in the
catalogue's translations."""

import re
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[2]
GLOSSARY = ROOT / "locale" / "zh_Hans" / "GLOSSARY.md"
CATALOGUE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def retired() -> dict[str, str]:
    """Retired variant → the term to use instead, from the glossary's table."""
    found = {}
    for line in GLOSSARY.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[2] and not set(cells[2]) <= {"-"}:
            for variant in re.split(r"[,，]\s*", cells[2]):
                if variant and variant != "Retired variants (do not use)":
                    found[variant] = cells[1]
    return found


def test_the_glossary_names_retired_variants():
    assert {"保证金", "黏性"} <= set(retired())


def test_no_translation_uses_a_retired_variant():
    catalogue = polib.pofile(str(CATALOGUE))
    offending = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        texts = [entry.msgstr, *entry.msgstr_plural.values()]
        for variant, term in retired().items():
            # A source text that itself names the variant (a term explained) may keep it.
            if variant in entry.msgid:
                continue
            if any(variant in text for text in texts):
                offending.append(f"{entry.msgid[:50]!r}: {variant} → {term}")
    assert offending == []
