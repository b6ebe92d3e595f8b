"""Reads of supervision, scoped: staff see their organisations' alerts and orders; supervisors and
integrity supervisors see the district."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from yuexiu.cases import selectors as case_selectors
from yuexiu.cases.clock import Pause, clock_state
from yuexiu.cases.models import OPEN_STATUSES
from yuexiu.core.calendar import get_calendar
from yuexiu.core.models import Organisation, User
from yuexiu.core.selectors import scope_to_user
from yuexiu.supervision.models import Alert, OrderStatus, SupervisionOrder


def list_alerts(user: User) -> QuerySet[Alert]:
    return scope_to_user(Alert.objects.select_related("case__item", "organisation"), user).order_by("-fired_at", "-id")


def list_orders(user: User, *, open_only: bool = False) -> QuerySet[SupervisionOrder]:
    orders = scope_to_user(SupervisionOrder.objects.select_related("organisation", "case", "alert"), user)
    if open_only:
        orders = orders.exclude(status=OrderStatus.CLOSED)
    return orders.order_by("status", "due_at", "id")


@dataclass
class DepartmentFigures:
    organisation: Organisation
    decided: int = 0
    on_time: int = 0
    working_days: int = 0
    open_cases: int = 0
    overdue: int = 0
    open_alerts: int = 0
    open_orders: int = 0

    @property
    def on_time_rate(self) -> float | None:
        """按时办结率: decided on or before the deadline, over decided cases with a deadline (0–1)."""
        return self.on_time / self.decided if self.decided else None

    @property
    def average_working_days(self) -> float | None:
        return self.working_days / self.decided if self.decided else None


def department_figures(user: User, *, since: datetime) -> list[DepartmentFigures]:
    """Per department the viewer may see: cases decided since ``since`` (on-time rate, average working
    days from acceptance to decision, paused days excluded), open and overdue cases, open alerts and
    orders. Working days come from the platform calendar (``cases.clock``)."""
    calendar = get_calendar()
    figures: dict[int, DepartmentFigures] = {}

    def entry(organisation: Organisation) -> DepartmentFigures:
        return figures.setdefault(organisation.pk, DepartmentFigures(organisation=organisation))

    cases = case_selectors.list_staff_cases(user, open_only=False).select_related("organisation")
    decided = cases.filter(decided_at__gte=since, accepted_at__isnull=False, due_at__isnull=False).prefetch_related(
        "pauses"
    )
    for case in decided:
        row = entry(case.organisation)
        row.decided += 1
        row.on_time += case.decided_at <= case.due_at  # type: ignore[operator]
        limit = case.promised_limit_days if case.promised_limit_days is not None else case.statutory_limit_days
        pauses = [Pause(start=pause.started_at, end=pause.ended_at) for pause in case.pauses.all()]
        state = clock_state(
            calendar, started_at=case.accepted_at, limit_days=limit or 0, pauses=pauses, now=case.decided_at
        )  # type: ignore[arg-type]
        row.working_days += state.used_days
    for row_organisation, open_count in _counts(cases.filter(status__in=OPEN_STATUSES)):
        entry(row_organisation).open_cases = open_count
    for row_organisation, overdue_count in _counts(case_selectors.overdue(cases)):
        entry(row_organisation).overdue = overdue_count
    for row_organisation, alert_count in _counts(list_alerts(user).filter(case__status__in=OPEN_STATUSES)):
        entry(row_organisation).open_alerts = alert_count
    for row_organisation, order_count in _counts(list_orders(user, open_only=True)):
        entry(row_organisation).open_orders = order_count
    return sorted(figures.values(), key=lambda row: (row.organisation.sort_order, row.organisation.code))


def _counts(queryset: QuerySet) -> list[tuple[Organisation, int]]:  # type: ignore[type-arg]
    rows = queryset.order_by().values("organisation").annotate(count=Count("id"))
    organisations = Organisation.objects.in_bulk([row["organisation"] for row in rows])
    return [(organisations[row["organisation"]], row["count"]) for row in rows]
