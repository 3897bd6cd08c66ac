"""The checklists' tests run in the daytime of Asia/Shanghai, whatever the hour the suite
runs at (``daytime_in_shanghai`` in tests/conftest.py says why)."""

import pytest


@pytest.fixture(autouse=True)
def _daytime(daytime_in_shanghai):
    return daytime_in_shanghai
