"""`yuexiu setup --demo` gives every demo role something to do, whatever today's date is, and running
it again changes nothing.

The demo is run through the real command with the clock frozen on several kinds of day; each role's
queue is counted through the selectors its pages use.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command

from yuexiu.cases import selectors as cases
from yuexiu.cases.models import CaseStatus, DeadlineExtension, ExtensionStatus
from yuexiu.catalog import selectors as catalog
from yuexiu.catalog.models import GuideStatus
from yuexiu.core.demo import DEMO_USER_AGENT
from yuexiu.core.models import AuditEvent, User
from yuexiu.core.selectors import access_audit_log, is_administrator
from yuexiu.policies import selectors as policies
from yuexiu.policies import services as policy_services
from yuexiu.policies.models import Candidate, MatchRun
from yuexiu.ratings import selectors as ratings
from yuexiu.ratings.services import RATABLE
from yuexiu.supervision import selectors as supervision
from yuexiu.supervision.models import OrderStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
MOMENTS = {
    "a-wednesday": "2025-06-18T10:00",
    "a-saturday-before-dawn": "2025-06-21T06:30",
    "new-years-eve-before-spring-festival": "2026-02-16T09:00",  # the Saturday before was a 调休 working day
    "late-december-just-after-midnight": "2026-12-28T00:02",  # deadlines run into 2027
    "a-sunday-of-a-year-without-data": "2031-12-28T15:00",
}
# Tables the demo writes; a second run must leave every count as it was.
MODELS = [
    "cases.Case",
    "cases.CaseEvent",
    "cases.CasePause",
    "cases.DeadlineExtension",
    "supervision.Alert",
    "supervision.SupervisionOrder",
    "supervision.Observation",
    "ratings.Rating",
    "ratings.Rectification",
    "catalog.GuideVersion",
    "policies.MatchRun",
    "policies.Candidate",
    "policies.Enterprise",
    "core.User",
    "core.AuditEvent",
]


@pytest.fixture
def small_registry(monkeypatch):
    """200 synthetic enterprises instead of 5,000: the same story, in seconds."""
    monkeypatch.setattr("yuexiu.policies.demo.DEMO_REGISTRY_SIZE", 200)


def _setup_demo() -> str:
    out = StringIO()
    call_command("setup", "--demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in MODELS}


def _queues(users: dict[str, User]) -> dict[str, int]:
    """What each role finds to do, counted as its pages count it."""

    def staff_cases(name: str, status: str) -> int:
        return cases.list_staff_cases(users[name], status=status).count()

    def open_orders(name: str, status: str) -> int:
        return supervision.list_orders(users[name], open_only=True).filter(status=status).count()

    citizen, enterprise = users["citizen_demo"], users["enterprise_demo"]
    queues = {
        "citizen: 补正 to answer": cases.list_my_cases(citizen).filter(status=CaseStatus.CORRECTION_REQUESTED).count(),
        "citizen: finished case to rate": cases.list_my_cases(citizen)
        .filter(status__in=RATABLE, rating__isnull=True)
        .count(),
        "enterprise: 补正 to answer": cases.list_my_cases(enterprise)
        .filter(status=CaseStatus.CORRECTION_REQUESTED)
        .count(),
        "window_centre: to accept": staff_cases("window_centre", CaseStatus.SUBMITTED),
        "window_centre: to deliver": staff_cases("window_centre", CaseStatus.APPROVED),
        "window_centre: to close": staff_cases("window_centre", CaseStatus.DELIVERED),
        "window_hongqiao: to accept": staff_cases("window_hongqiao", CaseStatus.SUBMITTED),
        "window_beijing: to accept": staff_cases("window_beijing", CaseStatus.SUBMITTED),
        "window_beijing: 督办 to answer": open_orders("window_beijing", OrderStatus.ISSUED),
        "approver_wjj: special procedure to end": staff_cases("approver_wjj", CaseStatus.SPECIAL_PROCEDURE),
        "approver_wjj: 督办 to answer": open_orders("approver_wjj", OrderStatus.ISSUED),
        "approver_scj: 差评 step to record": ratings.list_steps_to_record(users["approver_scj"]).count(),
        "approver_scj: extension to approve": DeadlineExtension.objects.filter(
            case__in=cases.list_staff_cases(users["approver_scj"]), status=ExtensionStatus.REQUESTED
        ).count(),
        "supervisor: overdue cases": cases.overdue(cases.list_staff_cases(users["supervisor_demo"])).count(),
        "supervisor: alerts": supervision.list_alerts(users["supervisor_demo"]).count(),
        "supervisor: 督办 response to verify": open_orders("supervisor_demo", OrderStatus.RESPONDED),
        "integrity: own observation followed up": supervision.list_orders(users["integrity_demo"], open_only=True)
        .filter(observation__filed_by=users["integrity_demo"])
        .count(),
        "hotline: 差评 callbacks": ratings.list_callbacks_due(users["hotline_demo"]).count(),
        "supervisor: rater's review to decide": ratings.list_reviews_to_decide(users["supervisor_demo"]).count(),
        "editor_scj: change sent back": catalog.list_open_versions(users["editor_scj"])
        .filter(status=GuideStatus.RETURNED)
        .count(),
        "reviewer_zsj: change to review": catalog.list_open_versions(users["reviewer_zsj"])
        .filter(status=GuideStatus.SUBMITTED)
        .count(),
        "auditadmin: audit log": access_audit_log(users["auditadmin"]).count(),
    }
    for approver in ("approver_scj", "approver_wjj", "approver_gaj", "approver_ybj", "approver_rsj", "approver_swj"):
        queues[f"{approver}: to decide"] = staff_cases(approver, CaseStatus.ACCEPTED)
    # 政策兑现: no real item of the library is in force (the sources printed no validity for the real
    # documents still current, and the demo does not invent one), and illustrations never become
    # candidates. So 区科工商信局's officer has documents whose validity to record from the document, and
    # both officers see their departments' illustrations matched as a demonstration in the demo's run
    # (区人社局 has only illustrations). The enterprise has no 公示 to confirm until a real item is paid.
    queues["policy_kgsxj: documents whose validity to record"] = len(
        policy_services.list_validity_pending(users["policy_kgsxj"])
    )
    run = MatchRun.objects.filter(status="done").latest("pk")
    for officer in ("policy_kgsxj", "policy_rsj"):
        handled = set(policies.handled_items(users[officer]).values_list("code", flat=True))
        queues[f"{officer}: illustrations matched as a demonstration"] = sum(
            row["pairs"] for code, row in run.by_item.items() if row["illustration"] and code in handled
        )
    return queues


def _failing_pages(client, users: dict[str, User]) -> list[str]:
    """Every demo account opens its pages on the demo's data (clocks, panels, queues) without an error."""
    failing = []
    for user in users.values():
        client.force_login(user)
        if is_administrator(user):  # 三员分立: the business pages refuse them (403, by design)
            pages = ["/workbench/", "/workbench/calendar/"]
        elif user.is_staff_account:
            pages = ["/workbench/", "/workbench/supervision/", "/workbench/ratings/"]
            if cases.works_with_cases(user):
                pages += ["/workbench/cases/", "/workbench/dashboard/"]
        else:
            pages = ["/cases/"] + [f"/cases/{case.number}/" for case in cases.list_my_cases(user)[:20]]
            if user.username == "enterprise_demo":
                pages.append("/policies/mine/")
        failing += [f"{user.username} {page}" for page in pages if client.get(page).status_code != 200]
    return failing


