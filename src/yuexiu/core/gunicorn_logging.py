"""gunicorn's access log as one JSON object per line (deploy/gunicorn.conf.py: ``logger_class``).

Built with ``json.dumps``, never by filling a format string: a user agent or path holding quotes or
newlines cannot break or forge a line. The fields match the application's request lines
(core.observability): time, level, logger, message, request_id (the ``X-Request-ID`` the application
answered with), method, path (without the query string, which may hold personal data), status,
duration_ms, and the peer address and response size.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from gunicorn.glogging import Logger


def access_record(*, status: str, method: str, path: str, request_id: str, seconds: float, peer: str, size: Any) -> str:
    """The JSON line for one answered request (``seconds``: its duration)."""
    return json.dumps(
        {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "message": f"{method} {path} {status}",
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": int(status.split()[0]) if status and status.split()[0].isdigit() else status,
            "duration_ms": round(seconds * 1000, 1),
            "remote_addr": peer,
            "bytes": size,
        },
        ensure_ascii=False,
    )


class JsonLineFormatter(logging.Formatter):
    """gunicorn's own messages (start, worker boot and exit, timeouts) as JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class JsonAccessLogger(Logger):
    """Access lines built by ``access_record``; error lines by ``JsonLineFormatter``."""

    def setup(self, cfg) -> None:  # noqa: ANN001 - gunicorn's signature
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonLineFormatter())

    def access(self, resp, req, environ, request_time) -> None:  # noqa: ANN001 - gunicorn's signature
        if not self.access_log_enabled:
            return
        request_id = ""
        for name, value in getattr(resp, "headers", []) or []:
            if name.lower() == "x-request-id":
                request_id = value
        try:
            self.access_log.info(
                access_record(
                    status=str(getattr(resp, "status", "")),
                    method=environ.get("REQUEST_METHOD", ""),
                    path=environ.get("PATH_INFO", ""),
                    request_id=request_id,
                    seconds=request_time.total_seconds(),
                    peer=environ.get("REMOTE_ADDR", ""),
                    size=getattr(resp, "sent", None),
                )
            )
        except Exception:  # noqa: BLE001 - a log line must never fail a request
            self.exception("access log line failed")
