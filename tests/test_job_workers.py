"""Several job workers on one database (docs/adr/0008-production-deployment.md, "Jobs"): django-q2's database broker
hands each task to one worker, and the scheduler creates each due periodic task once however many workers
run it at the same moment. Run on SQLite and on PostgreSQL, with one database connection per thread as
two worker processes have; the production-mode test (tests/production/) does the same with real
`yuexiu qcluster` processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ, Schedule
from django_q.scheduler import scheduler
from django_q.signing import SignedPackage

pytestmark = pytest.mark.django_db(transaction=True)


def _in_threads(target, count: int = 2) -> list:
    """Run ``target()`` in ``count`` threads started together; each thread has its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[number] = target()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_two_workers_taking_tasks_at_once_never_get_the_same_task():
    broker = get_broker()
    enqueued = {broker.enqueue(SignedPackage.dumps({"id": f"task-{n}", "func": "math.floor"})) for n in range(40)}

    def take_until_empty() -> list[int]:
        mine = []
        worker_broker = get_broker()
        while OrmQ.objects.filter(lock__lte=timezone.now()).exists():
            for ack_id, _ in worker_broker.dequeue() or []:
                mine.append(ack_id)
        return mine

    first, second = _in_threads(take_until_empty)

    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(enqueued)


def test_a_task_handed_out_is_not_handed_out_again_before_the_retry_delay(settings):
    broker = get_broker()
    ack_id = broker.enqueue(SignedPackage.dumps({"id": "long-task", "func": "math.floor"}))
    [(taken, _)] = broker.dequeue()
    assert taken == ack_id
    lock = OrmQ.objects.get(pk=ack_id).lock
    assert lock >= timezone.now() + timedelta(seconds=settings.WORKER_RETRY_SECONDS - 5)  # the killed worker's lease
    OrmQ.objects.filter(pk=ack_id).update(lock=timezone.now() - timedelta(seconds=1))  # the delay has passed
    assert [task_id for task_id, _ in broker.dequeue()] == [ack_id]  # handed out again, once


def test_two_schedulers_running_at_once_create_each_due_task_once():
    due = timezone.now() - timedelta(minutes=1)
    for name in ("每日任务", "每小时任务", "每五分钟任务"):
        Schedule.objects.create(name=name, func="math.floor", args="1", schedule_type=Schedule.HOURLY, next_run=due)

    _in_threads(lambda: scheduler(broker=get_broker()), count=3)

    assert OrmQ.objects.count() == 3
    queued = list(OrmQ.objects.all())
    assert sorted(task.group() for task in queued) == ["每五分钟任务", "每小时任务", "每日任务"]
    assert sorted(task.task_id() for task in queued) == sorted(Schedule.objects.values_list("task", flat=True))
    assert all(next_run > timezone.now() for next_run in Schedule.objects.values_list("next_run", flat=True))
    _in_threads(lambda: scheduler(broker=get_broker()), count=3)  # nothing is due any more
    assert OrmQ.objects.count() == 3


def _settings_in_a_process(**environment: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import django; django.setup(); from django.conf import settings; from django_q.conf import Conf; "
        "print(Conf.SCHEDULER, Conf.TIMEOUT, Conf.RETRY, settings.JOB_LEASE_SECONDS)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={
            **{name: value for name, value in os.environ.items() if not name.startswith(("WORKER_", "JOB_"))},
            "DJANGO_SETTINGS_MODULE": "yuexiu.settings",
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_worker_started_with_worker_runs_scheduler_0_creates_no_periodic_tasks():
    assert _settings_in_a_process().stdout.split() == ["True", "300", "600", "60"]
    switched = _settings_in_a_process(
        WORKER_RUNS_SCHEDULER="0", WORKER_TASK_TIMEOUT="20", WORKER_RETRY_SECONDS="30", JOB_LEASE_SECONDS="5"
    )
    assert switched.stdout.split() == ["False", "20", "30", "5"]


def test_a_retry_not_longer_than_the_timeout_is_refused_at_start_up():
    refused = _settings_in_a_process(WORKER_TASK_TIMEOUT="600", WORKER_RETRY_SECONDS="600")
    assert refused.returncode != 0
    assert (
        "后台任务时限配置有误：须 0 < JOB_LEASE_SECONDS < WORKER_TASK_TIMEOUT < WORKER_RETRY_SECONDS"
        "（当前为 60、600、600 秒），否则被中断的任务会在原任务结束前再次执行"
    ) in refused.stderr