@pytest.mark.parametrize("moment", list(MOMENTS.values()), ids=list(MOMENTS))
def test_the_demo_gives_every_role_something_to_do_whatever_the_date(client, db, small_registry, moment):
    now = datetime.fromisoformat(moment).replace(tzinfo=SHANGHAI)
    with time_machine.travel(now, tick=True):
        output = _setup_demo()
        users = {user.username: user for user in User.objects.all()}
        queues = _queues(users)
        failing_pages = _failing_pages(client, users)
    assert {role: count for role, count in queues.items() if count == 0} == {}
    assert failing_pages == []
    assert not Candidate.objects.filter(item__illustration=True).exists()  # never a candidate, never paid
    assert "示例演示" in output and "有效期待核实的政策文件" in output
    assert "演示在办件：15 件" in output
    # The story happened through the services, in the past, on the working-day calendar.
    demo_events = AuditEvent.objects.filter(user_agent=DEMO_USER_AGENT)
    assert demo_events.filter(action="case.accepted").exists()
    assert not demo_events.filter(occurred_at__gt=now).exists()

    counts = _counts()
    with time_machine.travel(now + timedelta(hours=3), tick=True):
        again = _setup_demo()
    assert _counts() == counts
    assert "演示在办件" not in again and "演示办件与评价" not in again
