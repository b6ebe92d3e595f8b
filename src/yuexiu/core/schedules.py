"""The periodic jobs the background worker runs (django-q2 schedules), created idempotently."""

from __future__ import annotations

from django_q.models import Schedule

PERIODIC_JOBS = [
    {
        "name": "审计日志保存期满清理",
        "func": "yuexiu.core.tasks.purge_expired_audit_events",
        "schedule_type": Schedule.DAILY,
    },
    {
        "name": "办事指南同事同标检查",
        "func": "yuexiu.catalog.tasks.run_nightly_guide_checks",
        "schedule_type": Schedule.DAILY,
    },
]


def ensure_schedules() -> int:
    """Create the schedules that do not exist yet (matched on name). Returns the number created."""
    created = 0
    for job in PERIODIC_JOBS:
        _, was_created = Schedule.objects.get_or_create(name=job["name"], defaults=job)
        created += was_created
    return created
