"""政策兑现 engine benchmark: N synthetic enterprises × the 78-item library, eligible pairs with
amounts and failed-condition bitmasks written to Parquet, against a plain per-enterprise Python
evaluation of the same rules on a sample. Run on demand: `make bench` or

    .venv/bin/python bench/policy_bench.py [N]

Reports: registry load time, engine time (all items in one statement, and with progress batches),
the engine process's peak memory (a child process, so generating the registry is not counted), the
reference evaluation's time per pair, and the ratio.
"""

from __future__ import annotations

import copy
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from yuexiu.policies import registry  # noqa: E402
from yuexiu.policies.engine import reference, sql, testing  # noqa: E402
from yuexiu.policies.engine.attributes import to_engine_row  # noqa: E402

AS_OF, PERIOD = date(2026, 6, 30), 2026
RULES = ROOT / "src" / "yuexiu" / "policies" / "data" / "rules"


def write_csv(n: int, path: Path) -> list[dict]:
    """Write n synthetic enterprises for the engine; return a sample of ~10,000 engine rows."""
    sample: list[dict] = []
    step = max(n // 10_000, 1)

    def rows():
        for number, row in enumerate(registry.generate_synthetic(n, seed=2024, year=PERIOD)):
            engine = to_engine_row(row)
            if number % step == 0 and len(sample) < 10_000:
                sample.append(engine)
            yield number, engine

    sql.write_registry_csv(rows(), path)
    return sample


def engine_child(csv_path: str, out_dir: str, queue: multiprocessing.Queue) -> None:
    import duckdb

    library = testing.load_library(RULES)
    items = [item for policy in library for item in policy.items]
    con = duckdb.connect()
    started = time.perf_counter()
    sql.load_registry_csv(con, Path(csv_path))
    load = time.perf_counter() - started
    forced = copy.deepcopy(items)  # every item's versions made valid on the as-of date: all 78 evaluated
    for item in forced:
        for version in item.versions:
            version.valid_from = version.valid_until = None
            version.validity_recorded = True  # as if every document's validity were recorded
    runs = []
    for label, library_items, batch in (
        ("items in force on the as-of date, 8 per statement", items, 8),
        ("all 78 items, 8 per statement", forced, 8),
        ("all 78 items, one statement", forced, None),
    ):
        timings = []
        for _ in range(3):
            result = sql.match(con, library_items, period=PERIOD, as_of=AS_OF, out_dir=Path(out_dir), batch_size=batch)
            timings.append(result.seconds)
        runs.append((label, sorted(timings), (result.pairs, result.leads), len(library_items) - len(result.skipped)))
    # Later in the year: 1% of enterprises already granted every item this year (780,000 rows for 1M):
    # the "not already granted" conditions then read the grants table.
    con.execute(
        "INSERT INTO granted SELECT e.uscc, i.code, 2026 FROM (SELECT uscc FROM enterprises WHERE row_id % 100 = 0) e, "
        "(SELECT unnest(?) AS code) i",
        [[i.code for i in forced]],
    )
    timings = []
    for _ in range(3):
        result = sql.match(con, forced, period=PERIOD, as_of=AS_OF, out_dir=Path(out_dir), batch_size=8)
        timings.append(result.seconds)
    grants = con.execute("SELECT count(*) FROM granted").fetchone()[0]
    runs.append(
        (
            f"all 78 items, 8 per statement, {grants:,} grants already made",
            sorted(timings),
            (result.pairs, result.leads),
            len(forced),
        )
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"load": load, "runs": runs, "peak_mib": peak})


def reference_time(sample: list[dict]) -> tuple[float, int]:
    library = testing.load_library(RULES)
    items = [item for policy in library for item in policy.items]
    versions = [(item, item.version_on(AS_OF)) for item in items]
    versions = [(item, version) for item, version in versions if version is not None]
    context = reference.Context(PERIOD, AS_OF, {})
    started = time.perf_counter()
    pairs = 0
    for row in sample:
        for item, version in versions:
            reference.decide(version, row, context, item.code)
            pairs += 1
    return time.perf_counter() - started, pairs


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "registry.csv"
        started = time.perf_counter()
        sample = write_csv(n, csv_path)
        print(f"generated {n:,} synthetic enterprises in {time.perf_counter() - started:.1f} s")
        queue: multiprocessing.Queue = multiprocessing.Queue()
        child = multiprocessing.Process(target=engine_child, args=(str(csv_path), str(Path(tmp) / "out"), queue))
        child.start()
        report = queue.get()
        child.join()
        seconds, pairs = reference_time(sample)
    per_pair = seconds / pairs
    print(f"registry load into DuckDB: {report['load']:.2f} s")
    for label, timings, (found, leads), evaluated_items in report["runs"]:
        decisions = n * evaluated_items
        median = timings[1]
        print(
            f"engine ({label}): median {median:.2f} s (min {timings[0]:.2f}, max {timings[2]:.2f}) for {n:,} × "
            f"{evaluated_items} items = {decisions:,} decisions, {found:,} eligible pairs and {leads:,} leads written "
            f"with amounts and bitmasks; {decisions / median / 1e6:.1f} M decisions/s"
        )
    best = report["runs"][1][1][1]
    in_force = report["runs"][1][3]
    print(f"engine process peak memory: {report['peak_mib']:.0f} MiB")
    print(
        f"plain Python per-enterprise evaluation: {pairs:,} decisions in {seconds:.2f} s = {per_pair * 1e6:.1f} µs per decision; {n:,} × {in_force} would take {per_pair * n * in_force:.0f} s"  # noqa: E501
    )
    print(f"ratio (plain / vectorised, all 78 items, 8 per statement, median): {per_pair * n * in_force / best:.0f}×")


if __name__ == "__main__":
    main()
