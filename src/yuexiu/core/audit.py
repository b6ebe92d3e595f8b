"""The audit log's one write path.

Every state-changing service and every security event calls ``record_event``. The request's IP,
client and request id come from ``RequestContextMiddleware`` through a context variable, so
services need not carry the request around.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone

from yuexiu.core.models import AuditEvent, AuditOutcome, User


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    user_agent: str
    request_id: str


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "yuexiu_request_context", default=None
)


def context_from_request(request: Any) -> RequestContext:
    return RequestContext(
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
        request_id=uuid.uuid4().hex,
    )


def set_request_context(context: RequestContext | None) -> contextvars.Token[RequestContext | None]:
    return _request_context.set(context)


def reset_request_context(token: contextvars.Token[RequestContext | None]) -> None:
    _request_context.reset(token)


def current_request_context() -> RequestContext | None:
    return _request_context.get()


def record_event(
    *,
    action: str,
    actor: User | None = None,
    actor_username: str = "",
    target: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    message: str = "",
    outcome: str = AuditOutcome.SUCCEEDED,
) -> AuditEvent:
    """Append one audit event and return it.

    ``action`` is a dotted event name (``auth.login_succeeded``, ``organisation.updated``);
    ``changes`` maps a field to ``[before, after]`` or holds the event's details (JSON-serialisable);
    ``actor_username`` names the account for events without a user object (a failed login).
    Runs inside the caller's transaction, so the entry commits or rolls back with the change it records.
    """
    actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    context = current_request_context()
    roles = ""
    organisation = None
    if actor is not None:
        roles = ",".join(sorted({assignment.role for assignment in actor.role_assignments.all()}))
        organisation = actor.organisation
    return AuditEvent.objects.create(
        occurred_at=timezone.now(),
        actor=actor,
        actor_username=(actor.username if actor is not None else actor_username)[:150],
        actor_roles=roles[:300],
        organisation=organisation,
        action=action,
        outcome=outcome,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        changes=changes or {},
        message=message[:500],
        ip_address=context.ip_address if context else None,
        user_agent=context.user_agent if context else "",
        request_id=context.request_id if context else "",
    )


def model_changes(instance: models.Model, before: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the ``fields`` whose value changed, as strings."""
    changed = {}
    for name in fields:
        after = getattr(instance, name)
        if before.get(name) != after:
            changed[name] = [_plain(before.get(name)), _plain(after)]
    return changed


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
