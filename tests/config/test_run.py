"""`make run`'s last step: web, worker and beat start together, and Ctrl-C stops all three."""

import os
import select
import signal
import subprocess
import sys
import time
import urllib.error
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
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        output = read_until(runner, "Ctrl-C stops all three", timeout=60)
        # A fresh database without the demo (DEMO=0 make run): the first run, not a login.
        assert f"Open http://127.0.0.1:{port}/setup/" in output
        assert "communityops-demo" not in output
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as response:
            assert response.status == 200
            assert response.url == f"http://127.0.0.1:{port}/setup/"
        # A mistyped address: the product's own 404 page, not Django's list of URL routes;
        # the page's stylesheet still comes from the source folders.
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page/")
        page = missing.value.read().decode()
        assert missing.value.code == 404
        assert "URLconf" not in page and "There is nothing at this address" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/css/app.css") as response:
            assert response.status == 200
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
        if not reader_gone:
            output = read_until(runner, "Stopped.", timeout=30)
        runner.wait(timeout=30)
        assert runner.returncode == 0, output
        time.sleep(0.5)
        assert not [pid for pid in descendants if alive(pid)], output
    finally:
        if runner.poll() is None:
            runner.kill()


def test_the_banner_says_how_to_get_in():
    from config.run import banner

    assert "log in as owner / communityops-demo" in banner("127.0.0.1", "8000", "demo")
    first_run = banner("127.0.0.1", "8000", "first-run")
    assert "http://127.0.0.1:8000/setup/" in first_run
    assert "organization_create" in first_run and "demo" not in first_run
    ready = banner("127.0.0.1", "8000", "ready")
    assert "Open http://127.0.0.1:8000/ and log in." in ready and "demo" not in ready


def read_until(process: subprocess.Popen, text: str, timeout: float) -> str:
    """Read the process's output until ``text`` appears; fail after ``timeout`` seconds."""
    buffer = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in buffer:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{text!r} never appeared in:\n{buffer.decode(errors='replace')}"
        ready, _, _ = select.select([process.stdout], [], [], min(remaining, 1))
        if ready:
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, f"output ended before {text!r}:\n{buffer.decode(errors='replace')}"
            buffer += chunk
    return buffer.decode(errors="replace")
