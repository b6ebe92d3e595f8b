"""Background jobs of the catalogue (run by the django-q2 worker)."""

from __future__ import annotations

from yuexiu.catalog import services


def run_nightly_guide_checks() -> int:
    """The nightly 同事同标 guide check over every current guide; returns the number of findings."""
    return services.run_guide_checks(triggered_by=None).finding_count
