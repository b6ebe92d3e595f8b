"""``yuexiu backup`` and ``yuexiu restore``: a platform with cases, files, ratings, a paid policy benefit
and its audit trail is backed up while it runs, restored into a new empty database (a new PostgreSQL
database or a new SQLite file) and new storage by the command an operator runs, and the restored
platform holds the same rows, in the same order, and the same files. A tampered file, a target that is
not empty and a backup of the other engine are refused with nothing changed.

The restore runs as a separate process (``python -m yuexiu.cli restore``) against the new database, as
in docs/operations.md; the backup runs in the test's process against the test database.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from tests.helpers import at, food_licence_uploads
from yuexiu.cases import services as case_services
from yuexiu.catalog.models import ServiceItem
from yuexiu.core import audit
from yuexiu.core.backup import postgres_environment
from yuexiu.policies import services as policy_services
from yuexiu.policies.models import Candidate, Enterprise, MatchRun
from yuexiu.ratings import services as rating_services

pytestmark = pytest.mark.django_db(transaction=True)

RULES = Path(__file__).parent / "policies" / "rules"
DEMO_USCC = "91440104MA5CYX1KXU"
# Sent in the restore's DATABASE_URL on PostgreSQL (trust authentication ignores it): it must appear
# in no output and no file of the backup.
PASSWORD = "backup-test-secret-Zq9"
# What the comparison reads, table by table, every column, in id order.
COMPARED_TABLES = (
    "cases_case",
    "cases_caseevent",
    "cases_attachment",
    "ratings_rating",
    "policies_matchrun",
    "policies_candidate",
    "policies_fundpool",
    "policies_disbursement",
    "core_auditevent",
)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _url(name: str, *, password: str = "") -> str:
    """A DATABASE_URL for database ``name`` on the test's server (SQLite: ``name`` is a file path)."""
    database = connection.settings_dict
    if not _postgres():
        return f"sqlite:///{name}"
    user = quote(database["USER"] or "")
    secret = password or database["PASSWORD"] or ""
    credentials = user + (f":{quote(secret)}" if secret else "")
    return f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{name}"


def _query(name: str, query: str) -> list[tuple[Any, ...]]:
    """The rows ``query`` returns from database ``name``, read with the driver alone."""
    if _postgres():
        with psycopg.connect(_url(name)) as database:
            return database.execute(query).fetchall()
    database = sqlite3.connect(f"file:{name}?mode=ro", uri=True)
    try:
        return database.execute(query).fetchall()
    finally:
        database.close()


def _rows(name: str, table: str) -> list[tuple[Any, ...]]:
    """Every row of ``table`` in database ``name``, every column, in id order."""
    return _query(name, f"SELECT * FROM {table} ORDER BY id")  # noqa: S608 - fixed table names


