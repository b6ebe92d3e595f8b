"""Backups of the whole platform and their restore (``yuexiu backup``, ``yuexiu restore``).

A backup is one folder::

    yuexiu-backup-20261206T093000Z/
      manifest.json        format version, time, platform version and commit, database engine,
                           applied migrations per app, row count of every table, SHA-256 and size
                           of every other file in the folder
      database.dump        PostgreSQL: ``pg_dump --format=custom``
      database.sqlite3     SQLite: a copy made with SQLite's online backup API
      media/…              every file of the default storage (application materials, exports)
      var/policy-runs/…    Parquet snapshots of the policy matching runs
      var/audit-archive/…  audit entries archived by the retention job

The database dump, the row counts and the migration state come from one consistent view of the
database while the platform keeps running (PostgreSQL: a REPEATABLE READ transaction whose snapshot
``pg_dump --snapshot`` shares; SQLite: counts read from the copy). Files are read through Django's
storage API, so media on S3-compatible storage are backed up the same way as a local folder.

``restore_backup`` changes nothing unless every check passes first: the manifest is readable, every
file matches its SHA-256 and size, the engine is the target's, the backup's migrations are known to
this version, the target database holds no table and no file to restore would overwrite a different
one. It then restores the database (``pg_restore --single-transaction``: all or nothing; SQLite: the
file moved into place), the files, and checks the row counts against the manifest.

No credential is written: the database password is passed to pg_dump/pg_restore in their
environment (never on a command line) and is removed from any message they print.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import OperationalError, connection, transaction
from django.db.migrations.loader import MigrationLoader

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
POSTGRES_DUMP_NAME = "database.dump"
SQLITE_COPY_NAME = "database.sqlite3"
# Folders under the var directory that hold data the database refers to (MatchRun.snapshot_sha256)
# or that the law requires to keep (archived audit entries, 《网络安全法》第二十一条).
VAR_FOLDERS = ("policy-runs", "audit-archive")
CHUNK_BYTES = 1024 * 1024

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore refused or failed; ``message`` says why in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FileSource:
    """Where a part of the backup's files comes from: ``prefix`` in the backup folder, the storage
    they are read from and written back to, and the folders of that storage to include (``""``:
    all of it)."""

    prefix: str
    label: str
    storage: Storage
    roots: tuple[str, ...]


def file_sources() -> list[FileSource]:
    """The files a backup holds: the default storage (media) and the snapshots storage's folders
    (Parquet snapshots and archived audit entries): folders under ``YUEXIU_VAR_DIR`` in embedded mode,
    object storage when ``STORAGE_BACKEND=s3``."""
    var_storage = storages["snapshots"]
    return [
        FileSource("media", "上传文件", storages["default"], ("",)),
        FileSource("var", "数据快照与审计归档", var_storage, VAR_FOLDERS),
    ]


def engine_of(database: dict[str, Any]) -> str:
    """``postgresql`` or ``sqlite`` for a Django database settings dict; ``BackupError`` otherwise."""
    engine = database["ENGINE"]
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise BackupError(f"不支持备份该数据库类型：{engine}")


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of the file at ``path``, read in 1 MB chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def human_size(size: int) -> str:
    """``1536`` → ``1.5 KB``."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


# ---- PostgreSQL client programs ------------------------------------------------------------------


def postgres_environment(database: dict[str, Any]) -> dict[str, str]:
    """The libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE …) that
    points pg_dump/pg_restore at ``database`` without putting a password on a command line."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    values = {
        "PGHOST": database.get("HOST") or "",
        "PGPORT": str(database.get("PORT") or ""),
        "PGUSER": database.get("USER") or "",
        "PGPASSWORD": database.get("PASSWORD") or "",
        "PGDATABASE": database.get("NAME") or "",
    }
    options = database.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ):
        if options.get(option):
            values[variable] = str(options[option])
    environment.update({key: value for key, value in values.items() if value})
    return environment


def _without_secret(text: str, database: dict[str, Any]) -> str:
    password = database.get("PASSWORD") or ""
    return text.replace(password, "******") if password else text


def _unreachable(error: OperationalError) -> str:
    return "无法连接数据库：" + _without_secret(str(error).strip(), connection.settings_dict)


def _run_client(command: list[str], database: dict[str, Any], failure: str) -> None:
    """Run a PostgreSQL client program; ``BackupError`` with its (password-free) message if it fails."""
    try:
        result = subprocess.run(  # noqa: S603 - fixed program names, arguments built here
            command, env=postgres_environment(database), capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(
            f"找不到 PostgreSQL 客户端程序 {command[0]}：请安装与数据库服务器同一主版本或更新的 "
            "postgresql-client（Debian：apt-get install postgresql-client）。"
        ) from None
    if result.returncode != 0:
        detail = _without_secret(result.stderr.strip(), database)
        raise BackupError(f"{failure}：{detail}")


# ---- database state ------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _state_of(cursor: Any, tables: list[str]) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Row count of every table (names schema-qualified outside PostgreSQL's ``public``) and the
    applied migrations per app, read through ``cursor``."""
    counts = {}
    for table in sorted(tables):
        quoted = ".".join(_quote(part) for part in table.split(".", 1))
        cursor.execute(f"SELECT COUNT(*) FROM {quoted}")  # noqa: S608 - names from the catalogue
        counts[table] = int(cursor.fetchone()[0])
    migrations: dict[str, list[str]] = {}
    if "django_migrations" in tables:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
        for app, name in cursor.fetchall():
            migrations.setdefault(app, []).append(name)
    return counts, migrations


