"""The SLA clock in working days: start, deadline across the Spring Festival and its make-up days, and
the pause rule (a pause over a weekend loses nothing; a fully paused working day moves the deadline)."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.helpers import at
from tests.test_workdays import PackageSource
from yuexiu.cases.clock import Pause, clock_state, fully_paused_working_days
from yuexiu.core.workdays import WorkingDayCalendar


@pytest.fixture
def calendar() -> WorkingDayCalendar:
    return WorkingDayCalendar(PackageSource())


def test_a_ten_day_limit_accepted_20_january_2025_ends_on_the_make_up_saturday(calendar):
    state = clock_state(
        calendar, started_at=at("2025-01-20T10:00"), limit_days=10, pauses=[], now=at("2025-01-27T09:00")
    )
    assert state.deadline == at("2025-02-08T23:59:59.999999")
    # used: 21 22 23 24 26 (Sunday, 调休) 27 (today runs); left: 2/5 2/6 2/7 2/8 (Saturday, 调休)
    assert (state.used_days, state.left_days) == (6, 4)


def test_the_clock_is_not_consumed_during_the_spring_festival(calendar):
    state = clock_state(
        calendar, started_at=at("2025-01-20T10:00"), limit_days=10, pauses=[], now=at("2025-02-04T12:00")
    )
    assert (state.used_days, state.left_days) == (6, 4)  # 1/28–2/4 are 春节 holidays: nothing consumed


def test_a_pause_from_friday_evening_to_monday_morning_loses_nothing(calendar):
    pause = Pause(start=at("2025-03-07T17:00"), end=at("2025-03-10T09:00"))
    state = clock_state(
        calendar, started_at=at("2025-03-03T10:00"), limit_days=5, pauses=[pause], now=at("2025-03-10T09:00")
    )
    assert fully_paused_working_days(calendar, [pause], at("2025-03-10T09:00")) == []
    assert state.deadline == at("2025-03-10T23:59:59.999999")
    assert state.paused_days == 0


def test_a_working_day_paused_from_start_to_end_moves_the_deadline_one_working_day(calendar):
    pause = Pause(start=at("2025-03-04T16:00"), end=at("2025-03-06T09:00"))  # Wednesday 5th fully paused
    state = clock_state(
        calendar, started_at=at("2025-03-03T10:00"), limit_days=5, pauses=[pause], now=at("2025-03-06T09:00")
    )
    assert state.paused_days == 1
    assert state.deadline == at("2025-03-11T23:59:59.999999")
    assert state.used_days == 2  # the 4th and the 6th; the 5th was paused


def test_an_open_pause_keeps_moving_the_deadline_and_says_so(calendar):
    pause = Pause(start=at("2025-03-04T16:00"))
    state = clock_state(
        calendar, started_at=at("2025-03-03T10:00"), limit_days=5, pauses=[pause], now=at("2025-03-12T09:00")
    )
    assert state.is_paused is True
    assert state.paused_days == 5  # 5 6 7 10 11
    assert state.deadline == at("2025-03-17T23:59:59.999999")
    assert state.left_days > 0


def test_a_pause_over_the_spring_festival_moves_the_deadline_only_by_working_days(calendar):
    pause = Pause(start=at("2025-01-24T12:00"), end=at("2025-02-06T10:00"))
    state = clock_state(
        calendar, started_at=at("2025-01-20T10:00"), limit_days=10, pauses=[pause], now=at("2025-02-06T10:00")
    )
    assert fully_paused_working_days(calendar, [pause], at("2025-02-06T10:00")) == [
        datetime(2025, 1, 26).date(),
        datetime(2025, 1, 27).date(),
        datetime(2025, 2, 5).date(),
    ]
    assert state.deadline == at("2025-02-12T23:59:59.999999")  # 10 + 3 working days after 1/20


def test_overdue_is_negative_time_left(calendar):
    state = clock_state(
        calendar, started_at=at("2025-03-03T10:00"), limit_days=2, pauses=[], now=at("2025-03-07T10:00")
    )
    assert state.deadline == at("2025-03-05T23:59:59.999999")
    assert state.left_days == -2
    assert state.is_overdue
