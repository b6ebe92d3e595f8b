"""JSON API of the core domain: organisations, the working-day calendar, the caller's profile, audit log."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from ipaddress import IPv4Address, IPv6Address
from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.security import django_auth
from pydantic import BeforeValidator

from yuexiu.core import calendar, selectors
from yuexiu.core.errors import DomainError
from yuexiu.core.models import AuditEvent, Organisation, User
from yuexiu.core.pagination import paginate
from yuexiu.core.text_limits import TextLimit, api_text
from yuexiu.core.workdays import MAX_WORKING_DAYS, WorkingDayCalendar, end_of_local_day

router = Router()


class ErrorOut(Schema):
    code: str
    message: str
    details: dict[str, object] = {}


ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
AUTH_ERRORS = {401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class PageIn(Schema):
    limit: int = Field(20, ge=1, le=100, description="每页条数，1–100")
    offset: int = Field(0, ge=0, le=1_000_000, description="跳过的条数")


class OrganisationOut(Schema):
    code: str
    name: str
    short_name: str
    kind: str
    kind_label: str
    parent_code: str

    @staticmethod
    def resolve_kind_label(obj: Organisation) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_parent_code(obj: Organisation) -> str:
        return obj.parent.code if obj.parent else obj.parent_code


class OrganisationDetailOut(OrganisationOut):
    responsibilities: str
    address: str
    service_phone: str
    source: str
    children: list[OrganisationOut]

    @staticmethod
    def resolve_children(obj: Organisation) -> list[Organisation]:
        return list(obj.children.filter(is_active=True).order_by("sort_order", "code"))


class OrganisationPage(Schema):
    count: int
    items: list[OrganisationOut]


class OrganisationFilter(PageIn):
    kind: Literal["district", "subdistrict", "community", "department"] | None = None
    parent: str | None = Field(None, max_length=32, description="上级机构编码")
    q: str | None = api_text(TextLimit.SHORT, description="名称关键词")


@router.get("/organisations", response={200: OrganisationPage, **ERRORS}, tags=["组织机构"], summary="组织机构列表")
def list_organisations(request: HttpRequest, filters: Query[OrganisationFilter]) -> dict[str, object]:
    organisations = selectors.list_organisations(
        kind=filters.kind or "", parent_code=filters.parent or "", query=filters.q or ""
    )
    return paginate(organisations, filters)


@router.get(
    "/organisations/{code}", response={200: OrganisationDetailOut, **ERRORS}, tags=["组织机构"], summary="组织机构详情"
)
def get_organisation(request: HttpRequest, code: str) -> Organisation:
    return selectors.get_organisation(code)


def _iso_date_text(value: object) -> object:
    """Query dates are written YYYY-MM-DD; a bare number is not read as a Unix timestamp."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return value
    if isinstance(value, dt.date):
        return value
    raise ValueError("日期格式应为 YYYY-MM-DD，例如 2025-01-20")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_text)]


class ProvisionalMark(Schema):
    is_provisional: bool = Field(
        description="是否为暂定结果：所跨年度的国务院节假日安排通知尚未导入，按法定节假日和周末推算，未计调休"
    )
    provisional_note: str = Field(description="暂定时的中文说明；非暂定时为空字符串")


class WorkdaysAddOut(ProvisionalMark):
    start: dt.date
    days: int = Field(description="工作日数")
    date: dt.date = Field(
        description="期限最后一日：起始日之后第 N 个工作日；N 为 0（当场办结）时为起始日，"
        "起始日不是工作日的为其后第一个工作日"
    )
    deadline: datetime = Field(description="期限届满时刻（该日北京时间 24 时，以 UTC 表示）")


def _provisional(working_calendar: WorkingDayCalendar, start: date, end: date) -> dict[str, object]:
    years = working_calendar.provisional_years(start, end)
    return {"is_provisional": bool(years), "provisional_note": calendar.provisional_note(years)}


@router.get("/workdays/add", response={200: WorkdaysAddOut, **ERRORS}, tags=["工作日"], summary="加 N 个工作日")
def add_working_days(
    request: HttpRequest, start: IsoDate, days: int = Query(..., ge=0, le=MAX_WORKING_DAYS)
) -> dict[str, object]:
    working_calendar = calendar.get_calendar()
    result = working_calendar.last_day(start, days)
    return {
        "start": start,
        "days": days,
        "date": result,
        "deadline": end_of_local_day(result),
        **_provisional(working_calendar, start, result),
    }


class WorkdaysCountOut(ProvisionalMark):
    start: date
    end: date
    working_days: int = Field(description="start 之后至 end（含）的工作日数")