def _sqlite_tables(sqlite: sqlite3.Connection) -> list[str]:
    rows = sqlite.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [row[0] for row in rows]


def _postgres_tables(cursor: Any) -> list[str]:
    """Every relation outside the system schemas (tables, views, sequences …), schema-qualified
    unless in ``public``."""
    cursor.execute(
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'"
    )
    return [name if schema == "public" else f"{schema}.{name}" for schema, name in cursor.fetchall()]


def _postgres_state(cursor: Any) -> tuple[dict[str, int], dict[str, list[str]]]:
    return _state_of(cursor, _postgres_tables(cursor))


def _dump_database(folder: Path, progress: Progress) -> tuple[str, dict[str, int], dict[str, list[str]], str]:
    """Write the database into ``folder``; returns (file name, row counts, migrations, server version)."""
    database = connection.settings_dict
    engine = engine_of(database)
    if engine == "postgresql":
        progress("正在导出 PostgreSQL 数据库（pg_dump，自定义格式）……")
        target = folder / POSTGRES_DUMP_NAME
        # One snapshot for the counts and the dump: rows written meanwhile are in neither.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            counts, migrations = _postgres_state(cursor)
            _run_client(
                ["pg_dump", "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
                database,
                "导出数据库失败",
            )
        return POSTGRES_DUMP_NAME, counts, migrations, server_version
    progress("正在复制 SQLite 数据库（在线备份，运行中也保持一致）……")
    target = folder / SQLITE_COPY_NAME
    source = sqlite3.connect(database["NAME"], timeout=20)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        counts, migrations = _state_of(copy.cursor(), _sqlite_tables(copy))
        server_version = sqlite3.sqlite_version
    finally:
        copy.close()
        source.close()
    return SQLITE_COPY_NAME, counts, migrations, server_version


# ---- files ---------------------------------------------------------------------------------------


def _walk(storage: Storage, root: str) -> Iterator[str]:
    """Every file name under ``root`` of ``storage`` (``/``-separated), sorted."""
    try:
        folders, files = storage.listdir(root)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield f"{root}/{name}" if root else name
    for folder in sorted(folders):
        yield from _walk(storage, f"{root}/{folder}" if root else folder)


def _copy_out(storage: Storage, name: str, target: Path) -> tuple[str, int]:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with storage.open(name, "rb") as source, target.open("wb") as handle:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            size += len(chunk)
            handle.write(chunk)
    return digest.hexdigest(), size


# ---- platform ------------------------------------------------------------------------------------


def platform_version() -> dict[str, str | None]:
    """The installed package's version and, when the code runs from a git checkout, its commit."""
    try:
        version: str | None = metadata.version("yuexiu")
    except metadata.PackageNotFoundError:
        version = None
    commit = None
    try:
        result = subprocess.run(  # noqa: S603, S607 - fixed command
            ["git", "-C", str(settings.PROJECT_DIR), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
        if result.returncode == 0:
            commit = result.stdout.strip()
    except (FileNotFoundError, subprocess.TimeoutExpired):
        pass
    return {"version": version, "commit": commit}


# ---- backup --------------------------------------------------------------------------------------


def create_backup(output: Path, progress: Progress = lambda _message: None) -> Path:
    """Back the platform up into a new folder under ``output`` (created if missing) and return it.

    The folder is written under a ``.partial`` name and renamed when complete, so a folder without
    that suffix is always a whole backup. Raises ``BackupError`` (Chinese) if the database cannot be
    dumped; the partial folder is then removed."""
    now = datetime.now(UTC)
    output.mkdir(parents=True, exist_ok=True)
    name = f"yuexiu-backup-{now:%Y%m%dT%H%M%SZ}"
    final = output / name
    number = 1
    while final.exists():
        number += 1
        final = output / f"{name}-{number}"
    partial = final.with_name(final.name + ".partial")
    partial.mkdir(mode=0o700)  # personal data: readable by the operator only
    try:
        try:
            database_file, counts, migrations, server_version = _dump_database(partial, progress)
        except OperationalError as error:
            raise BackupError(_unreachable(error)) from None
        sha, size = file_digest(partial / database_file)
        files = [{"path": database_file, "sha256": sha, "size": size}]
        progress(f"数据库已导出：{human_size(size)}，{len(counts)} 张表，共 {sum(counts.values())} 行。")
        for source in file_sources():
            count = total = 0
            progress(f"正在复制{source.label}……")
            for root in source.roots:
                for stored in _walk(source.storage, root):
                    relative = f"{source.prefix}/{stored}"
                    sha, size = _copy_out(source.storage, stored, partial / relative)
                    files.append({"path": relative, "sha256": sha, "size": size})
                    count += 1
                    total += size
            progress(f"已复制{source.label} {count} 个（{human_size(total)}）。")
        manifest = {
            "format_version": FORMAT_VERSION,
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "platform": platform_version(),
            "database": {"engine": engine_of(connection.settings_dict), "server_version": server_version},
            "migrations": migrations,
            "row_counts": counts,
            "files": files,
        }
        (partial / MANIFEST_NAME).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    total = sum(entry["size"] for entry in files)
    progress(f"备份完成：{final}（{len(files)} 个文件，共 {human_size(total)}）。")
    return final


# ---- restore -------------------------------------------------------------------------------------


def read_manifest(folder: Path) -> dict[str, Any]:
    """The backup's manifest; ``BackupError`` if the folder is not a backup of a known format."""
    path = folder / MANIFEST_NAME
    if not folder.is_dir():
        raise BackupError(f"备份目录 {folder} 不存在。")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} 中没有 {MANIFEST_NAME}：这不是完整的备份目录。") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupError(f"{path} 已损坏，无法读取。") from None
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"备份格式版本不受支持（{manifest.get('format_version') if isinstance(manifest, dict) else '?'}），"
            f"本版本只能恢复第 {FORMAT_VERSION} 版格式。"
        )
    return manifest


def verify_files(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Chinese problems with the backup's files: each missing file, each wrong size or SHA-256, each
    path leaving the folder. Empty when every file is as the manifest says."""
    problems = []
    root = folder.resolve()
    for entry in manifest.get("files", []):
        path = (folder / entry["path"]).resolve()
        if not path.is_relative_to(root) or entry["path"] == MANIFEST_NAME:
            problems.append(f"清单中的路径无效：{entry['path']}")
            continue
        if not path.is_file():
            problems.append(f"缺少文件：{entry['path']}")
            continue
        sha, size = file_digest(path)
        if size != entry["size"] or sha != entry["sha256"]:
            problems.append(f"文件内容与清单不符（SHA-256 校验失败）：{entry['path']}")
    return problems


def target_tables() -> list[str]:
    """The tables of the configured database (empty for a new database or a missing SQLite file)."""
    database = connection.settings_dict
    if engine_of(database) == "sqlite":
        path = Path(database["NAME"])
        if not path.exists() or path.stat().st_size == 0:
            return []
        sqlite = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return _sqlite_tables(sqlite)
        finally:
            sqlite.close()
    with connection.cursor() as cursor:
        return _postgres_tables(cursor)


def _unknown_migrations(manifest: dict[str, Any]) -> list[str]:
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    return [
        f"{app}.{name}"
        for app, names in manifest.get("migrations", {}).items()
        for name in names
        if (app, name) not in known
    ]


def _conflicting_files(manifest: dict[str, Any], folder: Path) -> list[str]:
    sources = {source.prefix: source for source in file_sources()}
    conflicts = []
    for entry in manifest.get("files", []):
        prefix, _, stored = entry["path"].partition("/")
        if prefix not in sources or not stored:
            continue
        storage = sources[prefix].storage
        if storage.exists(stored):
            with storage.open(stored, "rb") as handle:
                digest = hashlib.sha256()
                while chunk := handle.read(CHUNK_BYTES):
                    digest.update(chunk)
            if digest.hexdigest() != entry["sha256"]:
                conflicts.append(entry["path"])
    return conflicts


def check_restorable(folder: Path) -> dict[str, Any]:
    """Every check ``restore_backup`` makes before changing anything; returns the manifest or raises
    ``BackupError`` naming each problem (engine, files, migrations, target not empty, file conflicts)."""
    manifest = read_manifest(folder)
    target_engine = engine_of(connection.settings_dict)
    backup_engine = manifest.get("database", {}).get("engine")
    if backup_engine != target_engine:
        raise BackupError(
            f"数据库类型不一致：备份来自 {backup_engine}，目标数据库是 {target_engine}。请恢复到同类型的数据库。"
        )
    problems = verify_files(folder, manifest)
    if problems:
        raise BackupError("备份文件校验失败，未做任何更改：" + "；".join(problems))
    unknown = _unknown_migrations(manifest)
    if unknown:
        raise BackupError(
            "备份来自更新版本的平台（本版本不认识其数据库迁移："
            + "、".join(unknown[:5])
            + ("等" if len(unknown) > 5 else "")
            + "）。请先升级平台再恢复。"
        )
    tables = target_tables()
    if tables:
        raise BackupError(
            f"目标数据库不是空的（已有 {len(tables)} 张表，如 {sorted(tables)[0]}），未做任何更改。"
            "恢复只能写入新建的空数据库：PostgreSQL 请先 createdb 新库，SQLite 请指向一个尚不存在的文件。"
        )
    conflicts = _conflicting_files(manifest, folder)
    if conflicts:
        raise BackupError(
            f"目标存储中已有 {len(conflicts)} 个同名但内容不同的文件（如 {conflicts[0]}），未做任何更改。"
            "请恢复到空的文件存储。"
        )
    return manifest


def _restore_database(folder: Path, manifest: dict[str, Any], progress: Progress) -> None:
    database = connection.settings_dict
    if engine_of(database) == "postgresql":
        progress("正在恢复 PostgreSQL 数据库（pg_restore，单一事务：失败则不留任何数据）……")
        _run_client(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={database['NAME']}",
                str(folder / POSTGRES_DUMP_NAME),
            ],
            database,
            "恢复数据库失败（已回滚，数据库保持为空）",
        )
        return
    progress("正在恢复 SQLite 数据库文件……")
    connection.close()
    target = Path(database["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(folder / SQLITE_COPY_NAME, temporary)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(temporary, target)


def _restore_files(folder: Path, manifest: dict[str, Any], progress: Progress) -> None:
    sources = {source.prefix: source for source in file_sources()}
    restored: dict[str, list[int]] = {}
    for entry in manifest.get("files", []):
        prefix, _, stored = entry["path"].partition("/")
        if prefix not in sources or not stored:
            continue
        storage = sources[prefix].storage
        if storage.exists(stored):
            continue  # the same content (checked before anything changed)
        with (folder / entry["path"]).open("rb") as handle:
            saved = storage.save(stored, File(handle))
        if saved != stored:
            raise BackupError(f"文件恢复后名称改变（{stored} → {saved}），请检查存储配置。")
        tally = restored.setdefault(prefix, [0, 0])
        tally[0] += 1
        tally[1] += entry["size"]
    for source in sources.values():
        count, size = restored.get(source.prefix, [0, 0])
        progress(f"已恢复{source.label} {count} 个（{human_size(size)}）。")


def check_restored(manifest: dict[str, Any]) -> list[str]:
    """Chinese differences between the restored database and the manifest (row count of every
    table, applied migrations). Empty when they agree."""
    connection.close()
    database = connection.settings_dict
    if engine_of(database) == "sqlite":
        sqlite = sqlite3.connect(f"file:{database['NAME']}?mode=ro", uri=True)
        try:
            counts, migrations = _state_of(sqlite.cursor(), _sqlite_tables(sqlite))
        finally:
            sqlite.close()
    else:
        with connection.cursor() as cursor:
            counts, migrations = _postgres_state(cursor)
    problems = []
    expected = manifest.get("row_counts", {})
    for table in sorted(set(expected) | set(counts)):
        if expected.get(table) != counts.get(table):
            problems.append(f"表 {table}：备份 {expected.get(table, '无')} 行，恢复后 {counts.get(table, '无')} 行")
    if migrations != manifest.get("migrations", {}):
        problems.append("已应用的数据库迁移与备份不一致")
    return problems


def restore_backup(folder: Path, progress: Progress = lambda _message: None) -> dict[str, Any]:
    """Restore the backup in ``folder`` into the configured (empty) database and storages; returns
    the manifest. Refuses with ``BackupError`` and changes nothing if a check of ``check_restorable``
    fails; raises ``BackupError`` after restoring if the row counts differ from the manifest."""
    folder = Path(folder)
    progress(f"正在校验备份 {folder} ……")
    try:
        manifest = check_restorable(folder)
    except OperationalError as error:
        raise BackupError(_unreachable(error)) from None
    counted = sum(manifest.get("row_counts", {}).values())
    progress(
        f"校验通过：{len(manifest.get('files', []))} 个文件的 SHA-256 一致；备份时间 {manifest.get('created_at')}，"
        f"{len(manifest.get('row_counts', {}))} 张表共 {counted} 行。"
    )
    _restore_database(folder, manifest, progress)
    _restore_files(folder, manifest, progress)
    progress("正在核对各表行数……")
    problems = check_restored(manifest)
    if problems:
        raise BackupError("恢复后的数据与备份清单不符：" + "；".join(problems))
    progress(f"恢复完成：{len(manifest.get('row_counts', {}))} 张表的行数与备份清单一致。")
    return manifest
