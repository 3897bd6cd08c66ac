"""Shared fixtures, and the rule that CI never skips.

Locally, a test whose service (PostgreSQL, Redis, Chromium) is absent skips with the
reason. Under ``CI=true`` the same situation fails: a green build must mean every test ran.
"""

import os
import shutil
import socket
from datetime import UTC, datetime, time
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from automations.platforms import pacing
from communities.models import Role
from tests.factories import CommunityFactory, OrganizationFactory, StaffFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


def service_missing(reason: str) -> None:
    """Skip locally, fail under CI=true."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service fails the build)", pytrace=False)
    pytest.skip(reason)


def tcp_reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def pytest_configure(config):
    # Pages are checked in Chinese: make sure the .mo files match the .po files.
    from config import translations

    translations.main(["--quiet"])

    # Factories give every user a password; PBKDF2's 1,000,000 rounds cost ~0.3 s a user,
    # which is the point in production and most of the time of a test that makes staff.
    # Django's testing docs recommend a fast hasher; nothing here tests the hash's strength.
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


# Fixtures that give a test the database (pytest-django's and this suite's).
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}


def uses_the_database(item) -> bool:
    if item.get_closest_marker("db_agnostic"):
        return False
    if item.get_closest_marker("django_db") or item.get_closest_marker("integration"):
        return True
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config, items):
    database_url = os.environ.get("DATABASE_URL", "")
    on_postgres = database_url.startswith("postgres")
    if on_postgres and not tcp_reachable(database_url, 5432):
        reason = f"PostgreSQL is not reachable at {urlparse(database_url).netloc}"
        if IN_CI:
            raise pytest.UsageError(f"{reason} (CI=true: a missing service fails the build)")
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))

    if on_postgres and os.environ.get("TEST_EVERYTHING_AGAIN", "") != "1":
        # `make test` runs the suite on SQLite, then again on PostgreSQL. What never touches
        # a database (parsers, settings, the run command) gives the same answer twice, so
        # the PostgreSQL pass keeps only what talks to a database; TEST_EVERYTHING_AGAIN=1
        # keeps everything.
        once = [item for item in items if not uses_the_database(item)]
        if once:
            config.hook.pytest_deselected(items=once)
            items[:] = [item for item in items if uses_the_database(item)]

    # One Chromium serves every browser test (tests/browser/conftest.py); while it runs,
    # Playwright's event loop owns the main thread, so those tests come last.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if IN_CI and _skipped and session.exitstatus == 0:
        session.exitstatus = 1
        print(f"\nCI=true: {len(_skipped)} test(s) skipped, which fails the build:")
        for nodeid in _skipped:
            print(f"  {nodeid}")


@pytest.fixture(autouse=True)
def _clean_cache():
    # The cache is shared (files or Redis): lockouts, heartbeats and the connectors' paced
    # slots must not leak (the file cache keeps the slots beside it: pacing.forget_all).
    cache.clear()
    pacing.forget_all()
    yield


@pytest.fixture(autouse=True)
def _english_by_default():
    # A request with Accept-Language activates a language for the thread and Django
    # leaves it there; start every test in the source language.
    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url.startswith("redis"):
        service_missing("REDIS_URL is not set to a Redis server (make test-postgres sets it)")
    if not tcp_reachable(url, 6379):
        service_missing(f"Redis is not reachable at {url}")
    return url


# --- Tenancy -----------------------------------------------------------------------------


@pytest.fixture
def org_a():
    return OrganizationFactory(name="Organisation A 甲", slug="org-a")


@pytest.fixture
def org_b():
    return OrganizationFactory(name="Organisation B 乙", slug="org-b")


def staff_of_org_a(role: str):
    @pytest.fixture
    def fixture(org_a):
        return StaffFactory(organization=org_a, role=role)

    return fixture


owner_a = staff_of_org_a(Role.OWNER)
operator_a = staff_of_org_a(Role.OPERATOR)
manager_a = staff_of_org_a(Role.MANAGER)
moderator_a = staff_of_org_a(Role.MODERATOR)


@pytest.fixture
def community_a(org_a):
    return CommunityFactory(organization=org_a, name="读书会", slug="reading")


@pytest.fixture
def community_b(org_b):
    return CommunityFactory(organization=org_b, name="B 的秘密群", slug="secret-b")


@pytest.fixture
def client_for(client):
    """Log the test client in as a staff member: ``client_for(staff)``."""

    def login(staff):
        client.force_login(staff.user)
        return client

    return login


def shanghai_clock(monkeypatch, at: time) -> datetime:
    """Make the clock the code reads start at ``at`` today in Asia/Shanghai (the default
    community time zone) and run on from there at its real pace; returns that start.

    Daily checklist runs open at 05:00 local (checklists/due.py) and their items fall due
    in the day, so a test that opens today's run through the pages, beat's task or the demo
    would find nothing to open or nothing due between 16:00 and 21:00 UTC — when a CI run
    may well happen. ``django.utils.timezone.now`` is what ``localdate`` and every
    service's default read, in the test's thread and in a live server's. Tests that pass
    ``now=`` are unaffected.
    """
    real_now = timezone.now
    started = real_now()
    zone = ZoneInfo("Asia/Shanghai")
    start = datetime.combine(started.astimezone(zone).date(), at, zone).astimezone(UTC)
    monkeypatch.setattr(timezone, "now", lambda: start + (real_now() - started))
    return start


@pytest.fixture
def daytime_in_shanghai(monkeypatch):
    """The clock at 10:00 today in Shanghai (``shanghai_clock``)."""
    return shanghai_clock(monkeypatch, time(10))


@pytest.fixture
def evening_in_shanghai(monkeypatch):
    """The clock at 21:30 today in Shanghai: most of a daily run has fallen due."""
    return shanghai_clock(monkeypatch, time(21, 30))
