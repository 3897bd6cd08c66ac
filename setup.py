"""Build hook: the wheel ships the repository's templates/, static/ and locale/ inside the
``config`` package, as ``config/assets/``, with the translations compiled to .mo.

The three folders stay at the repository root, where ``make run`` and ``make test`` use
them directly (config/settings.py: ``ASSETS_DIR``); only the build copies them, so nothing
generated ever lands in the tree. Everything else (the packages, their migrations, the
``communityops`` command) is declared in pyproject.toml. MANIFEST.in puts the folders in
the sdist, so that ``python -m build`` (sdist, then the wheel from it) sees them too.
"""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ASSET_FOLDERS = ("templates", "static", "locale")
IGNORED = shutil.ignore_patterns("__pycache__", "*.py[cod]", "*.mo", ".*")


def compile_translations(locale_dir: Path) -> None:
    # config/translations.py by path: importing the ``config`` package would start Celery.
    spec = importlib.util.spec_from_file_location(
        "_communityops_translations", HERE / "config" / "translations.py"
    )
    translations = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(translations)
    if translations.compile_catalogs(locale_dir, quiet=True):
        raise SystemExit(f"No translations to compile under {locale_dir}")


class BuildWithAssets(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return  # an editable install reads the repository's folders in place
        target = Path(self.build_lib) / "config" / "assets"
        shutil.rmtree(target, ignore_errors=True)  # nothing left from an earlier build
        for folder in ASSET_FOLDERS:
            shutil.copytree(HERE / folder, target / folder, ignore=IGNORED)
        compile_translations(target / "locale")


setup(cmdclass={"build_py": BuildWithAssets})
