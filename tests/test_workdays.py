"""The pure working-day arithmetic, on the real holiday data of the chinesecalendar package."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yuexiu.core.workdays import (
    CalendarError,
    CalendarYearMissing,
    WorkingDayCalendar,
    YearArrangement,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


class PackageSource:
    """Years 2004–2026 from chinesecalendar; 2027 provisional (its statutory holidays) when
    ``provisional_2027`` is set; nothing else."""

    def __init__(self, provisional_2027: bool = False) -> None:
        self.provisional_2027 = provisional_2027

    def arrangement(self, year: int) -> YearArrangement | None:
        if 2004 <= year <= 2026:
            exceptions = {day: False for day in chinese_calendar.holidays if day.year == year}
            exceptions.update({day: True for day in chinese_calendar.workdays if day.year == year})
            return YearArrangement(year=year, exceptions=exceptions)
        if year == 2027 and self.provisional_2027:
            days = {date(2027, 1, 1): "元旦", date(2027, 2, 5): "春节", date(2027, 2, 8): "春节"}
            return YearArrangement(year=year, exceptions=dict.fromkeys(days, False), names=days, is_provisional=True)
        return None


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar(PackageSource())


def test_ten_working_days_after_20_january_2025_end_on_the_make_up_saturday(calendar):
    assert calendar.add_working_days(date(2025, 1, 20), 10) == date(2025, 2, 8)


def test_a_weekend_only_count_would_have_ended_inside_the_spring_festival(calendar):
    weekend_only = WorkingDayCalendar(type("S", (), {"arrangement": lambda self, y: YearArrangement(y)})())
    assert weekend_only.add_working_days(date(2025, 1, 20), 10) == date(2025, 2, 3)
    assert calendar.is_working_day(date(2025, 2, 3)) is False


def test_make_up_sundays_are_working_days_and_holidays_are_not(calendar):
    assert calendar.is_working_day(date(2025, 1, 26)) is True  # Sunday, 春节调休
    assert calendar.is_working_day(date(2024, 2, 4)) is True
    assert calendar.is_working_day(date(2024, 2, 18)) is True
    assert calendar.is_working_day(date(2025, 10, 8)) is False  # Wednesday, 国庆中秋
    assert calendar.is_working_day(date(2025, 10, 11)) is True  # Saturday, 调休


def test_counting_crosses_the_new_year_break(calendar):
    assert calendar.add_working_days(date(2023, 12, 29), 1) == date(2024, 1, 2)
    assert calendar.count_working_days(date(2023, 12, 29), date(2024, 1, 2)) == 1


def test_zero_days_is_the_start_day_itself(calendar):
    assert calendar.add_working_days(date(2025, 2, 1), 0) == date(2025, 2, 1)


def test_negative_and_huge_day_counts_are_refused_in_chinese(calendar):
    with pytest.raises(CalendarError, match="不能为负数"):
        calendar.add_working_days(date(2025, 1, 20), -1)
    with pytest.raises(CalendarError, match="不能超过"):
        calendar.add_working_days(date(2025, 1, 20), 100_000)


def test_a_source_without_a_year_makes_the_calendar_raise_a_clear_error(calendar):
    with pytest.raises(CalendarYearMissing) as raised:
        calendar.add_working_days(date(2026, 12, 20), 10)
    assert raised.value.year == 2027
    assert "2027年超出工作日历可计算的范围" in raised.value.message


def test_a_provisional_year_counts_its_statutory_holidays_and_says_so():
    calendar = WorkingDayCalendar(PackageSource(provisional_2027=True))
    # 2026-12-31 (Thu) is day 1; 2027-01-01 (Fri, 元旦) is a statutory holiday even before the notice.
    assert calendar.add_working_days(date(2026, 12, 30), 2) == date(2027, 1, 4)
    assert calendar.is_provisional(2027) is True
    assert calendar.provisional_years(date(2026, 12, 30), date(2027, 1, 4)) == [2027]
    assert calendar.provisional_years(date(2026, 1, 5), date(2026, 12, 31)) == []
    assert calendar.holiday_name(date(2027, 2, 5)) == "春节"


def test_the_deadline_is_the_end_of_the_final_day_in_shanghai_stored_in_utc(calendar):
    accepted = datetime(2025, 1, 20, 10, 0, tzinfo=SHANGHAI)
    deadline = calendar.deadline(accepted, 10)
    assert deadline.tzinfo == UTC
    assert deadline == datetime(2025, 2, 8, 15, 59, 59, 999999, tzinfo=UTC)
    assert deadline.astimezone(SHANGHAI).date() == date(2025, 2, 8)


def test_an_instant_after_midnight_in_shanghai_counts_from_the_shanghai_date(calendar):
    accepted = datetime(2025, 1, 19, 17, 0, tzinfo=UTC)  # 2025-01-20 01:00 in Shanghai
    assert calendar.deadline(accepted, 10).astimezone(SHANGHAI).date() == date(2025, 2, 8)


def test_naive_instants_are_refused(calendar):
    with pytest.raises(CalendarError, match="时区"):
        calendar.deadline(datetime(2025, 1, 20, 10, 0), 1)


def test_working_days_between_two_instants(calendar):
    start = datetime(2025, 1, 20, 9, 0, tzinfo=SHANGHAI)
    end = datetime(2025, 2, 8, 18, 0, tzinfo=SHANGHAI)
    assert calendar.working_days_between(start, end) == 10
    assert calendar.working_days_between(end, start) == -10


@settings(max_examples=200, deadline=None)
@given(start=st.dates(min_value=date(2004, 1, 1), max_value=date(2025, 12, 31)), days=st.integers(0, 200))
def test_counting_is_the_inverse_of_adding(start, days):
    calendar = WorkingDayCalendar(PackageSource())
    end = calendar.add_working_days(start, days)
    assert calendar.count_working_days(start, end) == days
    assert days == 0 or calendar.is_working_day(end)


@settings(max_examples=100, deadline=None)
@given(day=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_every_day_agrees_with_the_chinesecalendar_package(day):
    calendar = WorkingDayCalendar(PackageSource())
    assert calendar.is_working_day(day) == chinese_calendar.is_workday(day)


def test_one_year_of_days_costs_one_lookup_per_year():
    calls = []

    class CountingSource(PackageSource):
        def arrangement(self, year):
            calls.append(year)
            return super().arrangement(year)

    calendar = WorkingDayCalendar(CountingSource())
    calendar.add_working_days(date(2024, 1, 1), 300)
    assert calls == [2024, 2025]
