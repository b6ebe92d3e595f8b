"""``yuexiu workdays``: the working-day calendar from the command line.

yuexiu workdays add 2025-01-20 10        -> 2025-02-08
yuexiu workdays count 2025-01-20 2025-02-08   -> 10
yuexiu workdays check 2025-02-08         -> 2025-02-08 工作日（春节调休上班）
yuexiu workdays import-notice 2027 notice.txt --number "国办发明电〔2026〕X号"
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from yuexiu.core import calendar
from yuexiu.core.errors import DomainError
from yuexiu.core.workdays import CalendarError


def _date(value: str) -> date:
    text = unicodedata.normalize("NFKC", value).strip()  # full-width digits from a Chinese input method
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise CommandError(f"日期“{value}”格式有误，应为 YYYY-MM-DD，例如 2025-01-20。")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"日期“{value}”不存在，请核对月份和日期。") from error


def _int(value: str) -> int:
    try:
        return int(unicodedata.normalize("NFKC", value))
    except ValueError as error:
        raise CommandError(f"“{value}”不是整数。") from error


class Command(BaseCommand):
    help = "工作日计算与节假日维护"

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="起算日期后第 N 个工作日（N 为 0 时为当日或其后第一个工作日）")
        add.add_argument("start")
        add.add_argument("days")
        count = sub.add_parser("count", help="两日之间的工作日数（不含起始日，含截止日）")
        count.add_argument("start")
        count.add_argument("end")
        check = sub.add_parser("check", help="某日是否工作日")
        check.add_argument("date")
        notice = sub.add_parser("import-notice", help="导入国务院办公厅节假日安排通知正文")
        notice.add_argument("year")
        notice.add_argument("file", help="通知正文文本文件（UTF-8）")
        notice.add_argument("--number", required=True, help="通知文号")
        notice.add_argument("--url", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            self._handle(options)
        except (CalendarError, DomainError) as error:
            raise CommandError(error.message) from error

    def _handle(self, options: dict[str, Any]) -> None:
        action = options["action"]
        if action == "add":
            start, days = _date(options["start"]), _int(options["days"])
            working_calendar = calendar.get_calendar()
            result = working_calendar.last_day(start, days)
            note = calendar.provisional_note(working_calendar.provisional_years(start, result))
            self.stdout.write(result.isoformat() + (f"（{note}）" if note else ""))
        elif action == "count":
            start, end = _date(options["start"]), _date(options["end"])
            working_calendar = calendar.get_calendar()
            count = working_calendar.count_working_days(start, end)
            note = calendar.provisional_note(working_calendar.provisional_years(start, end))
            self.stdout.write(str(count) + (f"（{note}）" if note else ""))
        elif action == "check":
            info = calendar.describe_day(_date(options["date"]))
            label = "工作日" if info["is_working_day"] else "休息日"
            suffix = f"（{info['name']}）" if info["name"] else ""
            note = f"（{info['provisional_note']}）" if info["provisional_note"] else ""
            self.stdout.write(f"{info['date']} {label}{suffix}{note}")
        elif action == "import-notice":
            path = Path(options["file"])
            if not path.is_file():
                raise CommandError(f"找不到文件 {path}。")
            record = calendar.import_holiday_notice(
                year=_int(options["year"]),
                text=path.read_text(encoding="utf-8"),
                notice_number=options["number"],
                notice_url=options["url"],
                actor=None,
            )
            self.stdout.write(f"已导入{record.year}年节假日安排：{record.days.count()} 个日期")
