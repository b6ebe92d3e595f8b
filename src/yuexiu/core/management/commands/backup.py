"""``yuexiu backup [--output DIR]``: the database, the uploaded files, the Parquet snapshots and the
archived audit log in one new folder with a manifest of SHA-256s (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yuexiu.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "备份数据库、上传文件、数据快照和审计归档（生成带 SHA-256 清单的备份目录）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--output",
            type=Path,
            default=None,
            help="在此目录下新建备份目录（默认 YUEXIU_VAR_DIR/backups）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        output = Path(options["output"] or Path(settings.VAR_DIR) / "backups")
        try:
            create_backup(output, progress=self.stdout.write)
        except BackupError as error:
            raise CommandError(error.message) from None
