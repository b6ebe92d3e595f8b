"""The platform's working-day calendar, backed by the holiday tables.

Every deadline in the platform goes through ``get_calendar()``. The arithmetic lives in the pure
module ``workdays``; this module supplies the data (HolidayYear / HolidayDay) and the writes that
keep it: loading the chinesecalendar package, importing a State Council notice, and the
administrator's weekend fallback switch.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar
from django.db import transaction

from yuexiu.core import audit
from yuexiu.core.errors import DomainError
from yuexiu.core.holiday_notice import NoticeFormatError, parse_notice
from yuexiu.core.models import HolidayDay, HolidayYear, HolidayYearStatus, User
from yuexiu.core.workdays import WorkingDayCalendar, YearArrangement

PACKAGE_SOURCE = f"chinesecalendar {getattr(chinese_calendar, '__version__', '')}".strip()
PACKAGE_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


class DatabaseYearSource:
    """``workdays.YearSource`` over the HolidayYear / HolidayDay tables (one query per year)."""

    def arrangement(self, year: int) -> YearArrangement | None:
        record = HolidayYear.objects.filter(year=year).first()
        if record is None:
            return None
        if record.status == HolidayYearStatus.PUBLISHED:
            days = HolidayDay.objects.filter(date__year=year).values_list("date", "is_working_day")
            return YearArrangement(year=year, exceptions=dict(days))
        if record.weekend_fallback_enabled:
            return YearArrangement(year=year, is_fallback=True)
        return None


def get_calendar() -> WorkingDayCalendar:
    """A fresh calendar over the database. Cheap: years are read on first use, once each."""
    return WorkingDayCalendar(DatabaseYearSource())


def package_years() -> range:
    """The years the installed chinesecalendar package covers (2004–2026 for 1.11.0)."""
    all_days = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return range(min(all_days).year, max(all_days).year + 1)


@transaction.atomic
def load_package_calendar() -> list[int]:
    """Load every year the chinesecalendar package covers that the tables do not hold yet.

    Returns the years loaded (empty on a second run: loading is idempotent). Years already in the
    tables, whether imported from a notice or edited by an administrator, are left as they are.
    """
    existing = set(HolidayYear.objects.values_list("year", flat=True))
    loaded = []
    for year in package_years():
        if year in existing:
            continue
        record = HolidayYear.objects.create(year=year, status=HolidayYearStatus.PUBLISHED, imported_from=PACKAGE_SOURCE)
        rows = [
            HolidayDay(year=record, date=day, is_working_day=False, name=PACKAGE_HOLIDAY_NAMES.get(name, name))
            for day, name in chinese_calendar.holidays.items()
            if day.year == year
        ] + [
            HolidayDay(year=record, date=day, is_working_day=True, name=PACKAGE_HOLIDAY_NAMES.get(name, name))
            for day, name in chinese_calendar.workdays.items()
            if day.year == year
        ]
        HolidayDay.objects.bulk_create(rows)
        loaded.append(year)
    if loaded:
        audit.record_event(
            action="calendar.package_loaded",
            changes={"years": loaded, "source": PACKAGE_SOURCE},
            message=f"从 {PACKAGE_SOURCE} 导入 {loaded[0]}–{loaded[-1]} 年节假日安排",
        )
    return loaded


@transaction.atomic
def import_holiday_notice(
    *, year: int, text: str, notice_number: str, notice_url: str = "", actor: User | None
) -> HolidayYear:
    """Replace ``year``'s holidays with those read from the State Council notice ``text``.

    The year becomes ``published`` and its weekend fallback is switched off. Nothing changes when
    the text cannot be read: raises ``DomainError`` (code ``notice_unreadable``) with the reason.
    """
    _check_year(year)
    if not notice_number.strip():
        raise DomainError("请填写通知文号，例如“国办发明电〔2024〕12号”。", code="notice_number_required")
    try:
        days = parse_notice(text, year)
    except NoticeFormatError as error:
        raise DomainError(error.message, code="notice_unreadable") from error
    record, _ = HolidayYear.objects.select_for_update().get_or_create(year=year)
    before = {"status": record.status, "days": record.days.count()}
    record.days.all().delete()
    HolidayDay.objects.filter(date__in=[day.date for day in days]).delete()
    HolidayDay.objects.bulk_create(
        [HolidayDay(year=record, date=day.date, is_working_day=day.is_working_day, name=day.name) for day in days]
    )
    record.status = HolidayYearStatus.PUBLISHED
    record.notice_number = notice_number.strip()
    record.notice_url = notice_url.strip()
    record.imported_from = "国务院办公厅通知"
    record.weekend_fallback_enabled = False
    record.save()
    audit.record_event(
        action="calendar.notice_imported",
        actor=actor,
        target=record,
        changes={
            "before": before,
            "after": {"status": record.status, "days": len(days)},
            "notice_number": record.notice_number,
        },
        message=f"导入{year}年节假日安排（{record.notice_number}），共 {len(days)} 个放假或调休日期",
    )
    return record


@transaction.atomic
def set_weekend_fallback(*, year: int, enabled: bool, actor: User | None) -> HolidayYear:
    """Switch the weekend-only fallback for a year that has no notice loaded.

    With the fallback on, deadlines in ``year`` count Monday to Friday as working days and ignore
    holidays not yet announced; a documented stopgap until the State Council notice is imported.
    Raises ``DomainError`` for a year outside 2000–2100 or whose notice is already loaded.
    """
    _check_year(year)
    record, _ = HolidayYear.objects.select_for_update().get_or_create(year=year)
    if record.status == HolidayYearStatus.PUBLISHED:
        raise DomainError(f"{year}年已导入国务院节假日安排，无需启用兜底规则。", code="fallback_not_needed")
    before = record.weekend_fallback_enabled
    record.weekend_fallback_enabled = enabled
    record.save(update_fields=["weekend_fallback_enabled", "updated_at"])
    audit.record_event(
        action="calendar.fallback_changed",
        actor=actor,
        target=record,
        changes={"weekend_fallback_enabled": [before, enabled]},
        message=f"{'启用' if enabled else '关闭'}{year}年周末兜底规则",
    )
    return record


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise DomainError("年份应在 2000 至 2100 之间。", code="invalid_year")


def describe_day(day: date) -> dict[str, object]:
    """``{"date", "is_working_day", "name", "is_fallback"}`` for one date. Raises ``CalendarYearMissing``."""
    calendar = get_calendar()
    working = calendar.is_working_day(day)
    arrangement = calendar.arrangement(day.year)
    name = HolidayDay.objects.filter(date=day).values_list("name", flat=True).first() or ""
    return {"date": day, "is_working_day": working, "name": name, "is_fallback": arrangement.is_fallback}
