"""SLA clocks of a case, in working days. Pure module: a calendar and instants in, numbers out.

Rules (行政许可法 第八十二条: limits in working days without statutory holidays; 民法典 第二百零一条:
the day an act happens is not counted):

- The clock starts on acceptance; the acceptance day is day 0, the limit ends at the last moment of the
  N-th working day after it (``WorkingDayCalendar.deadline``).
- A pause (补正, 特殊环节: 行政许可法 第四十五条) does not consume the limit. Time is counted in whole
  working days, so a working day counts as used when the case was running at any moment of it, and
  the deadline moves by one working day for every working day the case was paused from its first to
  its last moment. A case paused Friday 17:00 and resumed Monday 09:00 ran on Friday and on Monday:
  it has lost nothing and its deadline does not move.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from yuexiu.core.workdays import WorkingDayCalendar, end_of_local_day, local_date


@dataclass(frozen=True)
class Pause:
    """A stopped interval of the clock; ``end`` is ``None`` while the case is still paused."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class ClockState:
    """The clock of one limit at an instant.

    ``deadline``: aware UTC instant, moved by fully paused working days (an ongoing pause counts up to
    ``now``); ``used_days`` / ``left_days``: working days (``left_days`` is negative when overdue);
    ``paused_days``: working days fully paused; ``is_paused``: a pause is open.
    """

    deadline: datetime
    used_days: int
    left_days: int
    paused_days: int
    is_paused: bool

    @property
    def is_overdue(self) -> bool:
        return self.left_days < 0

    @property
    def overdue_days(self) -> int:
        return max(-self.left_days, 0)


def fully_paused_working_days(calendar: WorkingDayCalendar, pauses: Sequence[Pause], now: datetime) -> list[date]:
    """The working days (local dates) on which the case was paused from 00:00 to 24:00, up to ``now``.

    Raises ``CalendarYearMissing`` (via the calendar) when a pause runs into a year without data.
    """
    days: list[date] = []
    for pause in pauses:
        end = pause.end or now
        if end <= pause.start:
            continue
        # The first whole day starts after the pause's start day, unless the pause starts at 00:00.
        first = local_date(pause.start)
        if pause.start > _start_of_local_day(first):
            first += timedelta(days=1)
        # The last whole day ends before the pause's end day, unless the pause ends at 24:00.
        last = local_date(end)
        if end < end_of_local_day(last):
            last -= timedelta(days=1)
        day = first
        while day <= last:
            if calendar.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
    return sorted(set(days))


def _start_of_local_day(day: date) -> datetime:
    return end_of_local_day(day - timedelta(days=1)) + timedelta(microseconds=1)


def clock_state(
    calendar: WorkingDayCalendar,
    *,
    started_at: datetime,
    limit_days: int,
    pauses: Sequence[Pause],
    now: datetime,
) -> ClockState:
    """The state of a limit of ``limit_days`` working days started at ``started_at``, at ``now``.

    ``started_at`` and ``now`` are aware instants. Raises ``CalendarError`` / ``CalendarYearMissing``.
    """
    paused = fully_paused_working_days(calendar, pauses, now)
    start_day = local_date(started_at)
    deadline_day = calendar.add_working_days(start_day, limit_days + len(paused))
    today = local_date(now)
    elapsed = calendar.count_working_days(start_day, today) if today > start_day else 0
    used = max(elapsed - sum(1 for day in paused if day <= today), 0)
    if now > end_of_local_day(deadline_day):
        left = -calendar.count_working_days(deadline_day, today)
        left = min(left, -1)
    else:
        left = calendar.count_working_days(today, deadline_day) if deadline_day > today else 0
    return ClockState(
        deadline=end_of_local_day(deadline_day),
        used_days=used,
        left_days=left,
        paused_days=len(paused),
        is_paused=any(pause.end is None for pause in pauses),
    )


def warning_instant(
    calendar: WorkingDayCalendar,
    *,
    started_at: datetime,
    limit_days: int,
    pauses: Sequence[Pause],
    now: datetime,
    share: float,
) -> datetime | None:
    """When ``share`` (0–1) of the limit will have been used: the start (00:00 local) of the working
    day that brings the used days to ``ceil(share × limit)``, moved by the working days fully paused
    so far. ``None`` while paused (the clock does not run) or for a limit of 0 days."""
    if limit_days <= 0 or any(pause.end is None for pause in pauses):
        return None
    used_at_warning = max(math.ceil(share * limit_days), 1)
    paused = fully_paused_working_days(calendar, pauses, now)
    day = calendar.add_working_days(local_date(started_at), used_at_warning + len(paused))
    return _start_of_local_day(day)
