"""Benchmark: working-day arithmetic against a plain weekday loop (the baseline), same run, as a ratio.

make bench      # or: .venv/bin/python bench/workdays_bench.py
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from yuexiu.core.workdays import WorkingDayCalendar, YearArrangement  # noqa: E402


class PackageSource:
    def arrangement(self, year: int) -> YearArrangement | None:
        exceptions = {day: False for day in chinese_calendar.holidays if day.year == year}
        exceptions.update({day: True for day in chinese_calendar.workdays if day.year == year})
        return YearArrangement(year=year, exceptions=exceptions)


def baseline_add(start: date, days: int) -> date:
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def main() -> None:
    rng = random.Random(2024)
    cases = [(date(2005, 1, 1) + timedelta(days=rng.randrange(7000)), rng.randrange(1, 61)) for _ in range(20000)]
    calendar = WorkingDayCalendar(PackageSource())
    for start, days in cases[:100]:
        calendar.add_working_days(start, days)  # warm the year cache
    began = time.perf_counter()
    for start, days in cases:
        baseline_add(start, days)
    baseline = time.perf_counter() - began
    began = time.perf_counter()
    for start, days in cases:
        calendar.add_working_days(start, days)
    ours = time.perf_counter() - began
    per_call = ours / len(cases) * 1e6
    print(f"cases: {len(cases)} (1–60 working days, 2005–2024)")
    print(f"baseline weekday loop: {baseline:.3f} s; calendar with holidays: {ours:.3f} s")
    print(f"ratio: {ours / baseline:.2f}x the baseline; {per_call:.1f} µs per add_working_days call")


if __name__ == "__main__":
    main()