@router.get(
    "/workdays/count", response={200: WorkdaysCountOut, **ERRORS}, tags=["工作日"], summary="两日之间的工作日数"
)
def count_working_days(request: HttpRequest, start: IsoDate, end: IsoDate) -> dict[str, object]:
    working_calendar = calendar.get_calendar()
    working_days = working_calendar.count_working_days(start, end)
    return {"start": start, "end": end, "working_days": working_days, **_provisional(working_calendar, start, end)}


class WorkdayOut(ProvisionalMark):
    date: dt.date
    is_working_day: bool
    name: str = Field(description="节日或调休名称；普通日期为空字符串")


@router.get("/workdays/check", response={200: WorkdayOut, **ERRORS}, tags=["工作日"], summary="某日是否工作日")
def check_working_day(request: HttpRequest, date: IsoDate) -> dict[str, object]:
    return calendar.describe_day(date)


class RoleOut(Schema):
    role: str
    role_label: str
    organisation_code: str
    organisation_name: str


class MeOut(Schema):
    username: str
    full_name: str
    account_type: str
    masked_id_number: str
    masked_phone: str
    enterprise_uscc: str
    enterprise_name: str
    organisation_code: str | None
    prefers_elder_mode: bool
    roles: list[RoleOut]


@router.get("/me", response={200: MeOut, **AUTH_ERRORS}, auth=django_auth, tags=["账号"], summary="当前用户")
def me(request: HttpRequest) -> dict[str, object]:
    user: User = request.user  # type: ignore[assignment]  # django_auth guarantees a signed-in user
    assignments = user.role_assignments.select_related("organisation")
    return {
        "username": user.username,
        "full_name": user.full_name,
        "account_type": user.account_type,
        "masked_id_number": user.masked_id_number,
        "masked_phone": user.masked_phone,
        "enterprise_uscc": user.enterprise_uscc,
        "enterprise_name": user.enterprise_name,
        "organisation_code": user.organisation.code if user.organisation else None,
        "prefers_elder_mode": user.prefers_elder_mode,
        "roles": [
            {
                "role": assignment.role,
                "role_label": assignment.get_role_display(),
                "organisation_code": assignment.organisation.code,
                "organisation_name": assignment.organisation.name,
            }
            for assignment in assignments
        ],
    }


class AuditEventOut(Schema):
    id: int
    occurred_at: datetime
    actor_username: str
    actor_roles: str
    actor_role_labels: str = Field(description="角色的中文名称，以顿号分隔")
    organisation_code: str | None
    action: str
    action_label: str = Field(description="事件的中文名称")
    outcome: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, object]
    message: str
    ip_address: str | None

    @staticmethod
    def resolve_organisation_code(obj: AuditEvent) -> str | None:
        return obj.organisation.code if obj.organisation else None

    @staticmethod
    def resolve_actor_role_labels(obj: AuditEvent) -> str:
        return obj.role_labels


class AuditEventPage(Schema):
    count: int
    items: list[AuditEventOut]


class AuditFilter(PageIn):
    actor: str | None = Field(None, max_length=150)
    action: str | None = Field(
        None, max_length=64, description="事件代码的开头（如 auth.）或事件中文名称中的文字（如 登录）"
    )
    outcome: Literal["succeeded", "failed", "denied"] | None = None
    since: datetime | None = None
    until: datetime | None = None
    ip_address: IPv4Address | IPv6Address | None = None


@router.get(
    "/audit-events", response={200: AuditEventPage, **AUTH_ERRORS}, auth=django_auth, tags=["审计"], summary="审计日志"
)
def list_audit_events(request: HttpRequest, filters: Query[AuditFilter]) -> dict[str, object]:
    events = selectors.search_audit_events(
        selectors.access_audit_log(request.user),  # type: ignore[arg-type]  # signed in via django_auth
        actor=filters.actor or "",
        action=filters.action or "",
        outcome=filters.outcome or "",
        since=_aware(filters.since),
        until=_aware(filters.until),
        ip_address=str(filters.ip_address) if filters.ip_address else "",
    )
    return paginate(events, filters)


def _aware(value: datetime | None) -> datetime | None:
    """Naive times are read as Asia/Shanghai. Raises ``DomainError`` outside 1900–2100."""
    if value is None:
        return None
    if not 1900 <= value.year <= 2100:
        raise DomainError("查询时间应在 1900 年至 2100 年之间。", code="invalid_time_range")
    return value if timezone.is_aware(value) else timezone.make_aware(value)
