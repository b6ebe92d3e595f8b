"""The database away for a few seconds (issue 14, item 3): pages and the API answer a clear Chinese 503,
a case submitted meanwhile leaves nothing half-saved and the applicant's form comes back, requests
succeed again once the database is back without restarting anything (with a new connection per request
and with persistent connections checked before use), and a background job that failed meanwhile is
retried and done once.

The platform runs in a real WSGI server (Django's, one thread, so a persistent connection is reused from
request to request) in the test's process. On PostgreSQL its connections go through ``tests.faults
.TcpProxy``, which refuses new connections and cuts the open ones. SQLite has no server to lose: its
analogue is a file the platform cannot write (another process holds the write lock: the platform's
writes wait one second, then fail with "database is locked"; or the connection turns read-only in the
middle of a submission).
"""

from __future__ import annotations

import html
import queue
import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from multiprocessing import Value
from pathlib import Path
from typing import Any

import pytest
import requests
import time_machine
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.core.signals import request_started
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ, Task
from django_q.monitor import monitor
from django_q.signing import SignedPackage
from django_q.tasks import async_task
from django_q.worker import worker

from tests.faults import TcpProxy, database_outage
from tests.helpers import PDF, at, food_licence_uploads
from yuexiu.cases import services as case_services
from yuexiu.cases.models import Attachment, Case, CaseCounter
from yuexiu.ratings import services as rating_services
from yuexiu.ratings.models import Rating

pytestmark = pytest.mark.django_db(transaction=True)

UNAVAILABLE = "系统暂时无法连接数据库，请稍后重试。"


class SqliteWriteLock:
    """SQLite's outage: another connection holds the write lock (``BEGIN EXCLUSIVE``) until ``reopen``.
    Same two methods as ``TcpProxy``, so ``database_outage`` takes either."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.holder: sqlite3.Connection | None = None

    def close(self) -> None:
        self.holder = sqlite3.connect(self.path, isolation_level=None)
        self.holder.execute("BEGIN EXCLUSIVE")

    def reopen(self) -> None:
        if self.holder is not None:
            self.holder.execute("ROLLBACK")
            self.holder.close()
            self.holder = None

    stop = reopen


def _postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture(params=["new connection per request", "persistent connections with health checks"])
def fault(request: pytest.FixtureRequest) -> Iterator[TcpProxy | SqliteWriteLock]:
    """Every connection of the platform (the server's and the test's own) now goes through the fault:
    the proxy on PostgreSQL, the write lock (and a one-second busy timeout) on SQLite."""
    database = connection.settings_dict
    saved = {key: database.get(key) for key in ("HOST", "PORT", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    saved_options = dict(database.get("OPTIONS") or {})
    persistent = request.param.startswith("persistent")
    database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"] = (60, True) if persistent else (0, False)
    injected: TcpProxy | SqliteWriteLock
    if _postgres():
        injected = TcpProxy((database["HOST"] or "127.0.0.1", int(database["PORT"] or 5432))).start()
        database["HOST"], database["PORT"] = "127.0.0.1", str(injected.port)
    else:
        database["OPTIONS"] = {**saved_options, "timeout": 1}
        injected = SqliteWriteLock(database["NAME"])
    connection.close()
    try:
        yield injected
    finally:
        injected.stop()
        connections.close_all()
        database.update(saved)
        database["OPTIONS"] = saved_options


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server(fault, settings, tmp_path) -> Iterator[str]:
    """The platform served by Django's WSGI server on a free port of 127.0.0.1, one request at a time."""
    settings.MEDIA_ROOT = tmp_path / "media"
    httpd = WSGIServer(("127.0.0.1", 0), _QuietHandler)
    httpd.set_app(WSGIHandler())

    def serve() -> None:
        try:
            httpd.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()  # the server thread's persistent connection

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=10)
    httpd.server_close()


def _signed_in(catalogue: dict[str, Any], username: str) -> requests.Session:
    client = Client()
    client.force_login(catalogue[username])
    browser = requests.Session()
    browser.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return browser


def _media_files(tmp_path: Path) -> list[str]:
    root = tmp_path / "media"
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def _hidden_inputs(page: str) -> list[tuple[str, str]]:
    return [
        (html.unescape(name), html.unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page)
    ]


