"""deploy/systemd/: the units run exactly the README's production commands, and the
environment file they read names every setting of the README's configuration table."""

import re
import shlex
import subprocess

import pytest
from django.conf import settings

from tests.config.production_readme import (
    ROOT,
    VENV_BIN,
    command_starting,
    configuration_variables,
    section,
    shell_commands,
)

UNITS_DIR = ROOT / "deploy" / "systemd"
UNITS = ("communityops-web.service", "communityops-worker.service", "communityops-beat.service")
ENV_EXAMPLE = UNITS_DIR / "communityops.env.example"
ENV_FILE = "/etc/communityops/communityops.env"
STATE_DIR = "/var/lib/communityops"


def unit_directives(name: str) -> dict[str, list[str]]:
    """``Section.Key`` -> values, in order (systemd allows a key more than once)."""
    directives: dict[str, list[str]] = {}
    current = ""
    text = (UNITS_DIR / name).read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        directives.setdefault(f"{current}.{key.strip()}", []).append(value.strip())
    return directives


def exec_start(name: str) -> list[str]:
    (command,) = unit_directives(name)["Service.ExecStart"]
    return shlex.split(command)


@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_runs_a_command_of_the_readme(unit):
    assert exec_start(unit) in shell_commands(), (
        f"{unit}: ExecStart is not one of the README's production commands"
    )


@pytest.mark.parametrize("unit", UNITS)
def test_each_unit_runs_as_the_service_user_with_the_environment_file(unit):
    service = {k: v for k, v in unit_directives(unit).items() if k.startswith("Service.")}
    assert service["Service.User"] == ["communityops"]
    assert service["Service.EnvironmentFile"] == [ENV_FILE]
    assert service["Service.StateDirectory"] == ["communityops"]  # /var/lib/communityops
    assert service["Service.WorkingDirectory"] == [STATE_DIR]
    assert service["Service.Restart"] == ["on-failure"]
    assert exec_start(unit)[0].startswith(VENV_BIN)
    assert unit_directives(unit)["Install.WantedBy"] == ["multi-user.target"]


def test_the_units_are_the_web_server_a_worker_of_every_queue_and_beat():
    web = exec_start("communityops-web.service")
    assert web[:2] == [f"{VENV_BIN}gunicorn", "config.wsgi"]
    assert "--no-control-socket" in web  # gunicorn 27's shared socket in $HOME otherwise

    worker = exec_start("communityops-worker.service")
    assert worker[:4] == [f"{VENV_BIN}celery", "-A", "config", "worker"]
    queues = worker[worker.index("-Q") + 1].split(",")
    assert sorted(queues) == sorted(settings.CELERY_TASK_QUEUES)
    assert worker[worker.index("--loglevel") + 1] == "INFO"  # task lines in the journal

    beat = exec_start("communityops-beat.service")
    assert beat[:4] == [f"{VENV_BIN}celery", "-A", "config", "beat"]
    # beat does not create the schedule's folder: the unit's StateDirectory is that folder.
    assert beat[beat.index("--schedule") + 1] == f"{STATE_DIR}/celerybeat-schedule"


def test_the_readme_installs_what_the_units_expect():
    commands = shell_commands()
    assert ["sudo", "python3", "-m", "venv", VENV_BIN.removesuffix("/bin/")] in commands
    install = command_starting("sudo", f"{VENV_BIN}pip", "install")
    assert install[-1].endswith(".whl") and "requirements.lock" in install
    useradd = command_starting("sudo", "useradd")
    assert useradd[-1] == "communityops" and STATE_DIR in useradd
    copy = command_starting("sudo", "cp")
    assert sorted(p.removeprefix("deploy/systemd/") for p in copy[2:-1]) == sorted(UNITS)
    env_install = [c for c in commands if f"deploy/systemd/{ENV_EXAMPLE.name}" in c]
    assert env_install and env_install[0][-1] == ENV_FILE
    assert ENV_FILE in section("Production")


def env_lines() -> list[str]:
    return ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()


def test_the_environment_file_names_every_configuration_variable():
    variables = configuration_variables()
    assert len(variables) > 40 and "REDIS_URL" in variables
    named = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", "\n".join(env_lines()), re.MULTILINE))
    missing = [name for name in variables if name not in named]
    assert not missing, f"{ENV_EXAMPLE.name} does not mention {missing}"


def test_the_environment_file_sets_what_production_requires_and_the_shell_reads_it_alike():
    # systemd's reading: KEY=value lines, "#" comments, double quotes removed.
    systemd = {}
    for line in env_lines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            systemd[key] = value.removeprefix('"').removesuffix('"')
    for required in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"):
        assert systemd.get(required), required
    assert systemd["DJANGO_ENV"] == "production"
    assert systemd["REDIS_URL"] != systemd["CELERY_BROKER_URL"]
    assert systemd["VAR_DIR"] == STATE_DIR
    # The README's `communityops` shell function sources the same file with `sh -a`.
    names = " ".join(f'"${name}"' for name in systemd)
    shell = subprocess.run(
        ["sh", "-ac", f". {shlex.quote(str(ENV_EXAMPLE))} && printf '%s\\n' {names}"],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout.splitlines() == list(systemd.values())
