"""Benchmark: the 监督一点通 sweep over 100,000 open cases (generated), on a fresh SQLite file (or on
DATABASE_URL if set, e.g. PostgreSQL). Run: `.venv/bin/python bench/supervision_bench.py [cases]`.

Prints the first sweep (which fires alerts and opens orders) and a steady-state sweep (nothing new
to fire), with a baseline in the same run: one full `COUNT(*)` scan of the cases table.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

VAR = Path(tempfile.mkdtemp(prefix="yuexiu-bench-"))
os.environ.setdefault("YUEXIU_VAR_DIR", str(VAR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yuexiu.settings")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from yuexiu.cases.models import Case, CaseStatus  # noqa: E402
from yuexiu.catalog.models import ServiceItem  # noqa: E402
from yuexiu.core.models import Organisation  # noqa: E402
from yuexiu.supervision import services  # noqa: E402
from yuexiu.supervision.models import Alert, SupervisionOrder  # noqa: E402


def generate(count: int) -> None:
    rng = random.Random(2024)
    items = list(ServiceItem.objects.select_related("current_version"))
    centre = Organisation.objects.get(code="440104-ZSJ")
    now = timezone.now()
    statuses = [CaseStatus.ACCEPTED] * 7 + [CaseStatus.CORRECTION_REQUESTED, CaseStatus.SUBMITTED, CaseStatus.APPROVED]
    batch = []
    for number in range(count):
        item = items[number % len(items)]
        status = rng.choice(statuses)
        accepted = now - timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 1440))
        due = accepted + timedelta(days=rng.randint(5, 40))
        batch.append(
            Case(
                number=f"BM{number:08d}",
                item=item,
                guide_version=item.current_version,
                organisation_id=item.organisation_id,
                intake_organisation=centre,
                channel="online",
                applicant_name="压测申请人",
                idempotency_key=f"bench-{number}",
                status=status,
                submitted_at=accepted,
                accepted_at=accepted if status != CaseStatus.SUBMITTED else None,
                due_at=due,
                warning_at=due - timedelta(days=rng.randint(1, 6)),
                pause_alert_at=accepted + timedelta(days=14) if status == CaseStatus.CORRECTION_REQUESTED else None,
                correction_count=1 if rng.random() < 0.97 else 2,
            )
        )
        if len(batch) == 5000:
            Case.objects.bulk_create(batch)
            batch = []
    Case.objects.bulk_create(batch)


def timed(function):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    call_command("migrate", verbosity=0)
    call_command("setup", verbosity=0)
    build, _ = timed(lambda: generate(count))
    print(f"database: {connection.vendor}; cases: {Case.objects.count()} (generated in {build:.1f} s)")

    def count_scan() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM cases_case WHERE applicant_name <> ''")
            return cursor.fetchone()[0]

    baseline, _ = timed(count_scan)
    first, fired = timed(services.sweep)
    print(f"first sweep: {first:.3f} s — fired {fired}")
    print(f"alerts: {Alert.objects.count()}, orders: {SupervisionOrder.objects.count()}")
    steady = []
    for _ in range(5):
        elapsed, result = timed(services.sweep)
        assert sum(result.values()) == 0, result
        steady.append(elapsed)
    steady.sort()
    baseline, _ = timed(count_scan)
    print(f"steady-state sweep (5 runs): median {steady[2]:.3f} s, max {steady[-1]:.3f} s")
    ratio = steady[2] / baseline
    print(f"baseline full COUNT(*) scan of cases: {baseline:.3f} s; ratio median sweep / scan: {ratio:.1f}x")


if __name__ == "__main__":
    main()
