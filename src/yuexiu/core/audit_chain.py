"""The audit log as an SM3 hash chain (GB/T 39786-2021 8.3 c, 8.4 c: integrity of audit records).

Audit entries are written by many web and worker processes inside their own business transactions,
and their ids commit out of order, so an entry cannot know its predecessor when it is inserted. The
chain is therefore built beside the log (docs/adr/0009-commercial-cryptography.md):

- ``AuditEvent.save`` queues the entry in ``AuditChainPending`` in the same transaction;
- ``link_pending_events`` (after each commit that wrote an entry, and every minute from the worker)
  takes one lock (``pg_advisory_xact_lock`` on PostgreSQL; SQLite's IMMEDIATE transactions admit one
  writer already), reads the committed entries and appends ``AuditChainLink`` rows:
  ``content_digest = SM3(canonical content)``, ``chain_digest = SM3(previous | seq | id | content)``;
- ``verify_chain`` recomputes every digest and reports altered, deleted, reordered and unlinked
  entries, and the chain head, which an operator records outside the system: a head written down
  elsewhere is what makes rewriting the whole chain detectable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from yuexiu.core.models import (
    AuditChainCheckpoint,
    AuditChainLink,
    AuditChainPending,
    AuditChainPurge,
    AuditEvent,
)
from yuexiu.core.smcrypto import sm3_hex

GENESIS_DIGEST = "0" * 64
# pg_advisory_xact_lock key of the linker: "YXAU" as a 32-bit integer
LINKER_LOCK_KEY = 0x59584155
CONTENT_FIELDS = (
    "occurred_at",
    "actor_id",
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
)
BATCH = 1000


def content_digest(event: AuditEvent) -> str:
    """SM3 (hex) of the entry's canonical content: its fields (``CONTENT_FIELDS``) as JSON with sorted
    keys, times in UTC ISO 8601 with microseconds, no insignificant whitespace."""
    values: dict[str, Any] = {}
    for name in CONTENT_FIELDS:
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()
        elif name == "ip_address" and value is not None:
            value = str(value)
        values[name] = value
    canonical = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return sm3_hex(canonical.encode("utf-8"))


def chain_digest(previous: str, *, seq: int, event_id: int, content: str) -> str:
    """SM3 (hex) of the previous chain digest, the link's sequence number, the entry's id and its
    content digest: a link cannot move, change entry or change content without breaking every later
    chain digest."""
    return sm3_hex(bytes.fromhex(previous) + f"|{seq}|{event_id}|".encode("ascii") + bytes.fromhex(content))


def lock_chain() -> None:
    """Take the chain's lock for the rest of the current transaction (the linker and the retention
    job hold it while they change the chain)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LINKER_LOCK_KEY])
    # SQLite: the transaction began with BEGIN IMMEDIATE (settings), so it is the only writer.


def _chain_end() -> tuple[int, str]:
    last = AuditChainLink.objects.order_by("-seq").values_list("seq", "chain_digest").first()
    return last if last is not None else _chain_start()


def link_pending_events(*, batch_size: int = BATCH) -> int:
    """Append every committed, queued audit entry to the chain, ``batch_size`` per transaction, and
    return how many were linked. Safe to run at any time from any number of processes: one linker
    at a time holds the lock; a second finds nothing left. A queued id whose entry is gone is left
    queued for ``verify_chain`` to report (an entry deleted before it was linked)."""
    linked = 0
    while True:
        with transaction.atomic():
            lock_chain()
            queued = list(
                AuditChainPending.objects.order_by("event_id").values_list("event_id", flat=True)[:batch_size]
            )
            events = AuditEvent.objects.in_bulk(queued)
            seq, previous = _chain_end()
            now = timezone.now()
            links = []
            for event_id in queued:
                event = events.get(event_id)
                if event is None:
                    continue
                seq += 1
                content = content_digest(event)
                previous = chain_digest(previous, seq=seq, event_id=event_id, content=content)
                links.append(
                    AuditChainLink(
                        seq=seq, event_id=event_id, content_digest=content, chain_digest=previous, linked_at=now
                    )
                )
            AuditChainLink.objects.bulk_create(links)
            AuditChainPending.objects.filter(event_id__in=[link.event_id for link in links]).delete()
        linked += len(links)
        if len(queued) < batch_size or not links:
            return linked


