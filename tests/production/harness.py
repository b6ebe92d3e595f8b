"""The production-mode harness: a fresh PostgreSQL database, the platform's processes started as an operator
starts them (gunicorn, `yuexiu qcluster`), an HTTP session that behaves like a browser behind the TLS proxy,
and plain SQL to check what the database holds. Used by tests/production/conftest.py.

Every process leads its own process group, so that stopping it (or killing it, as a machine failure does)
reaches its children: gunicorn's workers, the cluster's sentinel, pusher, monitor and workers.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from base64 import b32decode
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from django_otp.oath import totp

from tests.forms import own_post_form

PROJECT_DIR = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PORT_RANGE = range(18200, 18300)  # this harness's ports (ask before widening: other services share the machine)


def wait_until(condition: Callable[[], Any], *, timeout: float, interval: float = 0.2, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy (returned) or ``timeout`` seconds pass
    (AssertionError naming ``what``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{timeout} 秒内未等到：{what}")
        time.sleep(interval)


def free_port() -> int:
    for port in PORT_RANGE:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"端口 {PORT_RANGE.start}–{PORT_RANGE.stop - 1} 均被占用")


# ------------------------------------------------------------------------------------------ database


@dataclass
class Database:
    """A PostgreSQL database made for one run of the production test, dropped at the end."""

    url: str  # postgres://user@host:port/name

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    def url_for(self, application_name: str) -> str:
        """The URL with ``application_name`` (shown in pg_stat_activity: which process holds a connection)."""
        return f"{self.url}?application_name={application_name}"

    @contextmanager
    def connect(self) -> Iterator[psycopg.Connection]:
        with psycopg.connect(self.url, autocommit=True, application_name="yuexiu-production-test") as connection:
            yield connection

    def rows(self, query: str, *params: Any) -> list[tuple[Any, ...]]:
        with self.connect() as connection:
            return connection.execute(query, params).fetchall()

    def value(self, query: str, *params: Any) -> Any:
        rows = self.rows(query, *params)
        return rows[0][0] if rows else None

    def cut_connections(self) -> int:
        """Terminate every other connection to the database, as a failover or an administrator does.
        Returns how many were cut."""
        return len(
            self.rows(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                self.name,
            )
        )


def _server_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


def create_database(base_url: str, suffix: str) -> Database:
    """A fresh, empty database named after ``base_url``'s with ``suffix`` (an old one is dropped)."""
    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'yuexiu'}_{suffix}"
    with psycopg.connect(_server_url(base_url), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"')
    return Database(urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", "")))


def drop_database(database: Database) -> None:
    with psycopg.connect(_server_url(database.url), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')


# ----------------------------------------------------------------------------------------- processes


def production_environment(database: Database, var_dir: Path, **extra: str) -> dict[str, str]:
    """What an operator sets for production mode (README, "Configuration"), for 127.0.0.1 without TLS:
    the proxy's ``X-Forwarded-Proto: https`` is sent by the HTTP session instead."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "PYTEST_", "YUEXIU_"))
    }
    environment.update(
        YUEXIU_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        # 商用密码: the SM4 key (version 1) and the HMAC-SM3 key, from the environment as production requires
        DATA_ENCRYPTION_KEYS=f"1:{base64.b64encode(secrets.token_bytes(16)).decode()}",
        DATA_DIGEST_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database.url,
        SECURE_SSL_REDIRECT="0",
        YUEXIU_VAR_DIR=str(var_dir),
        YUEXIU_PROJECT_DIR=str(PROJECT_DIR),
        PYTHONUNBUFFERED="1",
    )
    environment.update(extra)
    return environment


def run_command(command: list[str], environment: Mapping[str, str], *, timeout: float = 300) -> str:
    """Run a `yuexiu` command to its end; its output, or AssertionError with it when it fails."""
    done = subprocess.run(
        command, env=dict(environment), cwd=PROJECT_DIR, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{' '.join(command)} 失败：\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Process:
    """A long-running process in a group of its own, its output in ``log``."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def owns(self, pid: int) -> bool:
        """Whether ``pid`` is this process or one of its group (a gunicorn or django-q child)."""
        try:
            return os.getpgid(pid) == self.pid
        except ProcessLookupError:
            return False

    def kill(self) -> None:
        """SIGKILL to the whole group: what a machine failure or the OOM killer does."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM to the group (as systemd does), then SIGKILL after ``timeout`` seconds. Returns the
        exit status (None when it had to be killed). Waits until no process of the group is left."""
        status: int | None = None
        if self.alive():
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                status = self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                status = None
        else:
            status = self.popen.returncode
        try:
            os.killpg(self.pid, signal.SIGKILL)  # anything of the group still there
        except ProcessLookupError:
            pass
        if self.popen.poll() is None:
            self.popen.wait(timeout=30)
        return status


def start_process(name: str, command: list[str], environment: Mapping[str, str], log_dir: Path) -> Process:
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        popen = subprocess.Popen(
            command,
            env=dict(environment),
            cwd=PROJECT_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL) for s in (signal.SIGINT, signal.SIGTERM)],
        )
    return Process(name=name, popen=popen, log=log)


def gunicorn_command(port: int, workers: int = 2) -> list[str]:
    """The web role as deploy/ starts it (deploy/gunicorn.conf.py: JSON logs, timeouts, max_requests),
    with the test's port and number of workers."""
    return [
        str(BIN / "gunicorn"),
        "--config",
        str(PROJECT_DIR / "deploy" / "gunicorn.conf.py"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "yuexiu.wsgi",
    ]


def job_worker_command() -> list[str]:
    return [str(BIN / "yuexiu"), "qcluster"]


# -------------------------------------------------------------------------------------------- HTTP

CSRF_COOKIE = "__Host-csrftoken"  # production's cookie names (settings: HTTPS-only, host-bound)


@dataclass
class WebSession:
    """A browser behind the TLS proxy: it sends ``X-Forwarded-Proto: https`` (as nginx does), keeps
    the HTTPS-only cookies itself (``requests`` would not send them over plain HTTP), and sends the
    Origin and CSRF token Django checks on an HTTPS POST."""

    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.http.trust_env = False  # never a proxy: 127.0.0.1 only

    @property
    def origin(self) -> str:
        return "https://" + urlsplit(self.base_url).netloc

    def request(self, method: str, path: str, *, follow: bool = False, timeout: float = 60, **kwargs: Any):
        headers = {
            "X-Forwarded-Proto": "https",
            "Origin": self.origin,
            "Referer": self.origin + path,
            **kwargs.pop("headers", {}),
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if method != "GET" and CSRF_COOKIE in self.cookies:
            headers["X-CSRFToken"] = self.cookies[CSRF_COOKIE]
        response = self.http.request(
            method, self.base_url + path, headers=headers, allow_redirects=False, timeout=timeout, **kwargs
        )
        self.http.cookies.clear()
        for cookie in response.cookies:
            if cookie.value in ("", '""') or (cookie.expires is not None and cookie.expires < time.time()):
                self.cookies.pop(cookie.name, None)
            else:
                self.cookies[cookie.name] = cookie.value or ""
        if follow and response.status_code in (301, 302, 303) and "Location" in response.headers:
            location = response.headers["Location"]
            location = location.removeprefix(self.origin).removeprefix(self.base_url)
            return self.request("GET", location, follow=True, timeout=timeout)
        return response

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)

    def submit_form(self, path: str, typed: Mapping[str, str] | None = None, files: Any = None, **kwargs: Any):
        """GET ``path`` and POST its own form back with every field the page renders plus ``typed``."""
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code, page.text[:500])
        form = own_post_form(page.text)
        data = {name: value for name, value in form.fields.items() if not (files and name in files)}
        data.update(typed or {})
        return self.post(path, data=data, files=files, **kwargs)

    def log_in(self, username: str, password: str) -> None:
        response = self.submit_form("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, (username, response.status_code, response.text[:800])

    def enrol_authenticator(self) -> None:
        """Staff in production must use TOTP: enrol an authenticator on the page and confirm it with a
        code computed from the key the page shows (RFC 6238), as the person's phone would."""
        page = self.get("/accounts/two-factor/")
        assert page.status_code == 200, page.text[:500]
        secret = re.search(r"<code>([A-Z2-7=]+)</code>", page.text)
        assert secret is not None, page.text[:800]
        form = own_post_form(page.text)
        [token_field] = form.typed
        code = f"{totp(b32decode(secret.group(1))):06d}"
        response = self.post("/accounts/two-factor/", data={**form.fields, token_field: code})
        assert response.status_code == 302, response.text[:800]

    def api(self, method: str, path: str, **kwargs: Any):
        return self.request(method, "/api/v1" + path, **kwargs)