def _tables(name: str) -> list[str]:
    if _postgres():
        rows = _query(name, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    elif not Path(name).exists():
        return []
    else:
        rows = _query(name, "SELECT name FROM sqlite_master WHERE type = 'table'")
    return sorted(row[0] for row in rows)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def folders(settings, tmp_path: Path) -> dict[str, Path]:
    """The running platform's media and var folders, and where the restored platform's go."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.VAR_DIR = tmp_path / "var"
    return {"media": tmp_path / "media", "var": tmp_path / "var", "restored": tmp_path / "restored-var"}


@pytest.fixture
def target(tmp_path: Path) -> Iterator[str]:
    """A new, empty database: on PostgreSQL a new database beside the test database, dropped at the
    end; on SQLite a file that does not exist yet."""
    if not _postgres():
        yield str(tmp_path / "restored.sqlite3")
        return
    name = f"{connection.settings_dict['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def platform(catalogue, folders) -> dict[str, Any]:
    """A platform in use: a food licence finished, rated 不满意 (its rectification opened) and one
    still open with its files; a matching run whose Parquet snapshot is on disk; a 免申即享 benefit
    reviewed, published, confirmed and paid; an archived audit file; the audit trail of all of it."""
    rating_services.load_question_sets()
    food = ServiceItem.objects.get(seed_key="food-business-licence-new")
    enterprise, window = catalogue["enterprise_demo"], catalogue["window_centre"]
    with time_machine.travel(at("2026-03-02T10:00"), tick=False):
        finished = case_services.submit_application(
            item=food, applicant=enterprise, idempotency_key="b1", form_data={}, uploads=food_licence_uploads()
        )
        finished = case_services.accept_case(case=finished, actor=window)
        finished = case_services.approve_case(case=finished, actor=catalogue["approver_scj"])
        finished = case_services.deliver_result(case=finished, actor=window, method="electronic")
        finished = case_services.close_case(case=finished, actor=window)
        rating = rating_services.rate_case(case=finished, channel="qr", level=2, comment="窗口等候时间太长")
        waiting = case_services.submit_application(
            item=food,
            applicant=enterprise,
            idempotency_key="b2",
            form_data={},
            uploads=food_licence_uploads(b"%PDF-1.7\nsecond application"),
            confirm_repeat=True,
        )
    policy_services.load_policy_library(RULES)
    Enterprise.objects.create(
        uscc=DEMO_USCC, name="示范科技有限公司", district="越秀区", credit_status="良好", rd_expense=Decimal("1200000")
    )
    officer = catalogue["policy_kgsxj"]
    run = policy_services.execute_run(
        MatchRun.objects.create(period=2026, as_of=date(2026, 3, 2), started_by=officer).pk
    )
    assert run.status == "done", run.error
    candidate = Candidate.objects.get(enterprise__uscc=DEMO_USCC)
    policy_services.review(candidate_id=candidate.pk, user=officer, approve=True, note="数据核实无误")
    publicity = policy_services.publish(item_id=candidate.item_id, user=officer, now=at("2026-03-02T10:00"))
    policy_services.confirm_account(
        candidate_id=candidate.pk,
        user=enterprise,
        bank_name="中国工商银行广州越秀支行",
        account_holder="示范科技有限公司",
        bank_account="3602000109200123456",
    )
    policy_services.close_publicity(publicity_id=publicity.pk, user=officer, now=at("2026-03-09T09:00"))
    policy_services.order_disbursement(candidate_id=candidate.pk, user=officer)
    policy_services.record_payment(candidate_id=candidate.pk, user=officer, reference_no="GK2026030900001")
    audit.record_event(action="auth.login", actor=catalogue["auditadmin"], message="审计管理员登录")
    archive = folders["var"] / "audit-archive" / "audit-before-20250601-20251202100000.jsonl.gz"
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"\x1f\x8b archived entries")
    return {"finished": finished, "waiting": waiting, "rating": rating, "run": run, "candidate": candidate}


def _restore(folder: Path, database: str, var_dir: Path, *, password: str = "") -> subprocess.CompletedProcess[str]:
    """``yuexiu restore folder`` in a new process against ``database`` with its own var folder."""
    environment = {
        **os.environ,
        "DATABASE_URL": _url(database, password=password),
        "YUEXIU_VAR_DIR": str(var_dir),
        "PYTHONUNBUFFERED": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "yuexiu.cli", "restore", str(folder)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _backup(tmp_path: Path) -> tuple[Path, str]:
    output = io.StringIO()
    call_command("backup", output=str(tmp_path / "backups"), stdout=output)
    (folder,) = (tmp_path / "backups").iterdir()
    return folder, output.getvalue()


def test_a_restored_backup_holds_the_same_cases_ratings_payments_audit_trail_and_files(
    platform, folders, target, tmp_path
):
    source = connection.settings_dict["NAME"]
    folder, printed = _backup(tmp_path)
    assert folder.name.startswith("yuexiu-backup-20261202T02")  # the frozen clock (ticking), in UTC
    assert folder.stat().st_mode & 0o777 == 0o700  # personal data: the operator's only
    assert "正在复制上传文件" in printed and f"备份完成：{folder}" in printed

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    engine = "postgresql" if _postgres() else "sqlite"
    assert manifest["format_version"] == 1 and manifest["created_at"].startswith("2026-12-02T02:")
    assert manifest["database"]["engine"] == engine and set(manifest["database"]) == {"engine", "server_version"}
    assert manifest["platform"]["version"] == "0.1.0"
    assert manifest["migrations"]["core"][:2] == ["0001_initial", "0002_audit_log_append_only"]
    assert manifest["row_counts"]["cases_case"] == 2
    assert manifest["row_counts"]["policies_disbursement"] == 1
    assert manifest["row_counts"]["core_auditevent"] == len(_rows(source, "core_auditevent"))
    listed = {entry["path"]: entry for entry in manifest["files"]}
    attachments = _rows(source, "cases_attachment")
    digests = {row[0] for row in _query(source, "SELECT sha256 FROM cases_attachment")}
    stored = sorted(f"media/{path}" for path in _files(folders["media"]))
    assert len(stored) == len(attachments) == 4
    parquet = f"var/policy-runs/{platform['run'].pk}/attempt-1/enterprises.parquet"
    assert parquet in listed and listed[parquet]["sha256"] == platform["run"].snapshot_sha256
    assert "var/audit-archive/audit-before-20250601-20251202100000.jsonl.gz" in listed
    assert sorted(listed) == sorted(
        ["database.dump" if _postgres() else "database.sqlite3", *stored]
        + [f"var/{path}" for path in _files(folders["var"])]
    )
    for path, entry in listed.items():
        assert (entry["sha256"], entry["size"]) == (_sha256(folder / path), (folder / path).stat().st_size)

    restored = _restore(folder, target, folders["restored"], password=PASSWORD if _postgres() else "")
    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.splitlines()[-1] == (f"恢复完成：{len(manifest['row_counts'])} 张表的行数与备份清单一致。")
    assert "SHA-256 一致" in restored.stdout
    for text in (restored.stdout, restored.stderr, *(p.read_text("latin-1") for p in folder.rglob("*") if p.is_file())):
        assert PASSWORD not in text

    # The same rows, every column, in the same order.
    for table in COMPARED_TABLES:
        assert _rows(target, table) == _rows(source, table), table
    assert _tables(target) == _tables(source)
    # … and the values that matter, read from the restored database.
    cases = _query(target, "SELECT number, status FROM cases_case ORDER BY id")
    ratings = _query(target, "SELECT level, comment FROM ratings_rating")
    payments = _query(target, "SELECT amount_fen, payment_reference FROM policies_disbursement")
    last_event = _query(target, "SELECT action, message FROM core_auditevent ORDER BY id DESC")[0]
    assert cases == [(platform["finished"].number, "closed"), (platform["waiting"].number, "submitted")]
    assert ratings == [(2, "窗口等候时间太长")]
    assert payments == [(12000000, "GK2026030900001")]
    assert last_event == ("auth.login", "审计管理员登录")
    # The same files: each attachment's content matches the SHA-256 its row recorded, and the run's
    # Parquet snapshot the digest the run recorded.
    restored_media = folders["restored"] / "media"
    assert _files(restored_media) == _files(folders["media"])
    for path in _files(restored_media):
        assert _sha256(restored_media / path) == _sha256(folders["media"] / path)
    assert {_sha256(restored_media / path) for path in _files(restored_media)} == digests
    snapshot = folders["restored"] / platform["run"].snapshot_path
    assert _sha256(snapshot) == platform["run"].snapshot_sha256
    assert _files(folders["restored"] / "audit-archive") == ["audit-before-20250601-20251202100000.jsonl.gz"]

    # The audit trail is still a verifiable SM3 hash chain, entry for entry: `yuexiu audit verify` on
    # the restored database finds every entry linked and unchanged, and the chain's head is the
    # source's (entries queued but not yet linked at backup time are linked first, as the runbook says).
    restored_env = {**os.environ, "DATABASE_URL": _url(target), "YUEXIU_VAR_DIR": str(folders["restored"])}
    for command in (["audit", "link"], ["audit", "verify"]):
        done = subprocess.run(
            [sys.executable, "-m", "yuexiu.cli", *command],
            env=restored_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    links = "SELECT seq, event_id, content_digest, chain_digest FROM core_auditchainlink ORDER BY seq"
    source_links = _query(source, links)
    assert source_links and _query(target, links)[: len(source_links)] == source_links
    assert "结论：哈希链完整，未发现改动、删除或调换的条目。" in done.stdout, done.stdout


def _nothing_restored(target: str, var_dir: Path) -> None:
    assert _tables(target) == []
    assert _files(var_dir / "media") == [] and _files(var_dir / "policy-runs") == []


def test_a_backup_with_a_changed_file_is_refused_and_nothing_is_restored(platform, folders, target, tmp_path):
    folder, _ = _backup(tmp_path)
    attachment = sorted((folder / "media").rglob("*.pdf"))[0]
    attachment.write_bytes(attachment.read_bytes() + b"x")
    restored = _restore(folder, target, folders["restored"])
    assert restored.returncode == 1
    name = attachment.relative_to(folder)
    assert f"备份文件校验失败，未做任何更改：文件内容与清单不符（SHA-256 校验失败）：{name}" in restored.stderr
    _nothing_restored(target, folders["restored"])


def test_a_missing_file_is_refused_and_nothing_is_restored(platform, folders, target, tmp_path):
    folder, _ = _backup(tmp_path)
    (folder / f"var/policy-runs/{platform['run'].pk}/attempt-1/enterprises.parquet").unlink()
    restored = _restore(folder, target, folders["restored"])
    assert restored.returncode == 1
    assert f"缺少文件：var/policy-runs/{platform['run'].pk}/attempt-1/enterprises.parquet" in restored.stderr
    _nothing_restored(target, folders["restored"])


def test_a_database_that_is_not_empty_is_refused_and_left_as_it_was(platform, folders, tmp_path):
    source = connection.settings_dict["NAME"]
    folder, _ = _backup(tmp_path)
    before = {table: _rows(source, table) for table in COMPARED_TABLES}
    restored = _restore(folder, source, folders["restored"])
    assert restored.returncode == 1
    assert "目标数据库不是空的" in restored.stderr and "未做任何更改" in restored.stderr
    assert {table: _rows(source, table) for table in COMPARED_TABLES} == before
    assert _files(folders["restored"] / "media") == []


def test_a_backup_of_the_other_database_engine_is_refused(platform, folders, target, tmp_path):
    folder, _ = _backup(tmp_path)
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    other = "sqlite" if _postgres() else "postgresql"
    manifest["database"]["engine"] = other
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    restored = _restore(folder, target, folders["restored"])
    assert restored.returncode == 1
    mine = "postgresql" if _postgres() else "sqlite"
    assert f"数据库类型不一致：备份来自 {other}，目标数据库是 {mine}。" in restored.stderr
    _nothing_restored(target, folders["restored"])


def test_a_folder_without_a_manifest_is_not_a_backup(folders, target, tmp_path):
    (tmp_path / "empty").mkdir()
    restored = _restore(tmp_path / "empty", target, folders["restored"])
    assert restored.returncode == 1
    assert f"{tmp_path / 'empty'} 中没有 manifest.json：这不是完整的备份目录。" in restored.stderr


def test_the_database_password_reaches_pg_dump_only_through_its_environment() -> None:
    database = {"HOST": "db.internal", "PORT": 5433, "USER": "yuexiu", "PASSWORD": PASSWORD, "NAME": "yuexiu"}
    database["OPTIONS"] = {"sslmode": "verify-full"}
    environment = postgres_environment(database)
    assert {key: environment[key] for key in environment if key.startswith("PG")} == {
        "PGHOST": "db.internal",
        "PGPORT": "5433",
        "PGUSER": "yuexiu",
        "PGPASSWORD": PASSWORD,
        "PGDATABASE": "yuexiu",
        "PGSSLMODE": "verify-full",
    }


def test_a_failed_dump_says_why_without_the_password(tmp_path):
    """pg_dump against a server that does not answer: a Chinese error, exit 1, no password shown,
    and no backup folder left behind (only complete backups carry the final name)."""
    environment = {
        **os.environ,
        # Nothing listens on port 1.
        "DATABASE_URL": f"postgres://yuexiu:{PASSWORD}@127.0.0.1:1/yuexiu",
        "YUEXIU_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "yuexiu.cli", "backup", "--output", str(tmp_path / "backups")],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert PASSWORD not in result.stdout + result.stderr
    assert "127.0.0.1" in result.stderr
    assert list((tmp_path / "backups").iterdir()) == []
