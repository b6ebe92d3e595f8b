"""SLA clocks of a case, in working days or natural days. Pure module: a calendar and instants in,
numbers out.

Rules (行政许可法 第八十二条: limits in working days without statutory holidays; 民法典 第二百零一条:
the day an act happens is not counted; 民法典 第二百零三条: a natural-day period whose last day is a
day off ends on the first working day after it):

- The clock starts on acceptance; the acceptance day is day 0, the limit ends at the last moment of the
  N-th working day after it (``WorkingDayCalendar.deadline``).
- A pause (补正, 特殊环节: 行政许可法 第四十五条) does not consume the limit. Time is counted in whole
  working days, so a working day counts as used when the case was running at any moment of it, and
  the deadline moves by one working day for every working day the case was paused from its first to
  its last moment. A case paused Friday 17:00 and resumed Monday 09:00 ran on Friday and on Monday:
  it has lost nothing and its deadline does not move.
- A natural-day limit (some guides set 自然日) runs the same way over natural days: every day fully
  paused moves the deadline by one day, and the last day is moved past a day off.
- An approved extension (行政许可法 第四十二条: once, by the head of the agency, the reason told to the
  applicant) adds its working days to the limit; the state keeps them apart (``extension_days``) so the
  deadline can be shown as "20 + 10".
- A finished case (decided, or closed) has a stopped clock: the time it used, the deadline and whether
  it was met; nothing counts down any more.
- A clock whose span crosses a year whose holiday notice is not loaded is provisional
  (``provisional_years``): it is shown as 暂定 and recomputed when the notice arrives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from yuexiu.core.workdays import WorkingDayCalendar, end_of_local_day, local_date, provisional_note


@dataclass(frozen=True)
class Pause:
    """A stopped interval of the clock; ``end`` is ``None`` while the case is still paused."""

    start: datetime
    end: datetime | None = None


WORKING_DAYS = "working_days"
NATURAL_DAYS = "natural_days"


@dataclass(frozen=True)
class ClockState:
    """The clock of one limit at an instant.

    ``deadline``: aware UTC instant, moved by fully paused days (an ongoing pause counts up to
    ``now``); ``used_days`` / ``left_days``: days in ``unit`` (``working_days`` or ``natural_days``;
    ``left_days`` is negative when overdue); ``paused_days``: days fully paused; ``is_paused``: a pause is
    open; ``is_finished``: the case is decided and the clock stopped at that instant (``left_days`` is
    then what was left when it stopped); ``provisional_years``: years without their holiday notice that
    the deadline depends on; ``limit_days``: the limit without the extension; ``extension_days``: days
    added by an approved extension (already in ``deadline``).
    """

    deadline: datetime
    used_days: int
    left_days: int
    paused_days: int
    is_paused: bool
    unit: str = WORKING_DAYS
    is_finished: bool = False
    provisional_years: tuple[int, ...] = ()
    limit_days: int = 0
    extension_days: int = 0

    @property
    def is_extended(self) -> bool:
        return self.extension_days > 0

    @property
    def is_provisional(self) -> bool:
        return bool(self.provisional_years)

    @property
    def is_natural_days(self) -> bool:
        return self.unit == NATURAL_DAYS

    @property
    def provisional_note(self) -> str:
        """The Chinese explanation shown beside a provisional deadline, "" otherwise."""
        return provisional_note(self.provisional_years)

    @property
    def is_overdue(self) -> bool:
        return self.left_days < 0

    @property
    def overdue_days(self) -> int:
        return max(-self.left_days, 0)


def fully_paused_working_days(calendar: WorkingDayCalendar, pauses: Sequence[Pause], now: datetime) -> list[date]:
    """The working days (local dates) on which the case was paused from 00:00 to 24:00, up to ``now``."""
    return [day for day in fully_paused_days(pauses, now) if calendar.is_working_day(day)]


def fully_paused_days(pauses: Sequence[Pause], now: datetime) -> list[date]:
    """The local dates on which the case was paused from 00:00 to 24:00, up to ``now``, sorted."""
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
    finished_at: datetime | None = None,
    unit: str = WORKING_DAYS,
    extension_days: int = 0,
) -> ClockState:
    """The state of a limit of ``limit_days`` days in ``unit`` started at ``started_at``, at ``now``,
    extended by ``extension_days`` days in the same unit (an approved extension; 0 for none).

    ``started_at`` and ``now`` are aware instants; with ``finished_at`` (the decision) the clock is read
    at that instant and marked finished. Working days: a 0-day limit (即办件) started on a day off ends
    on the next working day. Natural days: every day fully paused moves the end by one day, and an end on
    a day off moves to the next working day (民法典 第二百零三条). Raises ``CalendarError``.
    """
    now = finished_at or now
    if unit == NATURAL_DAYS:
        paused = fully_paused_days(pauses, now)
        last_day, count = calendar.natural_last_day, _natural_days_between
    else:
        paused = fully_paused_working_days(calendar, pauses, now)
        last_day, count = calendar.last_day, calendar.count_working_days
    start_day = local_date(started_at)
    deadline_day = last_day(start_day, limit_days + extension_days + len(paused))
    today = local_date(now)
    elapsed = count(start_day, today) if today > start_day else 0
    used = max(elapsed - sum(1 for day in paused if start_day < day <= today), 0)
    if now > end_of_local_day(deadline_day):
        left = min(-count(deadline_day, today), -1)
    else:
        left = count(today, deadline_day) if deadline_day > today else 0
    return ClockState(
        deadline=end_of_local_day(deadline_day),
        used_days=used,
        left_days=left,
        paused_days=len(paused),
        is_paused=finished_at is None and any(pause.end is None for pause in pauses),
        unit=unit,
        is_finished=finished_at is not None,
        provisional_years=tuple(calendar.provisional_years(start_day, deadline_day)),
        limit_days=limit_days,
        extension_days=extension_days,
    )


def _natural_days_between(start: date, end: date) -> int:
    return (end - start).days


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


def limit_of(content: dict[str, object], kind: str) -> tuple[int, str] | None:
    """The ``(days, unit)`` of a guide's ``promised_limit`` or ``statutory_limit`` (``kind``), or None
    when the guide sets none or sets it in another unit. ``unit`` is ``working_days`` or ``natural_days``."""
    limit = content.get(kind)
    if not isinstance(limit, dict) or limit.get("unit") not in (WORKING_DAYS, NATURAL_DAYS):
        return None
    try:
        return int(limit["value"]), str(limit["unit"])
    except (KeyError, TypeError, ValueError):
        return None
