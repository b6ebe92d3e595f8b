"""Load benchmark of the web tier: gunicorn with 2 workers on PostgreSQL, measured with wrk.

Run on demand (``make bench-load``), never as a test. It creates a PostgreSQL database with the demo
data (``yuexiu migrate``, ``yuexiu setup --demo``), starts gunicorn in production mode on 127.0.0.1 and
measures, in the same run and one after another, each page at 64 connections for a fixed duration:

- the bare view (``/bench/bare/``, routed only with ``BENCH_BARE_VIEW=1``): the baseline,
- the portal home, the catalogue home, an item page, the search API, the ratings statistics page
  (anonymous),
- the cases API of a signed-in applicant (session cookie sent by wrk).

It prints a table: requests/s, ratio to the bare view, p50 and p99 latency, errors (non-2xx answers
and socket errors). Targets (issue 14): public pages ≥ 0.5× the bare view, signed-in pages ≥ 0.15×,
p99 < 200 ms, no errors. The machine is shared: run it several times (``--rounds``) and compare the
ratios of one run; the median of each column is printed when there are several rounds.

    python bench/load_bench.py [--duration 10] [--connections 64] [--rounds 3] [--conn-max-age 60]
                               [--port 18300] [--database yuexiu_load_bench] [--keep-database]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
SECRET = "bench-only-secret-" + "k7Qz9xW2mN4pR8tV1yB6cD3fG5hJ0lA-" * 2

# wrk reports each request's latency; the script writes what the table needs as JSON.
WRK_REPORT = r"""
local cookie = os.getenv("BENCH_COOKIE")
request = function()
  if cookie and cookie ~= "" then
    return wrk.format("GET", nil, {["Cookie"] = cookie})
  end
  return wrk.format("GET")
end
"""
# The report every wrk script of the benches ends with: what the table needs, as one JSON line.
WRK_DONE = r"""
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non2xx": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect, errors.read, errors.write, errors.timeout))
end
"""
WRK_REPORT += WRK_DONE


def ensure_wrk() -> str:
    """The wrk binary; installed from Debian (package ``wrk``) when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if not found:
        sys.exit("需要 wrk：请以 root 运行 apt-get install wrk")
    return found