def test_pages_and_the_api_answer_503_while_the_database_is_away_and_work_again_after(catalogue, fault, server):
    browser = _signed_in(catalogue, "enterprise_demo")
    assert browser.get(f"{server}/cases/").status_code == 200
    answers: dict[str, requests.Response] = {}

    def during() -> None:
        answers["page"] = browser.get(f"{server}/cases/")
        answers["api"] = browser.get(f"{server}/api/v1/me")

    database_outage(fault, seconds=2, during=during)

    page, api = answers["page"], answers["api"]
    assert page.status_code == 503 and page.headers["Retry-After"] == "30"
    assert UNAVAILABLE in page.text and "<h1>系统暂时无法使用</h1>" in page.text
    assert "重新提交" not in page.text  # a GET has nothing to send again
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.json()["code"] == "database_unavailable" and UNAVAILABLE in api.json()["message"]
    assert api.json()["details"] == {"retry_after_seconds": 30}
    # Back: the very next requests succeed, in the same server process.
    again = browser.get(f"{server}/cases/")
    assert again.status_code == 200 and "我的办件" in again.text
    assert browser.get(f"{server}/api/v1/me").json()["username"] == "enterprise_demo"


def _apply_form(browser: requests.Session, url: str) -> tuple[dict[str, str], list[str]]:
    """The apply page's fields as the applicant fills them in, and the names of its file inputs."""
    page = browser.get(url)
    assert page.status_code == 200
    fields = dict(_hidden_inputs(page.text))
    for name in re.findall(r'<input id="f-[^"]*" name="([^"]*)"', page.text):
        fields[name] = f"越秀区中山四路{len(fields)}号"
    materials = re.findall(r'<input type="file" id="material-\d+" name="([^"]*)"', page.text)
    return fields, materials


def test_an_application_sent_while_the_database_is_away_saves_nothing_and_the_form_comes_back(
    catalogue, food, fault, server, tmp_path
):
    browser = _signed_in(catalogue, "enterprise_demo")
    url = f"{server}/services/items/{food.slug}/apply/"
    fields, materials = _apply_form(browser, url)
    files = [(name, (f"材料{number}.pdf", PDF, "application/pdf")) for number, name in enumerate(materials)]
    typed = [name for name in fields if name not in {"csrfmiddlewaretoken", "idempotency_key"}]
    assert typed, "the food licence form has fields to fill in"
    answer: dict[str, requests.Response] = {}

    def during() -> None:
        answer["sent"] = browser.post(url, data=fields, files=files, headers={"Referer": url})

    database_outage(fault, seconds=2, during=during)
    connection.close()  # the test's own connection went through the proxy too

    sent = answer["sent"]
    assert sent.status_code == 503 and UNAVAILABLE in sent.text
    assert "您填写的内容已保留在本页" in sent.text
    assert f"需要重新选择的文件：{'、'.join(f'材料{n}.pdf' for n in range(len(materials)))}" in sent.text
    resend = dict(_hidden_inputs(sent.text))
    # Every typed value and the submission key come back (the CSRF token is masked afresh each time).
    assert {name: resend[name] for name in fields if name != "csrfmiddlewaretoken"} == {
        name: value for name, value in fields.items() if name != "csrfmiddlewaretoken"
    }
    assert len(resend["csrfmiddlewaretoken"]) == 64
    assert f'<form method="post" action="/services/items/{food.slug}/apply/">' in sent.text
    # Nothing half-saved: no case, no file, no case number used.
    assert (Case.objects.count(), Attachment.objects.count(), CaseCounter.objects.count()) == (0, 0, 0)
    assert _media_files(tmp_path) == []

    # Back: “重新提交” sends the values again; the form opens with them and asks for the files only.
    reopened = browser.post(url, data=resend, headers={"Referer": url})
    assert reopened.status_code == 400
    for name in typed:
        assert f'value="{fields[name]}"' in reopened.text
    assert "请上传" in reopened.text and Case.objects.count() == 0
    done = browser.post(url, data=fields, files=files, headers={"Referer": url}, allow_redirects=False)
    assert done.status_code == 302
    case = Case.objects.get()
    assert (case.status, case.attachments.count()) == ("submitted", len(materials))
    assert len(_media_files(tmp_path)) == len(materials)


