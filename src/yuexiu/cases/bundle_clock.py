"""The clock of a 一件事 application: one promised limit over all its sub-cases. Pure module: a
calendar, instants and the sub-cases' spans in, a ``ClockState`` out.

A bundle promise counts the time the application is being handled, not each department's time
separately (新生儿出生一件事: "最快 5 个工作日，制卡和邮寄时间不计入", one-thing-2024.yaml):

- It starts at the first acceptance of a sub-case and stops at the last decision (准予 or 不予办理).
  Delivery comes after the decisions, so 邮寄 (the post) is never counted.
- A sub-case runs from its acceptance to its decision, except while it is paused: a correction
  request (补正) or a special procedure (特殊环节). 制卡 (making the social security card) is
  recorded as the card item's special procedure and so does not run the clock.
- The bundle's clock runs while at least one sub-case runs. The stretches when none runs (every open
  sub-case waits for the applicant's correction, or only the card is being made) are the bundle's
  pauses; ``clock.clock_state`` then counts whole working days as it does for one case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from yuexiu.cases.clock import ClockState, Pause, clock_state
from yuexiu.core.workdays import WorkingDayCalendar


@dataclass(frozen=True)
class SubCaseSpan:
    """One sub-case as the bundle clock sees it: accepted (``None``: not yet), decided (``None``: not
    yet) and its pauses (补正, 特殊环节 such as 制卡)."""

    accepted_at: datetime | None
    decided_at: datetime | None
    pauses: Sequence[Pause] = ()


Interval = tuple[datetime, datetime]


def _minus(interval: Interval, cut: Interval) -> list[Interval]:
    start, end = interval
    cut_start, cut_end = cut
    if cut_end <= start or cut_start >= end:
        return [interval]
    return [part for part in ((start, cut_start), (cut_end, end)) if part[1] > part[0]]


def running_intervals(spans: Sequence[SubCaseSpan], until: datetime) -> list[Interval]:
    """The stretches up to ``until`` in which at least one sub-case was running, merged and sorted."""
    pieces: list[Interval] = []
    for span in spans:
        if span.accepted_at is None or span.accepted_at >= until:
            continue
        parts = [(span.accepted_at, min(span.decided_at or until, until))]
        for pause in span.pauses:
            cut = (pause.start, pause.end or until)
            parts = [part for piece in parts for part in _minus(piece, cut)]
        pieces.extend(part for part in parts if part[1] > part[0])
    merged: list[Interval] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def idle_pauses(spans: Sequence[SubCaseSpan], *, started_at: datetime, until: datetime) -> list[Pause]:
    """The stretches from ``started_at`` to ``until`` in which no sub-case ran, as pauses of the bundle
    clock; the last one is open (``end=None``) when nothing runs at ``until``."""
    gaps: list[Pause] = []
    cursor = started_at
    for start, end in running_intervals(spans, until):
        if start > cursor:
            gaps.append(Pause(start=cursor, end=start))
        cursor = max(cursor, end)
    if cursor < until:
        gaps.append(Pause(start=cursor, end=None))
    return gaps


def bundle_clock_state(
    calendar: WorkingDayCalendar,
    *,
    spans: Sequence[SubCaseSpan],
    limit_days: int,
    now: datetime,
) -> ClockState | None:
    """The bundle's clock at ``now`` for a promised limit of ``limit_days`` working days, or ``None``
    while no sub-case is accepted. Finished (stopped at the last decision) once every sub-case that was
    accepted is decided and none awaits acceptance. Raises ``CalendarError``."""
    accepted = [span.accepted_at for span in spans if span.accepted_at is not None]
    if not accepted:
        return None
    started_at = min(accepted)
    finished = all(span.accepted_at is not None and span.decided_at is not None for span in spans)
    finished_at = max(span.decided_at for span in spans if span.decided_at is not None) if finished else None
    until = finished_at or now
    pauses = idle_pauses(spans, started_at=started_at, until=until)
    if finished_at is not None:
        pauses = [pause if pause.end is not None else Pause(start=pause.start, end=finished_at) for pause in pauses]
    return clock_state(
        calendar, started_at=started_at, limit_days=limit_days, pauses=pauses, now=now, finished_at=finished_at
    )
