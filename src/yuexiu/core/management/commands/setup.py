"""``yuexiu setup``: load Yuexiu reference data, schedules and (with --demo) demo accounts. Idempotent."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from yuexiu.core import calendar, demo, rules, services
from yuexiu.core.schedules import ensure_schedules


class Command(BaseCommand):
    help = "导入越秀区组织机构、规则参数、节假日数据、各业务模块的基础数据和后台任务计划；--demo 同时创建各角色演示账号"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--demo", action="store_true", help="创建演示账号并打印登录信息")

    def handle(self, *args: Any, **options: Any) -> None:
        organisations = services.load_organisations()
        self.stdout.write(f"组织机构：新增 {organisations['created']}，更新 {organisations['updated']}")
        self.stdout.write(f"规则参数：新增 {rules.load_rule_parameters()}")
        years = calendar.load_package_calendar()
        self.stdout.write(f"节假日数据：新增 {len(years)} 个年度" + (f"（{years[0]}–{years[-1]}）" if years else ""))
        for app in apps.get_app_configs():
            for line in getattr(app, "load_reference_data", list)():
                self.stdout.write(line)
        self.stdout.write(f"后台任务计划：新增 {ensure_schedules()}")
        if options["demo"]:
            created = demo.ensure_demo_accounts()
            self.stdout.write(f"演示账号：新增 {created}")
            for app in apps.get_app_configs():
                for line in getattr(app, "load_demo_data", list)():
                    self.stdout.write(line)
            self.stdout.write(demo.describe_demo_accounts())
