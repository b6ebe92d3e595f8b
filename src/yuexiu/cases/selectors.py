"""Reads of cases: an applicant sees only their own cases, staff only their organisations' (the
department that handles a case or the window that took it in)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from yuexiu.cases.bundle_clock import SubCaseSpan, bundle_clock_state
from yuexiu.cases.clock import NATURAL_DAYS, ClockState, Pause, clock_state, limit_of
from yuexiu.cases.models import (
    OPEN_STATUSES,
    BundleCase,
    Case,
    CasePause,
    CaseStatus,
    DeadlineExtension,
    ExtensionStatus,
)
from yuexiu.catalog import selectors as catalog_selectors
from yuexiu.core import audit, rules
from yuexiu.core.calendar import get_calendar
from yuexiu.core.errors import NotFound
from yuexiu.core.models import AccountType, Role, User
from yuexiu.core.selectors import visible_organisation_ids
from yuexiu.core.services import has_role
from yuexiu.core.workdays import WorkingDayCalendar, local_date


def _cases() -> QuerySet[Case]:
    return Case.objects.select_related("item", "organisation", "intake_organisation", "guide_version")


def list_my_cases(user: User) -> QuerySet[Case]:
    """The cases a citizen or enterprise user applied for, newest first."""
    return _cases().filter(applicant=user).order_by("-submitted_at", "-id")


# Staff roles that work with cases. The three administrators (三员分立) run the system and see no
# applicant's case.
CASE_ROLES = (Role.WINDOW_OFFICER, Role.APPROVER, Role.SUPERVISOR, Role.INTEGRITY_SUPERVISOR)


def works_with_cases(user: User) -> bool:
    return user.account_type == AccountType.STAFF and has_role(user, *CASE_ROLES)


def list_staff_cases(user: User, *, status: str = "", open_only: bool = True) -> QuerySet[Case]:
    """Cases of the organisations ``user`` may see (handling department or intake window), the
    ones closest to their deadline first (cases without a running clock last). Empty for accounts
    without a case role (``CASE_ROLES``)."""
    if not works_with_cases(user):
        return Case.objects.none()
    cases = _cases()
    visible = visible_organisation_ids(user)
    if visible is not None:
        cases = cases.filter(Q(organisation_id__in=visible) | Q(intake_organisation_id__in=visible))
    if status:
        cases = cases.filter(status=status)
    elif open_only:
        cases = cases.filter(status__in=OPEN_STATUSES)
    return cases.order_by(F("due_at").asc(nulls_last=True), "submitted_at", "id")


def overdue(cases: QuerySet[Case], now: datetime | None = None) -> QuerySet[Case]:
    """The cases whose running clock has passed its deadline (promised, or statutory without one).
    Paused and decided cases are not running."""
    now = now or timezone.now()
    return cases.filter(status=CaseStatus.ACCEPTED).filter(
        Q(promised_deadline__lt=now) | Q(promised_deadline__isnull=True, statutory_deadline__lt=now)
    )


def access_case(user: User, number: str) -> Case:
    """A case for its applicant or for staff of its organisations; ``NotFound`` for everyone else, so
    a guessed number tells nothing (someone else's case is recorded as a security event:
    ``audit.concealed``)."""
    case = (
        _cases()
        .prefetch_related(
            "pauses", "events__actor", "attachments", "extensions__requested_by", "extensions__decided_by"
        )
        .filter(number=number)
        .first()
    )
    if case is None:
        raise NotFound("未找到该办件。")
    if user.is_authenticated and case.applicant_id == user.pk:
        return case
    if user.is_authenticated and works_with_cases(user):
        visible = visible_organisation_ids(user)
        if visible is None or case.organisation_id in visible or case.intake_organisation_id in visible:
            return case
    raise audit.concealed(case, "未找到该办件。")


DECIDED = (CaseStatus.APPROVED, CaseStatus.REFUSED, CaseStatus.DECLINED, CaseStatus.DELIVERED, CaseStatus.CLOSED)


@dataclass(frozen=True)
class CaseClocks:
    promised: ClockState | None
    statutory: ClockState | None
    service: ClockState | None = None


def case_clocks(case: Case, now: datetime | None = None, calendar: WorkingDayCalendar | None = None) -> CaseClocks:
    """Time used and left on the promised and statutory limits, in the unit the guide sets them
    (working days, or natural days), or ``None`` for a limit the guide does not set, or before
    acceptance. A decided case's clocks are stopped at its decision (``is_finished``). The statutory
    clock includes an approved extension (``extension_days``, 行政许可法 第四十二条). ``service``: an
    approved licence's 送达 clock, ``service_limit_days`` working days from the decision (第四十四条),
    stopped when the result is delivered; ``None`` otherwise."""
    if case.accepted_at is None:
        return CaseClocks(None, None)
    finished_at = (case.decided_at or case.closed_at) if case.status in DECIDED else None
    now = now or timezone.now()
    calendar = calendar or get_calendar()  # a list passes one calendar for all its rows
    pauses = [Pause(start=pause.started_at, end=pause.ended_at) for pause in case.pauses.all()]
    content = case.guide_version.content

    def state(days: int | None, kind: str, extension: int = 0) -> ClockState | None:
        arguments = {"started_at": case.accepted_at, "pauses": pauses, "now": now, "finished_at": finished_at}
        if days is not None:
            return clock_state(calendar, limit_days=days, extension_days=extension, **arguments)  # type: ignore[arg-type]
        limit = limit_of(content, kind)
        if limit is not None and limit[1] == NATURAL_DAYS:
            return clock_state(calendar, limit_days=limit[0], unit=NATURAL_DAYS, **arguments)  # type: ignore[arg-type]
        return None

    service = None
    if case.decided_at is not None and case.service_limit_days is not None:
        service = clock_state(
            calendar,
            started_at=case.decided_at,
            limit_days=case.service_limit_days,
            pauses=[],
            now=now,
            finished_at=case.delivered_at,
        )
    return CaseClocks(
        promised=state(case.promised_limit_days, "promised_limit"),
        statutory=state(case.statutory_limit_days, "statutory_limit", case.statutory_extension_days),
        service=service,
    )


def approved_extension(case: Case | BundleCase) -> DeadlineExtension | None:
    """The approved extension of a case or a 一件事 application (at most one), or ``None``."""
    return next((item for item in case.extensions.all() if item.status == ExtensionStatus.APPROVED), None)


def list_extensions(case: Case | BundleCase) -> list[DeadlineExtension]:
    """Every extension request of a case or a 一件事 application, oldest first (staff pages)."""
    return sorted(case.extensions.all(), key=lambda item: (item.requested_at, item.pk))


# ---- 一件事 ---------------------------------------------------------------------------------------

FINISHED = (CaseStatus.CLOSED, CaseStatus.DECLINED)


@dataclass(frozen=True)
class BundleProgress:
    """A bundle application as its applicant sees it: one status, one clock, one correction notice.

    ``limit_text``: the promise as applied to this application (``最快 5 个工作日（制卡、邮寄时间不计入）``,
    or that the limit is not yet known); ``rows``: each sub-case with the note on the steps of it that
    the promise does not count (``""`` for most)."""

    status: str
    status_label: str
    sub_cases: list[Case]
    decided: int
    clock: ClockState | None
    open_pause: CasePause | None
    # 行政许可法 第四十二条第二款: joint handling of licences ends within 45 working days (+15 once).
    statutory_clock: ClockState | None = None
    limit_text: str = ""
    rows: tuple[tuple[Case, str], ...] = ()


def bundle_progress(bundle_case: BundleCase, now: datetime | None = None) -> BundleProgress:
    """Status and clock derived from the sub-cases.

    Status: 待补正 if any sub-case awaits a correction; 已办结 when all are closed or declined; 待送达
    when all are decided; 已提交 while none is accepted; otherwise 办理中. Clock: the promised limit
    fixed at submission (working days), run by ``cases.bundle_clock``: from the first acceptance to the
    last decision, while at least one sub-case is being handled, so 补正 of the whole application,
    制卡 (the card item's special procedure) and 邮寄 (after the decisions) are not counted.
    """
    cases = list(bundle_case.sub_cases.select_related("item", "organisation").prefetch_related("pauses").order_by("id"))
    statuses = [case.status for case in cases]
    if CaseStatus.CORRECTION_REQUESTED in statuses:
        status, label = "correction_requested", "待补正"
    elif all(value in FINISHED for value in statuses):
        status, label = "closed", "已办结"
    elif all(value in DECIDED for value in statuses):
        status, label = "decided", "待送达"
    elif all(value == CaseStatus.SUBMITTED for value in statuses):
        status, label = "submitted", "已提交"
    else:
        status, label = "in_progress", "办理中"
    open_pause = next(
        (
            pause
            for case in cases
            for pause in case.pauses.all()
            if pause.ended_at is None and pause.kind == "correction"
        ),
        None,
    )
    clock = None
    if bundle_case.promised_limit_days is not None:
        spans = [
            SubCaseSpan(
                accepted_at=case.accepted_at,
                decided_at=case.decided_at,
                pauses=[Pause(start=pause.started_at, end=pause.ended_at) for pause in case.pauses.all()],
            )
            for case in cases
            if case.status != CaseStatus.DECLINED
        ]
        clock = bundle_clock_state(
            get_calendar(), spans=spans, limit_days=bundle_case.promised_limit_days, now=now or timezone.now()
        )
    # The promise as it stood when the application was made (a dated flow may have changed since); its
    # number of days is the one fixed on the application.
    promise = catalog_selectors.bundle_promise(bundle_case.bundle, on=local_date(bundle_case.submitted_at))
    promise = replace(promise, days=bundle_case.promised_limit_days)
    return BundleProgress(
        status=status,
        status_label=label,
        sub_cases=cases,
        decided=sum(1 for value in statuses if value in DECIDED),
        clock=clock,
        open_pause=open_pause,
        limit_text=promise.text,
        rows=tuple((case, _excluded_step_note(case, promise.excluded_steps_of(case.item.name))) for case in cases),
        statutory_clock=joint_handling_clock(bundle_case, cases, status, now or timezone.now()),
    )


LICENCE_JOINT_HANDLING_LIMIT = "workdays.licence_joint_handling_limit"


def is_joint_licensing(cases: list[Case]) -> bool:
    """Whether a 一件事 application is the joint handling of licences (统一办理、联合办理、集中办理,
    行政许可法 第二十六条): at least one of its items is a 行政许可 (``catalog.selectors.is_licensing_item``)."""
    return any(catalog_selectors.is_licensing_item(case.item) for case in cases)


def joint_handling_clock(bundle_case: BundleCase, cases: list[Case], status: str, now: datetime) -> ClockState | None:
    """The statutory clock of a 一件事 application that handles licences jointly: the limit
    ``workdays.licence_joint_handling_limit`` (45 working days, 行政许可法 第四十二条第二款, the row in
    force on the first acceptance) from the first acceptance, plus an approved joint extension (15),
    stopped on working days a sub-case was fully paused and when every item is decided. ``None`` before
    acceptance or when no item is a licence. ``cases``: the sub-cases with ``item`` and ``pauses``."""
    accepted = [case.accepted_at for case in cases if case.accepted_at is not None]
    if not accepted or not is_joint_licensing(cases):
        return None
    start = min(accepted)
    finished = [case.closed_at or case.decided_at for case in cases]
    end = max(finished) if status in ("closed", "decided") and all(finished) else None  # type: ignore[type-var]
    extension = approved_extension(bundle_case)
    return clock_state(
        get_calendar(),
        started_at=start,
        limit_days=int(rules.get_rule_value(LICENCE_JOINT_HANDLING_LIMIT, local_date(start))),
        extension_days=extension.days if extension else 0,
        pauses=[Pause(start=pause.started_at, end=pause.ended_at) for case in cases for pause in case.pauses.all()],
        now=now,
        finished_at=end,
    )


@dataclass(frozen=True)
class ExcludedSteps:
    """Steps of a 一件事 sub-case its bundle's promise does not count (制卡), with the wording a
    special procedure for them is recorded under."""

    labels: list[str]
    bundle_name: str
    legal_basis: str

    @property
    def name(self) -> str:
        return "、".join(self.labels)


def excluded_bundle_steps(case: Case) -> ExcludedSteps | None:
    """For a sub-case whose item has steps its bundle's promise leaves out (社会保障卡申领 in
    新生儿出生一件事: 制卡), those steps; ``None`` otherwise."""
    if case.bundle_case_id is None:
        return None
    bundle = case.bundle_case.bundle  # type: ignore[union-attr]
    labels = catalog_selectors.bundle_promise(bundle, on=local_date(case.submitted_at)).excluded_steps_of(
        case.item.name
    )
    if not labels:
        return None
    return ExcludedSteps(
        labels=labels,
        bundle_name=bundle.name,
        legal_basis=f"{bundle.name}整体承诺时限不计入{'、'.join(labels)}时间",
    )


def _excluded_step_note(case: Case, labels: list[str]) -> str:
    """What a sub-case row says about its steps the bundle promise leaves out (制卡)."""
    if not labels:
        return ""
    names = "、".join(labels)
    running = next((pause for pause in case.pauses.all() if pause.ended_at is None and pause.name in labels), None)
    if running is not None:
        return f"{running.name}中，不计入整体时限"
    return f"{names}时间不计入整体时限"


def list_my_bundle_cases(user: User) -> QuerySet[BundleCase]:
    return BundleCase.objects.filter(applicant=user).select_related("bundle").order_by("-submitted_at", "-id")


def access_bundle_case(user: User, number: str) -> BundleCase:
    """A bundle application for its applicant, or for staff who may see at least one of its sub-cases."""
    bundle_case = (
        BundleCase.objects.select_related("bundle")
        .prefetch_related("extensions__requested_by", "extensions__decided_by")
        .filter(number=number)
        .first()
    )
    if bundle_case is None:
        raise NotFound("未找到该一件事办件。")
    if user.is_authenticated and bundle_case.applicant_id == user.pk:
        return bundle_case
    if (
        user.is_authenticated
        and user.account_type == AccountType.STAFF
        and list_staff_cases(user, open_only=False).filter(bundle_case=bundle_case).exists()
    ):
        return bundle_case
    raise audit.concealed(bundle_case, "未找到该一件事办件。")
