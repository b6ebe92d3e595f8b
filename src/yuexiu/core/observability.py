"""What an operator watches in production: request ids, structured JSON logs, Prometheus metrics and
the health endpoints ``/healthz`` and ``/readyz``.

- Request id: an ``X-Request-ID`` sent by the reverse proxy is kept when it is a safe token (letters,
  digits, ``.``, ``_``, ``-``; 8 to 64 characters), otherwise a new one is made. It is returned in the
  response's ``X-Request-ID``, written to the audit log and to every log line of the request.
- Logs: ``JsonFormatter`` writes one JSON object per line (time, level, logger, message, request_id,
  method, path, status, duration_ms, user_id; never a username or other personal data). It is used in
  production and wherever ``LOG_FORMAT=json``.
- Metrics: ``/metrics`` in Prometheus' text format (``yuexiu.core.metrics``), for the addresses in
  ``METRICS_ALLOWED_IPS`` or a caller with ``Authorization: Bearer <METRICS_TOKEN>``.
- Health: ``/healthz`` says the process answers (no database); ``/readyz`` checks the database, the
  storages and the job queue's lag and answers 200, or 503 naming the failed check in Chinese and
  with a machine code.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from yuexiu.core import metrics

request_logger = logging.getLogger("yuexiu.request")

SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def request_id_for(request: HttpRequest) -> str:
    """The request's id: the proxy's ``X-Request-ID`` if it is a safe token, else a new uuid4 hex."""
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    if SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


# ---- logs ------------------------------------------------------------------------------------------

REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``,
    ``message``, the request fields given as ``extra`` (``REQUEST_FIELDS``) or, for lines logged
    while a request is handled, its ``request_id``; ``exception`` holds a traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if "request_id" not in line:
            context = _request_context()
            if context is not None:
                line["request_id"] = context.request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _request_context() -> Any:
    """The audit module's request context, or None before Django's apps are loaded (a log line
    written while starting up)."""
    from django.apps import apps

    if not apps.ready:
        return None
    from yuexiu.core.audit import current_request_context

    return current_request_context()


# ---- the request's measurement ----------------------------------------------------------------------


def route_name(request: HttpRequest) -> str:
    """The URL pattern's name (``cases:detail``), its route text when it has no name, or
    ``unmatched``: bounded label values, never the path with its numbers and tokens."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unmatched"


class ObservabilityMiddleware:
    """First in ``MIDDLEWARE``: gives the request its id, measures it whole (every other middleware
    included), counts it for Prometheus and logs one line for it to ``yuexiu.request``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request_id_for(request)  # type: ignore[attr-defined]  # read by audit
        started = time.perf_counter()
        probe = PROBES.get(request.path_info)
        if probe is not None:
            # Answered here, before host validation, HTTPS redirect, sessions and the rest: a load
            # balancer probes by address over plain HTTP, and liveness must not need the database.
            from django.urls import resolve

            request.resolver_match = resolve(request.path_info)
            response = probe(request)
        else:
            response = self.get_response(request)
        seconds = time.perf_counter() - started
        route = route_name(request)
        metrics.observe_request(route=route, method=request.method or "", status=response.status_code, seconds=seconds)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        request_logger.log(
            logging.ERROR if response.status_code >= 500 else logging.INFO,
            "%s %s %s",
            request.method,
            route,
            response.status_code,
            extra={
                "request_id": request.request_id,  # type: ignore[attr-defined]
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "user_id": user.pk if getattr(user, "is_authenticated", False) else None,
            },
        )
        return response


# ---- /metrics ---------------------------------------------------------------------------------------


def metrics_allowed(request: HttpRequest) -> bool:
    """True for a caller with the bearer token ``METRICS_TOKEN`` (when one is set), or one connecting
    directly from an address in ``METRICS_ALLOWED_IPS`` (addresses or networks). A request relayed by
    a proxy (``X-Forwarded-For`` present) is not trusted by its address: the proxy's own address
    would otherwise let anyone in."""
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header.removeprefix("Bearer ").strip().encode(), token.encode())
    if request.META.get("HTTP_X_FORWARDED_FOR"):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_IPS:
        try:
            if address in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' text exposition of the platform's metrics (all processes of a gunicorn server in
    multiprocess mode); 403 with a Chinese message for other callers."""
    if not metrics_allowed(request):
        return JsonResponse(
            {"code": "metrics_forbidden", "message": "无权读取监控指标：请从允许的地址访问或提供令牌。", "details": {}},
            status=403,
            json_dumps_params={"ensure_ascii": False},
        )
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)


# ---- /healthz and /readyz ---------------------------------------------------------------------------


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches neither the database nor the storage."""
    return JsonResponse({"status": "ok", "message": "进程运行正常"}, json_dumps_params={"ensure_ascii": False})


def _check_database() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _check_storage() -> dict[str, Any]:
    from django.core.files.storage import storages

    from yuexiu.core.files import SNAPSHOTS, probe

    for alias in ("default", SNAPSHOTS):
        probe(storages[alias])
    return {}


def _check_job_queue() -> dict[str, Any]:
    length, oldest = metrics.job_queue_state()
    limit = settings.READY_MAX_QUEUE_AGE_SECONDS
    details = {"queued": length, "oldest_age_seconds": round(oldest, 1), "limit_seconds": limit}
    if oldest > limit:
        raise QueueLagging(details)
    return details


class QueueLagging(Exception):
    def __init__(self, details: dict[str, Any]) -> None:
        super().__init__("job queue lagging")
        self.details = details


READY_CHECKS: tuple[tuple[str, str, Callable[[], dict[str, Any]], str, str], ...] = (
    # name, Chinese label, check, code when failing, Chinese message when failing
    ("database", "数据库", _check_database, "database_unavailable", "数据库无法连接或查询失败"),
    ("storage", "文件存储", _check_storage, "storage_unavailable", "文件存储无法写入或读回"),
    ("job_queue", "后台任务队列", _check_job_queue, "job_queue_lagging", "后台任务积压：最早的排队任务等待过久"),
)


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: ``{"status": "ok"|"unavailable", "checks": {name: {"ok", "label", …}}}``; a failed
    check carries ``code`` and a Chinese ``message`` and makes the answer 503. No personal data and
    no exception text (which could hold addresses or credentials) is shown; the log has it."""
    checks: dict[str, dict[str, Any]] = {}
    for name, label, check, code, message in READY_CHECKS:
        try:
            details = check()
        except QueueLagging as lagging:
            checks[name] = {"ok": False, "label": label, "code": code, "message": message, **lagging.details}
        except Exception:  # noqa: BLE001 - any failure of a dependency means "not ready"; logged in full
            logging.getLogger(__name__).exception("readiness check %s failed", name)
            checks[name] = {"ok": False, "label": label, "code": code, "message": message}
        else:
            checks[name] = {"ok": True, "label": label, **details}
    failed = [name for name, result in checks.items() if not result["ok"]]
    body = {
        "status": "unavailable" if failed else "ok",
        "message": "服务未就绪：" + "、".join(checks[name]["label"] for name in failed) if failed else "服务就绪",
        "failed": failed,
        "checks": checks,
    }
    return JsonResponse(body, status=503 if failed else 200, json_dumps_params={"ensure_ascii": False})


PROBES: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics_view,
}
