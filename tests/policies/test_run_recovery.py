"""A matching run survives its job worker being killed (docs/adr/0008-production-deployment.md, "Jobs").

django-q2 hands a killed worker's task out again; these tests call the task function the way the worker
does and stop it at the crash points a SIGKILL can hit: right after the run was claimed, and in the
middle of writing the candidates. The task delivered again finishes the run once, with the results of
a clean run, and progress shown to officers never moves back. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from tests.policies.test_loop import RULES, _enterprise
from yuexiu.core.models import AuditEvent, OutboxMessage
from yuexiu.policies import services, tasks
from yuexiu.policies.models import Candidate, Enterprise, MatchRun

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(cast):
    services.load_policy_library(RULES)
    return cast


@pytest.fixture
def registry(library):
    """The loop tests' registry (tests/policies/test_loop.py): three of five enterprises qualify."""
    Enterprise.objects.create(
        uscc="91440106MA5D00005R", name="天河研发有限公司", district="天河区", rd_expense=Decimal("5000000")
    )
    return [
        _enterprise("91440104MA5CYX1KXU", "示范科技有限公司", "1200000.00"),
        _enterprise("91440104MA5D00002A", "大额研发有限公司", "3000000.00"),
        _enterprise("91440104MA5D00003X", "临界有限公司", "1000000.00"),
        _enterprise("91440104MA5D00004Y", "多一元有限公司", "1000001.00"),
    ]

# What a clean run over the loop tests' registry finds (tests/policies/test_loop.py).
CLEAN = {"status": "done", "enterprises": 5, "candidates": 3, "progress": 100}
CLEAN_CANDIDATES = [
    ("91440104MA5CYX1KXU", 12_000_000),
    ("91440104MA5D00002A", 15_000_000),
    ("91440104MA5D00004Y", 10_000_000),
]


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an ``Exception``, so nothing in the task catches it."""


def _queued_run(user) -> MatchRun:
    return MatchRun.objects.create(period=2026, as_of=date(2026, 3, 2), started_by=user)


def _outcome(run: MatchRun) -> dict:
    run.refresh_from_db()
    return {
        "status": run.status,
        "enterprises": run.enterprises,
        "candidates": run.candidates,
        "progress": run.progress,
    }


def _candidates() -> list[tuple[str, int]]:
    return list(Candidate.objects.order_by("enterprise__uscc").values_list("enterprise__uscc", "engine_amount_fen"))


def _finished_events(run: MatchRun) -> int:
    return AuditEvent.objects.filter(action="policies.run_finished", object_id=str(run.pk)).count()


def _after_the_lease(seconds: int = 0):
    """The clock once the killed execution's lease has gone silent (plus ``seconds``)."""
    from django.conf import settings

    return time_machine.travel(timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS + 1 + seconds), tick=True)


def test_a_run_killed_right_after_its_claim_is_taken_over_and_finishes_once(registry, library, monkeypatch):
    run = _queued_run(library["policy_kgsxj"])
    real_progress = services._progress

    def killed_after_claiming(*args, **kwargs):
        raise WorkerKilled

    monkeypatch.setattr(services, "_progress", killed_after_claiming)
    with pytest.raises(WorkerKilled):
        tasks.execute_run(run.pk)
    run.refresh_from_db()
    assert (run.status, run.attempts, run.progress, run.candidates) == ("running", 1, 0, 0)
    assert Candidate.objects.count() == 0

    monkeypatch.setattr(services, "_progress", real_progress)
    with _after_the_lease():
        tasks.execute_run(run.pk)  # django-q2 delivers the task again

    assert _outcome(run) == CLEAN
    assert _candidates() == CLEAN_CANDIDATES
    assert run.attempts == 2 and run.error == ""
    assert _finished_events(run) == 1


