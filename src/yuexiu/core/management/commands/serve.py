"""``yuexiu serve [addr:port]``: the web server and the background worker together, as ``make run``
starts them; Ctrl+C or SIGTERM stops both cleanly and exits with status 0.

Each child runs in its own process group, so a Ctrl+C in the terminal reaches only this launcher,
which then stops each child once: the worker with SIGTERM (it finishes the running task, see the
``qcluster`` command) and the web server with SIGTERM (``yuexiu runserver`` exits quietly). A second
Ctrl+C stops them at once (SIGKILL). When a child ends by itself (the port is taken, say), the other is
stopped too and its exit status is returned. On Linux the children also stop if this launcher is
killed (``PR_SET_PDEATHSIG``), so none is left behind.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _stop_with_parent() -> None:
    """In the child, before exec: receive SIGTERM when the launcher dies (Linux; elsewhere a no-op)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the children are stopped by the handlers only
        pass


class Command(BaseCommand):
    help = "同时启动网站和后台任务进程（make run 使用）；Ctrl+C 或 SIGTERM 时先后停止两者并正常退出"
    requires_system_checks: list[str] = []  # the children run them

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="网站监听地址，默认 127.0.0.1:8000")

    def handle(self, *args: Any, addrport: str, **options: Any) -> None:
        self.signals = 0
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGHUP, self._on_signal)  # the terminal was closed
        yuexiu = [sys.executable, "-m", "yuexiu.cli"]
        self.children["后台任务进程"] = self._start([*yuexiu, "qcluster"])
        self.children["网站"] = self._start([*yuexiu, "runserver", addrport, "--noreload"])
        if self.signals:  # stopped while starting
            self._terminate()
        else:
            self.stdout.write(f"数字越秀已启动：http://{addrport}  （后台任务进程已同时启动，Ctrl+C 退出）")
        status, announced = 0, False
        while any(child.poll() is None for child in self.children.values()):
            if self.signals and not announced:
                announced = True
                self.stdout.write("正在停止网站和后台任务进程（后台任务完成当前任务后退出；再按 Ctrl+C 立即停止）……")
            ended = [(name, child.returncode) for name, child in self.children.items() if child.poll() is not None]
            if ended and not self.signals and not status:
                name, code = ended[0]
                status = code or 1  # it was not asked to stop
                self.stderr.write(f"{name}已退出（状态 {code}），正在停止其他进程……")
                self._terminate()
            time.sleep(0.2)
        self.stdout.write("网站和后台任务进程已停止。")
        if status:
            sys.exit(status if status > 0 else 1)

    def _start(self, command: list[str]) -> subprocess.Popen[bytes]:
        # preexec_fn is safe here: the launcher starts no threads.
        return subprocess.Popen(command, process_group=0, preexec_fn=_stop_with_parent)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        """First signal: stop each child once (SIGTERM); a second one: stop them at once (SIGKILL).
        Nothing is written here: the main loop reports, so no write re-enters a write in progress."""
        self.signals += 1
        if self.signals == 1:
            self._terminate()
        else:
            for child in self.children.values():
                if child.poll() is None:
                    child.kill()

    def _terminate(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
