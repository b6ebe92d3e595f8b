"""Background jobs of supervision (run by the django-q2 worker)."""

from __future__ import annotations

from yuexiu.core import metrics
from yuexiu.supervision import services


def run_sweep() -> dict[str, int]:
    """The periodic 监督一点通 sweep; returns the alerts created per rule and the orders opened. Its
    duration is observed in ``yuexiu_supervision_sweep_duration_seconds``."""
    with metrics.SWEEP_DURATION.time():
        return services.sweep()
