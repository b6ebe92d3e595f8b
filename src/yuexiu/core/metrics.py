"""Prometheus metrics of the platform (prometheus-client).

- ``yuexiu_http_requests_total{route,method,status}``: requests answered, by URL pattern name;
- ``yuexiu_http_request_duration_seconds{route}``: their latency (histogram);
- ``yuexiu_job_queue_length`` and ``yuexiu_job_queue_oldest_age_seconds``: django-q2 tasks waiting in
  the database queue and the age of the oldest (read from the database at each scrape);
- ``yuexiu_supervision_sweep_duration_seconds``: the 监督一点通 sweep (histogram).

Under gunicorn every worker is its own process: with ``PROMETHEUS_MULTIPROC_DIR`` set (a folder the
web server clears when it starts, see deploy/gunicorn.conf.py), every process writes its values
there and ``/metrics`` adds them up (prometheus-client's multiprocess mode). The job worker's sweep
durations reach ``/metrics`` when it shares that folder (same machine); otherwise they stay in the
worker's process.
"""

from __future__ import annotations

import os
from datetime import timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import REGISTRY, Collector

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)

REQUESTS = Counter("yuexiu_http_requests", "HTTP requests answered", ["route", "method", "status"])
LATENCY = Histogram(
    "yuexiu_http_request_duration_seconds", "HTTP request latency in seconds", ["route"], buckets=LATENCY_BUCKETS
)
SWEEP_DURATION = Histogram(
    "yuexiu_supervision_sweep_duration_seconds",
    "Duration of the supervision sweep in seconds",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency (``seconds``). Label values stay few whatever
    clients send: routes are pattern names, and a method outside ``KNOWN_METHODS`` counts as ``other``."""
    method = method if method in KNOWN_METHODS else "other"
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    LATENCY.labels(route=route).observe(seconds)


def job_queue_state() -> tuple[int, float]:
    """``(tasks waiting, age in seconds of the oldest)`` in django-q2's database queue (0 and 0.0 when
    empty). A waiting task is a queue row whose lock time has passed: django-q2 sets it to the time
    of enqueueing and, while a worker holds the task, to the end of that worker's hold."""
    from django.db.models import Count, Min
    from django.utils import timezone
    from django_q.conf import Conf
    from django_q.models import OrmQ

    now = timezone.now()
    found = OrmQ.objects.filter(key=Conf.CLUSTER_NAME, lock__lte=now).aggregate(count=Count("id"), oldest=Min("lock"))
    oldest = found["oldest"]
    return found["count"], max((now - oldest) / timedelta(seconds=1), 0.0) if oldest else 0.0


class JobQueueCollector(Collector):
    """The job queue's gauges, read from the database when scraped."""

    def collect(self):  # type: ignore[override]
        length, oldest = job_queue_state()
        yield GaugeMetricFamily("yuexiu_job_queue_length", "Background tasks waiting in the queue", value=length)
        yield GaugeMetricFamily(
            "yuexiu_job_queue_oldest_age_seconds", "Age of the oldest waiting background task in seconds", value=oldest
        )


def exposition() -> tuple[bytes, str]:
    """``(body, content type)`` of the current metrics in Prometheus' text format: every process's
    values in multiprocess mode, this process's otherwise, and the job queue's gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    queue = CollectorRegistry()
    queue.register(JobQueueCollector())
    return body + generate_latest(queue), CONTENT_TYPE_LATEST
