"""Chinese working-day arithmetic: the one calendar every deadline in the platform uses.

Pure Python, no Django: the data comes in through a ``YearSource``.

A day is a working day when the year's arrangement says so: a public holiday is not, a 调休
make-up day (a Saturday or Sunday declared a working day) is, and every other day follows the
Monday-to-Friday rule. The arrangement comes each year from the State Council's notice
(国务院办公厅关于××年部分节假日安排的通知); a year whose notice has not been loaded raises
``CalendarYearMissing`` unless an administrator has switched on the weekend-only fallback for it.

Counting convention (《行政许可法》第八十二条: 期限以工作日计算，不含法定节假日): the day an
application is accepted is not counted; "N working days from day D" ends on the N-th working day
after D, and the deadline is the end of that day in Asia/Shanghai.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

LOCAL_TIMEZONE = ZoneInfo("Asia/Shanghai")
MAX_WORKING_DAYS = 3650  # ten years of working days: far beyond any legal time limit


class CalendarError(ValueError):
    """Base for calendar errors; ``message`` is the Chinese text shown to users."""

    code = "calendar_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CalendarYearMissing(CalendarError):
    """The holiday arrangement of ``year`` is not loaded and no fallback is switched on."""

    code = "calendar_year_missing"

    def __init__(self, year: int) -> None:
        super().__init__(
            f"{year}年的法定节假日安排尚未导入，无法按工作日计算期限。"
            f"请管理员导入国务院办公厅{year}年节假日安排通知，或为{year}年启用周末兜底规则。"
        )
        self.year = year


@dataclass(frozen=True)
class YearArrangement:
    """One year's departures from the Monday-to-Friday rule.

    ``exceptions`` maps a date to True (a make-up working day) or False (a day off).
    ``is_fallback`` marks a year computed by the weekend-only fallback, with no notice loaded.
    """

    year: int
    exceptions: Mapping[date, bool] = field(default_factory=dict)
    is_fallback: bool = False


class YearSource(Protocol):
    def arrangement(self, year: int) -> YearArrangement | None:
        """Return the year's arrangement, or None when the year has no data and no fallback."""


class WorkingDayCalendar:
    """Working-day arithmetic over a ``YearSource``. Years are fetched once per calendar object."""

    def __init__(self, source: YearSource) -> None:
        self._source = source
        self._years: dict[int, YearArrangement] = {}

    def arrangement(self, year: int) -> YearArrangement:
        """Return the arrangement of ``year``. Raises ``CalendarYearMissing``."""
        cached = self._years.get(year)
        if cached is None:
            cached = self._source.arrangement(year)
            if cached is None:
                raise CalendarYearMissing(year)
            self._years[year] = cached
        return cached

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is a working day in mainland China. Raises ``CalendarYearMissing``."""
        exception = self.arrangement(day.year).exceptions.get(day)
        if exception is not None:
            return exception
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """Return the ``days``-th working day after ``start`` (``start`` itself is not counted).

        ``days`` is a number of working days, 0 to ``MAX_WORKING_DAYS``; 0 returns ``start``.
        Example: 2025-01-20 + 10 working days = 2025-02-08 (a 调休 Saturday after 春节).
        Raises ``CalendarError`` for a negative or huge ``days`` and ``CalendarYearMissing`` when the
        count runs into a year with no data.
        """
        _check_days(days)
        current = start
        remaining = days
        while remaining > 0:
            current = _next_day(current)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def count_working_days(self, start: date, end: date) -> int:
        """Number of working days in (``start``, ``end``]: after ``start``, up to and including ``end``.

        The inverse of ``add_working_days``: ``count(d, add(d, n)) == n``. Returns a negative
        count when ``end`` is before ``start``. Raises ``CalendarYearMissing``.
        """
        if end < start:
            return -self.count_working_days(end, start)
        count = 0
        current = start
        while current < end:
            current = _next_day(current)
            if self.is_working_day(current):
                count += 1
        return count

    def deadline(self, started_at: datetime, days: int) -> datetime:
        """The instant (UTC) a limit of ``days`` working days ends, counted from ``started_at``.

        ``started_at`` is an aware instant; its date in Asia/Shanghai is day 0. The deadline is the
        last moment of the final working day in Asia/Shanghai (23:59:59.999999 local), returned in
        UTC. Raises ``CalendarError`` for a naive ``started_at``.
        """
        local_day = local_date(started_at)
        final_day = self.add_working_days(local_day, days)
        return end_of_local_day(final_day)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days elapsed between two aware instants, by their dates in Asia/Shanghai."""
        return self.count_working_days(local_date(start), local_date(end))


def _next_day(day: date) -> date:
    if day == date.max:
        raise CalendarError("日期超出可计算范围。")
    return day + timedelta(days=1)


def _check_days(days: int) -> None:
    if days < 0:
        raise CalendarError("工作日天数不能为负数。")
    if days > MAX_WORKING_DAYS:
        raise CalendarError(f"工作日天数不能超过 {MAX_WORKING_DAYS} 天。")


def local_date(instant: datetime) -> date:
    """The calendar date of an aware instant in Asia/Shanghai. Raises ``CalendarError`` if naive."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise CalendarError("时间缺少时区信息，无法换算为北京时间。")
    return instant.astimezone(LOCAL_TIMEZONE).date()


def end_of_local_day(day: date) -> datetime:
    """The last microsecond of ``day`` in Asia/Shanghai, as an aware UTC datetime."""
    local_end = datetime.combine(day, time.max, tzinfo=LOCAL_TIMEZONE)
    return local_end.astimezone(UTC)
