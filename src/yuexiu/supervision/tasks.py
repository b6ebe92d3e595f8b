"""Background jobs of supervision (run by the django-q2 worker)."""

from __future__ import annotations

from yuexiu.supervision import services


def run_sweep() -> dict[str, int]:
    """The periodic 监督一点通 sweep; returns the alerts created per rule and the orders opened."""
    return services.sweep()
