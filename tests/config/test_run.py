"""`make run`'s last step: web, worker and beat start together, and Ctrl-C stops all three."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> set[int]:
    """Every descendant process of pid, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("reader_gone", [False, True], ids=["terminal", "pipe-reader-gone"])
def test_run_starts_three_processes_and_ctrl_c_stops_them(tmp_path, reader_gone):
    # reader_gone: `make run | tee log`, where Ctrl-C kills tee before the runner speaks.
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL",
           "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"}}  # fmt: skip
    env.update({"VAR_DIR": str(tmp_path), "PORT": str(port), "PYTHONUNBUFFERED": "1"})
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "config.run"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as r:
                    status = r.status
            except OSError:
                time.sleep(0.5)
        assert status == 200, "the web server never served the login page"
        descendants = children_of(runner.pid)
        commands = " ".join(
            Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
            for pid in descendants
            if alive(pid)
        )
        assert "runserver" in commands
        assert "worker" in commands
        assert "beat" in commands

        if reader_gone:
            runner.stdout.close()
        runner.send_signal(signal.SIGINT)  # what Ctrl-C sends
        if reader_gone:
            runner.wait(timeout=30)
            output = ""
        else:
            output, _ = runner.communicate(timeout=30)
            assert "Stopped." in output
            assert "owner / communityops-demo" in output
        assert runner.returncode == 0, output
        time.sleep(0.5)
        assert not [pid for pid in descendants if alive(pid)], output
    finally:
        if runner.poll() is None:
            runner.kill()
