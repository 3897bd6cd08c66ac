"""``python -m config.run``: web server, Celery worker and Celery beat in one foreground command.

This is the embedded mode behind ``make run``. Each process gets its own process group,
so that Ctrl-C (or SIGTERM) here stops all three and their children (Django's reloader,
Celery's pool), and if one of them dies the others are stopped too instead of limping on.
At scale these three run as separate services instead (see the README).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable

STOP_GRACE_SECONDS = 10


def commands(host: str, port: str) -> dict[str, list[str]]:
    python = sys.executable
    var_dir = os.environ.get("VAR_DIR", "var")
    return {
        "web": [python, "manage.py", "runserver", f"{host}:{port}"],
        "worker": [
            python, "-m", "celery", "-A", "config", "worker",
            "--queues", "default,analytics,actions,imports", "--concurrency", "2",
            "--loglevel", "INFO", "--hostname", "embedded@%h",
        ],
        "beat": [
            python, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", os.path.join(var_dir, "celerybeat-schedule"),
        ],
    }  # fmt: skip


def stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            # SIGINT to the whole group is what a terminal's Ctrl-C would send: Django's
            # reloader and its child both exit, Celery's pool lets its parent shut it down.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def say(text: str) -> None:
    # stdout may be a pipe whose reader is gone (``make run | tee``, then Ctrl-C): never
    # let a failed print keep the runner from stopping its children.
    with contextlib.suppress(OSError):
        print(text, flush=True)


def wait_for_port(host: str, port: str, give_up: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if give_up():
            return False
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                return True
        except OSError:
            time.sleep(0.3)
    return False


def installation_state() -> str:
    """ "first-run" while no organisation exists, "demo" when the demo is seeded, else
    "ready". Read from the database the web server uses, after ``migrate`` ran."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connections

    from communities.models import Organization

    try:
        if not Organization.objects.exists():
            return "first-run"
        # seed_demo's organisation (automations.management.commands.seed_demo.DEMO_ORG_SLUG).
        return "demo" if Organization.objects.filter(slug="demo").exists() else "ready"
    finally:
        connections.close_all()


def banner(host: str, port: str, state: str) -> str:
    address = f"http://{host}:{port}/"
    if state == "first-run":
        how = (
            f"  Open {address}setup/ to create your organisation and its owner account\n"
            "  (or run manage.py organization_create)."
        )
    elif state == "demo":
        how = (
            f"  Open {address} and log in as owner / communityops-demo\n"
            "  (also operator, manager, moderator; same password)."
        )
    else:
        how = f"  Open {address} and log in."
    return f"\n  CommunityOps is running (web, worker and beat).\n{how} Ctrl-C stops all three.\n"


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    # The product's own 404 and 500 pages, as its users will see them, rather than Django's
    # debug pages that list every URL route; `DEBUG=1 make run` brings those back. Static
    # files are served from the source folders either way (WHITENOISE_USE_FINDERS).
    os.environ.setdefault("DEBUG", "0")
    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    exit_code = 0
    try:
        for name, argv in commands(host, port).items():
            processes[name] = subprocess.Popen(argv, start_new_session=True)  # noqa: S603

        def exited() -> bool:
            return stopping or any(p.poll() is not None for p in processes.values())

        if wait_for_port(host, port, give_up=exited):
            say(banner(host, port, installation_state()))
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    say(f"  {name} exited with code {process.returncode}; stopping the others.")
                    exit_code = process.returncode or 1
                    stopping = True
                    break
            time.sleep(0.3)
    finally:
        say("  Stopping web, worker and beat…")
        stop(processes)
        say("  Stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
