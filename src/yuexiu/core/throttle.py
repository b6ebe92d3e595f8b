"""Limits on anonymous and account requests, counted from the audit log.

Every attempt that a limit counts (a registration, a password-reset request, a password change, an
unlock request, a wrong visit code at a rating kiosk) is itself an audit event with the client's
address, so the log that the 审计管理员 reads is also the counter: no second store to keep in step,
and a refusal is visible where every other security event is. The audit log is append-only;
counting the last hour's events of a few indexed actions is cheap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import models
from django.utils import timezone

from yuexiu.core import audit
from yuexiu.core.models import AuditEvent, User


def current_address() -> str | None:
    """The client's IP address of the request being served (``RequestContextMiddleware``), or
    ``None`` outside a request (the console, a background job)."""
    context = audit.current_request_context()
    return context.ip_address if context else None


def address_over_limit(actions: Iterable[str], *, limit: int, window: timedelta) -> bool:
    """Whether the current request's address recorded ``limit`` or more events of ``actions`` in the
    last ``window``. ``False`` outside a request (the console and jobs are not limited)."""
    address = current_address()
    if not address:
        return False
    since = timezone.now() - window
    recent = AuditEvent.objects.filter(action__in=list(actions), ip_address=address, occurred_at__gte=since)
    return recent.count() >= limit


def account_over_limit(user: User, actions: Iterable[str], *, limit: int, window: timedelta) -> bool:
    """Whether events of ``actions`` about ``user`` (as actor or as the object) reached ``limit`` in
    the last ``window``."""
    return object_over_limit(user, actions, limit=limit, window=window)


def object_over_limit(target: models.Model, actions: Iterable[str], *, limit: int, window: timedelta) -> bool:
    """Whether events of ``actions`` recorded about ``target`` (``audit.record_event(target=…)``: an
    account, a bound rating device) reached ``limit`` in the last ``window``."""
    since = timezone.now() - window
    recent = AuditEvent.objects.filter(
        action__in=list(actions),
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        occurred_at__gte=since,
    )
    return recent.count() >= limit
