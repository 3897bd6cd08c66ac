"""One importer per chat-export format, all behind the interface in ``base``.

Each module has ``FORMAT``, ``PLATFORM``, ``events(path, ctx)`` (the events, streamed) and
``recognise(head)`` (``recognition.py``: whether a file looks like its format).
"""

from importlib import import_module
from types import ModuleType

# format code → module name in this package
_MODULES = {
    "csv": "csv_generic",
    "telegram": "telegram",
    "slack": "slack",
    "discord": "discord",
    "whatsapp": "whatsapp",
    "pywxdump": "pywxdump",
    "wechat": "wechat",
    "wechat_ios": "wechat_ios",
    "echotrace": "echotrace",
    "wxmanager": "wxmanager",
    "chatlog": "chatlog",
}

# The order "recognise the format" asks the importers in: the most specific first, so the
# generic CSV (whose three columns another export might also have) comes last.
ORDER = (
    "telegram",
    "discord",
    "slack",
    "wechat_ios",
    "echotrace",
    "wxmanager",
    "chatlog",
    "pywxdump",
    "wechat",
    "whatsapp",
    "csv",
)


def get_importer(format: str) -> ModuleType:
    return import_module(f"activities.importers.{_MODULES[format]}")


def registered(format: str) -> bool:
    return format in _MODULES
