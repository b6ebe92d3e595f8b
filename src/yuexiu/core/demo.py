"""Demo accounts for the embedded platform (one per role, on Yuexiu's real organisations), and the
story clock the apps' demo modules use to give every role something to do, whatever today's date is.

The apps tell the demo's recent past as a ``Story``: steps at instants counted back from today in
working days (``working_days_before``), each run by the real services inside ``story_time`` so that
states, events, deadlines, alerts and audit entries carry the story's instants. Audit entries written
by the demo name ``DEMO_USER_AGENT`` as their client, so they can be told from real work.
"""

from __future__ import annotations

import time as monotonic_clock
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from unittest import mock

from django.db import transaction
from django.utils import timezone

from yuexiu.core import audit, services
from yuexiu.core.calendar import get_calendar
from yuexiu.core.models import AccountType, Organisation, Role, User
from yuexiu.core.workdays import LOCAL_TIMEZONE, WorkingDayCalendar, local_date

DEMO_PASSWORD = "Yuexiu#2024demo"
DISTRICT = "440104000000"
BUREAU = "440104-ZSJ"

# username, full name, account type, home organisation, role (staff), description
DEMO_ACCOUNTS = [
    ("citizen_demo", "张晓越", AccountType.CITIZEN, None, None, "市民（自然人）"),
    ("enterprise_demo", "李经办", AccountType.ENTERPRISE, None, None, "企业用户"),
    ("window_centre", "许窗口", AccountType.STAFF, BUREAU, Role.WINDOW_OFFICER, "区政务服务中心综合窗口工作人员"),
    ("window_hongqiao", "陈窗口", AccountType.STAFF, "440104001000", Role.WINDOW_OFFICER, "洪桥街道窗口工作人员"),
    ("window_beijing", "黄窗口", AccountType.STAFF, "440104003000", Role.WINDOW_OFFICER, "北京街道窗口工作人员"),
    ("approver_scj", "林审批", AccountType.STAFF, "440104-SJJ", Role.APPROVER, "区市场监管局审批人员"),
    ("editor_scj", "孙编辑", AccountType.STAFF, "440104-SJJ", Role.GUIDE_EDITOR, "区市场监管局办事指南编辑"),
    ("editor_wjj", "钟编辑", AccountType.STAFF, "440104-WJJ", Role.GUIDE_EDITOR, "区卫生健康局办事指南编辑"),
    ("reviewer_zsj", "梁审核", AccountType.STAFF, BUREAU, Role.GUIDE_REVIEWER, "区政数局办事指南审核人员"),
    ("approver_wjj", "邓审批", AccountType.STAFF, "440104-WJJ", Role.APPROVER, "区卫生健康局审批人员"),
    ("approver_gaj", "彭审批", AccountType.STAFF, "440104-GAJ", Role.APPROVER, "公安越秀区分局户政审批人员"),
    ("approver_ybj", "曾审批", AccountType.STAFF, "440104-YBJ", Role.APPROVER, "区医疗保障局审批人员"),
    ("approver_rsj", "谢审批", AccountType.STAFF, "440104-RSJ", Role.APPROVER, "区人力资源和社会保障局审批人员"),
    ("approver_swj", "韩审批", AccountType.STAFF, "440104-SWJ", Role.APPROVER, "区税务局审批人员"),
    ("policy_kgsxj", "何兑现", AccountType.STAFF, "440104-KGSXJ", Role.POLICY_OFFICER, "区科工商信局政策兑现专员"),
    ("policy_rsj", "罗兑现", AccountType.STAFF, "440104-RSJ", Role.POLICY_OFFICER, "区人社局政策兑现专员"),
    ("hotline_demo", "唐话务", AccountType.STAFF, BUREAU, Role.HOTLINE_OPERATOR, "12345 热线话务员"),
    ("supervisor_demo", "周监督", AccountType.STAFF, DISTRICT, Role.SUPERVISOR, "区监督人员"),
    ("data_officer", "吴数据", AccountType.STAFF, BUREAU, Role.DATA_OFFICER, "区政数局数据专员"),
    ("chief_data_officer", "郑首席", AccountType.STAFF, DISTRICT, Role.CHIEF_DATA_OFFICER, "首席数据官"),
    ("integrity_demo", "王廉政", AccountType.STAFF, DISTRICT, Role.INTEGRITY_SUPERVISOR, "廉政监督员"),
    ("sysadmin", "冯系统", AccountType.STAFF, BUREAU, Role.SYSTEM_ADMIN, "系统管理员"),
    ("secadmin", "何安全", AccountType.STAFF, BUREAU, Role.SECURITY_ADMIN, "安全管理员"),
    ("auditadmin", "罗审计", AccountType.STAFF, BUREAU, Role.AUDIT_ADMIN, "审计管理员"),
]


