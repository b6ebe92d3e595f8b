"""Fixtures of the production-mode test: a fresh PostgreSQL database, the platform installed on it in
production mode, gunicorn with two workers, two job workers, and HTTP sessions.

To add a step (a backup and restore, S3 storage through a local stand-in) give ``platform_environment``
the variables, or add a fixture between ``installed_platform`` and ``web``. Every process is stopped by
a finalizer, also when a test fails; waits are bounded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.production.harness import (
    BIN,
    PROJECT_DIR,
    Database,
    Process,
    WebSession,
    create_database,
    drop_database,
    free_port,
    gunicorn_command,
    job_worker_command,
    production_environment,
    run_command,
    start_process,
    wait_until,
)

SYNTHETIC_ENTERPRISES = 20_000  # enough for a matching run of several seconds
# Short enough for the test, in the order the settings require (lease < timeout < retry): a killed
# worker's task is handed out again 25 seconds after it was taken.
JOB_TIMINGS = {"WORKER_TASK_TIMEOUT": "20", "WORKER_RETRY_SECONDS": "25", "JOB_LEASE_SECONDS": "3"}


@pytest.fixture(scope="session")
def database() -> Iterator[Database]:
    base = os.environ.get("DATABASE_URL", "")
    assert base.startswith(("postgres://", "postgresql://")), (
        "生产模式测试须在 PostgreSQL 上运行：DATABASE_URL=postgres://…（make test-production）"
    )
    made = create_database(base, "production")
    yield made
    drop_database(made)


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("production-var")


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("production-logs")


def s3_bucket(endpoint: str, name: str) -> dict[str, str]:
    """A new bucket of the S3 stand-in and the variables that put the platform's files in it."""
    import boto3

    credentials = {"S3_ACCESS_KEY_ID": "production-test", "S3_SECRET_ACCESS_KEY": "production-test-secret"}
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=credentials["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["S3_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    ).create_bucket(Bucket=name)
    return {
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": endpoint,
        "S3_BUCKET": name,
        "S3_REGION": "us-east-1",
        **credentials,
    }


@pytest.fixture(scope="session")
def platform_environment(database: Database, var_dir: Path, moto_server: str) -> dict[str, str]:
    """Production settings with case materials and Parquet snapshots in S3-compatible object storage
    (moto's server on 127.0.0.1 stands in for the 政务云's)."""
    return production_environment(database, var_dir, **JOB_TIMINGS, **s3_bucket(moto_server, "yuexiu-production"))


@pytest.fixture(scope="session")
def installed_platform(platform_environment: dict[str, str], database: Database) -> dict[str, str]:
    """`yuexiu migrate`, `yuexiu setup` (reference data and schedules), the demo accounts, the static
    files, synthetic enterprises and a rule file whose items the synthetic registry meets
    (tests/policies/rules: the demo's own documents wait for officers to record their validity)."""
    yuexiu = str(BIN / "yuexiu")
    rules = PROJECT_DIR / "tests" / "policies" / "rules"
    accounts_and_rules = (
        "from pathlib import Path; from yuexiu.core import demo; from yuexiu.policies import services; "
        f"demo.ensure_demo_accounts(); services.load_policy_library(Path({str(rules)!r}))"
    )

    def reference_data_accounts_and_rules() -> None:
        run_command([yuexiu, "setup"], platform_environment)
        run_command([yuexiu, "shell", "-c", accounts_and_rules], platform_environment)

    # Independent steps side by side: the static files need no database; the registry needs only tables.
    with ThreadPoolExecutor(max_workers=3) as steps:
        static = steps.submit(run_command, [yuexiu, "collectstatic", "--no-input", "-v0"], platform_environment)
        run_command([yuexiu, "migrate", "--no-input", "-v0"], platform_environment)
        registry = steps.submit(
            run_command, [yuexiu, "policies", "generate", str(SYNTHETIC_ENTERPRISES)], platform_environment
        )
        setup = steps.submit(reference_data_accounts_and_rules)
        for step in (static, registry, setup):
            step.result(timeout=600)
    assert database.value("SELECT count(*) FROM policies_enterprise") == SYNTHETIC_ENTERPRISES
    return platform_environment


@pytest.fixture(scope="session")
def processes() -> Iterator[list[Process]]:
    """Every process the test starts; each is stopped at the end, whatever happened."""
    started: list[Process] = []
    yield started
    with ThreadPoolExecutor(max_workers=max(len(started), 1)) as stopping:  # side by side, each bounded
        list(stopping.map(lambda process: process.stop(timeout=30), started))
    for process in started:
        assert not process.alive(), f"{process.name} 未能停止"


@pytest.fixture(scope="session")
def web(
    installed_platform: dict[str, str], database: Database, processes: list[Process], log_dir: Path
) -> Callable[[], WebSession]:
    """gunicorn with two workers on a free port of the harness's range; returns a maker of sessions."""
    port = free_port()
    # As yuexiu-web.service sets it: gunicorn's workers add up their metrics in this folder.
    metrics = Path(installed_platform["YUEXIU_VAR_DIR"]) / "metrics"
    metrics.mkdir(exist_ok=True)
    environment = {
        **installed_platform,
        "DATABASE_URL": database.url_for("yuexiu-web"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }
    process = start_process("gunicorn", gunicorn_command(port, workers=2), environment, log_dir)
    processes.append(process)
    base_url = f"http://127.0.0.1:{port}"

    def serving() -> bool:
        assert process.alive(), process.output()
        try:
            return WebSession(base_url).get("/").status_code == 200
        except OSError:
            return False

    wait_until(serving, timeout=60, what="gunicorn 开始服务")
    return lambda: WebSession(base_url)


class JobWorkers:
    """The job workers (`yuexiu qcluster`), started and killed by the test."""

    def __init__(self, environment: dict[str, str], processes: list[Process], log_dir: Path) -> None:
        worker_url = environment["DATABASE_URL"] + "?application_name=yuexiu-worker"
        self.environment = {**environment, "DATABASE_URL": worker_url}
        self.processes = processes
        self.log_dir = log_dir
        self.running: list[Process] = []
        self.started = 0

    def start(self) -> Process:
        self.started += 1
        process = start_process(f"qcluster-{self.started}", job_worker_command(), self.environment, self.log_dir)
        self.processes.append(process)
        self.running.append(process)
        wait_until(lambda: "后台任务进程已启动" in process.output(), timeout=60, what=f"{process.name} 启动")
        return process

    def holding(self, pid: int) -> Process:
        """The job worker one of whose processes is ``pid``."""
        [owner] = [process for process in self.running if process.owns(pid)]
        return owner

    def kill(self, process: Process) -> None:
        process.kill()
        self.running.remove(process)


@pytest.fixture(scope="session")
def job_workers(installed_platform: dict[str, str], processes: list[Process], log_dir: Path) -> JobWorkers:
    workers = JobWorkers(installed_platform, processes, log_dir)
    workers.start()
    workers.start()
    return workers
