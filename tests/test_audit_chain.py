"""The audit log is an SM3 hash chain (GB/T 39786-2021 8.3 c): `yuexiu audit verify` finds an altered,
deleted, reordered or long-unlinked entry, the retention purge keeps the chain verifiable, and
concurrent writers produce one valid chain."""

from __future__ import annotations

import gzip
import json
import threading
from datetime import datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from yuexiu.core import audit, audit_chain, rules, tasks
from yuexiu.core.models import AuditChainCheckpoint, AuditChainLink, AuditChainPending, AuditEvent
from yuexiu.core.smcrypto import sm3_hex

pytestmark = pytest.mark.django_db


def write_entries(count: int, action: str = "test.happened") -> list[AuditEvent]:
    return [
        audit.record_event(action=action, message=f"第{number}条", changes={"n": number}) for number in range(count)
    ]


def chained(count: int) -> list[AuditEvent]:
    """``count`` entries, each committed and then linked by the after-commit linker."""
    events = write_entries(count)
    audit_chain.link_pending_events()
    return events


def verify_output(*args: str) -> tuple[str, str | None]:
    """The command's output and its error (``None`` when it exits with status 0)."""
    output = StringIO()
    try:
        call_command("audit", "verify", *args, stdout=output)
    except CommandError as error:
        return output.getvalue(), str(error)
    return output.getvalue(), None


