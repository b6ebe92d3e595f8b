"""Periodic jobs of the core domain, run by the background worker (django-q2 schedules)."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from yuexiu.core import audit, audit_chain, files, rules
from yuexiu.core.models import AuditChainPurge, AuditEvent, User

# Every field the hash chain's content digest covers (audit_chain.CONTENT_FIELDS), so that an archived
# entry can be checked against its link offline.
ARCHIVE_FIELDS = ["id", *audit_chain.CONTENT_FIELDS]
# the entry's place in the hash chain, so that archived entries can be checked against it offline
ARCHIVE_LINK_FIELDS = ["chain_link__seq", "chain_link__content_digest", "chain_link__chain_digest"]


def retention_days() -> int:
    """Days audit entries are kept: ``AUDIT_RETENTION_DAYS``, never less than the legal minimum
    (rule ``audit.log_retention_min_days``: 《网络安全法》第二十一条, six months, which are at most 184
    days, so 184 days keep every entry at least six calendar months whatever day it was written)."""
    return max(int(settings.AUDIT_RETENTION_DAYS), int(rules.get_rule_value("audit.log_retention_min_days")))


def purge_expired_audit_events() -> int:
    """Archive audit entries older than the retention period to ``audit-archive/`` in the snapshots
    storage (var/audit-archive/ in embedded mode, object storage in production; gzip JSON lines,
    each with its hash-chain link), then delete them. Returns the number removed. Idempotent: a second
    run finds nothing to do.

    Runs daily. The archive is written before the rows are deleted, in one transaction, so an
    interrupted run loses nothing. The hash chain stays verifiable: each removed entry's link is kept
    with an ``AuditChainPurge`` record, and once every link up to some point has lost its entry, those
    links are folded into an ``AuditChainCheckpoint`` from which ``yuexiu audit verify`` starts.
    """
    cutoff = timezone.now() - timedelta(days=retention_days())
    audit_chain.link_pending_events()  # an entry leaves only once it is in the chain
    expired = AuditEvent.objects.filter(occurred_at__lt=cutoff, chain_link__isnull=False)
    if not expired.exists():
        return 0
    with transaction.atomic():
        audit_chain.lock_chain()
        rows = list(expired.order_by("id").values(*ARCHIVE_FIELDS, *ARCHIVE_LINK_FIELDS))
        now = timezone.now()
        # Times with their microseconds (DjangoJSONEncoder keeps milliseconds only): the digest covers them.
        lines = "".join(
            json.dumps(
                {**row, "occurred_at": row["occurred_at"].isoformat()}, cls=DjangoJSONEncoder, ensure_ascii=False
            )
            + "\n"
            for row in rows
        )
        name = f"audit-before-{cutoff:%Y%m%d}-{now:%Y%m%d%H%M%S}.jsonl.gz"
        # Written (shared by every machine) before a row is deleted; a refused write raises and the
        # transaction deletes nothing.
        stored = files.save_snapshot_file(f"audit-archive/{name}", gzip.compress(lines.encode("utf-8")))
        path = PurePosixPath(stored)
        AuditChainPurge.objects.bulk_create(
            [
                AuditChainPurge(
                    seq=row["chain_link__seq"],
                    event_id=row["id"],
                    occurred_at=row["occurred_at"],
                    purged_at=now,
                    archive=path.name,
                )
                for row in rows
            ],
            batch_size=500,
        )
        ids = [row["id"] for row in rows]
        with connection.cursor() as cursor:
            # The model refuses deletes so that no application path can remove entries; the
            # retention job is the one exception, and it deletes only rows past the cutoff.
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                placeholders = ",".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM core_auditevent WHERE id IN ({placeholders})", chunk)  # noqa: S608
        audit_chain.fold_purged_links(now=now)
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
