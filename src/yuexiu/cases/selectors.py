"""Reads of cases: an applicant sees only their own cases, staff only their organisations' (the
department that handles a case or the window that took it in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from yuexiu.cases.clock import ClockState, Pause, clock_state
from yuexiu.cases.models import OPEN_STATUSES, Case, CaseStatus
from yuexiu.core.calendar import get_calendar
from yuexiu.core.errors import NotFound
from yuexiu.core.models import AccountType, User
from yuexiu.core.selectors import visible_organisation_ids


def _cases() -> QuerySet[Case]:
    return Case.objects.select_related("item", "organisation", "intake_organisation", "guide_version")


def list_my_cases(user: User) -> QuerySet[Case]:
    """The cases a citizen or enterprise user applied for, newest first."""
    return _cases().filter(applicant=user).order_by("-submitted_at", "-id")


def list_staff_cases(user: User, *, status: str = "", open_only: bool = True) -> QuerySet[Case]:
    """Cases of the organisations ``user`` may see (handling department or intake window), the
    ones closest to their promised deadline first (cases without a running clock last)."""
    if user.account_type != AccountType.STAFF:
        return Case.objects.none()
    cases = _cases()
    visible = visible_organisation_ids(user)
    if visible is not None:
        cases = cases.filter(Q(organisation_id__in=visible) | Q(intake_organisation_id__in=visible))
    if status:
        cases = cases.filter(status=status)
    elif open_only:
        cases = cases.filter(status__in=OPEN_STATUSES)
    return cases.order_by(F("promised_deadline").asc(nulls_last=True), "submitted_at", "id")


def overdue(cases: QuerySet[Case], now: datetime | None = None) -> QuerySet[Case]:
    """The cases whose running clock has passed its deadline (promised, or statutory without one).
    Paused and decided cases are not running."""
    now = now or timezone.now()
    return cases.filter(status=CaseStatus.ACCEPTED).filter(
        Q(promised_deadline__lt=now) | Q(promised_deadline__isnull=True, statutory_deadline__lt=now)
    )


def access_case(user: User, number: str) -> Case:
    """A case for its applicant or for staff of its organisations; ``NotFound`` for everyone else, so
    a guessed number tells nothing."""
    case = _cases().prefetch_related("pauses", "events__actor", "attachments").filter(number=number).first()
    if case is None or not user.is_authenticated:
        raise NotFound("未找到该办件。")
    if case.applicant_id == user.pk:
        return case
    if user.account_type == AccountType.STAFF:
        visible = visible_organisation_ids(user)
        if visible is None or case.organisation_id in visible or case.intake_organisation_id in visible:
            return case
    raise NotFound("未找到该办件。")


@dataclass(frozen=True)
class CaseClocks:
    promised: ClockState | None
    statutory: ClockState | None


def case_clocks(case: Case, now: datetime | None = None) -> CaseClocks:
    """Time used and left on the promised and statutory limits (working days), or ``None`` for a
    limit the guide does not set in working days, or before acceptance."""
    if case.accepted_at is None:
        return CaseClocks(None, None)
    now = now or case.decided_at or case.closed_at or timezone.now()
    calendar = get_calendar()
    pauses = [Pause(start=pause.started_at, end=pause.ended_at) for pause in case.pauses.all()]

    def state(days: int | None) -> ClockState | None:
        if days is None:
            return None
        return clock_state(calendar, started_at=case.accepted_at, limit_days=days, pauses=pauses, now=now)  # type: ignore[arg-type]

    return CaseClocks(promised=state(case.promised_limit_days), statutory=state(case.statutory_limit_days))