def bench_environment(database: str, var_dir: Path, conn_max_age: int, cache_url: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DEBUG"}
    env.update(
        {
            "YUEXIU_MODE": "production",
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"{PG_SERVER}/{database}",
            "YUEXIU_VAR_DIR": str(var_dir),
            "DB_CONN_MAX_AGE": str(conn_max_age),
            "CACHE_URL": cache_url,
            "BENCH_BARE_VIEW": "1",
            "YUEXIU_PROJECT_DIR": str(ROOT),  # front-end assets under var/vendor, whichever src/ is served
            "LOG_LEVEL": "ERROR",
        }
    )
    return env


def create_database(database: str, env: dict[str, str], keep: bool) -> None:
    """A database with the demo data, made once and reused with ``--keep-database``."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        fresh = not (exists and keep)
        if exists and fresh:
            connection.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        if fresh:
            connection.execute(f'CREATE DATABASE "{database}"')
    commands = [["migrate", "--no-input", "-v0"], ["setup", "--demo"]] if fresh else [["migrate", "--no-input", "-v0"]]
    for command in [*commands, ["collectstatic", "--no-input", "-v0"]]:  # static files go to this run's var dir
        subprocess.run([str(BIN / "yuexiu"), *command], env=env, check=True, stdout=subprocess.DEVNULL)


def applicant_session(env: dict[str, str], username: str) -> str:
    """A ``Cookie`` header value of a signed-in session for ``username`` (made in the database)."""
    code = (
        "from django.conf import settings; from django.test import Client; from yuexiu.core.models import User; "
        f"c = Client(); c.force_login(User.objects.get(username={username!r})); "
        "print(settings.SESSION_COOKIE_NAME + '=' + c.cookies[settings.SESSION_COOKIE_NAME].value)"
    )
    result = subprocess.run(
        [str(BIN / "yuexiu"), "shell", "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return result.stdout.strip().splitlines()[-1]


def sample_item_slug(env: dict[str, str]) -> str:
    code = (
        "from yuexiu.catalog.models import ServiceItem; "
        "print(ServiceItem.objects.get(seed_key='food-business-licence-new').slug)"
    )
    result = subprocess.run(
        [str(BIN / "yuexiu"), "shell", "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return result.stdout.strip().splitlines()[-1]


def start_gunicorn(env: dict[str, str], port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    """gunicorn on 127.0.0.1:``port``; deploy/gunicorn.conf.py is used when present (its worker count
    is overridden by ``workers`` so that runs compare)."""
    command = [str(BIN / "gunicorn"), "yuexiu.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    config = ROOT / "deploy" / "gunicorn.conf.py"
    if config.exists():
        command += ["--config", str(config)]
    command += ["--workers", str(workers)]
    handle = log.open("wb")
    process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench/bare/", timeout=2) as response:
                if response.status == 200:
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if process.poll() is not None:
            sys.exit(f"gunicorn 启动失败，见 {log}")
        time.sleep(0.2)
    stop(process)
    sys.exit(f"gunicorn 60 秒内未就绪，见 {log}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_wrk(wrk: str, url: str, *, connections: int, duration: int, cookie: str, script: Path) -> dict[str, float]:
    env = {**os.environ, "BENCH_COOKIE": cookie}
    result = subprocess.run(
        [wrk, "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--timeout", "5s", "-s", str(script), url],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    seconds = report["duration_us"] / 1e6
    return {
        "rps": report["requests"] / seconds,
        "p50_ms": report["p50_us"] / 1000,
        "p99_ms": report["p99_us"] / 1000,
        "errors": report["non2xx"] + report["connect"] + report["read"] + report["write"] + report["timeout"],
    }


def warm(url: str, cookie: str) -> None:
    """One request first, so that the measured run finds the page cached as a visitor would."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        if response.status != 200:
            sys.exit(f"{url} 返回 {response.status}")


def print_table(title: str, rows: list[tuple[str, str, dict[str, float]]]) -> None:
    bare = rows[0][2]["rps"]
    print(f"\n{title}")
    print("| page | kind | requests/s | × bare view | p50 ms | p99 ms | errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, kind, figures in rows:
        print(
            f"| {name} | {kind} | {figures['rps']:,.0f} | {figures['rps'] / bare:.2f} | "
            f"{figures['p50_ms']:.1f} | {figures['p99_ms']:.1f} | {figures['errors']:.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per page (default 10)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="runs of the whole table (medians printed)")
    parser.add_argument("--conn-max-age", type=int, default=60, help="DB_CONN_MAX_AGE of the web workers")
    parser.add_argument(
        "--cache-url", default="locmem://", help="CACHE_URL of the web workers (dummy:// = no cache: the state before)"
    )
    parser.add_argument(
        "--source",
        help="another checkout's src/ to serve (PYTHONPATH), e.g. an older commit for a before/after table; "
        "it must route /bench/bare/",
    )
    parser.add_argument("--port", type=int, default=18300)
    parser.add_argument("--database", default="yuexiu_load_bench")
    parser.add_argument("--keep-database", action="store_true", help="reuse the database if it exists")
    arguments = parser.parse_args()

    wrk = ensure_wrk()
    var_dir = Path(tempfile.mkdtemp(prefix="yuexiu-load-bench-"))
    env = bench_environment(arguments.database, var_dir, arguments.conn_max_age, arguments.cache_url)
    if arguments.source:
        env["PYTHONPATH"] = str(Path(arguments.source).resolve())
    create_database(arguments.database, env, arguments.keep_database)
    cookie = applicant_session(env, "citizen_demo")
    slug = sample_item_slug(env)
    script = var_dir / "report.lua"
    script.write_text(WRK_REPORT, encoding="utf-8")
    base = f"http://127.0.0.1:{arguments.port}"
    pages = [
        ("bare view", "baseline", "/bench/bare/", ""),
        ("portal home /", "public", "/", ""),
        ("catalogue home /services/", "public", "/services/", ""),
        ("item page", "public", f"/services/items/{slug}/", ""),
        ("search API", "public", "/api/v1/catalog/items?q=%E9%A3%9F%E5%93%81%E8%AE%B8%E5%8F%AF", ""),
        ("ratings statistics", "public", "/ratings/", ""),
        ("cases API (applicant)", "signed-in", "/api/v1/cases", cookie),
    ]
    process = start_gunicorn(env, arguments.port, arguments.workers, var_dir / "gunicorn.log")
    rounds: list[list[tuple[str, str, dict[str, float]]]] = []
    try:
        for round_number in range(1, arguments.rounds + 1):
            rows = []
            for name, kind, path, page_cookie in pages:
                warm(base + path, page_cookie)
                figures = run_wrk(
                    wrk,
                    base + path,
                    connections=arguments.connections,
                    duration=arguments.duration,
                    cookie=page_cookie,
                    script=script,
                )
                rows.append((name, kind, figures))
            rounds.append(rows)
            print_table(
                f"round {round_number}: {arguments.connections} connections, {arguments.duration} s per page, "
                f"{arguments.workers} gunicorn workers, DB_CONN_MAX_AGE={arguments.conn_max_age}, "
                f"CACHE_URL={arguments.cache_url}",
                rows,
            )
    finally:
        stop(process)
        shutil.rmtree(var_dir, ignore_errors=True)
    if len(rounds) > 1:
        medians = []
        for index, (name, kind, _) in enumerate(rounds[0]):
            figures = {
                key: statistics.median(rows[index][2][key] for rows in rounds)
                for key in ("rps", "p50_ms", "p99_ms", "errors")
            }
            medians.append((name, kind, figures))
        # The ratio column of the medians uses the median bare view; each round's own ratios are above.
        print_table(f"median of {len(rounds)} rounds", medians)


if __name__ == "__main__":
    main()
