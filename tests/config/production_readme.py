"""The README's production section as data: its shell commands, its configuration table.

tests/config/test_deploy_units.py holds the systemd units to these commands and
tests/config/test_wheel.py starts gunicorn with them, so the README cannot drift from what
is tested.
"""

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
VENV_BIN = "/opt/communityops/venv/bin/"


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def shell_commands() -> list[list[str]]:
    """Every command of the production section's ``sh`` blocks, as the shell splits it:
    backslash continuations joined, comments dropped, so spacing does not matter."""
    commands = []
    blocks = re.findall(r"^```sh\n(.*?)^```", section("Production"), re.MULTILINE | re.DOTALL)
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            try:
                words = shlex.split(line, comments=True)
            except ValueError:  # a line of a multi-line construct, not a command
                continue
            if words:
                commands.append(words)
    return commands


def command_starting(*words: str) -> list[str]:
    """The one README command that begins with ``words``."""
    found = [c for c in shell_commands() if c[: len(words)] == list(words)]
    assert len(found) == 1, f"expected one README command starting {words}, found {found}"
    return found[0]


def configuration_variables() -> list[str]:
    """The variables named in the first column of the README's configuration table."""
    names = []
    for line in section("Configuration").splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([A-Z][A-Z0-9_]*)`", line.split("|")[1])
    return names
