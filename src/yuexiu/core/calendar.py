"""The platform's working-day calendar, backed by the holiday tables.

Every deadline in the platform goes through ``get_calendar()``. The arithmetic lives in the pure
module ``workdays``; this module supplies the data (HolidayYear / HolidayDay) and the writes that
keep it: loading the chinesecalendar package and importing a State Council notice.

A year whose notice is not loaded is never an error: its arrangement is provisional, the statutory
holidays of 《全国年节及纪念日放假办法》 (dated rule ``calendar.statutory_holidays``, computed by
``statutory_holidays``) with weekends, and no 调休. Deadlines that depend on it are marked 暂定
(``provisional_note``); importing the notice recomputes every open deadline that depends on the year in
one background job (``tasks.recompute_deadlines``), and from ``calendar.notice_reminder_from`` (1
November) the workbench reminds system administrators that next year's notice is missing.
"""

from __future__ import annotations

from datetime import date

import chinese_calendar
from django.db import transaction

from yuexiu.core import audit, rules
from yuexiu.core.errors import DomainError, NotFound
from yuexiu.core.holiday_notice import NoticeFormatError, parse_notice
from yuexiu.core.models import HolidayDay, HolidayYear, HolidayYearStatus, User
from yuexiu.core.statutory_holidays import HolidayRuleError, read_rules, statutory_holidays
from yuexiu.core.workdays import WorkingDayCalendar, YearArrangement, provisional_note

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


# The years the lunar calendar library computes; outside them the calendar refuses (CalendarYearMissing).
FIRST_YEAR, LAST_YEAR = 1900, 2099


class DatabaseYearSource:
    """``workdays.YearSource`` over the HolidayYear / HolidayDay tables (two queries per year).

    A published year gives its notice's days; any other year of 1900–2099 its provisional arrangement."""

    def arrangement(self, year: int) -> YearArrangement | None:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            return None
        if HolidayYear.objects.filter(year=year, status=HolidayYearStatus.PUBLISHED).exists():
            rows = HolidayDay.objects.filter(date__year=year).values_list("date", "is_working_day", "name")
            return YearArrangement(
                year=year,
                exceptions={day: working for day, working, _ in rows},
                names={day: name for day, _, name in rows},
            )
        return provisional_arrangement(year)


def provisional_arrangement(year: int) -> YearArrangement:
    """The provisional arrangement of a year without its notice: the statutory holidays of the rule
    ``calendar.statutory_holidays`` in force on 1 January of ``year`` (国务院令第795号 from 2025) as
    days off, weekends as usual, no 调休. When no rule covers the year or the lunar calendar library
    cannot compute it (outside 1900–2099), weekends alone: still provisional, still marked 暂定."""
    try:
        rule = rules.get_rule("calendar.statutory_holidays", date(year, 1, 1))
        days = statutory_holidays(year, read_rules(rule.value))
    except (NotFound, HolidayRuleError):
        days = {}
    return YearArrangement(year=year, exceptions=dict.fromkeys(days, False), names=days, is_provisional=True)


def notice_reminder(today: date) -> str:
    """The workbench reminder for system administrators, or "" when none is due on ``today``.

    Due when the current year's notice is not loaded, or, from ``calendar.notice_reminder_from``
    (month-day, default 11-01) on, when next year's is not."""
    published = set(
        HolidayYear.objects.filter(
            year__in=[today.year, today.year + 1], status=HolidayYearStatus.PUBLISHED
        ).values_list("year", flat=True)
    )
    missing = [] if today.year in published else [today.year]
    try:
        month_day = str(rules.get_rule_value("calendar.notice_reminder_from", today))
        month, day = (int(part) for part in month_day.split("-"))
        remind_from = date(today.year, month, day)
    except (NotFound, ValueError):
        remind_from = date(today.year, 11, 1)
    if today >= remind_from and today.year + 1 not in published:
        missing.append(today.year + 1)
    if not missing:
        return ""
    names = "、".join(f"{year}年" for year in missing)
    return (
        f"{names}的国务院节假日安排通知尚未导入：涉及{names}的期限暂按法定节假日和周末推算，标为“暂定”。"
        "通知发布后，请在“工作日与节假日”页导入，系统将自动重算所有受影响的期限。"
    )


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

    Returns the years loaded (empty on a second run: loading is idempotent). Years already published,
    whether imported from a notice or edited by an administrator, are left as they are; a year loaded
    into a running platform has its open deadlines recomputed in the background.
    """
    existing = set(HolidayYear.objects.filter(status=HolidayYearStatus.PUBLISHED).values_list("year", flat=True))
    loaded = []
    for year in package_years():
        if year in existing:
            continue
        record, _ = HolidayYear.objects.update_or_create(
            year=year, defaults={"status": HolidayYearStatus.PUBLISHED, "imported_from": PACKAGE_SOURCE}
        )
        record.days.all().delete()
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
    if loaded and existing:  # a running platform gained years (a package upgrade): their deadlines change
        transaction.on_commit(lambda: enqueue_deadline_recompute(years=loaded, actor_id=None))
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
    transaction.on_commit(lambda: enqueue_deadline_recompute(years=[year], actor_id=actor.pk if actor else None))
    return record


def enqueue_deadline_recompute(*, years: list[int], actor_id: int | None) -> None:
    """Hand the recomputation of every open deadline that depends on ``years`` to the background worker."""
    from django_q.tasks import async_task

    async_task(
        "yuexiu.core.tasks.recompute_deadlines",
        years,
        actor_id,
        task_name=f"重算期限（{'、'.join(str(year) for year in years)}年节假日安排）",
    )


def _check_year(year: int) -> None:
    if not 2000 <= year <= LAST_YEAR:
        raise DomainError(f"年份应在 2000 至 {LAST_YEAR} 之间。", code="invalid_year")


def describe_day(day: date) -> dict[str, object]:
    """``{"date", "is_working_day", "name", "is_provisional", "provisional_note"}`` for one date.

    ``name`` is the holiday (or 调休) name, "" on an ordinary day; ``is_provisional`` is True when the
    year's notice is not loaded (``provisional_note`` then explains it in Chinese)."""
    calendar = get_calendar()
    provisional = calendar.is_provisional(day.year)
    return {
        "date": day,
        "is_working_day": calendar.is_working_day(day),
        "name": calendar.holiday_name(day),
        "is_provisional": provisional,
        "provisional_note": provisional_note([day.year] if provisional else []),
    }
