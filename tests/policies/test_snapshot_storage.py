"""A matching run's Parquet snapshot in the "snapshots" storage: S3-compatible object storage in
production (moto's server on 127.0.0.1 here), read back for DuckDB through a local copy; a store
refusing it fails the run before any candidate is written."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import boto3
import duckdb
import pytest
from django.conf import settings as django_settings

from tests.policies.test_loop import RULES, _enterprise
from yuexiu.core import files
from yuexiu.core.models import OutboxMessage
from yuexiu.policies import services
from yuexiu.policies.models import Candidate, MatchRun


@pytest.fixture
def registry(cast):
    services.load_policy_library(RULES)
    _enterprise("91440104MA5CYX1KXU", "示范科技有限公司", "1200000.00")
    _enterprise("91440104MA5D00002A", "大额研发有限公司", "3000000.00")
    _enterprise("91440104MA5D00003X", "临界有限公司", "1000000.00")
    return cast


def _s3(moto_server):
    return boto3.client(
        "s3",
        endpoint_url=moto_server,
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
        region_name="us-east-1",
    )


def _run(user) -> MatchRun:
    run = MatchRun.objects.create(period=2026, as_of=date(2026, 3, 2), started_by=user)
    return services.execute_run(run.pk)


def test_a_run_keeps_its_snapshot_in_object_storage_and_duckdb_reads_a_local_copy(
    registry, object_storage, moto_server, tmp_path
):
    run = _run(registry["policy_kgsxj"])
    assert run.status == "done", run.error
    assert run.candidates == 2
    name = f"policy-runs/{run.pk}/attempt-1/enterprises.parquet"
    assert run.snapshot_path == name
    stored = _s3(moto_server).get_object(Bucket=object_storage, Key=f"snapshots/{name}")["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == run.snapshot_sha256
    # the worker's working folder is gone: the object store holds the snapshot
    assert not (Path(django_settings.VAR_DIR) / "policy-runs" / str(run.pk)).exists()
    local = files.local_snapshot(run.snapshot_path, tmp_path / "cache")
    assert local == tmp_path / "cache" / name
    assert duckdb.sql(f"SELECT count(*) FROM read_parquet('{local}')").fetchall() == [(3,)]


def test_an_object_store_refusing_the_snapshot_fails_the_run_before_any_candidate(
    registry, object_storage, moto_server
):
    _s3(moto_server).delete_bucket(Bucket=object_storage)
    run = _run(registry["policy_kgsxj"])
    assert run.status == "failed"
    assert run.error == files.SNAPSHOT_UNAVAILABLE_MESSAGE
    assert run.snapshot_path == "" and run.candidates == 0
    assert Candidate.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_in_the_embedded_mode_the_snapshot_stays_where_the_run_wrote_it(registry):
    run = _run(registry["policy_kgsxj"])
    local = Path(django_settings.VAR_DIR) / "policy-runs" / str(run.pk) / "attempt-1" / "enterprises.parquet"
    assert files.local_snapshot(run.snapshot_path, Path("/nonexistent")) == local
    assert hashlib.sha256(local.read_bytes()).hexdigest() == run.snapshot_sha256
