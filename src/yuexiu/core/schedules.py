"""The periodic jobs the background worker runs (django-q2 schedules), created idempotently."""

from __future__ import annotations

from django.apps import apps
from django_q.models import Schedule

PERIODIC_JOBS = [
    {
        "name": "审计日志保存期满清理",
        "func": "yuexiu.core.tasks.purge_expired_audit_events",
        "schedule_type": Schedule.DAILY,
    },
    {
        # entries whose after-commit linking failed or was interrupted (core.audit_chain)
        "name": "审计日志哈希链链接",
        "func": "yuexiu.core.audit_chain.link_pending_events",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
]


def ensure_schedules() -> int:
    """Create the schedules that do not exist yet (matched on name): the core's ``PERIODIC_JOBS`` and each
    app's ``periodic_jobs``. Returns the number created."""
    created = 0
    jobs = [*PERIODIC_JOBS, *(job for app in apps.get_app_configs() for job in getattr(app, "periodic_jobs", []))]
    for job in jobs:
        _, was_created = Schedule.objects.get_or_create(name=job["name"], defaults=job)
        created += was_created
    return created
