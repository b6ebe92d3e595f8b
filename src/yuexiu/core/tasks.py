"""Periodic jobs of the core domain, run by the background worker (django-q2 schedules)."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from yuexiu.core import audit, rules
from yuexiu.core.models import AuditEvent, User

ARCHIVE_FIELDS = [
    "id",
    "occurred_at",
    "actor_username",
    "actor_roles",
    "organisation_id",
    "action",
    "outcome",
    "object_type",
    "object_id",
    "object_repr",
    "changes",
    "message",
    "ip_address",
    "user_agent",
    "request_id",
]


def retention_days() -> int:
    """Days audit entries are kept: ``AUDIT_RETENTION_DAYS``, never less than the legal minimum
    (rule ``audit.log_retention_min_days``: 《网络安全法》第二十一条, six months, which are at most 184
    days, so 184 days keep every entry at least six calendar months whatever day it was written)."""
    return max(int(settings.AUDIT_RETENTION_DAYS), int(rules.get_rule_value("audit.log_retention_min_days")))


def purge_expired_audit_events() -> int:
    """Archive audit entries older than the retention period to var/audit-archive/ (gzip JSON lines),
    then delete them. Returns the number removed. Idempotent: a second run finds nothing to do.

    Runs daily. The archive is written before the rows are deleted, in one transaction, so an
    interrupted run loses nothing.
    """
    cutoff = timezone.now() - timedelta(days=retention_days())
    expired = AuditEvent.objects.filter(occurred_at__lt=cutoff)
    if not expired.exists():
        return 0
    archive_dir = settings.VAR_DIR / "audit-archive"
    archive_dir.mkdir(parents=True, exist_ok=True)
    with transaction.atomic():
        rows = list(expired.order_by("id").values(*ARCHIVE_FIELDS))
        path = archive_dir / f"audit-before-{cutoff:%Y%m%d}-{timezone.now():%Y%m%d%H%M%S}.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n")
        ids = [row["id"] for row in rows]
        with connection.cursor() as cursor:
            # The model refuses deletes so that no application path can remove entries; the
            # retention job is the one exception, and it deletes only rows past the cutoff.
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                placeholders = ",".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM core_auditevent WHERE id IN ({placeholders})", chunk)  # noqa: S608
        audit.record_event(
            action="audit.retention_purged",
            changes={"removed": len(ids), "cutoff": cutoff.isoformat(), "archive": path.name},
            message=f"审计日志保存期满清理 {len(ids)} 条，已归档至 {path.name}",
        )
    return len(ids)


def recompute_deadlines(years: list[int], actor_id: int | None = None) -> list[str]:
    """After a holiday notice for ``years`` is imported (or a package upgrade loads them), recompute every
    open deadline that depends on those years: each app offers a ``recompute_deadlines(years=, now=)``
    hook on its AppConfig and reports what it changed. One audit event records the whole job. Safe to
    run twice: a second run finds nothing to change. Returns the apps' report lines.

    Every change and the audit event are one transaction: a job worker killed in the middle leaves no
    deadline recomputed, and the task django-q2 delivers again does the whole job and records it once."""
    now = timezone.now()
    with transaction.atomic():
        lines = [
            app.recompute_deadlines(years=list(years), now=now)
            for app in apps.get_app_configs()
            if hasattr(app, "recompute_deadlines")
        ]
        audit.record_event(
            action="calendar.deadlines_recomputed",
            actor=User.objects.filter(pk=actor_id).first() if actor_id else None,
            changes={"years": list(years), "results": lines},
            message=f"{'、'.join(f'{year}年' for year in years)}节假日安排导入后重算期限：" + "；".join(lines),
        )
    return lines
