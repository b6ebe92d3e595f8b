"""Leases for long background jobs that several job workers may run (docs/adr/0008-production-deployment.md, "Jobs").

django-q2's database broker hands a task to one worker; when the worker is killed before it
acknowledges the task, the broker hands the task out again ``WORKER_RETRY_SECONDS`` later. A long job
(a matching run) therefore claims its row with a lease: the execution's token, a heartbeat written as
it works, and a count of executions. A re-delivered task that finds the job finished does nothing; one
that finds a lease silent for ``JOB_LEASE_SECONDS`` takes it over; the results are written in one
transaction that first checks the lease is still its own (a fencing token), so a stopped execution
leaves nothing half-written and a slow one that lost its lease writes nothing.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone


class LeaseLost(Exception):
    """The job's lease belongs to another execution now (this one was too slow and was taken over):
    stop without writing anything."""


def execution_token() -> str:
    """A token naming one execution of a job: ``host:pid:random`` (at most 120 characters)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


def lease_seconds() -> int:
    """Seconds without a heartbeat after which a job's lease may be taken over (``JOB_LEASE_SECONDS``)."""
    return int(settings.JOB_LEASE_SECONDS)


def stale_before(now: datetime | None = None) -> datetime:
    """Heartbeats older than this instant belong to executions that stopped."""
    return (now or timezone.now()) - timedelta(seconds=lease_seconds())
