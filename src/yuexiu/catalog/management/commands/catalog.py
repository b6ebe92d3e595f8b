"""``yuexiu catalog``: run the guide checks, import a spreadsheet, export the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yuexiu.catalog import exports, selectors, services
from yuexiu.core.errors import DomainError
from yuexiu.core.models import User


class Command(BaseCommand):
    help = "事项目录：check 运行办事指南检查；import 导入表格；export 导出目录（xlsx/csv/jsonld）"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("check", help="运行办事指南同事同标检查并打印各部门问题数")
        importer = sub.add_parser("import", help="导入 Excel/CSV（需办事指南审核人员账号）")
        importer.add_argument("path", type=Path)
        importer.add_argument("--as", dest="username", required=True, help="办事指南审核人员账号")
        exporter = sub.add_parser("export", help="导出目录")
        exporter.add_argument("path", type=Path)
        exporter.add_argument("--format", choices=["xlsx", "csv", "jsonld"], default="xlsx")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "check":
                run = services.run_guide_checks()
                self.stdout.write(f"检查 {run.item_count} 个事项，发现问题 {run.finding_count} 条")
                for finding in selectors.list_findings(run, None):
                    self.stdout.write(
                        f"{finding.organisation.name}\t{finding.item.name}\t{finding.get_rule_label()}\t{finding.message}"
                    )
            elif options["action"] == "import":
                user = User.objects.filter(username=options["username"]).first()
                if user is None:
                    raise CommandError(f"账号 {options['username']} 不存在。")
                result = services.import_catalogue(data=options["path"].read_bytes(), importer=user)
                self.stdout.write(f"新增 {result['created']}，更新 {result['updated']}，未变 {result['unchanged']}")
            else:
                data = exports.export_catalogue(options["format"])
                options["path"].write_bytes(data)
                self.stdout.write(f"已导出到 {options['path']}（{len(data)} 字节）")
        except DomainError as error:
            raise CommandError(error.message) from None
