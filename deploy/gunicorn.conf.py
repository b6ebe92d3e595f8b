"""gunicorn configuration of the web role (``gunicorn -c deploy/gunicorn.conf.py yuexiu.wsgi``).

Everything an operator may change comes from the environment (deploy/env.example):
GUNICORN_BIND, WEB_CONCURRENCY, GUNICORN_THREADS, GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT,
GUNICORN_KEEPALIVE, GUNICORN_MAX_REQUESTS, GUNICORN_MAX_REQUESTS_JITTER, GUNICORN_LOG_LEVEL,
FORWARDED_ALLOW_IPS, PROMETHEUS_MULTIPROC_DIR; RUNTIME_DIRECTORY is set by systemd.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Where nginx reaches the web processes: a loopback address and port, or unix:/run/yuexiu/web.sock.
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
# Synchronous workers, 2 × cores + 1 (gunicorn's advice for I/O-bound Django); WEB_CONCURRENCY overrides.
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
worker_class = "sync"
threads = _int("GUNICORN_THREADS", 1)
# A request taking longer than this is killed and logged (the platform's slowest page is well under it;
# long work such as matching runs is done by the job workers).
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Each worker is replaced after this many requests (± jitter, so that not all restart at once):
# bounds the memory any slow leak can take.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Each worker imports the application itself: no database connection or DuckDB handle is shared across
# a fork, and a reload (SIGHUP) picks up new code.
preload_app = False
# nginx on the same machine sets X-Forwarded-Proto; only it is trusted for it.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips
# Access log: one JSON object per line on standard output (yuexiu.core.gunicorn_logging.JsonAccessLogger);
# errors on standard error. journald keeps both.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = "yuexiu.core.gunicorn_logging.JsonAccessLogger"
# gunicorn's control socket (gunicornc) in systemd's RuntimeDirectory; none elsewhere.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = str(Path(os.environ["RUNTIME_DIRECTORY"].split(":")[0]) / "gunicorn.ctl")
else:
    control_socket_disable = True
# Worker heartbeat files in memory rather than on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None
proc_name = "yuexiu-web"


def on_starting(server) -> None:  # noqa: ANN001 - gunicorn's hook signature
    """Empty PROMETHEUS_MULTIPROC_DIR: values of a previous run's processes must not be added up."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:  # noqa: ANN001 - gunicorn's hook signature
    """A worker that ends (max_requests, a crash, a reload) stops counting in the live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
