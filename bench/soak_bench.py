"""Soak benchmark: a mixed load at a moderate rate for a long time, with the memory of each gunicorn
worker sampled every 30 seconds.

Run on demand (``make bench-soak``; ``SOAK_MINUTES=30`` by default), never as a test. The set-up is
the load benchmark's (bench/load_bench.py: PostgreSQL with the demo data, gunicorn with 2 workers in
production mode). wrk then sends, from 8 connections each pausing ``--delay-ms`` between requests,
a mix of the portal home, the catalogue home, every item page, the ratings statistics, the cases API
of a signed-in applicant and the search API with ever new queries (so that the cache keeps filling
past its bound: ``CACHE_URL=locmem://?max_entries=1000``). It prints the resident memory (RSS, from
/proc) of each worker at every sample and the growth from the first sample after warm-up (2 min)
to the last: a bounded cache keeps it flat.

    python bench/soak_bench.py [--minutes 30] [--interval 30] [--delay-ms 20] [--port 18310]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_bench  # noqa: E402  # the same set-up as the load benchmark

MIXED_LOAD = r"""
local cookie = os.getenv("BENCH_COOKIE")
local slugs = {%(slugs)s}
local words = {"食品", "出生", "社保", "低保", "营业执照", "医保", "户口", "公积金", "残疾", "退休"}
local counter = 0
request = function()
  counter = counter + 1
  local pick = counter %% 8
  if pick == 0 then return wrk.format("GET", "/") end
  if pick == 1 then return wrk.format("GET", "/services/") end
  if pick == 2 or pick == 3 then
    return wrk.format("GET", "/services/items/" .. slugs[math.random(#slugs)] .. "/")
  end
  if pick == 4 then return wrk.format("GET", "/ratings/") end
  if pick == 5 then return wrk.format("GET", "/api/v1/cases", {["Cookie"] = cookie}) end
  local query = words[math.random(#words)] .. tostring(math.random(100000))
  return wrk.format("GET", "/api/v1/catalog/items?q=" .. query)
end
delay = function()
  return %(delay)d
end
"""


def worker_pids(master: int) -> list[int]:
    """The gunicorn workers: the master's child processes (from /proc)."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def item_slugs(env: dict[str, str]) -> list[str]:
    code = (
        "from yuexiu.catalog.selectors import public_items; "
        "print(' '.join(public_items().values_list('slug', flat=True)))"
    )
    result = subprocess.run(
        [str(load_bench.BIN / "yuexiu"), "shell", "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return result.stdout.strip().splitlines()[-1].split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "30")))
    parser.add_argument("--interval", type=int, default=30, help="seconds between memory samples")
    parser.add_argument("--delay-ms", type=int, default=20, help="pause of each connection between requests")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--cache-url", default="locmem://?max_entries=1000")
    parser.add_argument("--port", type=int, default=18310)
    parser.add_argument("--database", default="yuexiu_load_soak")
    parser.add_argument("--keep-database", action="store_true")
    arguments = parser.parse_args()

    wrk = load_bench.ensure_wrk()
    var_dir = Path(tempfile.mkdtemp(prefix="yuexiu-soak-bench-"))
    env = load_bench.bench_environment(arguments.database, var_dir, 60, arguments.cache_url)
    load_bench.create_database(arguments.database, env, arguments.keep_database)
    cookie = load_bench.applicant_session(env, "citizen_demo")
    slugs = item_slugs(env)
    script = var_dir / "mixed.lua"
    script.write_text(
        MIXED_LOAD % {"slugs": ", ".join(json.dumps(slug) for slug in slugs), "delay": arguments.delay_ms}
        + load_bench.WRK_DONE,
        encoding="utf-8",
    )
    seconds = int(arguments.minutes * 60)
    process = load_bench.start_gunicorn(env, arguments.port, 2, var_dir / "gunicorn.log")
    samples: list[tuple[float, dict[int, float]]] = []
    try:
        load = subprocess.Popen(
            [wrk, "-t", "2", "-c", str(arguments.connections), "-d", f"{seconds}s", "--timeout", "5s"]
            + ["-s", str(script), f"http://127.0.0.1:{arguments.port}/"],
            env={**os.environ, "BENCH_COOKIE": cookie},
            stdout=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        print(f"soak: {arguments.minutes:g} min, {arguments.connections} connections, {arguments.delay_ms} ms pause")
        print("| minute | " + " | ".join(f"worker {n} RSS MiB" for n in (1, 2)) + " | total MiB |")
        print("| ---: | ---: | ---: | ---: |")
        while load.poll() is None:
            elapsed = time.monotonic() - started
            memory = {pid: rss_mib(pid) for pid in worker_pids(process.pid)}
            samples.append((elapsed, memory))
            values = list(memory.values())
            print(
                f"| {elapsed / 60:.1f} | " + " | ".join(f"{value:.1f}" for value in values) + f" | {sum(values):.1f} |",
                flush=True,
            )
            next_sample = started + len(samples) * arguments.interval
            while load.poll() is None and time.monotonic() < next_sample:
                time.sleep(0.5)
        output, _ = load.communicate()
        report = json.loads(output.strip().splitlines()[-1])
    finally:
        load_bench.stop(process)
        shutil.rmtree(var_dir, ignore_errors=True)
    errors = report["non2xx"] + report["connect"] + report["read"] + report["write"] + report["timeout"]
    print(
        f"\nrequests {report['requests']:,} ({report['requests'] / (report['duration_us'] / 1e6):.0f}/s), "
        f"p50 {report['p50_us'] / 1000:.1f} ms, p99 {report['p99_us'] / 1000:.1f} ms, errors {errors}"
    )
    warmed = [sample for sample in samples if sample[0] >= 120] or samples
    first, last = warmed[0], samples[-1]
    for pid in last[1]:
        if pid in first[1]:
            print(
                f"worker {pid}: {first[1][pid]:.1f} MiB at {first[0] / 60:.1f} min → {last[1][pid]:.1f} MiB at "
                f"{last[0] / 60:.1f} min (growth {last[1][pid] - first[1][pid]:+.1f} MiB)"
            )
        else:
            print(f"worker {pid} was started during the soak (a worker was replaced)")


if __name__ == "__main__":
    main()
