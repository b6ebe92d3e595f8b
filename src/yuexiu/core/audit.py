"""The audit log's one write path.

Every state-changing service and every security event calls ``record_event``. The request's IP,
client and request id come from ``RequestContextMiddleware`` through a context variable, so
services need not carry the request around.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from yuexiu.core import audit_chain
from yuexiu.core.errors import NotFound
from yuexiu.core.models import AuditEvent, AuditOutcome, SecurityEventThrottle, User


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    user_agent: str
    request_id: str
    # objects that exist but that the caller was told do not exist (``concealed``), in this request
    concealed: list[models.Model] = field(default_factory=list)


_request_context: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "yuexiu_request_context", default=None
)


def context_from_request(request: Any) -> RequestContext:
    return RequestContext(
        ip_address=request.META.get("REMOTE_ADDR") or None,
        user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:300],
        # given by core.observability.ObservabilityMiddleware (the proxy's X-Request-ID when safe)
        request_id=getattr(request, "request_id", None) or uuid.uuid4().hex,
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
    Runs inside the caller's transaction, so the entry commits or rolls back with the change it records;
    once it has committed, the entry is linked into the SM3 hash chain (``audit_chain``).
    """
    actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    context = current_request_context()
    roles = ""
    organisation = None
    if actor is not None:
        roles = ",".join(sorted({assignment.role for assignment in actor.role_assignments.all()}))
        organisation = actor.organisation
    event = AuditEvent.objects.create(
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
    audit_chain.link_on_commit()
    return event


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


# ---- requests for someone else's object ----------------------------------------------------------

FOREIGN_OBJECT_ACTION = "security.foreign_object_requested"
# At most one audit entry per caller (account, or address when signed out), route and window; the
# next entry carries the number held back. A scan of case numbers thus costs one row a minute.
FOREIGN_OBJECT_WINDOW = timedelta(minutes=1)


def concealed(target: models.Model, message: str) -> NotFound:
    """The error for an object that exists but that the caller may not see (another citizen's case,
    another enterprise's candidate, another department's draft): a ``NotFound`` like a missing
    object, so a guessed number tells nothing. The ``access_*`` helpers raise it:

        raise audit.concealed(case, "未找到该办件。")

    The attempt is noted for the request; ``RequestContextMiddleware`` records it as a security event
    (``record_concealed_access``) once the response is a 404, after any transaction has ended, so a
    rollback cannot lose it."""
    context = current_request_context()
    if context is not None:
        context.concealed.append(target)
    return NotFound(message)


def record_concealed_access(request: Any, context: RequestContext) -> AuditEvent | None:
    """Record that ``request`` asked for objects of someone else (``context.concealed``) and was
    answered 404, rate limited per caller and route (``FOREIGN_OBJECT_WINDOW``). Returns the entry,
    or ``None`` when the window's entry was already written (the attempt is counted instead)."""
    user = getattr(request, "user", None)
    actor = user if getattr(user, "is_authenticated", False) else None
    match = getattr(request, "resolver_match", None)
    route = (match.route if match is not None else "") or request.path
    caller = str(actor.pk) if actor is not None else f"ip:{context.ip_address or '-'}"
    key = f"{FOREIGN_OBJECT_ACTION}|{caller}|{route}"[:255]
    now = timezone.now()
    with transaction.atomic():
        throttle, created = SecurityEventThrottle.objects.select_for_update().get_or_create(
            key=key, defaults={"window_started_at": now}
        )
        if not created and now - throttle.window_started_at < FOREIGN_OBJECT_WINDOW:
            throttle.suppressed += 1
            throttle.save(update_fields=["suppressed"])
            return None
        held_back = 0 if created else throttle.suppressed
        throttle.window_started_at, throttle.suppressed = now, 0
        throttle.save(update_fields=["window_started_at", "suppressed"])
        target = context.concealed[0]
        return record_event(
            action=FOREIGN_OBJECT_ACTION,
            actor=actor,
            target=target,
            outcome=AuditOutcome.DENIED,
            message=f"{request.method} {request.path}"[:500],
            changes={
                "route": route,
                "objects": [f"{item._meta.label_lower}:{item.pk}" for item in context.concealed][:10],
                "held_back_since_last_entry": held_back,
            },
        )
