"""The ``communityops`` command (pyproject.toml ``[project.scripts]``): Django's
``manage.py``, for an installed wheel; the repository's ``manage.py`` calls it too."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
