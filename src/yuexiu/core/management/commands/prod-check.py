"""``yuexiu prod-check`` (``make prod-check``): is this environment fit to serve in production?

Prints one line per check, ✓ or ✗ with the reason in Chinese, and exits with status 1 when any
check fails (0 otherwise). It never prints a secret's value. Settings so unsafe that Django refuses to
start in production are reported by ``yuexiu.cli`` in the same form (the command cannot load them).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from yuexiu.core.files import SNAPSHOTS, StorageFailure, probe

STATIC_MANIFEST = "staticfiles.json"
VENDOR_ASSETS = ("htmx.min.js", "echarts.min.js")


class CheckFailed(Exception):
    """A failed check; ``str()`` is the Chinese reason."""


def check_mode() -> str:
    if os.environ.get("YUEXIU_MODE", "embedded") != "production":
        raise CheckFailed("YUEXIU_MODE 不是 production（以下检查按生产要求进行）")
    return "YUEXIU_MODE=production"


def check_settings() -> str:
    from yuexiu import settings as platform_settings

    problems = platform_settings.unsafe_production_settings()
    if problems:
        raise CheckFailed("；".join(problems))
    return "密钥、DEBUG、ALLOWED_HOSTS、数据库、日志留存与文件存储配置符合生产要求"


def required_secrets() -> list[str]:
    """Environment variables that must hold a secret in production (names only)."""
    names = ["SECRET_KEY", "DATABASE_URL", "DATA_ENCRYPTION_KEYS", "DATA_DIGEST_KEY"]
    if settings.STORAGE_BACKEND == "s3":
        names += ["S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"]
    return names


def check_secrets() -> str:
    missing = [name for name in required_secrets() if not os.environ.get(name)]
    if missing:
        raise CheckFailed(f"环境变量未提供：{'、'.join(missing)}")
    return f"{'、'.join(required_secrets())} 已由环境变量提供"


def check_database() -> str:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure to connect is the finding
        raise CheckFailed(f"无法连接数据库（{type(error).__name__}）") from error
    if connection.vendor == "postgresql":
        return f"PostgreSQL {connection.pg_version // 10000}"
    return f"{connection.display_name} {getattr(connection.Database, 'sqlite_version', '')}".strip()


def check_migrations() -> str:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        names = "、".join(f"{migration.app_label}.{migration.name}" for migration, _ in plan[:5])
        more = f" 等 {len(plan)} 个" if len(plan) > 5 else ""
        raise CheckFailed(f"有未执行的数据库迁移：{names}{more}（请运行 yuexiu migrate）")
    return "所有迁移均已执行"


def _storage_check(alias: str) -> Callable[[], str]:
    def check() -> str:
        from django.core.files.storage import FileSystemStorage, storages

        storage = storages[alias]
        where = (
            f"本地目录 {storage.location}"
            if isinstance(storage, FileSystemStorage)
            else f"对象存储桶 {getattr(storage, 'bucket_name', '')}/{getattr(storage, 'location', '')}"
        )
        try:
            probe(storage)
        except StorageFailure as failure:
            raise CheckFailed(f"{where}：{failure.message}") from failure
        return f"{where} 可写入、可读回"

    return check


def check_static_files() -> str:
    root = Path(settings.STATIC_ROOT)
    manifest_storage = "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]
    if manifest_storage:
        manifest = root / STATIC_MANIFEST
        if not manifest.is_file():
            raise CheckFailed(f"{root} 中没有 {STATIC_MANIFEST}：请运行 yuexiu collectstatic --no-input")
        import json

        paths = json.loads(manifest.read_text(encoding="utf-8")).get("paths", {})
        missing = [name for name in VENDOR_ASSETS if name not in paths]
        collected = len(paths)
    else:
        missing = [name for name in VENDOR_ASSETS if not (root / name).is_file()]
        collected = sum(1 for path in root.rglob("*") if path.is_file()) if root.is_dir() else 0
    if missing:
        raise CheckFailed(
            f"静态文件缺少 {'、'.join(missing)}：请先 make assets，再运行 yuexiu collectstatic --no-input"
        )
    return f"{root} 已收集 {collected} 个文件"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("运行模式", check_mode),
    ("配置安全", check_settings),
    ("密钥与凭据", check_secrets),
    ("数据库连接", check_database),
    ("数据库迁移", check_migrations),
    ("文件存储（办件材料）", _storage_check("default")),
    ("文件存储（数据快照）", _storage_check(SNAPSHOTS)),
    ("静态文件", check_static_files),
)


def run_checks() -> list[tuple[str, bool, str]]:
    """Every check as ``(label, passed, Chinese detail or reason)``; a later check runs even when an
    earlier one failed, except the migrations when the database cannot be reached."""
    results: list[tuple[str, bool, str]] = []
    for label, check in CHECKS:
        if label == "数据库迁移" and results and not results[-1][1]:
            results.append((label, False, "数据库无法连接，未能检查"))
            continue
        try:
            results.append((label, True, check()))
        except CheckFailed as failure:
            results.append((label, False, str(failure)))
    return results


class Command(BaseCommand):
    help = "检查生产环境：配置安全、数据库可连接且已迁移、文件存储可读写、静态文件已收集、密钥已提供"

    def handle(self, *args: Any, **options: Any) -> None:
        results = run_checks()
        for label, passed, detail in results:
            self.stdout.write(f"{'✓' if passed else '✗'} {label}：{detail}")
        failed = [label for label, passed, _ in results if not passed]
        if failed:
            self.stdout.write(f"生产环境检查未通过：{len(failed)} 项失败（{'、'.join(failed)}）")
            raise SystemExit(1)
        self.stdout.write(f"生产环境检查通过：{len(results)} 项全部通过")