def fold_purged_links(*, now: datetime) -> int:
    """Replace the links at the start of the chain whose entries were all purged by one checkpoint at
    the last of them, and remove those links and their purge records. Returns the links removed.
    Called by the retention job inside its transaction, with the lock held."""
    checkpoint_seq = _chain_start()[0]
    unpurged = (
        AuditChainLink.objects.filter(seq__gt=checkpoint_seq)
        .exclude(seq__in=AuditChainPurge.objects.values("seq"))
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    links = AuditChainLink.objects.filter(seq__gt=checkpoint_seq)
    if unpurged is not None:
        links = links.filter(seq__lt=unpurged)
    last = links.order_by("-seq").values_list("seq", "chain_digest").first()
    if last is None:
        return 0
    AuditChainCheckpoint.objects.create(seq=last[0], chain_digest=last[1], created_at=now)
    removed, _ = AuditChainLink.objects.filter(seq__lte=last[0]).delete()
    AuditChainPurge.objects.filter(seq__lte=last[0]).delete()
    return removed


def _chain_start() -> tuple[int, str]:
    checkpoint = AuditChainCheckpoint.objects.order_by("-seq").values_list("seq", "chain_digest").first()
    return checkpoint if checkpoint is not None else (0, GENESIS_DIGEST)


def _link_after_commit() -> None:
    link_pending_events()


def link_on_commit() -> None:
    """Run the linker once the current transaction commits (once per transaction however many entries
    it wrote). A failure is logged and left to the periodic run: the business change has committed."""
    queued = getattr(connection, "run_on_commit", [])
    # run_on_commit holds (savepoint ids, callable, robust) triples (Django 4.2+)
    if any(item[1] is _link_after_commit for item in queued):
        return
    transaction.on_commit(_link_after_commit, robust=True)


# ---- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainProblem:
    kind: str  # altered, deleted, reordered, gap, unlinked, lost_before_link, head_mismatch
    seq: int | None
    event_id: int | None
    message: str


@dataclass
class ChainReport:
    """What ``verify_chain`` found: links checked, entries purged under retention, entries not linked
    yet (within the grace period), the chain head (seq, digest) and every problem."""

    checkpoint: tuple[int, str]
    links: int = 0
    purged: int = 0
    pending: int = 0
    head: tuple[int, str] = (0, GENESIS_DIGEST)
    expected_head_folded: bool = False
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems


def _links_in_batches() -> Iterator[list[AuditChainLink]]:
    last = -1
    while True:
        batch = list(AuditChainLink.objects.filter(seq__gt=last).order_by("seq")[:BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1].seq


def verify_chain(*, now: datetime | None = None, expected_head: tuple[int, str] | None = None) -> ChainReport:
    """Recompute every link's content digest (from the entry as stored) and chain digest, from the
    latest checkpoint on, and return a ``ChainReport``. Problems found:

    - ``altered``: an entry's content no longer matches its link's digest (a field was changed);
    - ``deleted``: a link's entry is missing and no retention purge recorded it;
    - ``gap``: sequence numbers missing (links deleted);
    - ``reordered``: a chain digest does not follow from its predecessor (links swapped or rewritten);
    - ``unlinked``: an entry older than ``AUDIT_CHAIN_LINK_GRACE_MINUTES`` still outside the chain;
    - ``lost_before_link``: a queued entry deleted before it was linked;
    - ``head_mismatch``: ``expected_head`` (a head recorded earlier outside the system) is not in the chain.
    Reads in batches of ``BATCH`` links; writes nothing."""
    now = now or timezone.now()
    report = ChainReport(checkpoint=_chain_start())
    expected_seq, previous = report.checkpoint[0] + 1, report.checkpoint[1]
    report.head = report.checkpoint
    # a head recorded before the checkpoint was folded into it: checked against the archive instead
    report.expected_head_folded = expected_head is not None and expected_head[0] < report.checkpoint[0]
    head_found = expected_head is None or expected_head == report.checkpoint or report.expected_head_folded
    for batch in _links_in_batches():
        events = AuditEvent.objects.in_bulk([link.event_id for link in batch])
        purges = set(AuditChainPurge.objects.filter(seq__in=[link.seq for link in batch]).values_list("seq", flat=True))
        for link in batch:
            if link.seq <= report.checkpoint[0]:
                continue  # folded into the checkpoint; its row is removed by the next purge
            if link.seq != expected_seq:
                report.problems.append(
                    ChainProblem(
                        "gap",
                        link.seq,
                        None,
                        f"第 {expected_seq} 至 {link.seq - 1} 条链接缺失：审计日志被删除",
                    )
                )
            elif chain_digest(previous, seq=link.seq, event_id=link.event_id, content=link.content_digest) != (
                link.chain_digest
            ):
                report.problems.append(
                    ChainProblem(
                        "reordered",
                        link.seq,
                        link.event_id,
                        f"第 {link.seq} 条链接（审计日志 #{link.event_id}）的链摘要与前一条不衔接："
                        "顺序被调换或链接被改写",
                    )
                )
            event = events.get(link.event_id)
            if event is None:
                if link.seq in purges:
                    report.purged += 1
                else:
                    report.problems.append(
                        ChainProblem(
                            "deleted",
                            link.seq,
                            link.event_id,
                            f"第 {link.seq} 条链接的审计日志 #{link.event_id} 不存在：该条目被删除",
                        )
                    )
            elif content_digest(event) != link.content_digest:
                report.problems.append(
                    ChainProblem(
                        "altered",
                        link.seq,
                        link.event_id,
                        f"审计日志 #{link.event_id}（第 {link.seq} 条，"
                        f"{timezone.localtime(event.occurred_at):%Y-%m-%d %H:%M:%S}，"
                        f"{event.action}）内容被改动：与链接时的摘要不符",
                    )
                )
            if expected_head is not None and (link.seq, link.chain_digest) == expected_head:
                head_found = True
            previous, expected_seq = link.chain_digest, link.seq + 1
            report.links += 1
            report.head = (link.seq, link.chain_digest)
    grace = now - timedelta(minutes=int(settings.AUDIT_CHAIN_LINK_GRACE_MINUTES))
    unlinked = AuditEvent.objects.filter(chain_link__isnull=True)
    report.pending = unlinked.filter(occurred_at__gte=grace).count()
    for event_id, occurred_at in unlinked.filter(occurred_at__lt=grace).order_by("id").values_list("id", "occurred_at"):
        report.problems.append(
            ChainProblem(
                "unlinked",
                None,
                event_id,
                f"审计日志 #{event_id}（{timezone.localtime(occurred_at):%Y-%m-%d %H:%M:%S}）超过 "
                f"{settings.AUDIT_CHAIN_LINK_GRACE_MINUTES} 分钟仍未进入哈希链",
            )
        )
    existing = AuditEvent.objects.filter(pk__in=AuditChainPending.objects.values("event_id")).values("pk")
    for event_id in AuditChainPending.objects.exclude(event_id__in=existing).values_list("event_id", flat=True):
        report.problems.append(
            ChainProblem("lost_before_link", None, event_id, f"审计日志 #{event_id} 在进入哈希链之前被删除")
        )
    if not head_found:
        report.problems.append(
            ChainProblem(
                "head_mismatch",
                expected_head[0] if expected_head else None,
                None,
                f"此前记录的链头（第 {expected_head[0] if expected_head else '?'} 条）不在当前哈希链中：链被截断或重写",
            )
        )
    return report