def test_a_connection_lost_while_the_files_are_stored_leaves_no_case_and_no_file(
    catalogue, food, fault, server, tmp_path, monkeypatch
):
    """The fault strikes inside the submission's transaction, after the first file is written: the
    case and its number are rolled back and the file written is removed."""
    browser = _signed_in(catalogue, "enterprise_demo")
    url = f"{server}/services/items/{food.slug}/apply/"
    fields, materials = _apply_form(browser, url)
    files = [(name, (f"材料{number}.pdf", PDF, "application/pdf")) for number, name in enumerate(materials)]
    original_save = FileSystemStorage._save
    struck: list[str] = []

    def save_then_lose_the_database(storage: FileSystemStorage, name: str, content: Any) -> str:
        stored = original_save(storage, name, content)
        if not struck:
            struck.append(stored)
            if _postgres():
                fault.close()  # type: ignore[union-attr]  # cuts this request's connection
            else:
                # This thread's (the server's) connection turns read-only until the next request
                # begins, in the same thread (a persistent connection would keep the pragma).
                connection.cursor().execute("PRAGMA query_only = ON")

                def writable_again(**kwargs: Any) -> None:
                    request_started.disconnect(writable_again)
                    connection.cursor().execute("PRAGMA query_only = OFF")

                request_started.connect(writable_again, weak=False)
        return stored

    monkeypatch.setattr(FileSystemStorage, "_save", save_then_lose_the_database)
    sent = browser.post(url, data=fields, files=files, headers={"Referer": url})
    if _postgres():
        fault.reopen()  # type: ignore[union-attr]
        connection.close()  # the test's own connection was cut too
    monkeypatch.setattr(FileSystemStorage, "_save", original_save)

    assert sent.status_code == 503 and UNAVAILABLE in sent.text
    assert len(struck) == 1 and struck[0].startswith("cases/")
    assert (Case.objects.count(), Attachment.objects.count(), CaseCounter.objects.count()) == (0, 0, 0)
    assert _media_files(tmp_path) == []
    done = browser.post(url, data=fields, files=files, headers={"Referer": url}, allow_redirects=False)
    assert done.status_code == 302
    assert Case.objects.get().attachments.count() == len(materials) == len(_media_files(tmp_path))


def _run_delivered_tasks(broker: Any) -> int:
    """What a worker cluster does with the tasks due now: the pusher takes them from the queue, a
    worker runs them, the monitor saves each result and acknowledges the successful ones."""
    tasks: queue.Queue[Any] = queue.Queue()
    results: queue.Queue[Any] = queue.Queue()
    delivered = 0
    for ack_id, package in broker.dequeue() or []:
        task = SignedPackage.loads(package)
        task["ack_id"] = ack_id
        tasks.put(task)
        delivered += 1
    tasks.put("STOP")
    worker(tasks, results, Value("f", -1))
    results.put("STOP")
    monitor(results, broker)
    return delivered


def test_a_job_that_fails_while_the_database_is_away_is_retried_and_done_once(catalogue, food, fault, settings):
    """django-q2 acknowledges only successful tasks (``ack_failures`` off): a task that failed because
    the database was away stays queued and is delivered again after ``Q_CLUSTER["retry"]`` seconds,
    up to ``max_attempts`` times."""
    assert (settings.Q_CLUSTER["retry"], settings.Q_CLUSTER["max_attempts"]) == (600, 3)
    assert settings.Q_CLUSTER.get("ack_failures", False) is False
    rating_services.load_question_sets()
    window = catalogue["window_centre"]
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        case = case_services.submit_application(
            item=food,
            applicant=catalogue["enterprise_demo"],
            idempotency_key="job",
            form_data={},
            uploads=food_licence_uploads(),
        )
        case = case_services.accept_case(case=case, actor=window)
        case = case_services.approve_case(case=case, actor=catalogue["approver_scj"])
        case = case_services.deliver_result(case=case, actor=window, method="electronic")
        case_services.close_case(case=case, actor=window)
    task_id = async_task("yuexiu.ratings.tasks.run_default_ratings", task_name="默认评价")
    broker = get_broker()
    tasks: queue.Queue[Any] = queue.Queue()
    results: queue.Queue[Any] = queue.Queue()
    ((ack_id, package),) = broker.dequeue()  # the pusher hands the job to a worker …
    tasks.put({**SignedPackage.loads(package), "ack_id": ack_id})
    tasks.put("STOP")
    fault.close()  # … and the database goes away while the worker runs it
    try:
        worker(tasks, results, Value("f", -1))
    finally:
        fault.reopen()
    results.put("STOP")
    monitor(results, broker)

    failed = Task.objects.get(id=task_id)
    assert (failed.success, failed.attempt_count) == (False, 1)
    assert "database is locked" in failed.result or "connection" in failed.result.lower()
    assert Rating.objects.count() == 0
    assert OrmQ.objects.count() == 1  # not acknowledged: still queued
    assert _run_delivered_tasks(broker) == 0  # not before the retry time

    with time_machine.travel(timezone.now() + timedelta(seconds=601), tick=False):
        assert _run_delivered_tasks(broker) == 1
    done = Task.objects.get(id=task_id)
    assert (done.success, done.attempt_count) == (True, 2)
    assert done.result["default_ratings"] == 1
    assert OrmQ.objects.count() == 0
    assert list(Rating.objects.values_list("case__number", "level")) == [(case.number, 3)]