@transaction.atomic
def ensure_demo_accounts() -> int:
    """Create the demo accounts that do not exist. Existing accounts are left as they are."""
    created = 0
    for username, full_name, account_type, organisation_code, role, _ in DEMO_ACCOUNTS:
        if User.objects.filter(username=username).exists():
            continue
        if account_type == AccountType.CITIZEN:
            services.register_citizen(
                username=username,
                password=DEMO_PASSWORD,
                full_name=full_name,
                id_number="440104199001010029",
                phone="13800138000",
            )
        elif account_type == AccountType.ENTERPRISE:
            services.register_enterprise_user(
                username=username,
                password=DEMO_PASSWORD,
                full_name=full_name,
                enterprise_uscc="91440104MA5CYX1KXU",
                enterprise_name="广州越秀示范科技有限公司（演示）",
                phone="13900139000",
            )
            User.objects.filter(username=username).update(enterprise_verified=True)  # the demo is verified
        else:
            organisation = Organisation.objects.get(code=organisation_code)
            user = User(username=username, full_name=full_name, account_type=account_type, organisation=organisation)
            user.set_password(DEMO_PASSWORD)
            user.save()
            services.grant_role(user=user, role=role, organisation=organisation, granted_by=None)
        created += 1
    return created


def describe_demo_accounts() -> str:
    lines = ["", f"演示账号（密码均为 {DEMO_PASSWORD}）："]
    for username, _, _, _, _, description in DEMO_ACCOUNTS:
        lines.append(f"  {username:<20} {description}")
    return "\n".join(lines)


# ---- the story clock ---------------------------------------------------------------------------

DEMO_USER_AGENT = "yuexiu setup --demo（演示数据）"


@contextmanager
def story_time(instant: datetime) -> Iterator[None]:
    """Run the platform's services as if it were ``instant`` (aware, not in the future): Django's
    ``timezone.now()`` starts at ``instant`` and ticks with the real clock while the block runs. For the
    demo loader only (one process, no threads); audit entries name ``DEMO_USER_AGENT``."""
    started = monotonic_clock.monotonic()
    context = audit.RequestContext(ip_address=None, user_agent=DEMO_USER_AGENT, request_id=uuid.uuid4().hex)
    token = audit.set_request_context(context)
    try:
        with mock.patch.object(
            timezone, "now", lambda: instant + timedelta(seconds=monotonic_clock.monotonic() - started)
        ):
            yield
    finally:
        audit.reset_request_context(token)


def working_days_before(day: date, count: int, calendar: WorkingDayCalendar | None = None) -> date:
    """The ``count``-th working day before ``day`` (``day`` itself not counted; 0 returns ``day``), by
    the platform calendar with 调休 (``WorkingDayCalendar.subtract_working_days``)."""
    return (calendar or get_calendar()).subtract_working_days(day, count)


def at(day: date, clock: str) -> datetime:
    """The aware instant of ``clock`` (``"09:30"``, Beijing time) on ``day``."""
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=LOCAL_TIMEZONE)


@dataclass(order=True)
class _Step:
    instant: datetime
    sequence: int
    action: Callable[[], Any] = field(compare=False)


class Story:
    """The demo's recent past: steps added in any order, played in time order (ties in the order
    added), each inside ``story_time`` of its instant. ``today`` and ``day(k)`` (the k-th working day
    before today) are fixed when the story is created."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or timezone.now()
        self.today = local_date(self.now)
        self.calendar = get_calendar()
        self._steps: list[_Step] = []

    def day(self, working_days_ago: int) -> date:
        return working_days_before(self.today, working_days_ago, self.calendar)

    def add(self, instant: datetime, action: Callable[[], Any]) -> None:
        """Add a step; a story never runs ahead of the real clock (``ValueError``)."""
        if instant > self.now:
            raise ValueError(f"演示步骤的时间 {instant:%Y-%m-%d %H:%M} 晚于现在")
        self._steps.append(_Step(instant, len(self._steps), action))

    def every_day(self, since: date, clock: str, action: Callable[[], Any]) -> None:
        """Add ``action`` at ``clock`` on every calendar day from ``since`` up to now (what a periodic
        job of the worker would have done meanwhile)."""
        day = since
        while at(day, clock) <= self.now:
            self.add(at(day, clock), action)
            day += timedelta(days=1)

    def play(self) -> None:
        for step in sorted(self._steps):
            with story_time(step.instant):
                step.action()
        self._steps = []
