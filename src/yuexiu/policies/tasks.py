"""Background jobs of 政策兑现 (django-q2)."""

from __future__ import annotations

from django.utils import timezone

from yuexiu.core.errors import Conflict
from yuexiu.policies import services
from yuexiu.policies.models import Objection, Publicity


def execute_run(run_id: int) -> str:
    run = services.execute_run(run_id)
    return (
        f"匹配批次 {run.pk}：{run.get_status_display()}，{run.enterprises} 家企业，"
        f"{run.pairs} 个符合条件的企业-事项对，另有 {run.leads} 个申报线索"
    )


def close_due_publicities() -> int:
    """End every publicity whose period is over and that has no undecided objection."""
    closed = 0
    now = timezone.now()
    due = Publicity.objects.filter(closed_at__isnull=True, ends_at__lte=now)
    for publicity in due.exclude(pk__in=Objection.objects.filter(outcome="").values("candidate__publicity")):
        try:
            services.close_publicity(publicity_id=publicity.pk, user=None, now=now)
            closed += 1
        except Conflict:
            continue
    return closed
