"""``yuexiu restore DIR``: a backup made by ``yuexiu backup`` into an empty database and storage, after
checking every file's SHA-256, the engine and that the target is empty (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yuexiu.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "从备份目录恢复到空数据库（先校验清单中每个文件的 SHA-256、数据库类型和目标是否为空）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("folder", type=Path, help="yuexiu backup 生成的备份目录")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            restore_backup(Path(options["folder"]), progress=self.stdout.write)
        except BackupError as error:
            raise CommandError(error.message) from None
