"""The background worker (``yuexiu qcluster``) and ``make run`` (``yuexiu serve``) stop cleanly: SIGTERM
or Ctrl+C, to the process or to its whole group, during start-up or once running, once or twice, ends
them with status 0, no traceback and no process left behind.

These tests start real processes on the test database, so they take a few seconds each.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

# The processes use the test database; whatever they write is flushed after each test.
pytestmark = pytest.mark.django_db(transaction=True)

STARTED = "后台任务进程已启动"
STOPPED = "后台任务进程已停止。"
BOTH_STOPPED = "网站和后台任务进程已停止。"
PROJECT_DIR = Path(settings.PROJECT_DIR)


def _database_url() -> str:
    """The test database, for processes started by the test."""
    database = connection.settings_dict
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database["USER"] or "") + (f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else "")
    return f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"


def _environment() -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1"}


_STARTED: list[int] = []


@pytest.fixture(autouse=True)
def _nothing_left_behind():
    """Whatever a failing test leaves running is killed (each process started leads its own group)."""
    yield
    while _STARTED:
        try:
            os.killpg(_STARTED.pop(), signal.SIGKILL)
        except ProcessLookupError:
            pass


def _start(command: list[str], tmp_path: Path, cwd: Path | None = None) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """Start ``command`` in a session of its own (as a terminal's foreground job), output to files."""
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdout=stdout,
            stderr=stderr,
            env=_environment(),
            cwd=cwd,
            start_new_session=True,
            # A shell started from a terminal has the default handlers; undo anything inherited.
            preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM)],
        )
    _STARTED.append(process.pid)
    return process, out, err


def _wait_for(path: Path, text: str, process: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return
        assert process.poll() is None, f"进程提前退出：{path.read_text(errors='replace')}"
        time.sleep(0.1)
    raise AssertionError(f"{timeout} 秒内未见“{text}”")


def _stopped(process: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise AssertionError(f"{timeout} 秒内未退出") from None


def _group_empties(pgid: int, timeout: float = 15) -> bool:
    """Whether every process of the group is gone within ``timeout`` (the dead children of a killed
    sentinel stay zombies until init reaps them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def _worker(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    return _start([sys.executable, "-m", "yuexiu.cli", "qcluster"], tmp_path)


@pytest.mark.parametrize("to_group", [False, True], ids=["to-the-process", "to-the-process-group"])
def test_the_running_worker_stops_cleanly_on_sigterm(tmp_path, to_group):
    """To the whole group is what ``kill 0``, ``timeout`` and systemd do: django-q2's own command then
    waited forever for its killed sentinel."""
    worker, out, err = _worker(tmp_path)
    _wait_for(out, STARTED, worker)
    if to_group:
        os.killpg(worker.pid, signal.SIGTERM)
    else:
        worker.send_signal(signal.SIGTERM)
    assert _stopped(worker, timeout=30) == 0
    assert STOPPED in out.read_text()
    assert "Traceback" not in err.read_text()
    assert _group_empties(worker.pid)


def test_ctrl_c_pressed_twice_stops_the_worker_without_a_traceback(tmp_path):
    worker, out, err = _worker(tmp_path)
    _wait_for(out, STARTED, worker)
    os.killpg(worker.pid, signal.SIGINT)
    time.sleep(0.2)
    os.killpg(worker.pid, signal.SIGINT)
    assert _stopped(worker, timeout=30) == 0
    assert "Traceback" not in err.read_text() and "RecursionError" not in err.read_text()


@pytest.mark.parametrize("after", [0.3, 1.5])
def test_a_sigterm_while_the_worker_starts_stops_it_quietly(tmp_path, after):
    worker, _, err = _worker(tmp_path)
    time.sleep(after)
    worker.send_signal(signal.SIGTERM)
    assert _stopped(worker, timeout=30) == 0
    assert "Traceback" not in err.read_text()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    """Whether the web server answers a whole request (GET /healthz): a bare connect and close is a
    half request the server may report in its log."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status == 200
    except OSError:  # refused, reset, or an HTTP error (URLError and HTTPError are OSErrors)
        return False


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm-to-make"])
def test_make_run_stops_the_web_server_and_the_worker_cleanly(tmp_path, how):
    """``make run`` without its set-up steps (``-o`` marks them done): Ctrl+C in the terminal reaches
    make's whole process group; ``kill <make>`` reaches make, which passes it on."""
    port = _free_port()
    make, out, err = _start(
        ["make", "--no-print-directory", "-o", "install", "-o", "assets", "-o", "db", "run", f"PORT={port}"],
        tmp_path,
        cwd=PROJECT_DIR,
    )
    _wait_for(out, STARTED, make)
    deadline = time.monotonic() + 90
    while not _answers(port):
        assert time.monotonic() < deadline, out.read_text()
        time.sleep(0.2)
    if how == "ctrl-c":
        os.killpg(make.pid, signal.SIGINT)
    else:
        make.send_signal(signal.SIGTERM)
    _stopped(make, timeout=45)  # make's own status reports the signal it got
    output, errors = out.read_text(), err.read_text()
    assert STOPPED in output and BOTH_STOPPED in output
    for crash in ("Traceback", "Segmentation fault", "Error", "Exception"):
        assert crash not in errors
    assert not _answers(port)


def test_serve_stops_the_worker_and_fails_plainly_when_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve, out, err = _start([sys.executable, "-m", "yuexiu.cli", "serve", f"127.0.0.1:{port}"], tmp_path)
        assert _stopped(serve, timeout=90) == 1
    assert "网站已退出（状态 1），正在停止其他进程" in err.read_text()
    assert BOTH_STOPPED in out.read_text()
    assert "Traceback" not in err.read_text()
