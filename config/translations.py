"""``python -m config.translations [--check] [--quiet]``: compile locale/*.po to .mo with polib.

Django's ``compilemessages`` needs GNU gettext, which a fresh laptop may not have; polib
is pure Python. ``--check`` also fails on any untranslated or fuzzy entry, so that no
page ships with English left in its Chinese version.
"""

import os
import sys
from pathlib import Path

import polib

# The repository's catalogues (a checkout); an installed wheel ships them compiled.
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def problems_in(catalog: polib.POFile) -> list[str]:
    found = []
    for entry in catalog:
        if entry.obsolete:
            continue
        where = f"line {entry.linenum}: {entry.msgid[:60]!r}"
        if entry.fuzzy:
            found.append(f"fuzzy, {where}")
        elif not entry.translated():
            found.append(f"untranslated, {where}")
    return found


def _write_mofile(catalog: polib.POFile, mo_path: Path) -> None:
    # Written aside and renamed into place: a process that reads the catalogue meanwhile
    # (the two test passes run side by side) sees the old file or the new one, never half.
    partial = mo_path.with_name(f".{mo_path.name}.{os.getpid()}")
    catalog.save_as_mofile(str(partial))
    os.replace(partial, mo_path)


def compile_catalogs(locale_dir: Path, *, check: bool = False, quiet: bool = False) -> int:
    """Compile every .po under ``locale_dir`` to the .mo beside it; the number of problems
    found when ``check`` (the wheel build, setup.py, calls this on its copy)."""
    failures = 0
    po_files = sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))
    if not po_files:
        print(f"No .po files under {locale_dir}", file=sys.stderr)
        return 1
    for po_path in po_files:
        catalog = polib.pofile(str(po_path))
        if check:
            for problem in problems_in(catalog):
                print(f"{po_path}: {problem}", file=sys.stderr)
                failures += 1
        _write_mofile(catalog, po_path.with_suffix(".mo"))
        if not quiet:
            name = po_path.relative_to(locale_dir.parent)
            print(f"compiled {name} ({catalog.percent_translated()}%)")
    return failures


def main(argv: list[str]) -> int:
    failures = compile_catalogs(LOCALE_DIR, check="--check" in argv, quiet="--quiet" in argv)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
