"""Every platform client behind the one interface (automations/platforms/__init__.py)."""

import pytest

from automations.platforms import get_platform, platform_names
from automations.platforms.base import Destination, Message

PLATFORMS = ["webhook", "slack", "discord", "telegram", "wecom", "feishu", "dingtalk"]


def test_the_seven_platforms_are_registered():
    assert sorted(platform_names()) == sorted(PLATFORMS)


@pytest.mark.parametrize("name", PLATFORMS)
def test_each_has_the_interface(name):
    platform = get_platform(name)
    assert name == platform.NAME
    assert str(platform.LABEL)
    count, seconds = platform.PACE
    assert count >= 1 and seconds > 0
    for function in ("check", "send", "pace_key"):
        assert callable(getattr(platform, function)), function
    # Without a destination's address or credentials, check() says what is missing.
    assert platform.check(Message("hi"), Destination(url=""))
