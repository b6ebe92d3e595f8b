"""What an operator watches: /healthz, /readyz, /metrics (with real counter values, multiprocess mode
included), the request id from the proxy, and JSON log lines without personal data."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_q.models import OrmQ
from prometheus_client.parser import text_string_to_metric_families

from yuexiu.core.models import AuditEvent
from yuexiu.core.observability import JsonFormatter
from yuexiu.supervision import tasks as supervision_tasks

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` of ``/metrics``."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _queued(age: timedelta) -> OrmQ:
    return OrmQ.objects.create(key="yuexiu", payload="x", lock=timezone.now() - age)


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "进程运行正常"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_readyz_reports_each_dependency_when_all_are_ready(client):
    _queued(timedelta(seconds=30))
    response = client.get("/readyz", HTTP_HOST="10.1.2.3")  # a load balancer probing by address
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == [] and body["message"] == "服务就绪"
    assert body["checks"]["database"] == {"ok": True, "label": "数据库"}
    assert body["checks"]["storage"] == {"ok": True, "label": "文件存储"}
    queue = body["checks"]["job_queue"]
    assert queue["ok"] is True and queue["queued"] == 1 and 30 <= queue["oldest_age_seconds"] < 40
    assert queue["limit_seconds"] == 900


def test_readyz_names_a_lagging_job_queue_in_chinese_and_with_a_code(client):
    _queued(timedelta(minutes=20))
    _queued(timedelta(minutes=1))
    OrmQ.objects.create(key="yuexiu", payload="held", lock=timezone.now() + timedelta(minutes=5))  # being run
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["failed"] == ["job_queue"]
    assert body["message"] == "服务未就绪：后台任务队列"
    queue = body["checks"]["job_queue"]
    assert queue["code"] == "job_queue_lagging" and queue["message"] == "后台任务积压：最早的排队任务等待过久"
    assert queue["queued"] == 2 and 1200 <= queue["oldest_age_seconds"] < 1210


def test_readyz_names_a_storage_refusing_writes_and_shows_no_exception_text(client, monkeypatch):
    real_open = os.open

    def refused(path, *args, **kwargs):
        if "probe-" in str(path):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("django.core.files.storage.filesystem.os.open", refused)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["storage"]
    assert body["checks"]["storage"] == {
        "ok": False,
        "label": "文件存储",
        "code": "storage_unavailable",
        "message": "文件存储无法写入或读回",
    }
    assert "Permission" not in response.content.decode()


def test_readyz_names_an_unreachable_database(client, monkeypatch):
    from django.db import connection

    def unreachable():
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(connection, "cursor", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"][0] == "database" and body["checks"]["database"]["code"] == "database_unavailable"
    assert "5432" not in response.content.decode()


def test_a_safe_request_id_from_the_proxy_is_kept_in_the_answer_and_the_audit_log(client, cast):
    client.post(
        "/accounts/login/",
        {"username": "citizen_demo", "password": "wrong-password"},
        HTTP_X_REQUEST_ID="nginx-5f2c9a0e41b7",
    )
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.request_id == "nginx-5f2c9a0e41b7"
    assert client.get("/healthz", HTTP_X_REQUEST_ID="nginx-5f2c9a0e41b7")["X-Request-ID"] == "nginx-5f2c9a0e41b7"


@pytest.mark.parametrize("incoming", ["short", "a b c d e f g h", "x" * 65, "id\r\nSet-Cookie: a=b", "<script>1234"])
def test_an_unsafe_request_id_is_replaced_by_a_new_one(client, incoming):
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"]
    assert answered != incoming and len(answered) == 32 and int(answered, 16) >= 0


def test_each_request_is_one_json_log_line_with_the_user_id_and_no_username(client, cast):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("yuexiu.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        client.force_login(cast["citizen_demo"])
        response = client.get("/organisations/?q=越秀", HTTP_X_REQUEST_ID="req-00000001")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "method",
        "path",
        "status",
        "duration_ms",
        "user_id",
    }
    assert line["level"] == "INFO" and line["logger"] == "yuexiu.request"
    assert line["message"] == "GET organisation_list 200"
    assert line["request_id"] == "req-00000001" == response["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/organisations/", 200)
    assert line["user_id"] == cast["citizen_demo"].pk and isinstance(line["duration_ms"], float)
    assert "citizen_demo" not in lines[0] and "越秀" not in lines[0]  # no username, no query text
    assert line["time"].endswith("+00:00")


def test_a_log_line_written_while_handling_a_request_carries_its_request_id():
    from yuexiu.core import audit

    record = logging.LogRecord("yuexiu.cases", logging.WARNING, __file__, 1, "库存 %s", ("低",), None)
    token = audit.set_request_context(audit.RequestContext(ip_address=None, user_agent="", request_id="abc12345"))
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        audit.reset_request_context(token)
    assert line["message"] == "库存 低" and line["request_id"] == "abc12345" and line["level"] == "WARNING"


def test_metrics_count_requests_by_route_and_status_and_read_the_queue(client, reference_data):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/organisations/").status_code == 200
    assert client.get("/organisations/no-such-code/").status_code == 404
    assert client.generic("BREW", "/no/such/page/").status_code == 404
    _queued(timedelta(seconds=90))
    _queued(timedelta(seconds=10))
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta("yuexiu_http_requests_total", route="organisation_list", method="GET", status="200") == 3
    assert delta("yuexiu_http_requests_total", route="organisation_detail", method="GET", status="404") == 1
    assert delta("yuexiu_http_request_duration_seconds_count", route="organisation_list") == 3
    assert delta("yuexiu_http_request_duration_seconds_bucket", route="organisation_list", le="+Inf") == 3
    assert delta("yuexiu_http_requests_total", route="metrics", method="GET", status="200") == 1
    assert delta("yuexiu_http_requests_total", route="unmatched", method="other", status="404") == 1
    assert not any(("method", "BREW") in labels for _, labels in after)
    assert after[("yuexiu_job_queue_length", ())] == 2
    assert 90 <= after[("yuexiu_job_queue_oldest_age_seconds", ())] < 100


def test_metrics_observe_the_supervision_sweep(client, reference_data):
    before = scrape(client).get(("yuexiu_supervision_sweep_duration_seconds_count", ()), 0.0)
    supervision_tasks.run_sweep()
    supervision_tasks.run_sweep()
    assert scrape(client)[("yuexiu_supervision_sweep_duration_seconds_count", ())] == before + 2


def test_metrics_are_refused_to_other_addresses_and_to_relayed_requests(client, settings):
    settings.METRICS_TOKEN = "m" * 40
    refused = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 403
    assert refused.json()["code"] == "metrics_forbidden"
    assert refused.json()["message"] == "无权读取监控指标：请从允许的地址访问或提供令牌。"
    # through the reverse proxy the address is the proxy's own: not trusted
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    token = {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Bearer " + "m" * 40}
    assert scrape(client, **token)[("yuexiu_job_queue_length", ())] == 0
    settings.METRICS_ALLOWED_IPS = ["10.20.0.0/16"]
    assert client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 no longer listed


def test_metrics_add_up_every_process_in_multiprocess_mode(client, tmp_path, monkeypatch):
    """Two processes (as two gunicorn workers) count requests in PROMETHEUS_MULTIPROC_DIR; /metrics sums them."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    code = (
        "from yuexiu.core import metrics\n"
        "for _ in range({n}): metrics.observe_request(route='home', method='GET', status=200, seconds=0.02)\n"
    )
    for count in (2, 3):
        subprocess.run([sys.executable, "-c", code.format(n=count)], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    values = scrape(client)
    assert values[("yuexiu_http_requests_total", (("method", "GET"), ("route", "home"), ("status", "200")))] == 5
    assert values[("yuexiu_http_request_duration_seconds_count", (("route", "home"),))] == 5
    assert values[("yuexiu_http_request_duration_seconds_bucket", (("le", "0.025"), ("route", "home")))] == 5
