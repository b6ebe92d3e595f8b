"""Domain errors. Services raise them; the API and pages map them to HTTP and show ``message``."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused operation. ``message`` is Chinese and says what went wrong and what to do."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDeniedError(DomainError):
    status = 403
    code = "permission_denied"


class Conflict(DomainError):
    status = 409
    code = "conflict"
