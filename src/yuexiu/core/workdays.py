"""Chinese working-day arithmetic: the one calendar every deadline in the platform uses.

Pure Python, no Django: the data comes in through a ``YearSource``.

A day is a working day when the year's arrangement says so: a public holiday is not, a 调休
make-up day (a Saturday or Sunday declared a working day) is, and every other day follows the
Monday-to-Friday rule. The arrangement comes each year from the State Council's notice
(国务院办公厅关于××年部分节假日安排的通知). Until a year's notice is loaded, its source gives a
*provisional* arrangement: the statutory holidays of 《全国年节及纪念日放假办法》, which are known in
advance, with weekends and without the 调休 days that only the notice sets (``is_provisional``). A
deadline that crosses such a year is shown as 暂定 and recomputed when the notice arrives. A source
that has nothing at all for a year makes the calendar raise ``CalendarYearMissing``.

Counting conventions:

- Working-day limits (《行政许可法》第八十二条: 期限以工作日计算，不含法定节假日): the day an
  application is accepted is not counted; "N working days from day D" ends on the N-th working day
  after D, and the deadline is the end of that day in Asia/Shanghai. A limit of 0 working days (即办件,
  当场办结) ends on D when D is a working day, otherwise on the next working day.
- Natural-day limits (《民法典》第二百零一条、第二百零三条): "N natural days from day D" ends on D + N;
  when that day is not a working day (a statutory holiday or a weekend rest day) the period ends on the
  first working day after it, at 24:00.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """The source has no arrangement at all for ``year`` (the platform's source has one for 1900–2099)."""

    code = "calendar_year_missing"

    def __init__(self, year: int) -> None:
        super().__init__(f"{year}年超出工作日历可计算的范围（1900—2099 年），无法按工作日计算期限。")
        self.year = year


@dataclass(frozen=True)
class YearArrangement:
    """One year's departures from the Monday-to-Friday rule.

    ``exceptions`` maps a date to True (a make-up working day) or False (a day off); ``names`` gives
    the holiday's name of each such date. ``is_provisional`` marks a year whose State Council notice is
    not loaded: its days off are the statutory holidays computed in advance, without 调休.
    """

    year: int
    exceptions: Mapping[date, bool] = field(default_factory=dict)
    names: Mapping[date, str] = field(default_factory=dict)
    is_provisional: bool = False


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

    def is_provisional(self, year: int) -> bool:
        """True when ``year``'s arrangement is provisional (its notice is not loaded)."""
        return self.arrangement(year).is_provisional

    def provisional_years(self, start: date, end: date) -> list[int]:
        """The provisional years among those of ``start`` … ``end`` (inclusive, either order): the years
        whose arrangement a computation over that span depended on without their notice."""
        first, last = sorted((start.year, end.year))
        return [year for year in range(first, last + 1) if self.is_provisional(year)]

    def holiday_name(self, day: date) -> str:
        """The holiday (or 调休) name of ``day``, or "" for an ordinary day."""
        return self.arrangement(day.year).names.get(day, "")

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

    def subtract_working_days(self, end: date, days: int) -> date:
        """The ``days``-th working day before ``end`` (``end`` itself not counted; 0 returns ``end``):
        the inverse of ``add_working_days`` on working days. Raises ``CalendarError`` as it does."""
        _check_days(days)
        current = end
        while days > 0:
            if current == date.min:
                raise CalendarError("日期超出可计算范围。")
            current -= timedelta(days=1)
            if self.is_working_day(current):
                days -= 1
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

    def next_working_day_from(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day = _next_day(day)
        return day

    def last_day(self, start: date, days: int) -> date:
        """The final day of a limit of ``days`` working days counted from ``start`` (day 0).

        ``add_working_days`` for ``days`` ≥ 1; a 0-day limit (当场办结) ends on ``start`` when it is a
        working day, else on the next working day. Never a day off.
        """
        if days == 0:
            return self.next_working_day_from(start)
        return self.add_working_days(start, days)

    def natural_last_day(self, start: date, days: int) -> date:
        """The final day of a limit of ``days`` natural days counted from ``start`` (day 0, not counted).

        ``start + days``, moved to the first working day after it when it is a statutory holiday or a
        rest day (《民法典》第二百零三条：期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后
        一日). Raises ``CalendarError`` for a negative or huge ``days``.
        """
        _check_days(days)
        try:
            end = start + timedelta(days=days)
        except OverflowError as error:
            raise CalendarError("日期超出可计算范围。") from error
        return self.next_working_day_from(end)

    def deadline(self, started_at: datetime, days: int) -> datetime:
        """The instant (UTC) a limit of ``days`` working days ends, counted from ``started_at``.

        ``started_at`` is an aware instant; its date in Asia/Shanghai is day 0. The deadline is the
        last moment of the final working day in Asia/Shanghai (23:59:59.999999 local), returned in
        UTC; a 0-day limit started on a day off ends on the next working day. Raises
        ``CalendarError`` for a naive ``started_at``.
        """
        return end_of_local_day(self.last_day(local_date(started_at), days))

    def natural_deadline(self, started_at: datetime, days: int) -> datetime:
        """The instant (UTC) a limit of ``days`` natural days ends: 24:00 Asia/Shanghai of
        ``natural_last_day`` (《民法典》第二百零三条). Raises ``CalendarError`` for a naive instant."""
        return end_of_local_day(self.natural_last_day(local_date(started_at), days))

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


def provisional_note(years: Iterable[int]) -> str:
    """The Chinese explanation shown beside a date or deadline that depends on the provisional ``years``,
    or "" when there are none. Plain words for the public: which notice the platform lacks and what
    happens next; runs of years are written as ranges (2031—2032年)."""
    years = sorted(set(years))
    if not years:
        return ""
    runs: list[list[int]] = []
    for year in years:
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    names = "、".join(f"{run[0]}年" if len(run) == 1 else f"{run[0]}—{run[-1]}年" for run in runs)
    return (
        f"暂定：本平台尚未导入国务院办公厅{names}节假日安排通知，按法定节假日和周末推算，未计调休；导入后将重新计算。"
    )
