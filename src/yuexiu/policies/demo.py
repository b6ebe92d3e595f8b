"""Demo data for `yuexiu setup --demo`: a synthetic registry (marked as such), the demo enterprise's
own record, and one finished matching run, told as a ``core.demo.Story`` relative to today through
the policy services.

The run shows the illustration items (示例条款) matched as a demonstration, apart from real results:
they never become candidates, are never notified, approved, published or paid. Real documents whose
validity the source did not print are not matched until an officer records it (the workbench lists
them); the demo does not invent those dates. When a real 免申即享 item is in force and has a fund pool
(an officer recorded both), the demo also approves and publishes one of the demo enterprise's
candidates, so that the enterprise has an account to confirm in 公示."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from yuexiu.core.demo import Story, at
from yuexiu.core.errors import Conflict, DomainError
from yuexiu.core.models import User
from yuexiu.core.selectors import own_organisation_ids
from yuexiu.policies import services
from yuexiu.policies.models import (
    BenefitItem,
    Candidate,
    CandidateStatus,
    Enterprise,
    MatchRun,
    Mode,
    PolicyDocument,
)

DEMO_REGISTRY_SIZE = 5000
DEMO_ENTERPRISE_USCC = "91440104MA5CYX1KXU"
DEMO_OFFICERS = ("policy_kgsxj", "policy_rsj")


def ensure_demo_enterprise() -> Enterprise:
    """The registry record of the demo enterprise account (a mid-size Yuexiu software firm)."""
    year = timezone.localdate().year
    enterprise, _ = Enterprise.objects.get_or_create(
        uscc=DEMO_ENTERPRISE_USCC,
        defaults={
            "name": "广州越秀示范科技有限公司（模拟）",
            "district": "越秀区",
            "subdistrict": "洪桥街道",
            "tax_district": "越秀区",
            "stats_district": "越秀区",
            "industry_code": "6513",
            "enterprise_type": "有限责任公司",
            "foreign_invested": False,
            "established_on": date(2016, 5, 10),
            "settled_on": date(2016, 5, 10),
            "registered_capital": Decimal("10000000.00"),
            "paid_in_capital": Decimal("10000000.00"),
            "capital_currency": "CNY",
            "employees": 86,
            "insured_employees_monthly": [80, 81, 82, 82, 83, 84, 84, 85, 85, 86, 86, 86],
            "revenue": Decimal("52000000.00"),
            "revenue_prev": Decimal("41000000.00"),
            "tax_paid": Decimal("3100000.00"),
            "district_contribution": Decimal("620000.00"),
            "rd_expense": Decimal("4800000.00"),
            "tags": ["高新技术企业", "专精特新中小企业", "规模以上企业", "软件和信息技术服务企业", "创新型中小企业"],
            "credit_status": "良好",
            "is_synthetic": True,
            "source": f"演示企业（模拟数据，{year}）",
        },
    )
    return enterprise


def demo_as_of(today: date) -> date:
    """The as-of day of the demo's matching run: today, or, when a demo officer's department has no
    免申即享 item in force today (policies and the illustrations' demonstration period expire), the last
    day up to today on which each demo officer's department still had one, so every officer has results
    to look at whatever today's date is. A version whose validity is not recorded counts on no day."""
    library = services.current_library()
    departments = dict(BenefitItem.objects.filter(code__in=list(library)).values_list("code", "organisation_id"))
    latest = []
    for officer in User.objects.filter(username__in=DEMO_OFFICERS):
        own = own_organisation_ids(officer)
        ends = [
            min(today, version.valid_until or today)
            for code, (_, item) in library.items()
            if item.mode == Mode.NO_APPLICATION and departments.get(code) in own
            for version in item.versions
            if version.validity_recorded and (version.valid_from is None or version.valid_from <= today)
        ]
        if ends:
            latest.append(max(ends))
    return min(latest, default=today)


def _approve_and_publish(officers: list[User], enterprise: Enterprise) -> Candidate | None:
    """The first of the demo enterprise's candidates a demo officer can approve as matched (an exact
    amount its fund pool covers) is approved and published (公示): the enterprise has an account to
    confirm. Returns it, or ``None`` when no candidate qualifies (there is none while no real item with
    a recorded validity and a fund pool matches; illustrations never become candidates)."""
    for candidate in (
        Candidate.objects.filter(enterprise=enterprise, status=CandidateStatus.PENDING_REVIEW)
        .select_related("item")
        .order_by("item__code")
    ):
        officer = next((user for user in officers if services.can_handle(user, candidate.item)), None)
        if officer is None or services.amount_kind(candidate) != "exact":
            continue
        try:
            with transaction.atomic():
                services.review(candidate_id=candidate.pk, user=officer, approve=True, note="演示：经审核符合条件")
                services.publish(item_id=candidate.item_id, user=officer)
        except (DomainError, Conflict):
            continue  # this one cannot be approved as matched (pool, data, award): try the next
        return candidate
    return None


def load_demo_registry() -> list[str]:
    """The synthetic registry, the demo enterprise's record, and (once) a matching run three working
    days ago with one of the demo enterprise's candidates approved and in 公示 since yesterday."""
    lines = []
    if not Enterprise.objects.filter(is_synthetic=True).exclude(uscc=DEMO_ENTERPRISE_USCC).exists():
        created = services.generate_registry(DEMO_REGISTRY_SIZE, seed=2024)
        lines.append(f"模拟企业库：新增 {created} 家（名称带“（模拟）”）")
    enterprise = ensure_demo_enterprise()
    officers = list(User.objects.filter(username__in=DEMO_OFFICERS).order_by("username"))
    if not officers or MatchRun.objects.exists():
        return lines
    story = Story()
    as_of = demo_as_of(story.day(3))
    result: dict[str, Any] = {}

    def match() -> None:
        run = services.create_run(user=officers[0], period=as_of.year, as_of=as_of)
        result["run"] = services.execute_run(run.pk)

    story.add(at(story.day(3), "09:00"), match)
    story.add(at(story.day(1), "10:00"), lambda: result.update(published=_approve_and_publish(officers, enterprise)))
    story.play()
    run = result["run"]
    demonstration = sum(row["pairs"] for row in run.by_item.values() if row.get("illustration"))
    pending = PolicyDocument.objects.filter(services.unrecorded_validity(""), other_district="", illustration=False)
    lines.append(
        f"演示匹配批次（{run.as_of:%Y-%m-%d}）：{run.enterprises} 家企业，{run.pairs} 个符合条件的企业-事项对，"
        f"{run.candidates} 个免申即享候选，另有 {run.leads} 个申报线索（须主管部门认定）；"
        f"示例演示 {demonstration} 个符合示例条件的企业-事项对（示例条款，不生成候选、不可兑现）；"
        f"有效期待核实的政策文件 {pending.count()} 个（按文件记录有效期前不参与匹配，见政策兑现工作台）"
    )
    if result.get("published") is not None:
        lines.append(f"演示公示：{result['published'].item.name}（演示企业待确认收款账户）")
    return lines