def test_a_run_killed_while_writing_candidates_leaves_none_and_the_retry_writes_them_once(
    registry, library, monkeypatch
):
    run = _queued_run(library["policy_kgsxj"])
    real_insert = services._insert_candidates

    def killed_mid_write(batch):
        real_insert(batch)  # the first rows are written, then the worker dies
        raise WorkerKilled

    monkeypatch.setattr(services, "_insert_candidates", killed_mid_write)
    with pytest.raises(WorkerKilled):
        tasks.execute_run(run.pk)
    run.refresh_from_db()
    assert (run.status, run.progress, run.stage, run.candidates) == ("running", 82, "正在写入免申即享候选名单", 0)
    assert Candidate.objects.count() == 0  # the write was one transaction: nothing half-saved
    assert OutboxMessage.objects.filter(topic="policy_match").count() == 0
    assert _finished_events(run) == 0

    monkeypatch.setattr(services, "_insert_candidates", real_insert)
    seen: list[tuple[int, str]] = []
    real_progress = services._progress

    def observed(run_, progress, stage, token):
        real_progress(run_, progress, stage, token)
        seen.append(MatchRun.objects.values_list("progress", "stage").get(pk=run_.pk))

    monkeypatch.setattr(services, "_progress", observed)
    with _after_the_lease():
        tasks.execute_run(run.pk)

    assert _outcome(run) == CLEAN
    assert _candidates() == CLEAN_CANDIDATES
    assert OutboxMessage.objects.filter(topic="policy_match").count() == 1  # enterprise_demo, once
    assert _finished_events(run) == 1
    # The bar never moves back; the stage says the run is being done again after an interruption.
    assert [progress for progress, _ in seen] == [82] * len(seen)
    assert seen[0][1] == "第 2 次执行（上次执行中断）：导出企业数据快照"
    # Each execution works in a folder of its own; the stopped one's is removed, the snapshot is the
    # finished attempt's (a name in the snapshots storage: var/policy-runs/<run>/attempt-2/ here).
    assert run.snapshot_path == f"policy-runs/{run.pk}/attempt-2/enterprises.parquet"
    run_folder = services.Path(settings.VAR_DIR) / "policy-runs" / str(run.pk)
    assert [folder.name for folder in run_folder.glob("attempt-*")] == ["attempt-2"]


def test_a_task_delivered_again_after_the_run_finished_changes_nothing(registry, library):
    run = _queued_run(library["policy_kgsxj"])
    tasks.execute_run(run.pk)
    before = MatchRun.objects.values().get(pk=run.pk)

    with _after_the_lease(seconds=3600):
        message = tasks.execute_run(run.pk)

    assert MatchRun.objects.values().get(pk=run.pk) == before
    assert message == f"匹配批次 {run.pk}：已完成，5 家企业，3 个符合条件的企业-事项对，另有 4 个申报线索"
    assert _candidates() == CLEAN_CANDIDATES and _finished_events(run) == 1


def test_a_live_lease_is_waited_for_and_taken_over_once_it_goes_silent(registry, library, settings):
    settings.JOB_LEASE_SECONDS = 1
    run = _queued_run(library["policy_kgsxj"])
    MatchRun.objects.filter(pk=run.pk).update(
        status="running", claimed_by="worker-a:4242:dead", heartbeat_at=timezone.now(), attempts=1, progress=40
    )

    tasks.execute_run(run.pk)  # the lease is live for a second: waited for, then taken over

    assert _outcome(run) == CLEAN
    assert run.attempts == 2 and run.claimed_by != "worker-a:4242:dead"


def test_an_execution_that_lost_its_lease_writes_nothing(registry, library, monkeypatch):
    run = _queued_run(library["policy_kgsxj"])
    real_library = services.current_library

    def taken_over_meanwhile():
        MatchRun.objects.filter(pk=run.pk).update(claimed_by="worker-b:77:fast", heartbeat_at=timezone.now())
        return real_library()

    monkeypatch.setattr(services, "current_library", taken_over_meanwhile)
    tasks.execute_run(run.pk)

    run.refresh_from_db()
    assert (run.status, run.claimed_by, run.error) == ("running", "worker-b:77:fast", "")  # not marked failed
    assert Candidate.objects.count() == 0 and _finished_events(run) == 0


def test_a_run_that_fails_is_marked_failed_once_and_not_run_again(registry, library, monkeypatch):
    run = _queued_run(library["policy_kgsxj"])

    def broken(*args, **kwargs):
        raise RuntimeError("engine crashed")

    monkeypatch.setattr(services.sql, "match", broken)
    tasks.execute_run(run.pk)
    monkeypatch.undo()
    with _after_the_lease():
        tasks.execute_run(run.pk)

    run.refresh_from_db()
    assert (run.status, run.attempts) == ("failed", 1)
    assert run.error == "匹配引擎内部错误，详情已写入服务器日志，请联系系统管理员。"
    assert Candidate.objects.count() == 0


def test_a_run_left_running_before_leases_existed_is_taken_over_at_once(registry, library):
    run = _queued_run(library["policy_kgsxj"])
    MatchRun.objects.filter(pk=run.pk).update(status="running", progress=15)  # no claim, no heartbeat

    tasks.execute_run(run.pk)

    assert _outcome(run) == CLEAN
    assert run.attempts == 1
