"""One importer per chat-export format, all behind the interface in ``base``."""

from importlib import import_module
from types import ModuleType

# format code → module name in this package
_MODULES = {
    "csv": "csv_generic",
    "telegram": "telegram",
    "slack": "slack",
    "discord": "discord",
    "whatsapp": "whatsapp",
    "wechat": "wechat",
}


def get_importer(format: str) -> ModuleType:
    return import_module(f"activities.importers.{_MODULES[format]}")
