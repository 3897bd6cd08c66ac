"""The checklists' tests run in the daytime of Asia/Shanghai (the default community time
zone), whatever the hour the suite runs at.

Daily runs open at 05:00 local (checklists/due.py), so a test that opens today's run
through the pages or beat's task would find nothing to open between 16:00 and 21:00 UTC;
and a run made just before local midnight would belong to another day than the members
who join just after it. So the clock the code reads (``django.utils.timezone.now``, which
``localdate`` and every service default use) starts at 10:00 today in Shanghai and runs
on from there at its real pace. Tests that pass ``now=`` are unaffected.
"""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _daytime_in_shanghai(monkeypatch):
    real_now = timezone.now
    started = real_now()
    zone = ZoneInfo("Asia/Shanghai")
    morning = datetime.combine(started.astimezone(zone).date(), time(10), zone).astimezone(UTC)
    monkeypatch.setattr(timezone, "now", lambda: morning + (real_now() - started))
