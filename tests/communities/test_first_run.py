"""The first run: a fresh installation creates its organisation and owner once, in the
browser or with ``manage.py organization_create``; owners add further organisations."""

import contextlib
import io
import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from communities import services
from communities.models import Organization, Role, Staff, StaffAction, StaffLogEntry
from tests.factories import OrganizationFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()
STRONG = "lantern-orchid-47-tundra"


def first_run_data(**overrides) -> dict:
    return {
        "name": "晨读社 Morning Readers",
        "time_zone": "Asia/Singapore",
        "currency": "sgd",
        "language": "en",
        "username": "wangfang",
        "email": "wang@example.com",
        "password1": STRONG,
        "password2": STRONG,
        **overrides,
    }


def test_a_fresh_installation_sends_home_and_login_to_the_first_run(client):
    response = client.get(reverse("overview"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("first-run")
    assert response.status_code == 200
    assert b'data-testid="first-run"' in response.content
    assert client.get(reverse("login"))["Location"] == reverse("first-run")


def test_the_first_run_creates_the_organisation_and_its_owner_and_signs_in(client):
    response = client.post(reverse("first-run"), first_run_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("overview")

    organization = Organization.objects.get()
    assert organization.name == "晨读社 Morning Readers"
    assert organization.time_zone == "Asia/Singapore"
    assert organization.currency == "SGD"
    assert organization.language == "en"
    owner = User.objects.get()
    assert owner.username == "wangfang" and owner.email == "wang@example.com"
    assert owner.check_password(STRONG)
    assert Staff.objects.get().role == Role.OWNER
    entry = StaffLogEntry.objects.get()
    assert entry.action == StaffAction.ORGANIZATION_CREATED
    assert entry.actor == owner and entry.organization == organization

    overview = client.get(reverse("overview"))
    assert overview.status_code == 200
    assert "晨读社 Morning Readers" in overview.content.decode()


def test_the_page_is_gone_once_an_organisation_exists(client, org_a):
    assert client.get(reverse("first-run")).status_code == 404
    assert client.post(reverse("first-run"), first_run_data()).status_code == 404
    assert client.get(reverse("login")).status_code == 200
    assert not User.objects.exists()
    assert Organization.objects.count() == 1


def test_the_page_is_gone_after_the_first_run(client):
    client.post(reverse("first-run"), first_run_data())
    replay = Client().post(reverse("first-run"), first_run_data(username="intruder"))
    assert replay.status_code == 404
    assert Organization.objects.count() == 1
    assert not User.objects.filter(username="intruder").exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password2": "something-else-99"}, "password2", "The two passwords differ."),
        ({"password1": "12345678", "password2": "12345678"}, "password1", "too common"),
        ({"password1": "wangfang1", "password2": "wangfang1"}, "password1", "too similar"),
        ({"currency": "1AB"}, "currency", "three-letter ISO 4217 code"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Select a valid choice"),
        ({"username": "wang fang!"}, "username", "Enter a valid username"),
        ({"email": "not-an-address"}, "email", "valid email"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_bad_input_is_shown_on_the_form_and_creates_nothing(client, overrides, field, message):
    response = client.post(reverse("first-run"), first_run_data(**overrides))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def test_a_taken_user_name_is_refused_whatever_its_case(client):
    UserFactory(username="WangFang")  # e.g. made with createsuperuser before the first run
    response = client.post(reverse("first-run"), first_run_data())
    assert "already exists" in " ".join(response.context["form"].errors["username"])
    assert not Organization.objects.exists()


def test_the_first_run_page_is_in_chinese(client):
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("first-run")).content.decode()
    for words in ("组织名称", "默认时区", "决心金币种", "默认语言", "所有者账号", "再次输入密码"):
        assert words in html


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_first_runs_make_one_organisation_and_one_owner(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.fail("Needs PostgreSQL (make test-postgres)")
    # Each submission, once past its check, waits for the other to get past its own: without
    # the lock both get there (two organisations); with it the second is held at the lock,
    # the first goes on when the wait runs out, and the second then finds an organisation.
    both_checked = threading.Barrier(2, timeout=3)
    create = services.organization_create_with_new_owner

    def create_when_both_checked(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait()
        return create(**kwargs)

    monkeypatch.setattr(services, "organization_create_with_new_owner", create_when_both_checked)
    statuses = []

    def submit(username):
        try:
            data = first_run_data(username=username, name=f"Org of {username}")
            response = Client().post(reverse("first-run"), data)
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [302, 404]
    assert Organization.objects.count() == 1
    assert Staff.objects.count() == 1 and User.objects.count() == 1
    assert StaffLogEntry.objects.filter(action=StaffAction.ORGANIZATION_CREATED).count() == 1


# --- manage.py organization_create ---------------------------------------------------------


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("organization_create", *args, stdout=out)
    return out.getvalue()


BASIC_ARGS = ("--name", "Acme 社群", "--owner-username", "li", "--owner-email", "li@example.com")


def test_the_command_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("COMMUNITYOPS_OWNER_PASSWORD", STRONG)
    output = run_command(
        *BASIC_ARGS, "--time-zone", "Europe/Berlin", "--currency", "eur", "--language", "en"
    )
    assert "Acme 社群" in output
    organization = Organization.objects.get()
    assert (organization.time_zone, organization.currency, organization.language) == (
        "Europe/Berlin",
        "EUR",
        "en",
    )
    staff = Staff.objects.get()
    assert staff.role == Role.OWNER and staff.user.username == "li"
    assert staff.user.check_password(STRONG)
    assert StaffLogEntry.objects.get().action == StaffAction.ORGANIZATION_CREATED


def test_the_command_asks_twice_at_a_terminal(monkeypatch):
    monkeypatch.delenv("COMMUNITYOPS_OWNER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter([STRONG, STRONG])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    run_command(*BASIC_ARGS)
    assert User.objects.get(username="li").check_password(STRONG)


def test_the_command_refuses_two_different_passwords(monkeypatch):
    monkeypatch.delenv("COMMUNITYOPS_OWNER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter([STRONG, STRONG + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(CommandError, match="differ"):
        run_command(*BASIC_ARGS)
    assert not Organization.objects.exists()


def test_the_command_without_a_password_and_no_terminal_says_how(monkeypatch):
    monkeypatch.delenv("COMMUNITYOPS_OWNER_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    with pytest.raises(CommandError, match="COMMUNITYOPS_OWNER_PASSWORD"):
        run_command(*BASIC_ARGS)
    assert not Organization.objects.exists()


def test_the_command_has_no_password_argument():
    with pytest.raises(CommandError, match="unrecognized arguments"):
        run_command(*BASIC_ARGS, "--password", STRONG)


@pytest.mark.parametrize(
    ("extra", "env_password", "message"),
    [
        ((), "password", "too common"),
        ((), "li", "too short"),
        (("--time-zone", "Mars/Olympus"), STRONG, "not a known time zone"),
        (("--currency", "12"), STRONG, "three-letter ISO 4217 code"),
    ],
)
def test_the_command_refuses_bad_input_clearly(monkeypatch, extra, env_password, message):
    monkeypatch.setenv("COMMUNITYOPS_OWNER_PASSWORD", env_password)
    with pytest.raises(CommandError, match=message):
        run_command(*BASIC_ARGS, *extra)
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def test_the_command_refuses_a_taken_user_name(monkeypatch, owner_a):
    monkeypatch.setenv("COMMUNITYOPS_OWNER_PASSWORD", STRONG)
    with pytest.raises(CommandError, match="already exists"):
        run_command(
            "--name", "Again", "--owner-username", owner_a.user.username.upper(),
            "--owner-email", "x@example.com",
        )  # fmt: skip
    assert Organization.objects.count() == 1


def test_the_command_adds_an_organisation_beside_existing_ones(monkeypatch, org_a):
    monkeypatch.setenv("COMMUNITYOPS_OWNER_PASSWORD", STRONG)
    run_command(*BASIC_ARGS)
    assert Organization.objects.count() == 2
    assert Staff.objects.get(user__username="li").organization.name == "Acme 社群"


def test_the_command_exits_non_zero_with_the_reason(tmp_path):
    # A real process: its exit code and message as a script sees them (no terminal, no
    # password: refused before the database is touched).
    env = {k: v for k, v in os.environ.items() if k != "COMMUNITYOPS_OWNER_PASSWORD"}
    env["VAR_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "organization_create", *BASIC_ARGS],
        cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "No password: set COMMUNITYOPS_OWNER_PASSWORD" in result.stderr
    assert "Traceback" not in result.stderr


# --- Further organisations and the community form's default ----------------------------------


def test_an_owner_creates_another_organisation_and_works_in_it(client_for, owner_a):
    client = client_for(owner_a)
    assert reverse("organization-create") in client.get(reverse("settings")).content.decode()
    response = client.post(
        reverse("organization-create"),
        {"name": "Second 第二", "time_zone": "Europe/London", "currency": "GBP", "language": "en"},
    )
    assert response.status_code == 302
    second = Organization.objects.get(name="Second 第二")
    assert Staff.objects.get(organization=second).user == owner_a.user
    assert Staff.objects.get(organization=second).role == Role.OWNER
    entry = StaffLogEntry.objects.get(organization=second)
    assert entry.action == StaffAction.ORGANIZATION_CREATED and entry.actor == owner_a.user

    page = client.get(reverse("settings")).content.decode()
    assert 'id="org-switch"' in page  # the switcher, now that there are two
    assert f'<option value="{second.pk}" selected>' in page
    client.post(reverse("organization-switch"), {"organization": owner_a.organization.pk})
    page = client.get(reverse("settings")).content.decode()
    assert f'<option value="{owner_a.organization.pk}" selected>' in page


def test_a_bad_new_organisation_shows_the_error(client_for, owner_a):
    response = client_for(owner_a).post(
        reverse("organization-create"),
        {"name": "X", "time_zone": "UTC", "currency": "1AB", "language": "en"},
    )
    assert response.status_code == 200
    assert "ISO 4217" in " ".join(response.context["form"].errors["currency"])
    assert Organization.objects.count() == 1


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANAGER, Role.MODERATOR])
def test_only_owners_create_organisations(client_for, org_a, role):
    staff = StaffFactory(organization=org_a, role=role)
    client = client_for(staff)
    assert client.get(reverse("organization-create")).status_code == 403
    response = client.post(
        reverse("organization-create"),
        {"name": "Mine", "time_zone": "UTC", "currency": "CNY", "language": "en"},
    )
    assert response.status_code == 403
    assert Organization.objects.count() == 1


def test_a_new_community_starts_in_the_organisations_time_zone(client_for, owner_a):
    organization = owner_a.organization
    organization.time_zone = "Europe/Berlin"
    organization.save()
    form = client_for(owner_a).get(reverse("communities:create")).context["form"]
    assert form["time_zone"].value() == "Europe/Berlin"
    community = services.community_create(
        organization=organization, name="Lesekreis", platform="wechat"
    )
    assert community.time_zone == "Europe/Berlin"


def test_organisation_slugs_are_made_from_names():
    first = services.organization_create(name="读书会")
    second = services.organization_create(name="读书会")
    third = services.organization_create(name="Morning Readers")
    assert (first.slug, second.slug, third.slug) == (
        "dushu-hui",
        "dushu-hui-2",
        "morning-readers",
    )
    assert OrganizationFactory(slug="x").slug == "x"
