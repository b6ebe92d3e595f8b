"""JSON API of cases: an applicant sees only their own cases, staff only their organisations'."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.security import django_auth

from yuexiu.cases import selectors
from yuexiu.cases.clock import ClockState
from yuexiu.cases.models import Case, DeadlineExtension
from yuexiu.core import identity
from yuexiu.core.api import AUTH_ERRORS, ErrorOut, PageIn
from yuexiu.core.calendar import get_calendar
from yuexiu.core.models import AccountType, User
from yuexiu.core.pagination import paginate

router = Router(tags=["办件"])


class ClockOut(Schema):
    deadline: datetime = Field(description="期限届满时刻（最后一日北京时间 24 时，以 UTC 表示）")
    unit: Literal["working_days", "natural_days"] = Field(description="时限单位：工作日或自然日")
    used_days: int = Field(description="已用天数（按 unit）")
    left_days: int = Field(description="剩余天数（按 unit；超期为负数；已办结时为办结时的剩余）")
    paused_days: int = Field(description="整日暂停计时的天数（按 unit）")
    is_paused: bool
    is_overdue: bool
    is_finished: bool = Field(description="已作出决定，计时已停止")
    limit_days: int = Field(description="时限天数（按 unit，不含延长）")
    extension_days: int = Field(description="经批准延长的天数（行政许可法第四十二条，已计入 deadline；未延长为 0）")
    is_provisional: bool = Field(description="期限所跨年度的国务院节假日安排通知尚未导入，按法定节假日推算")
    provisional_note: str = Field(description="暂定时的中文说明；否则为空字符串")
    used_working_days: int | None = Field(description="同 used_days，仅工作日时限（兼容旧版）")
    left_working_days: int | None = Field(description="同 left_days，仅工作日时限（兼容旧版）")
    paused_working_days: int | None = Field(description="同 paused_days，仅工作日时限（兼容旧版）")


class ExtensionOut(Schema):
    days: int = Field(description="延长的工作日数")
    reason: str = Field(description="延长理由（已告知申请人）")
    legal_basis: str
    approved_at: datetime | None
    deadline_before: datetime | None = Field(description="延长前的法定期限")
    deadline_after: datetime | None = Field(description="延长后的法定期限")

    @staticmethod
    def resolve_approved_at(obj: DeadlineExtension) -> datetime | None:
        return obj.decided_at


class CaseOut(Schema):
    number: str
    item_slug: str
    item_name: str
    guide_version: int
    organisation_code: str
    status: str
    status_label: str
    channel: str
    applicant_name: str
    applicant_id_number_masked: str
    submitted_at: datetime
    accepted_at: datetime | None
    promised_clock: ClockOut | None
    statutory_clock: ClockOut | None = Field(description="法定时限；行政许可事项按行政许可法第四十二条，含经批准的延长")
    statutory_extension: ExtensionOut | None = Field(description="经批准的延长审批期限（行政许可法第四十二条）")
    service_clock: ClockOut | None = Field(
        description="送达时限：准予行政许可后颁发、送达证件的期限（行政许可法第四十四条），自决定起算，送达即停止"
    )

    @staticmethod
    def resolve_item_slug(obj: Case) -> str:
        return obj.item.slug

    @staticmethod
    def resolve_item_name(obj: Case) -> str:
        return obj.item.name

    @staticmethod
    def resolve_guide_version(obj: Case) -> int:
        return obj.guide_version.number

    @staticmethod
    def resolve_organisation_code(obj: Case) -> str:
        return obj.organisation.code

    @staticmethod
    def resolve_status_label(obj: Case) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_applicant_id_number_masked(obj: Case) -> str:
        return identity.mask_id_number(obj.applicant_id_number)

    @staticmethod
    def resolve_promised_clock(obj: Case) -> dict[str, object] | None:
        return _clock(_clocks(obj).promised)

    @staticmethod
    def resolve_statutory_clock(obj: Case) -> dict[str, object] | None:
        return _clock(_clocks(obj).statutory)

    @staticmethod
    def resolve_statutory_extension(obj: Case) -> DeadlineExtension | None:
        return selectors.approved_extension(obj)

    @staticmethod
    def resolve_service_clock(obj: Case) -> dict[str, object] | None:
        return _clock(_clocks(obj).service)


class CasePage(Schema):
    count: int
    items: list[CaseOut]


class CaseFilter(PageIn):
    status: str | None = Field(None, max_length=24, description="状态，如 accepted")


def _clocks(case: Case) -> selectors.CaseClocks:
    """Both clocks of a case, computed once per serialised case (two fields read them)."""
    if not hasattr(case, "_clocks"):
        case._clocks = selectors.case_clocks(case)  # type: ignore[attr-defined]
    return case._clocks  # type: ignore[attr-defined]


def _clock(state: ClockState | None) -> dict[str, object] | None:
    if state is None:
        return None
    working = not state.is_natural_days
    return {
        "deadline": state.deadline,
        "unit": state.unit,
        "used_days": state.used_days,
        "left_days": state.left_days,
        "paused_days": state.paused_days,
        "is_paused": state.is_paused,
        "is_overdue": state.is_overdue,
        "is_finished": state.is_finished,
        "limit_days": state.limit_days,
        "extension_days": state.extension_days,
        "is_provisional": state.is_provisional,
        "provisional_note": state.provisional_note,
        "used_working_days": state.used_days if working else None,
        "left_working_days": state.left_days if working else None,
        "paused_working_days": state.paused_days if working else None,
    }


@router.get("/cases", response={200: CasePage, **AUTH_ERRORS}, auth=django_auth, summary="办件列表（本人或本单位）")
def list_cases(request: HttpRequest, filters: Query[CaseFilter]) -> dict[str, object]:
    user: User = request.user  # type: ignore[assignment]  # django_auth
    if user.account_type == AccountType.STAFF:
        cases = selectors.list_staff_cases(user, status=filters.status or "", open_only=False)
    else:
        cases = selectors.list_my_cases(user)
        if filters.status:
            cases = cases.filter(status=filters.status)
    page = paginate(cases.prefetch_related("pauses", "extensions"), filters)
    calendar = get_calendar()  # one calendar for the page: each year's holidays read once, not per case
    for case in page["items"]:
        case._clocks = selectors.case_clocks(case, calendar=calendar)
    return page


@router.get(
    "/cases/{number}",
    response={200: CaseOut, 404: ErrorOut, **AUTH_ERRORS},
    auth=django_auth,
    summary="办件详情（含时限）",
)
def get_case(request: HttpRequest, number: str) -> Case:
    return selectors.access_case(request.user, number[:32])  # type: ignore[arg-type]  # django_auth
