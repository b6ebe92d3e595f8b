"""``yuexiu qcluster``: the background worker (django-q2's cluster) that stops cleanly on SIGTERM or
Ctrl+C however the signal arrives, with exit status 0 and no traceback.

It replaces django-q2's command of the same name (``yuexiu.core`` is listed before ``django_q`` in
INSTALLED_APPS for that) and keeps its cluster; only the signal handling differs. django-q2 1.11 stops
the cluster when its main process gets SIGTERM or SIGINT, but:

- a signal sent to the whole process group (``kill 0``, ``timeout``, systemd's control-group stop) also
  kills the sentinel process, and the main process then waits forever in ``Event.set()`` for the dead
  sentinel to acknowledge the stop;
- a second signal (Ctrl+C twice, or the group's SIGTERM plus a direct one) re-enters the handler until
  the interpreter fails (RecursionError, then a crash);
- a signal during start-up, before the cluster exists, ends in a traceback.

A task interrupted by a signal to the whole group is not lost: the database broker hands it out again
after ``Q_CLUSTER["retry"]`` seconds. A signal to the main process only (``make run``, systemd with
``KillMode=mixed``) lets the running task finish first.
"""

from __future__ import annotations

import logging
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django_q.cluster import Cluster

logger = logging.getLogger(__name__)


class Worker(Cluster):
    """django-q2's cluster with idempotent, never-blocking signal handling (see the module docstring)."""

    def __init__(self) -> None:
        self.stop_requested = False  # set before the base class installs ``sig_handler``
        super().__init__()

    def sig_handler(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_requested:
            return  # a second signal: the stop is already under way
        self.stop_requested = True
        self.stop()  # before the sentinel exists this does nothing, and ``start`` stops after start-up

    def start(self) -> int:
        pid = super().start()
        if self.stop_requested:
            self.stop()
        return pid

    def stop(self) -> bool:
        """Tell the sentinel to stop the workers (each finishes its task) and wait until it has.

        ``Event.set()`` waits for every process asleep on the event to wake up; a sentinel killed in its
        sleep never does, so the event is set from a helper thread and the wait ends when the sentinel
        is gone, however it went."""
        sentinel, stop_event = self.sentinel, self.stop_event
        if sentinel is None or stop_event is None:
            return False
        if sentinel.is_alive():
            threading.Thread(target=stop_event.set, name="qcluster-stop", daemon=True).start()
            while sentinel.is_alive():
                sentinel.join(0.2)
        # Also ends the base class's start-up wait quietly when the sentinel died before it was ready.
        self.start_event = None
        self.stop_event = None
        return True


class Command(BaseCommand):
    help = "启动后台任务进程（django-q2 集群）；收到 SIGTERM 或 Ctrl+C 时不再接收新任务，当前任务完成后退出（状态 0）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--run-once", action="store_true", help="启动后立即停止（用于检查配置）")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = Worker()
        worker.start()
        if not worker.stop_requested:
            self.stdout.write("后台任务进程已启动（Ctrl+C 或 SIGTERM 停止）。")
            self.stdout.flush()
        if options["run_once"]:
            worker.stop()
        while worker.sentinel is not None and worker.sentinel.is_alive():
            worker.sentinel.join(1)  # the signal handler stops the cluster meanwhile
        self.stdout.write("后台任务进程已停止。")
