"""Outgoing clients, one small module per chat platform, no models (HackSoft's
``integrations/``): each turns a message into a request and the platform's answer into a
``Result`` (sent / rejected / retry after N s / unknown). Who sends what, when and how
often is the app's business, not theirs.

Every module has ``NAME``, ``LABEL``, ``PACE`` (the platform's rate limit, shared by every
worker through ``pacing.py``), ``check(message, destination) -> list[str]`` (what is wrong
before sending: over the length limit, a missing credential) and
``send(destination, message, *, timeout) -> Result``.
"""

from importlib import import_module
from types import ModuleType

# platform code → module name in this package
_MODULES = {
    "webhook": "webhook",
    "slack": "slack",
    "discord": "discord",
    "telegram": "telegram",
    "wecom": "wecom",
    "feishu": "feishu",
    "dingtalk": "dingtalk",
}


def get_platform(name: str) -> ModuleType:
    return import_module(f"automations.platforms.{_MODULES[name]}")


def platform_names() -> list[str]:
    return list(_MODULES)