def run_sql(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def allow_updates_of_the_audit_log() -> None:
    """What an intruder with database rights does first (undone when the test's transaction rolls back)."""
    if connection.vendor == "postgresql":
        run_sql("SET LOCAL session_replication_role = replica")  # ordinary triggers off in this transaction
    else:
        run_sql("DROP TRIGGER core_auditevent_no_update")


@pytest.mark.django_db(transaction=True)
def test_committed_entries_are_linked_after_commit_and_the_chain_verifies(reference_data):
    with transaction.atomic():
        first, second = write_entries(2)
        linkers = [item for item in connection.run_on_commit if item[1] is audit_chain._link_after_commit]
        assert len(linkers) == 1  # one linker run per transaction, however many entries it wrote
    assert not AuditChainPending.objects.exists()
    links = list(AuditChainLink.objects.order_by("seq"))
    assert [link.event_id for link in links][-2:] == [first.pk, second.pk]
    last = links[-1]
    assert last.content_digest == audit_chain.content_digest(second)
    assert last.chain_digest == sm3_hex(
        bytes.fromhex(links[-2].chain_digest)
        + f"|{last.seq}|{second.pk}|".encode()
        + bytes.fromhex(last.content_digest)
    )
    output, error = verify_output()
    assert error is None
    assert f"已校验链接 {len(links)} 条" in output
    assert f"链头：第 {last.seq} 条 {last.seq}:{last.chain_digest}" in output
    assert "结论：哈希链完整" in output
    assert verify_output("--expected-head", f"{last.seq}:{last.chain_digest}")[1] is None


def test_an_entry_altered_in_the_database_is_found(reference_data):
    events = chained(3)
    allow_updates_of_the_audit_log()
    run_sql("UPDATE core_auditevent SET message = %s WHERE id = %s", ["篡改后的内容", events[1].pk])
    output, error = verify_output()
    assert error == "审计日志哈希链校验未通过：发现 1 处问题"
    link = AuditChainLink.objects.get(event_id=events[1].pk)
    assert f"审计日志 #{events[1].pk}（第 {link.seq} 条，" in output
    assert "test.happened）内容被改动：与链接时的摘要不符" in output


def test_a_deleted_entry_and_a_deleted_link_are_found(reference_data):
    events = chained(4)
    run_sql("DELETE FROM core_auditevent WHERE id = %s", [events[1].pk])
    link = AuditChainLink.objects.get(event_id=events[2].pk)
    run_sql("DELETE FROM core_auditchainlink WHERE seq = %s", [link.seq])
    report = audit_chain.verify_chain()
    assert [(problem.kind, problem.event_id) for problem in report.problems] == [
        ("deleted", events[1].pk),
        ("gap", None),
    ]
    assert report.problems[1].message == f"第 {link.seq} 至 {link.seq} 条链接缺失：审计日志被删除"
    assert verify_output()[1] == "审计日志哈希链校验未通过：发现 2 处问题"


def test_two_swapped_links_are_found(reference_data):
    events = chained(3)
    first, second = AuditChainLink.objects.filter(event_id__in=[events[0].pk, events[1].pk]).order_by("seq")
    run_sql("DELETE FROM core_auditchainlink WHERE seq IN (%s, %s)", [first.seq, second.seq])
    for seq, link in ((first.seq, second), (second.seq, first)):  # re-inserted in each other's place
        AuditChainLink.objects.create(
            seq=seq,
            event_id=link.event_id,
            content_digest=link.content_digest,
            chain_digest=link.chain_digest,
            linked_at=link.linked_at,
        )
    problems = audit_chain.verify_chain().problems
    # both swapped links, and the next one, which no longer follows from its predecessor
    assert [(problem.kind, problem.seq) for problem in problems] == [
        ("reordered", first.seq),
        ("reordered", second.seq),
        ("reordered", second.seq + 1),
    ]
    assert problems[0].message.endswith("的链摘要与前一条不衔接：顺序被调换或链接被改写")


def test_an_entry_left_unlinked_too_long_and_one_deleted_before_linking_are_found(reference_data, settings):
    settings.AUDIT_CHAIN_LINK_GRACE_MINUTES = 10
    chained(1)
    waiting, lost = write_entries(2)  # the after-commit linker never ran (no commit in this test)
    run_sql("DELETE FROM core_auditevent WHERE id = %s", [lost.pk])
    report = audit_chain.verify_chain()
    assert (report.valid, report.pending) == (False, 1)  # young and waiting: not a problem yet
    assert [problem.kind for problem in report.problems] == ["lost_before_link"]
    later = audit_chain.verify_chain(now=timezone.now() + timedelta(minutes=11))
    assert [(problem.kind, problem.event_id) for problem in later.problems] == [
        ("unlinked", waiting.pk),
        ("lost_before_link", lost.pk),
    ]
    assert "超过 10 分钟仍未进入哈希链" in later.problems[0].message


def test_a_recorded_head_that_is_no_longer_in_the_chain_is_found(reference_data):
    chained(3)
    head = AuditChainLink.objects.order_by("-seq").first()
    run_sql("DELETE FROM core_auditevent WHERE id = %s", [head.event_id])
    run_sql("DELETE FROM core_auditchainlink WHERE seq = %s", [head.seq])  # the tail cut off cleanly
    assert audit_chain.verify_chain().valid  # undetectable from inside the database alone…
    _, error = verify_output("--expected-head", f"{head.seq}:{head.chain_digest}")
    assert error == "审计日志哈希链校验未通过：发现 1 处问题"  # …but not against the head kept outside


def _entry_at(days_ago: int, message: str) -> AuditEvent:
    with time_machine.travel(timezone.now() - timedelta(days=days_ago), tick=False):
        return audit.record_event(action="test.old", message=message)


def test_the_retention_purge_keeps_the_chain_verifiable_and_folds_its_start_into_a_checkpoint(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.AUDIT_RETENTION_DAYS = 365
    assert not AuditEvent.objects.exists()  # the chain starts with this test's entries
    oldest = _entry_at(420, "最早")
    old = _entry_at(400, "很久以前")
    recent = _entry_at(200, "半年多以前")
    behind = _entry_at(390, "链在后面的旧条目")  # linked after a younger one: purged, its link stays
    rules.load_rule_parameters()  # the retention rule (and its audit entry, of today)
    audit_chain.link_pending_events()
    seqs = {event.pk: AuditChainLink.objects.get(event_id=event.pk).seq for event in (oldest, old, recent, behind)}
    assert tasks.purge_expired_audit_events() == 3
    assert list(AuditEvent.objects.filter(pk__in=seqs).values_list("pk", flat=True)) == [recent.pk]
    # The archive holds every field the content digest covers: each archived entry checks offline
    # against the link it carried.
    [archive] = (tmp_path / "audit-archive").iterdir()
    with gzip.open(archive, "rt", encoding="utf-8") as handle:
        archived = [json.loads(line) for line in handle]
    assert sorted(row["id"] for row in archived) == sorted([oldest.pk, old.pk, behind.pk])
    for row in archived:
        fields = {name: row[name] for name in audit_chain.CONTENT_FIELDS}
        fields["occurred_at"] = datetime.fromisoformat(fields["occurred_at"])
        assert audit_chain.content_digest(AuditEvent(**fields)) == row["chain_link__content_digest"]
    checkpoint = AuditChainCheckpoint.objects.order_by("-seq").first()
    assert checkpoint.seq == seqs[old.pk]  # the first two links were folded
    assert not AuditChainLink.objects.filter(seq__lte=checkpoint.seq).exists()
    audit_chain.link_pending_events()  # the purge's own audit entry
    report = audit_chain.verify_chain()
    assert (report.valid, report.checkpoint[0], report.purged) == (True, seqs[old.pk], 1)
    output, error = verify_output()
    assert error is None and f"起点：检查点第 {seqs[old.pk]} 条" in output
    # an entry deleted outside the retention job is still found after a purge
    run_sql("DELETE FROM core_auditevent WHERE id = %s", [recent.pk])
    assert [problem.kind for problem in audit_chain.verify_chain().problems] == ["deleted"]


def test_the_linker_runs_every_minute_from_the_worker(reference_data):
    from django_q.models import Schedule

    from yuexiu.core.schedules import ensure_schedules

    ensure_schedules()
    schedule = Schedule.objects.get(func="yuexiu.core.audit_chain.link_pending_events")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_in_their_own_transactions_produce_one_valid_chain(reference_data):
    # PostgreSQL: both transactions are open before either writes, so the commits and the after-commit
    # linkers overlap. SQLite (BEGIN IMMEDIATE) lets one writer at a time: meeting at a barrier inside
    # the transactions would deadlock, so the threads meet before them.
    postgres = connection.vendor == "postgresql"
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def write(name: str) -> None:
        try:
            if not postgres:
                barrier.wait(timeout=30)
            for number in range(15):
                with transaction.atomic():
                    if postgres and number == 0:
                        barrier.wait(timeout=30)
                    audit.record_event(action="test.concurrent", message=f"{name}-{number}")
                    audit.record_event(action="test.concurrent", message=f"{name}-{number}b")
        except BaseException as error:  # noqa: BLE001  # reported by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(name,)) for name in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert not AuditChainPending.objects.exists()  # every commit's own linker did its work
    events = AuditEvent.objects.filter(action="test.concurrent").count()
    assert events == 60
    seqs = list(AuditChainLink.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, AuditEvent.objects.count() + 1))
    assert audit_chain.verify_chain().valid
